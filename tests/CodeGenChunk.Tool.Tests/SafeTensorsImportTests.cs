using System.Collections.Generic;
using System.IO;
using CodeGenChunk.Tool.Import;
using CodeGenChunk.Tool.SafeTensors;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Tool.Tests;

/// <summary>cgc import of a safetensors file with --arch or --skeleton.</summary>
[TestClass]
public sealed class SafeTensorsImportTests
{
    private static string MlpWeights => Path.Combine(RepoPaths.MnistSample, "mlp.safetensors");

    [TestMethod]
    public void Arch_gives_the_same_layers_and_bytes_as_the_onnx_import()
    {
        var (manifest, weights) = Imports.Run(MlpWeights, "mlp", arch: "784-512-512-10");
        CollectionAssert.AreEqual(
            new[]
            {
                """{"op": "linear", "name": "fc1", "in": 784, "out": 512}""",
                """{"op": "relu"}""",
                """{"op": "linear", "name": "fc2", "in": 512, "out": 512}""",
                """{"op": "relu"}""",
                """{"op": "linear", "name": "fc3", "in": 512, "out": 10}""",
            },
            OnnxGraphImportTests.Layers(manifest));
        CollectionAssert.AreEqual(File.ReadAllBytes(MlpWeights), File.ReadAllBytes(weights));
    }

    [TestMethod]
    public void Arch_that_does_not_match_the_tensors_names_tensor_and_shapes()
    {
        var message = Assert.ThrowsExactly<ImportException>(() => Imports.Run(MlpWeights, "mlp", arch: "784-256-10")).Message;
        Assert.AreEqual("mlp.safetensors: tensor 'fc1.weight' has shape [512, 784], but layer fc1 (--arch 784-256-10: 784 -> 256) needs [256, 784]", message);

        message = Assert.ThrowsExactly<ImportException>(() => Imports.Run(MlpWeights, "mlp", arch: "784-512-512-10-10")).Message;
        StringAssert.StartsWith(message, "mlp.safetensors: tensor 'fc4.weight' for layer fc4 (--arch 784-512-512-10-10: 10 -> 10) is missing (the file has: fc1.bias, fc1.weight");

        message = Assert.ThrowsExactly<ImportException>(() => Imports.Run(MlpWeights, "mlp", arch: "784x512")).Message;
        StringAssert.StartsWith(message, "--arch '784x512' is not a list");

        message = Assert.ThrowsExactly<ImportException>(() => Imports.Run(MlpWeights, "mlp")).Message;
        Assert.AreEqual("mlp.safetensors: a safetensors file has no graph: give --arch (e.g. 784-512-512-10) or --skeleton (a manifest-like JSON naming the tensors)", message);
    }

    [TestMethod]
    public void Skeleton_fills_in_sizes_from_the_tensors_and_keeps_what_it_does_not_interpret()
    {
        var dir = RepoPaths.NewTempDirectory();
        var source = Path.Combine(dir, "net.safetensors");
        SafeTensorsWriter.Write(source, new List<(string, long[], float[])>
        {
            ("enc.weight", [6, 4], new float[24]), ("enc.bias", [6], new float[6]),
            ("norm.weight", [6], new float[6]), ("norm.bias", [6], new float[6]),
            ("dec.weight", [3, 6], new float[18]),
        });
        var skeleton = Path.Combine(dir, "net.skeleton.json");
        File.WriteAllText(skeleton, """
            {
              // sizes come from the tensors
              "quant": { "format": "int8" },
              "layers": [
                { "op": "linear", "name": "encoder", "weights": "enc", "chunks": { "count": 2 } },
                { "op": "relu", "name": "h" },
                { "op": "layernorm", "name": "norm", "eps": 1e-6 },
                { "op": "residual", "from": "h" },
                { "op": "linear", "name": "dec", "bias": false, "quant": { "format": "f32" } }
              ]
            }
            """);
        var (manifest, _) = Imports.Run(source, "net", skeleton: skeleton, outDir: Path.Combine(dir, "out"));
        CollectionAssert.AreEqual(
            new[]
            {
                """{"op": "linear", "name": "encoder", "in": 4, "out": 6, "weights": "enc", "chunks": {"count":2}}""",
                """{"op": "relu", "name": "h"}""",
                """{"op": "layernorm", "name": "norm", "dim": 6, "eps": 1E-06}""",
                """{"op": "residual", "from": "h"}""",
                """{"op": "linear", "name": "dec", "in": 6, "out": 3, "bias": false, "quant": {"format":"f32"}}""",
            },
            OnnxGraphImportTests.Layers(manifest));
        StringAssert.Contains(File.ReadAllText(manifest), "\"input\": { \"shape\": [4] },\n  \"quant\": {\"format\":\"int8\"},");

        File.WriteAllText(skeleton, """{ "layers": [ { "op": "linear", "name": "dec", "in": 4, "bias": false } ] }""");
        var message = Assert.ThrowsExactly<ImportException>(() => Imports.Run(source, "net", skeleton: skeleton, outDir: Path.Combine(dir, "out"))).Message;
        Assert.AreEqual("net.skeleton.json: layer 0 (linear 'dec'): in = 4 but dec.weight has shape [3, 6]", message);
    }
}
