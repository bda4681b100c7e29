using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using CodeGenChunk.Onnx;
using CodeGenChunk.Onnx.Ir;
using CodeGenChunk.Tool.Import;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using DataType = CodeGenChunk.Onnx.Ir.TensorProto.Types.DataType;

namespace CodeGenChunk.Tool.Tests;

/// <summary>Small ONNX graphs built with OnnxModelBuilder: every supported op and folding rule, checked against ONNX Runtime.</summary>
[TestClass]
public sealed class OnnxGraphImportTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void Mlp_graph_folds_constants_biases_and_residuals_and_matches_onnx_runtime()
    {
        var random = new Random(7);
        var b = new OnnxModelBuilder("mlp");
        b.AddInput("x", DataType.Float, 1, 16);
        b.AddInitializer("W1", Floats(random, 16 * 8), 16, 8);
        b.AddInitializer("C1", Floats(random, 8), 8);
        b.AddNode("Gemm", ["x", "W1", "C1"], ["g1"], new Dictionary<string, object> { ["alpha"] = 0.5f, ["beta"] = 2f }, name: "dense1");
        b.AddNode("Relu", ["g1"], ["r1"], name: "act1");

        // An initializer in float_data (not raw_data), a bias from a Constant node added as the first operand.
        var w2 = new TensorProto { Name = "W2", DataType = (int)DataType.Float };
        w2.Dims.AddRange([8, 8]);
        w2.FloatData.AddRange(Floats(random, 64));
        b.Model.Graph.Initializer.Add(w2);
        b.AddNode("MatMul", ["r1", "W2"], ["m2"], name: "dense2");
        var biasTensor = new TensorProto { DataType = (int)DataType.Float };
        biasTensor.Dims.AddRange([1, 8]);
        biasTensor.FloatData.AddRange(Floats(random, 8));
        b.AddNode("Constant", [], ["bias2"], new Dictionary<string, object> { ["value"] = biasTensor }, name: "bias2_const");
        b.AddNode("Add", ["bias2", "m2"], ["a2"], name: "dense2_bias");
        b.AddNode("Add", ["a2", "r1"], ["res"], name: "skip");

        b.AddInitializer("ln_scale", Floats(random, 8), 8);
        b.AddInitializer("ln_shift", Floats(random, 8), 8);
        b.AddNode("LayerNormalization", ["res", "ln_scale", "ln_shift"], ["ln"], new Dictionary<string, object> { ["epsilon"] = 1e-3f, ["axis"] = -1L }, name: "norm");
        b.AddNode("Constant", [], ["shape"], new Dictionary<string, object> { ["value_ints"] = new long[] { 1, -1 } }, name: "shape_const");
        b.AddNode("Reshape", ["ln", "shape"], ["flat"], name: "to_vector");
        b.AddInitializer("W3", Floats(random, 4 * 8), 4, 8);
        b.AddInitializer("C3", Floats(random, 4), 1, 4);
        b.AddNode("Gemm", ["flat", "W3", "C3"], ["g3"], new Dictionary<string, object> { ["transB"] = 1L }, name: "head");
        b.AddNode("Softmax", ["g3"], ["y"], new Dictionary<string, object> { ["axis"] = -1L }, name: "probabilities");
        b.AddOutput("y", DataType.Float, 1, 4);

        var (manifest, _) = Imports.Run(Imports.WriteModel(b.ToByteArray(), "mlp.onnx"), "mlp");
        CollectionAssert.AreEqual(
            new[]
            {
                """{"op": "linear", "name": "dense1", "in": 16, "out": 8}""",
                """{"op": "relu", "name": "act1"}""",
                """{"op": "linear", "name": "dense2", "in": 8, "out": 8}""",
                """{"op": "residual", "from": "act1"}""",
                """{"op": "layernorm", "name": "norm", "dim": 8, "eps": 0.001}""",
                """{"op": "linear", "name": "head", "in": 8, "out": 4}""",
                """{"op": "softmax"}""",
            },
            Layers(manifest));
        CompareWithOrt(b.ToByteArray(), manifest, [1, 16], random);
    }

    [TestMethod]
    public void Cnn_graph_with_asymmetric_pads_strides_and_same_lower_matches_onnx_runtime()
    {
        var random = new Random(11);
        var b = new OnnxModelBuilder("cnn");
        b.AddInput("x", DataType.Float, 1, 3, 10, 11);
        b.AddInitializer("K1", Floats(random, 4 * 3 * 3 * 2), 4, 3, 3, 2);
        b.AddInitializer("B1", Floats(random, 4), 4);
        b.AddNode("Conv", ["x", "K1", "B1"], ["c1"], new Dictionary<string, object> { ["pads"] = new long[] { 1, 0, 2, 1 }, ["strides"] = new long[] { 2, 1 } }, name: "conv1");
        b.AddNode("Relu", ["c1"], ["r1"]);
        b.AddNode("MaxPool", ["r1"], ["p1"], new Dictionary<string, object> { ["kernel_shape"] = new long[] { 2, 3 }, ["strides"] = new long[] { 1, 2 }, ["pads"] = new long[] { 0, 1, 1, 0 } }, name: "pool1");
        b.AddInitializer("K2", Floats(random, 5 * 4 * 3 * 3), 5, 4, 3, 3);
        b.AddNode("Conv", ["p1", "K2"], ["c2"], new Dictionary<string, object> { ["auto_pad"] = "SAME_LOWER", ["strides"] = new long[] { 2, 2 }, ["kernel_shape"] = new long[] { 3, 3 } }, name: "conv2");
        b.AddInitializer("B2", Floats(random, 5), 1, 5, 1, 1);
        b.AddNode("Add", ["c2", "B2"], ["a2"], name: "conv2_bias");
        b.AddNode("Flatten", ["a2"], ["f"], new Dictionary<string, object> { ["axis"] = 1L }, name: "flatten");

        // conv1: [4, 6, 11]; pool1: [4, 6, 5]; conv2 (SAME_LOWER, stride 2): [5, 3, 3] = 45 features, pads 1 + 0 rows, 1 + 1 columns.
        b.AddInitializer("W", Floats(random, 45 * 6), 45, 6);
        b.AddNode("Identity", ["W"], ["W_id"]);
        b.AddNode("MatMul", ["f", "W_id"], ["m"], name: "fc");
        b.AddInitializer("C", Floats(random, 6), 6);
        b.AddNode("Add", ["m", "C"], ["y"], name: "fc_bias");
        b.AddOutput("y", DataType.Float, 1, 6);

        var (manifest, _) = Imports.Run(Imports.WriteModel(b.ToByteArray(), "cnn.onnx"), "cnn");
        CollectionAssert.AreEqual(
            new[]
            {
                """{"op": "conv2d", "name": "conv1", "inChannels": 3, "outChannels": 4, "kernel": [3, 2], "stride": [2, 1], "pad": [1, 0, 2, 1]}""",
                """{"op": "relu"}""",
                """{"op": "maxpool", "kernel": [2, 3], "stride": [1, 2], "pad": [0, 1, 1, 0]}""",
                """{"op": "conv2d", "name": "conv2", "inChannels": 4, "outChannels": 5, "kernel": [3, 3], "stride": [2, 2], "pad": [1, 1, 0, 1]}""",
                """{"op": "flatten"}""",
                """{"op": "linear", "name": "fc", "in": 45, "out": 6}""",
            },
            Layers(manifest));
        CompareWithOrt(b.ToByteArray(), manifest, [1, 3, 10, 11], random);
    }

    [TestMethod]
    public void Conv_without_bias_writes_bias_false_and_same_upper_puts_the_odd_pad_at_the_end()
    {
        var b = new OnnxModelBuilder("same");
        b.AddInput("x", DataType.Float, 1, 1, 8, 8);
        b.AddInitializer("K", new float[2 * 1 * 2 * 2], 2, 1, 2, 2);
        b.AddNode("Conv", ["x", "K"], ["c"], new Dictionary<string, object> { ["auto_pad"] = "SAME_UPPER" }, name: "conv");
        b.AddNode("Flatten", ["c"], ["y"]);
        b.AddOutput("y", DataType.Float, 1, 128);
        var (manifest, _) = Imports.Run(Imports.WriteModel(b.ToByteArray(), "same.onnx"), "same");
        Assert.AreEqual("""{"op": "conv2d", "name": "conv", "inChannels": 1, "outChannels": 2, "kernel": [2, 2], "stride": [1, 1], "pad": [0, 0, 1, 1], "bias": false}""", Layers(manifest)[0]);
    }

    [TestMethod]
    public void Unsupported_op_names_file_node_op_and_the_supported_list()
    {
        var b = Vector(4);
        b.AddNode("Sigmoid", ["x"], ["y"], name: "gate");
        var message = ImportError(b, "tiny.onnx");
        StringAssert.StartsWith(message, "tiny.onnx: node 'gate' (Sigmoid): op type 'Sigmoid' is not supported; supported op types: Add, Constant, Conv, Flatten, Gemm");
        StringAssert.Contains(message, "MaxPool, Relu, Reshape, Softmax");
    }

    [TestMethod]
    public void Op_of_another_domain_is_an_error()
    {
        var b = Vector(4);
        b.ImportOpset(OnnxModelBuilder.MicrosoftDomain, 1);
        b.AddNode("FastGelu", ["x"], ["y"], domain: OnnxModelBuilder.MicrosoftDomain, name: "gelu");
        StringAssert.Contains(ImportError(b), "node 'gelu' (FastGelu): op type 'FastGelu' of domain 'com.microsoft' is not supported");
    }

    [TestMethod]
    [DataRow("group", 2L, "group = 2 is not supported (supported: group = 1)")]
    [DataRow("dilations", new long[] { 2, 2 }, "dilations [2, 2] are not supported (supported: 1)")]
    [DataRow("auto_pad", "WRAP", "auto_pad = WRAP is not supported (supported: NOTSET, VALID, SAME_UPPER, SAME_LOWER)")]
    [DataRow("unknown_attribute", 1L, "attribute 'unknown_attribute' is not supported (supported attributes of Conv: auto_pad, dilations, group, kernel_shape, pads, strides)")]
    public void Unsupported_conv_attribute_values_are_errors(string attribute, object value, string expected)
    {
        var b = new OnnxModelBuilder("conv");
        b.AddInput("x", DataType.Float, 1, 2, 6, 6);
        b.AddInitializer("K", new float[2 * 2 * 3 * 3], 2, 2, 3, 3);
        b.AddNode("Conv", ["x", "K"], ["y"], new Dictionary<string, object> { [attribute] = value }, name: "c");
        b.AddOutput("y", DataType.Float, 1, 2, 4, 4);
        var message = ImportError(b, "conv.onnx");
        StringAssert.StartsWith(message, "conv.onnx: node 'c' (Conv): ");
        StringAssert.Contains(message, expected);
    }

    [TestMethod]
    public void Gemm_transA_and_maxpool_ceil_mode_are_errors()
    {
        var gemm = Vector(4);
        gemm.AddInitializer("W", new float[8], 4, 2);
        gemm.AddNode("Gemm", ["x", "W"], ["y"], new Dictionary<string, object> { ["transA"] = 1L }, name: "g");
        StringAssert.Contains(ImportError(gemm), "node 'g' (Gemm): transA = 1 is not supported (supported: transA = 0, transB = 0 or 1)");

        var pool = new OnnxModelBuilder("pool");
        pool.AddInput("x", DataType.Float, 1, 1, 5, 5);
        pool.AddNode("MaxPool", ["x"], ["y"], new Dictionary<string, object> { ["kernel_shape"] = new long[] { 2, 2 }, ["ceil_mode"] = 1L }, name: "p");
        StringAssert.Contains(ImportError(pool), "node 'p' (MaxPool): ceil_mode = 1 is not supported (supported: ceil_mode = 0, floor)");
    }

    [TestMethod]
    public void Add_of_a_constant_that_varies_along_space_is_not_folded()
    {
        var b = new OnnxModelBuilder("add");
        b.AddInput("x", DataType.Float, 1, 1, 4, 4);
        b.AddInitializer("K", new float[2 * 1 * 1 * 1], 2, 1, 1, 1);
        b.AddNode("Conv", ["x", "K"], ["c"], name: "conv");
        b.AddInitializer("D", new float[4], 4);
        b.AddNode("Add", ["c", "D"], ["y"], name: "shift");
        StringAssert.Contains(ImportError(b), "node 'shift' (Add): the addend of shape [4] varies along axis 3 of the [1, 2, 4, 4] activation; only a per-channel (axis 1) bias can be folded");
    }

    [TestMethod]
    public void Add_of_a_constant_after_relu_and_branching_graphs_are_errors()
    {
        var afterRelu = Vector(4);
        afterRelu.AddNode("Relu", ["x"], ["r"], name: "act");
        afterRelu.AddInitializer("D", new float[4], 4);
        afterRelu.AddNode("Add", ["r", "D"], ["y"], name: "shift");
        StringAssert.Contains(ImportError(afterRelu), "node 'shift' (Add): an Add of a constant is supported only as the bias of the linear (Gemm, MatMul) or Conv right before it");

        var branch = Vector(4);
        branch.AddNode("Relu", ["x"], ["r"], name: "act");
        branch.AddNode("Relu", ["x"], ["y"], name: "again");
        StringAssert.Contains(ImportError(branch), "node 'again' (Relu): reads the output of the graph input, not of the last layer");

        var preBias = Vector(4);
        preBias.AddInitializer("W", new float[16], 4, 4);
        preBias.AddNode("MatMul", ["x", "W"], ["m"], name: "fc");
        preBias.AddInitializer("C", new float[4], 4);
        preBias.AddNode("Add", ["m", "C"], ["a"], name: "fc_bias");
        preBias.AddNode("Add", ["a", "m"], ["y"], name: "uses_pre_bias");
        StringAssert.Contains(ImportError(preBias), "node 'uses_pre_bias' (Add): reads 'm', the value before a bias Add that cgc import folded into the layer");
    }

    [TestMethod]
    public void Reshape_of_an_activation_to_anything_but_a_vector_is_an_error()
    {
        var b = Vector(16);
        b.AddInitializer("shape", new long[] { 1, 1, 4, 4 }, 4);
        b.AddNode("Reshape", ["x", "shape"], ["y"], name: "to_image");
        StringAssert.Contains(ImportError(b), "node 'to_image' (Reshape): Reshape to [1, 1, 4, 4] of a [1, 16] activation is not supported: an activation can only be reshaped to a vector [1, 16]");
    }

    [TestMethod]
    public void Not_an_onnx_file_and_external_data_are_errors()
    {
        var garbage = Imports.WriteModel([0xFF, 0xFF, 0xFF, 0xFF, 0x0F], "garbage.onnx");
        var message = Assert.ThrowsExactly<ImportException>(() => Imports.Run(garbage, "g")).Message;
        StringAssert.StartsWith(message, "garbage.onnx: not an ONNX model");

        var b = Vector(4);
        var external = new TensorProto { Name = "W", DataType = (int)DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
        external.Dims.AddRange([4, 4]);
        b.Model.Graph.Initializer.Add(external);
        b.AddNode("MatMul", ["x", "W"], ["y"], name: "fc");
        StringAssert.Contains(ImportError(b), "initializer 'W': the data is stored in an external file");
    }

    private static OnnxModelBuilder Vector(int n)
    {
        var b = new OnnxModelBuilder("tiny");
        b.AddInput("x", DataType.Float, 1, n);
        b.AddOutput("y", DataType.Float, 1, n);
        return b;
    }

    private static string ImportError(OnnxModelBuilder b, string fileName = "model.onnx") =>
        Assert.ThrowsExactly<ImportException>(() => Imports.Run(Imports.WriteModel(b.ToByteArray(), fileName), "m")).Message;

    internal static string[] Layers(string manifest)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(manifest));
        return doc.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetRawText()).ToArray();
    }

    private void CompareWithOrt(byte[] model, string manifest, long[] inputShape, Random random)
    {
        var reference = new ReferenceForward(manifest);
        using var ort = new OrtModel(model, inputShape);
        var size = (int)inputShape.Aggregate(1L, (a, b) => a * b);
        var worst = 0.0;
        for (var trial = 0; trial < 5; trial++)
        {
            var x = Floats(random, size);
            var diff = Mnist8ImportTests.RelativeDiff(reference.Run(x), ort.Run(x));
            worst = Math.Max(worst, diff);
            Assert.IsLessThanOrEqualTo(1e-4, diff, $"input {trial}");
        }

        TestContext.WriteLine($"max |reference - ORT| / max(|ORT|, 1) over 5 inputs: {worst:E2}");
    }

    private static float[] Floats(Random random, int n) => Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
}
