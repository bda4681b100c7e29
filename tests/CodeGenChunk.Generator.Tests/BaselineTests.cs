using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Generator.Tests;

/// <summary>The generated sources of the sample and test manifests, against checked-in baselines.</summary>
[TestClass]
public sealed class BaselineTests
{
    [TestMethod]
    [DataRow("samples/BigNet/bignet.f32.cgc.json", "BigNetF32")]
    [DataRow("samples/BigNet/bignet.int8.cgc.json", "BigNetInt8")]
    [DataRow("tests/CodeGenChunk.Generator.Tests/Manifests/odd.f32.cgc.json", "OddF32")]
    [DataRow("tests/CodeGenChunk.Generator.Tests/Manifests/small.int8.cgc.json", "SmallInt8")]
    [DataRow("tests/CodeGenChunk.Generator.Tests/Manifests/cnn.f32.cgc.json", "Cnn")]
    [DataRow("samples/Mnist/mnist8.lowrank6.cgc.json", "Mnist8LowRank6")]
    [DataRow("samples/Mnist/mnist8.pool2t16.cgc.json", "Mnist8Pool2T16")]
    [DataRow("tests/CodeGenChunk.Generator.Tests/Manifests/stream.int8.cgc.json", "StreamInt8")]
    [DataRow("tests/CodeGenChunk.Models.Tests/Models/planes.cgc.json", "Planes")]
    [DataRow("samples/Mnist/mlp.int8a.predicted.cgc.json", "MnistMlpInt8APredicted")]
    [DataRow("samples/Mnist/mlp.int8a.predicted.floatin.cgc.json", "MnistMlpInt8APredictedFloatIn")]
    [DataRow("samples/Mnist/mnist8.int8a.predicted.cgc.json", "Mnist8Int8APredicted")]
    [DataRow("tests/CodeGenChunk.Models.Tests/Models/act4.predicted.cgc.json", "Act4Predicted")]
    [DataRow("tests/CodeGenChunk.Models.Tests/Models/act16.predicted.cgc.json", "Act16Predicted")]
    [DataRow("tests/CodeGenChunk.Models.Tests/Models/act11.predicted.cgc.json", "Act11Predicted")]
    [DataRow("samples/Mnist/mnist8.base11a.predicted.cgc.json", "Mnist8Base11APredicted")]
    [DataRow("samples/Mnist/mlp.base11a.pairs.cgc.json", "MnistMlpBase11APairs")]
    [DataRow("samples/Mnist/mlp.base11p.cgc.json", "MnistMlpBase11P")]
    [DataRow("samples/Mnist/mlp.ternarya.cgc.json", "MnistMlpTernaryA")]
    public void GeneratedSourcesMatchBaselines(string manifest, string className)
    {
        var outcome = GeneratorHarness.RunFile(RepoPaths.InRoot(manifest.Split('/')));

        GeneratorAssert.DidNotCrash(outcome);
        Assert.IsEmpty(outcome.Diagnostics, string.Join("\n", outcome.Diagnostics));
        Baseline.Verify(className, outcome.SourceTexts);
    }

    [TestMethod]
    public void MismatchMessageShowsTheFirstDifferingLine()
    {
        var message = Baseline.FirstDifference("CGC.X.Model.g.cs", "a\nb\nc\n", "a\nB\nc\n");

        Assert.Contains("at line 2", message);
        Assert.Contains("baseline:  b", message);
        Assert.Contains("generated: B", message);
    }
}
