using System;
using System.IO;
using System.Linq;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Model.Planning;
using CodeGenChunk.Onnx.Ir;
using CodeGenChunk.Tool.Packing;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Tool.Tests;

/// <summary>
/// The MLP of samples/Mnist (trained by samples/MnistTrain): its ONNX file through cgc import gives the committed
/// manifest and the trainer's own weights, and the imported model computes what ONNX Runtime computes on the held-out digits.
/// </summary>
[TestClass]
public sealed class MnistMlpTests
{
    private static string _manifest = string.Empty;
    private static string _weights = string.Empty;

    public TestContext TestContext { get; set; } = null!;

    private static string OnnxPath => Path.Combine(RepoPaths.MnistSample, "mlp.onnx");

    [ClassInitialize]
    public static void Import(TestContext _)
    {
        // The command of samples/Mnist/README.md, into a temporary folder.
        (_manifest, _weights) = Imports.Run(OnnxPath, "mlp.f32", className: "MnistMlp", ns: "Samples.Mnist", weights: "mlp.safetensors");
    }

    [TestMethod]
    public void Import_gives_the_committed_manifest_and_the_trainers_bytes()
    {
        CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(RepoPaths.MnistSample, "mlp.f32.cgc.json")), File.ReadAllBytes(_manifest));
        CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(RepoPaths.MnistSample, "mlp.safetensors")), File.ReadAllBytes(_weights), "the Gemm weights come back as the trainer wrote them");
        CollectionAssert.AreEqual(
            new[]
            {
                """{"op": "linear", "name": "fc1", "in": 784, "out": 512}""",
                """{"op": "relu"}""",
                """{"op": "linear", "name": "fc2", "in": 512, "out": 512}""",
                """{"op": "relu"}""",
                """{"op": "linear", "name": "fc3", "in": 512, "out": 10}""",
            },
            OnnxGraphImportTests.Layers(_manifest));
    }

    [TestMethod]
    public void Reference_on_the_imported_weights_agrees_with_onnx_runtime_on_the_held_out_digits()
    {
        var reference = new ReferenceForward(_manifest);
        using var ort = new OrtModel(File.ReadAllBytes(OnnxPath), 1, 784);
        int count = 0, agree = 0, ortCorrect = 0;
        var maxAbs = 0.0;
        for (var d = 4; d < 10_000; d += 5)
        {
            var x = MnistDigits.Scaled(d);
            var ours = reference.Run(x);
            var theirs = ort.Run(x);
            for (var k = 0; k < 10; k++)
            {
                maxAbs = Math.Max(maxAbs, Math.Abs(ours[k] - theirs[k]));
            }

            count++;
            agree += MnistDigits.ArgMax(ours) == MnistDigits.ArgMax(theirs) ? 1 : 0;
            ortCorrect += MnistDigits.ArgMax(theirs) == MnistDigits.Label(d) ? 1 : 0;
        }

        TestContext.WriteLine($"held-out digits: {count}; top-1 agreement {agree}/{count}; max |reference - ORT| = {maxAbs:E2}; ORT correct {ortCorrect}/{count}");
        Assert.AreEqual(2000, count);
        Assert.AreEqual(count, agree);
        Assert.IsLessThanOrEqualTo(1e-4, maxAbs);

        // The trainer wrote the held-out accuracy it measured into the model's metadata and the README quotes it.
        var metadata = ModelProto.Parser.ParseFrom(File.ReadAllBytes(OnnxPath)).MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.AreEqual(metadata["heldout_correct"], ortCorrect.ToString(System.Globalization.CultureInfo.InvariantCulture), "ONNX Runtime's held-out accuracy is the trainer's");
        StringAssert.Contains(File.ReadAllText(Path.Combine(RepoPaths.MnistSample, "README.md")), $"{ortCorrect}/2000");
    }

    [TestMethod]
    public void Manifest_parses_plans_and_packs_as_the_build_does()
    {
        var parsed = ManifestParser.Parse(_manifest, File.ReadAllText(_manifest));
        Assert.IsEmpty(parsed.Diagnostics, string.Join("\n", parsed.Diagnostics.Select(d => d.ToCanonicalString())));
        var planned = ModelPlanner.Plan(parsed.Spec!);
        Assert.IsNotNull(planned.Plan, string.Join("\n", planned.Diagnostics.Select(d => d.ToCanonicalString())));
        var packed = WeightPacker.Pack(parsed.Spec!, planned.Plan);
        Assert.IsEmpty(packed.Diagnostics, string.Join("\n", packed.Diagnostics.Select(d => d.ToCanonicalString())));
        Assert.IsGreaterThan(668_672L * 4, (long)packed.File!.Length, "all 668,672 f32 weights and biases are packed");
    }
}
