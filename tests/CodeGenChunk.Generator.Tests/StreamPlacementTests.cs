using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Generator.Tests;

/// <summary>Stream placement (docs/streaming.md): the budget counts the weight scratch, not the file.</summary>
[TestClass]
public sealed class StreamPlacementTests
{
    private const string Manifest = """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [256] },
          "target": { "ramBudgetBytes": 40000, "weights": "PLACEMENT" },
          "layers": [
            { "op": "linear", "name": "a", "in": 256, "out": 256, "quant": { "format": "int8", "groupSize": 64 },
              "chunks": { "count": 8, "axis": "output", "topK": 2 } },
            { "op": "relu" },
            { "op": "linear", "name": "b", "in": 256, "out": 10 }
          ]
        }
        """;

    [TestMethod]
    public void A_model_over_budget_in_file_placement_fits_when_streamed()
    {
        // a: 256 x 256 int8 (65,536 bytes + scales), b: 256 x 10 f32 (10,240 bytes): the file does not fit 40,000 bytes.
        var file = GeneratorHarness.Run(Manifest.Replace("PLACEMENT", "file"));
        GeneratorAssert.DidNotCrash(file);
        Assert.AreEqual("CGC0014", GeneratorAssert.Single(file).Id);

        var stream = GeneratorHarness.Run(Manifest.Replace("PLACEMENT", "stream"));
        GeneratorAssert.DidNotCrash(stream);
        Assert.IsEmpty(stream.Diagnostics, string.Join("; ", stream.Diagnostics));
        var model = stream.SourceTexts.Single(s => s.HintName == "CGC.M.Model.g.cs").Text;

        // The scratch is the largest read: b's 10,240-byte matrix and its 40-byte bias right after it (10,240 is 64-byte aligned)
        // (a chunk of a is 32 rows x 256 = 8,192 bytes + 512 bytes of scales, with a's 1,024-byte bias after it).
        StringAssert.Contains(model, "public const int WeightScratchBytes = 10280;");
        StringAssert.Contains(model, "public const long MaxBytesReadPerRun = ");
        StringAssert.Contains(model, "ReadWeights(");
        StringAssert.Contains(model, "public long LastRunBytesRead");
        StringAssert.Contains(model, "public long TotalBytesRead");
        Assert.DoesNotContain("CGC0017", string.Join(";", stream.Diagnostics.Select(d => d.Id)));
    }

    [TestMethod]
    public void Int8_input_chunks_are_not_column_panels_when_streamed()
    {
        // File placement stores these int8 input chunks (out 64) as column panels run by one panel kernel; stream
        // placement reads each selected chunk on its own, so each chunk is its own matrix and kernel call.
        const string manifest = """
            {
              "model": "M",
              "namespace": "N",
              "weights": { "source": "w.safetensors" },
              "input": { "shape": [128] },
              "target": { "weights": "PLACEMENT" },
              "quant": { "format": "int8", "groupSize": 32 },
              "layers": [
                { "op": "linear", "name": "a", "in": 128, "out": 64, "chunks": { "count": 4, "axis": "input", "topK": 2 } }
              ]
            }
            """;
        var file = GeneratorHarness.Run(manifest.Replace("PLACEMENT", "file"));
        Assert.IsEmpty(file.Diagnostics);
        StringAssert.Contains(file.SourceTexts.Single(s => s.HintName == "CGC.M.Model.g.cs").Text, "ChunkPanels_0(ref w, selected");

        var stream = GeneratorHarness.Run(manifest.Replace("PLACEMENT", "stream"));
        Assert.IsEmpty(stream.Diagnostics);
        var model = stream.SourceTexts.Single(s => s.HintName == "CGC.M.Model.g.cs").Text;
        Assert.DoesNotContain("ChunkPanels_", model);
        Assert.AreEqual(4, model.Split("if (selected[").Length - 1, "one guarded read and kernel call per chunk");
        Assert.AreEqual(4 + 1, model.Split("ReadWeights(").Length - 1 - 1, "a read per chunk and the bias (the method's own declaration excluded)");
    }
}
