using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using CodeGenChunk.Onnx.Ir;
using CodeGenChunk.Tool.SafeTensors;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Tool.Tests;

/// <summary>The ONNX model zoo's mnist-8 (opset 8: Reshape, Conv, Add, Relu, MaxPool, MatMul) through cgc import.</summary>
[TestClass]
public sealed class Mnist8ImportTests
{
    private static string _manifest = string.Empty;
    private static string _weights = string.Empty;

    public TestContext TestContext { get; set; } = null!;

    private static string ModelPath => Path.Combine(RepoPaths.Mnist8, "model.onnx");

    [ClassInitialize]
    public static void Import(TestContext _)
    {
        (_manifest, _weights) = Imports.Run(ModelPath, "mnist8", ns: "Samples.Mnist");
    }

    [TestMethod]
    public void Layers_are_conv_relu_pool_conv_relu_pool_flatten_linear()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(_manifest));
        var root = doc.RootElement;
        Assert.AreEqual("Mnist8", root.GetProperty("model").GetString());
        Assert.AreEqual("[1,28,28]", root.GetProperty("input").GetProperty("shape").GetRawText().Replace(" ", string.Empty, StringComparison.Ordinal));
        string[] expected =
        [
            """{"op": "conv2d", "name": "Convolution28", "inChannels": 1, "outChannels": 8, "kernel": [5, 5], "stride": [1, 1], "pad": [2, 2, 2, 2]}""",
            """{"op": "relu"}""",
            """{"op": "maxpool", "kernel": [2, 2], "stride": [2, 2], "pad": [0, 0, 0, 0]}""",
            """{"op": "conv2d", "name": "Convolution110", "inChannels": 8, "outChannels": 16, "kernel": [5, 5], "stride": [1, 1], "pad": [2, 2, 2, 2]}""",
            """{"op": "relu"}""",
            """{"op": "maxpool", "kernel": [3, 3], "stride": [3, 3], "pad": [0, 0, 0, 0]}""",
            """{"op": "flatten"}""",
            """{"op": "linear", "name": "Times212", "in": 256, "out": 10}""",
        ];
        CollectionAssert.AreEqual(expected, root.GetProperty("layers").EnumerateArray().Select(l => l.GetRawText()).ToArray());
    }

    [TestMethod]
    public void Tensors_are_the_folded_biases_and_the_transposed_reshaped_matmul_weight()
    {
        var file = SafeTensorsFile.Read(_weights);
        var shapes = file.Tensors.Values.OrderBy(t => t.Begin).Select(t => t.Name + " " + t.ShapeText).ToArray();
        CollectionAssert.AreEqual(
            new[]
            {
                "Convolution28.weight [8, 1, 5, 5]", "Convolution28.bias [8]",
                "Convolution110.weight [16, 8, 5, 5]", "Convolution110.bias [16]",
                "Times212.weight [10, 256]", "Times212.bias [10]",
            },
            shapes);

        // The MatMul weight is Reshape([16,4,4,10] -> [256,10]) of Parameter193, stored [out, in]: element [o, i] = B[i, o].
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(ModelPath));
        var b = model.Graph.Initializer.Single(t => t.Name == "Parameter193");
        var bValues = ReadFloats(b);
        var w = file.GetFloats(file.Tensors["Times212.weight"]).ToArray();
        for (var o = 0; o < 10; o++)
        {
            for (var i = 0; i < 256; i++)
            {
                Assert.AreEqual(bValues[(i * 10) + o], w[(o * 256) + i]);
            }
        }

        // The conv bias is the [8, 1, 1] addend of the Add after the Conv.
        var addend = ReadFloats(model.Graph.Initializer.Single(t => t.Name == "Parameter6"));
        CollectionAssert.AreEqual(addend, file.GetFloats(file.Tensors["Convolution28.bias"]).ToArray());
    }

    [TestMethod]
    public void Reference_forward_reproduces_onnx_runtime_on_the_zoo_test_data()
    {
        var reference = new ReferenceForward(_manifest);
        using var ort = new OrtModel(File.ReadAllBytes(ModelPath), 1, 1, 28, 28);
        for (var set = 0; set < 3; set++)
        {
            var dir = Path.Combine(RepoPaths.Mnist8, $"test_data_set_{set}");
            var input = ReadFloats(TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(dir, "input_0.pb"))));
            var expected = ReadFloats(TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(dir, "output_0.pb"))));
            Assert.AreEqual(784, input.Length);
            var ours = reference.Run(input);
            var theirs = ort.Run(input);
            var diffOrt = RelativeDiff(ours, theirs);
            var diffZoo = RelativeDiff(ours, expected);
            TestContext.WriteLine($"test_data_set_{set}: max |ref - ORT| / max(|ORT|, 1) = {diffOrt:E2}, against the zoo's output_0.pb {diffZoo:E2}; top-1 {MnistDigits.ArgMax(ours)}");
            Assert.IsLessThanOrEqualTo(1e-4, diffOrt, $"set {set}: reference vs ONNX Runtime");
            Assert.IsLessThanOrEqualTo(1e-4, diffZoo, $"set {set}: reference vs the zoo's expected output");
            Assert.AreEqual(MnistDigits.ArgMax(theirs), MnistDigits.ArgMax(ours));
        }
    }

    [TestMethod]
    public void Top1_matches_onnx_runtime_on_200_digits()
    {
        // The digits file is sorted by label: every 50th digit gives 200 digits of all ten classes.
        var reference = new ReferenceForward(_manifest);
        using var ort = new OrtModel(File.ReadAllBytes(ModelPath), 1, 1, 28, 28);
        int agree = 0, correct = 0;
        var maxDiff = 0.0;
        for (var d = 0; d < 10_000; d += 50)
        {
            var x = MnistDigits.Scaled(d);
            var ours = reference.Run(x);
            var theirs = ort.Run(x);
            maxDiff = Math.Max(maxDiff, RelativeDiff(ours, theirs));
            agree += MnistDigits.ArgMax(ours) == MnistDigits.ArgMax(theirs) ? 1 : 0;
            correct += MnistDigits.ArgMax(ours) == MnistDigits.Label(d) ? 1 : 0;
        }

        TestContext.WriteLine($"200 digits: top-1 agreement {agree}/200, reference correct {correct}/200, max relative diff {maxDiff:E2}");
        Assert.AreEqual(200, agree);
        Assert.IsLessThanOrEqualTo(1e-4, maxDiff);
        Assert.IsGreaterThanOrEqualTo(190, correct, "mnist-8 classifies digits");
    }

    [TestMethod]
    public void Import_is_byte_deterministic_and_matches_the_committed_sample()
    {
        var (manifest2, weights2) = Imports.Run(ModelPath, "mnist8", ns: "Samples.Mnist");
        CollectionAssert.AreEqual(File.ReadAllBytes(_manifest), File.ReadAllBytes(manifest2));
        CollectionAssert.AreEqual(File.ReadAllBytes(_weights), File.ReadAllBytes(weights2));
        CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(RepoPaths.MnistSample, "mnist8.cgc.json")), File.ReadAllBytes(_manifest), "samples/Mnist/mnist8.cgc.json is what cgc import writes (command in samples/Mnist/README.md)");
        CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(RepoPaths.MnistSample, "mnist8.safetensors")), File.ReadAllBytes(_weights));
    }

    /// <summary>max_i |a_i − b_i| / max(|b_i|, 1): relative for large values, absolute near zero.</summary>
    internal static double RelativeDiff(float[] a, float[] b)
    {
        Assert.HasCount(b.Length, a);
        var max = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]) / Math.Max(Math.Abs(b[i]), 1.0));
        }

        return max;
    }

    internal static float[] ReadFloats(TensorProto t)
    {
        Assert.AreEqual((int)TensorProto.Types.DataType.Float, t.DataType);
        if (t.RawData.Length > 0)
        {
            var raw = t.RawData.ToByteArray();
            var values = new float[raw.Length / 4];
            Buffer.BlockCopy(raw, 0, values, 0, raw.Length);
            return values;
        }

        return t.FloatData.ToArray();
    }
}
