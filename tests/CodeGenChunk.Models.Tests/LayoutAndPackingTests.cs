using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Model.Planning;
using CodeGenChunk.Models.Tests.Generated;
using CodeGenChunk.Tool.Packing;
using CodeGenChunk.Tool.SafeTensors;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Models.Tests;

/// <summary>The generator's constants, the packer's file and the planner agree; the packer reports bad weights at the manifest's positions.</summary>
[TestClass]
public sealed class LayoutAndPackingTests
{
    private static (ManifestSpec Spec, ModelPlan Plan) Load(string baseName, string? text = null)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Models", baseName + ".cgc.json");
        var parsed = ManifestParser.Parse(path, text ?? File.ReadAllText(path));
        Assert.IsNotNull(parsed.Spec, string.Join("; ", parsed.Diagnostics.Select(d => d.ToCanonicalString())));
        var plan = ModelPlanner.Plan(parsed.Spec);
        Assert.IsNotNull(plan.Plan, string.Join("; ", plan.Diagnostics.Select(d => d.ToCanonicalString())));
        return (parsed.Spec, plan.Plan);
    }

    [TestMethod]
    public void Generated_constants_equal_the_planner_and_the_packed_file()
    {
        var (spec, plan) = Load("odd.int8");
        Assert.AreEqual(OddInt8.LayoutHash, plan.Layout.Hash);
        Assert.AreEqual(OddInt8.WeightBytes, plan.Layout.FileLength);
        Assert.AreEqual(OddInt8.WeightEntryCount, plan.Layout.Entries.Count);
        Assert.AreEqual(OddInt8.ScratchBytes, plan.ScratchFloats * 4);
        Assert.AreEqual(OddInt8.PeakRamBytes, plan.PeakRamBytes);
        Assert.AreEqual(plan.Layout.FileLength + (4L * (plan.ScratchFloats + plan.InputLength + plan.OutputLength)), plan.PeakRamBytes);
        Assert.AreEqual(OddInt8.MacsPerRun, plan.Macs);
        Assert.AreEqual((100L * 24) + (24L * 24) + (24L * 7), plan.Macs);

        var packed = WeightPacker.Pack(spec, plan);
        Assert.IsNotNull(packed.File);
        CollectionAssert.AreEqual(packed.File, OddInt8.EmbeddedWeights.Bytes.ToArray(), "the embedded resource is exactly what the packer writes");
        var again = WeightPacker.Pack(spec, plan);
        CollectionAssert.AreEqual(packed.File, again.File, "packing is deterministic");
    }

    [TestMethod]
    public void Entry_data_is_aligned_for_simd_loads()
    {
        var (_, plan) = Load("wide.mixed");
        foreach (var e in plan.Layout.Entries)
        {
            Assert.AreEqual(0L, e.Offset % 64, e.Name);
        }
    }

    [TestMethod]
    public void Scratch_is_reused_across_layers()
    {
        // BigNet-like chains must not grow scratch with depth: 3 slots at most here.
        var (_, plan) = Load("wide.mixed");
        Assert.IsLessThanOrEqualTo(3 * 64, plan.ScratchFloats);
        Assert.AreEqual(WideMixed.ScratchFloats, plan.ScratchFloats);
    }

    private static string WriteWeights(IReadOnlyList<(string, long[], float[])> tensors)
    {
        var path = Path.Combine(Path.GetTempPath(), "cgc-" + Guid.NewGuid().ToString("N") + ".safetensors");
        SafeTensorsWriter.Write(path, tensors);
        return path;
    }

    private static List<(string Name, long[] Shape, float[] Values)> TinyTensors() =>
        SyntheticWeights.Create(Load("tiny.file").Spec, 1);

    [TestMethod]
    public void Missing_tensor_is_CGC0012_at_the_layer_name()
    {
        var tensors = TinyTensors().Where(t => t.Name != "l1.weight").ToList();
        var d = PackWith(tensors);
        Assert.AreEqual("CGC0012", d.Info.Id);
        Assert.Contains("l1.weight", d.Message);
        AssertAt(d, "\"l1\"");
    }

    [TestMethod]
    public void Wrong_shape_is_CGC0013()
    {
        var tensors = TinyTensors().Select(t => t.Name == "l0.weight" ? (t.Name, new long[] { 16, 8 }, t.Values) : t).ToList();
        var d = PackWith(tensors);
        Assert.AreEqual("CGC0013", d.Info.Id);
        Assert.Contains("[16, 8]", d.Message);
        Assert.Contains("[8, 16]", d.Message);
    }

    [TestMethod]
    public void Cnn_constants_equal_the_planner_and_filter_banks_are_packed_row_major()
    {
        var (spec, plan) = Load("cnn.int8");
        Assert.AreEqual(CnnInt8.LayoutHash, plan.Layout.Hash);
        Assert.AreEqual(CnnInt8.ScratchBytes, plan.ScratchFloats * 4);
        Assert.AreEqual(CnnInt8.PeakRamBytes, plan.PeakRamBytes);
        Assert.AreEqual(CnnInt8.MacsPerRun, plan.Macs);
        Assert.AreEqual((8L * 28 * 28 * 25) + (16L * 14 * 14 * 200) + (256L * 10), plan.Macs);
        Assert.AreEqual(1 * 28 * 28, plan.InputLength);
        Assert.AreEqual(10, plan.OutputLength);

        var packed = WeightPacker.Pack(spec, plan);
        Assert.IsNotNull(packed.File);
        CollectionAssert.AreEqual(packed.File, CnnInt8.EmbeddedWeights.Bytes.ToArray());

        // conv2's filters as the matrix [16, 8 * 5 * 5], quantized and stored row after row (no row blocks).
        var entries = plan.Layout.Entries.ToList();
        var index = entries.FindIndex(e => e.Name == "conv2.weight.q");
        var entry = entries[index];
        Assert.IsTrue(entry.RowMajor);
        Assert.AreEqual(16, entry.Rows);
        Assert.AreEqual(200, entry.Cols);
        var source = SafeTensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "Models", spec.Weights.Source));
        var w = source.GetFloats(source.Tensors["conv2.weight"]).ToArray();
        CollectionAssert.AreEqual(new long[] { 16, 8, 5, 5 }, source.Tensors["conv2.weight"].Shape.ToArray());
        var q = new sbyte[16 * 200];
        var scales = new float[16 * 4];
        Formats.Int8GroupQuantizer.Quantize(w, 16, 200, 64, q, scales);
        var (offset, length) = Formats.ChunkFileValidator.GetEntry(packed.File, index);
        CollectionAssert.AreEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(q.AsSpan()).ToArray(), packed.File.AsSpan((int)offset, (int)length).ToArray());
    }

    [TestMethod]
    public void Conv_chunks_are_row_blocks_of_the_filter_bank_each_packed_in_its_own_format()
    {
        var (spec, plan) = Load("conv.mixed");
        Assert.AreEqual(ConvMixed.LayoutHash, plan.Layout.Hash);
        Assert.AreEqual(ConvMixed.MacsPerRun, plan.Macs);
        Assert.AreEqual((8L * 28 * 28 * 25) + (16L * 14 * 14 * 200) + (256L * 10), plan.Macs);
        CollectionAssert.AreEqual(new[] { "f32", "int4", "int8", "int8", "int1", "f16", "ternary", "base11" }, ConvMixed.ChunkFormats);
        var packed = WeightPacker.Pack(spec, plan);
        Assert.IsNotNull(packed.File);
        CollectionAssert.AreEqual(packed.File, ConvMixed.EmbeddedWeights.Bytes.ToArray());

        // conv2's 16 filters of 8 * 5 * 5 in 5 chunks of 4, 3, 3, 3, 3 channels; chunk 1 (channels 4..6) is int1, row by row.
        var entries = plan.Layout.Entries.ToList();
        var starts = new[] { 0, 4, 7, 10, 13 };
        var formats = new[] { "int8", "int1", "f16", "ternary", "base11" };
        for (var i = 0; i < 5; i++)
        {
            var chunk = entries.Where(e => e.Name.StartsWith("conv2.c" + i + ".", StringComparison.Ordinal)).ToList();
            Assert.IsNotEmpty(chunk);
            foreach (var e in chunk)
            {
                Assert.AreEqual(formats[i], e.Format, e.Name);
                Assert.AreEqual(starts[i], e.RowStart, e.Name);
                Assert.AreEqual(i == 0 ? 4 : 3, e.Rows, e.Name);
                Assert.AreEqual(200, e.Cols, e.Name);
                Assert.AreEqual(16, e.TensorRows, e.Name);
                Assert.IsTrue(e.RowMajor, e.Name);
            }
        }

        var index = entries.FindIndex(e => e.Name == "conv2.c1.weight.q");
        var source = SafeTensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "Models", spec.Weights.Source));
        var w = source.GetFloats(source.Tensors["conv2.weight"]).ToArray().AsSpan(4 * 200, 3 * 200).ToArray();
        var g = Formats.WeightFormats.DefaultGroupSize("int1");
        var bits = new byte[3 * Formats.WeightFormats.WeightBytesPerRow("int1", 200, g)];
        var scales = new float[3 * ((200 + g - 1) / g)];
        Formats.Int1BlockFormat.Quantize(w, 3, 200, g, bits, scales);
        var (offset, length) = Formats.ChunkFileValidator.GetEntry(packed.File, index);
        CollectionAssert.AreEqual(bits, packed.File.AsSpan((int)offset, (int)length).ToArray());
        Assert.IsFalse(entries.Any(e => e.Name.StartsWith("conv2.weight", StringComparison.Ordinal)), "conv2 has no whole-bank entry");
    }

    [TestMethod]
    public void Conv_weight_of_the_wrong_shape_is_CGC0013()
    {
        var tensors = SyntheticWeights.Create(Load("cnn.f32").Spec, 1)
            .Select(t => t.Name == "conv1.weight" ? (t.Name, new long[] { 8, 25 }, t.Values) : t)
            .ToList();
        var d = PackWith(tensors, "cnn.f32");
        Assert.AreEqual("CGC0013", d.Info.Id);
        Assert.Contains("[8, 25]", d.Message);
        Assert.Contains("[8, 1, 5, 5]", d.Message);
        AssertAt(d, "8, \"kernel\"");
    }

    [TestMethod]
    public void NaN_weight_is_CGC0022_with_the_index()
    {
        var tensors = TinyTensors();
        tensors.First(t => t.Name == "l0.bias").Values[3] = float.NaN;
        var d = PackWith(tensors);
        Assert.AreEqual("CGC0022", d.Info.Id);
        Assert.Contains("l0.bias", d.Message);
        Assert.Contains("index 3", d.Message);
    }

    [TestMethod]
    public void Missing_source_is_CGC0018_at_weights_source()
    {
        var (spec, plan) = Load("tiny.file");
        var result = WeightPacker.Pack(spec, plan, Path.Combine(Path.GetTempPath(), "missing-" + Guid.NewGuid().ToString("N") + ".safetensors"));
        Assert.IsNull(result.File);
        Assert.AreEqual("CGC0018", result.Diagnostics[0].Info.Id);
        AssertAt(result.Diagnostics[0], "\"weights/tiny.file.safetensors\"");
    }

    [TestMethod]
    public void Unreadable_source_is_CGC0020()
    {
        var path = Path.Combine(Path.GetTempPath(), "cgc-" + Guid.NewGuid().ToString("N") + ".safetensors");
        File.WriteAllBytes(path, new byte[] { 255, 255, 255, 255, 0, 0, 0, 0, 1, 2, 3 });
        var (spec, plan) = Load("tiny.file");
        var result = WeightPacker.Pack(spec, plan, path);
        File.Delete(path);
        Assert.AreEqual("CGC0020", result.Diagnostics[0].Info.Id);
    }

    private static Model.Diagnostics.ManifestDiagnostic PackWith(IReadOnlyList<(string, long[], float[])> tensors, string baseName = "tiny.file")
    {
        var (spec, plan) = Load(baseName);
        var path = WriteWeights(tensors);
        try
        {
            var result = WeightPacker.Pack(spec, plan, path);
            Assert.IsNull(result.File, "a bad weights file must not be packed");
            Assert.HasCount(1, result.Diagnostics);
            return result.Diagnostics[0];
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The diagnostic's line and column point at <paramref name="token"/> in the manifest text.</summary>
    private static void AssertAt(Model.Diagnostics.ManifestDiagnostic d, string token)
    {
        var lines = File.ReadAllLines(d.Span.FilePath);
        var line = Array.FindIndex(lines, l => l.Contains(token, StringComparison.Ordinal));
        Assert.AreEqual(line, d.Span.StartLine, d.ToCanonicalString());
        Assert.AreEqual(lines[line].IndexOf(token, StringComparison.Ordinal), d.Span.StartColumn, d.ToCanonicalString());
    }
}
