using System;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using CodeGenChunk.Tool.Commands;
using CodeGenChunk.Tool.Eval;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Tool.Tests;

/// <summary>
/// <c>cgc eval</c> and <c>cgc report</c>: the in-process build of a manifest runs the generated code, and what it counts
/// (accuracy, agreement, MACs, chunk hits, bytes) equals what a plain reference and ONNX Runtime give on the same digits.
/// </summary>
[TestClass]
public sealed class EvalCommandTests
{
    private const int Samples = 300;

    private static string Images => Path.Combine(RepoPaths.MnistData, "images-u8.bin.gz");

    private static string Labels => Path.Combine(RepoPaths.MnistData, "labels-u8.bin");

    private static string Manifest(string name) => Path.Combine(RepoPaths.MnistSample, name + ".cgc.json");

    private static LabelledData HeldOut() => LabelledData.Load(Images, Labels, 784, "u8", "u8", 255f, every: 5, start: 4, limit: Samples);

    [TestMethod]
    public void FloatVariantCountsWhatThePlainReferenceCounts()
    {
        var data = HeldOut();
        var run = new EvalRunner().Run("test", new[] { new EvalRunner.Variant("f32", Manifest("mlp.f32")), new EvalRunner.Variant("int8", Manifest("mlp.int8")) }, data, Path.Combine(RepoPaths.MnistSample, "mlp.onnx"));

        var reference = new ReferenceForward(Manifest("mlp.f32"));
        var correct = data.Indices.Count(i => MnistDigits.ArgMax(reference.Run(MnistDigits.Scaled(i))) == MnistDigits.Label(i));
        var f32 = run.Variants[0];
        Assert.AreEqual(correct, f32.Correct);
        Assert.AreEqual(Math.Round(100.0 * correct / Samples, 2), f32.Top1);
        Assert.AreEqual(f32.Top1, f32.FloatTop1);
        Assert.AreEqual(0, f32.DropPp);
        Assert.AreEqual(100, f32.AgreeFloat);
        Assert.AreEqual(100, f32.AgreeOrt);
        Assert.AreEqual(784L * 512 + (512L * 512) + (512L * 10), f32.MacsDense);
        Assert.AreEqual(f32.MacsDense, f32.MacsMean);

        var int8 = run.Variants[1];
        Assert.AreEqual(f32.Top1, int8.FloatTop1, "the int8 variant's float twin is the f32 model");
        Assert.AreEqual(Math.Round(int8.FloatTop1 - int8.Top1, 2), int8.DropPp);
        Assert.IsTrue(int8.MaxAbsDiffFloat is > 0 and < 1, $"int8 logits differ from f32 by {int8.MaxAbsDiffFloat}");
        Assert.AreEqual(f32.WeightBytes, int8.FloatWeightBytes);
        Assert.IsLessThan(f32.WeightBytes / 3, int8.WeightBytes);
        Assert.AreEqual(Math.Round(100 * (1 - ((double)int8.WeightBytes / f32.WeightBytes)), 2), int8.SizeCut);
    }

    [TestMethod]
    public void RoutedVariantCountsTheChunksItRan()
    {
        var data = HeldOut();
        var run = new EvalRunner().Run("test", new[] { new EvalRunner.Variant("proxy6", Manifest("mlp.proxy6")) }, data, onnx: null);
        var v = run.Variants.Single();

        Assert.IsNull(v.AgreeOrt);
        Assert.HasCount(2, v.Layers);
        foreach (var layer in v.Layers)
        {
            Assert.HasCount(12, layer.HitRate);
            Assert.IsTrue(layer.HitRate.All(h => h is >= 0 and <= 1));

            // topK 6 without a threshold: exactly 6 of the 12 chunks run for every digit.
            Assert.AreEqual(6.0, layer.HitRate.Sum(), 1e-3, layer.Name);
        }

        Assert.IsTrue(v.MacCut is > 30 and < 50, $"MAC cut {v.MacCut}%");
        Assert.IsLessThan(v.MacsDense, v.MacsMean);
        Assert.IsLessThan(100.0, v.AgreeFloat);
    }

    [TestMethod]
    public void FloatTwinDropsQuantizationChunksAndActivations()
    {
        var twin = JsonNode.Parse(ModelCompiler.FloatTwin(File.ReadAllText(Manifest("mlp.mixed"))))!.AsObject();
        Assert.IsFalse(twin.ContainsKey("quant"));
        foreach (var layer in twin["layers"]!.AsArray())
        {
            Assert.IsFalse(layer!.AsObject().ContainsKey("chunks"));
            Assert.IsFalse(layer.AsObject().ContainsKey("quant"));
        }

        Assert.AreEqual("mlp.safetensors", twin["weights"]!["source"]!.GetValue<string>());
    }

    [TestMethod]
    public void BrokenManifestIsAnErrorWithItsDiagnostic()
    {
        var dir = RepoPaths.NewTempDirectory();
        var path = Path.Combine(dir, "broken.cgc.json");
        File.WriteAllText(path, """{ "model": "M", "weights": { "source": "w.safetensors" }, "input": { "shape": [4] }, "layers": [ { "op": "linear", "name": "a", "in": 4 } ] }""");
        var ex = Assert.ThrowsExactly<EvalException>(() => ModelCompiler.Compile(path));
        StringAssert.Contains(ex.Message, "CGC0002");
        StringAssert.Contains(ex.Message, "broken.cgc.json");
    }

    [TestMethod]
    public void DatasetWhoseLabelsDoNotMatchIsRefused()
    {
        var dir = RepoPaths.NewTempDirectory();
        var labels = Path.Combine(dir, "labels.bin");
        File.WriteAllBytes(labels, new byte[17]);
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => LabelledData.Load(Images, labels, 784, "u8", "u8", 255f, 1, 0, 0));
        StringAssert.Contains(ex.Message, "10,000 samples");
        StringAssert.Contains(ex.Message, "17 labels");

        var samples = Path.Combine(dir, "samples.bin");
        File.WriteAllBytes(samples, new byte[100]);
        ex = Assert.ThrowsExactly<InvalidDataException>(() => LabelledData.Load(samples, labels, 784, "u8", "u8", 1f, 1, 0, 0));
        StringAssert.Contains(ex.Message, "not a whole number of samples");
    }

    [TestMethod]
    public void MarkdownSectionIsReplacedAndTheRestKept()
    {
        var dir = RepoPaths.NewTempDirectory();
        var path = Path.Combine(dir, "accuracy.md");
        File.WriteAllText(path, "# Accuracy\n\nintro\n\n<!-- cgc eval: mlp -->\nold table\n<!-- /cgc eval: mlp -->\n\noutro\n");
        EvalMarkdown.WriteSection(path, "mlp", "new table\n");
        EvalMarkdown.WriteSection(path, "cnn", "cnn table\n");
        EvalMarkdown.WriteSection(path, "mlp", "newer table\n");
        Assert.AreEqual(
            "# Accuracy\n\nintro\n\n<!-- cgc eval: mlp -->\nnewer table\n<!-- /cgc eval: mlp -->\n\noutro\n\n<!-- cgc eval: cnn -->\ncnn table\n<!-- /cgc eval: cnn -->\n",
            File.ReadAllText(path));
    }

    [TestMethod]
    public void TableCarriesTheCommandAndEveryVariant()
    {
        var run = new EvalRun("cgc eval a.cgc.json --samples s", "s", 10, "m.onnx", new[]
        {
            new VariantResult("a", "a.cgc.json", "A", 9, 90, 90, 0, 100, 100, 0, 100, 100, 0, 400, 400, 0, 500, Array.Empty<ChunkedLayerResult>()),
            new VariantResult("b", "b.cgc.json", "B", 8, 80, 90, 10, 90, 90, 0.5, 40, 100, 60, 100, 400, 75, 200, Array.Empty<ChunkedLayerResult>()),
        });
        var table = EvalMarkdown.Table(run);
        StringAssert.StartsWith(table, "```sh\ncgc eval a.cgc.json --samples s\n```");
        StringAssert.Contains(table, "| b | 80.00% | 10.00 | 90.00% | 90.00% | 40 | 60.0% | 100 | 75.0% |");
        Assert.AreEqual("cgc eval 'a b.json' --x=1", EvalMarkdown.CommandLine("cgc", new[] { "eval", "a b.json", "--x=1" }));
    }

    [TestMethod]
    public void ReportWritesEveryPlot()
    {
        var run = new EvalRunner().Run("test", new[] { new EvalRunner.Variant("int8", Manifest("mlp.int8")), new EvalRunner.Variant("proxy6", Manifest("mlp.proxy6")) }, LabelledData.Load(Images, Labels, 784, "u8", "u8", 255f, 5, 4, 50), onnx: null);
        var dir = RepoPaths.NewTempDirectory();
        var png = ReportCommand.Write(new[] { ("mlp", run) }, dir, "png");
        CollectionAssert.AreEquivalent(
            new[] { "accuracy-vs-macs.png", "accuracy-vs-bytes.png", "mlp-proxy6.png" },
            png.Select(Path.GetFileName).ToArray());
        foreach (var file in png)
        {
            var bytes = File.ReadAllBytes(file);
            CollectionAssert.AreEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4], file);
        }

        var svg = ReportCommand.Write(new[] { ("mlp", run) }, dir, "svg");
        foreach (var file in svg)
        {
            StringAssert.Contains(File.ReadAllText(file), "<svg", file);
        }
    }
}
