using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CodeGenChunk.Formats;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Model.Planning;
using CodeGenChunk.Models.Tests.Generated;
using CodeGenChunk.Runtime;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Models.Tests;

/// <summary>
/// Stream placement (docs/streaming.md): Models/stream.cgc.json reads its weights from the file per inference;
/// Models/stream.file.cgc.json is the same network with file placement.
/// </summary>
[TestClass]
public sealed class StreamTests
{
    private static string ModelPath(string name) => Path.Combine(AppContext.BaseDirectory, "Models", name);

    private static string WeightsPath(string name) => Path.Combine(AppContext.BaseDirectory, name);

    [TestMethod]
    [DataRow(KernelPath.Auto)]
    [DataRow(KernelPath.Vector256)]
    [DataRow(KernelPath.Vector128)]
    [DataRow(KernelPath.Scalar)]
    public void Streamed_outputs_equal_file_placement_bit_for_bit_and_match_the_reference(KernelPath path)
    {
        using var streamed = Streamed.Open();
        using var file = StreamedFile.Open();
        streamed.KernelPath = path;
        file.KernelPath = path;
        var reference = new ReferenceInterpreter(ModelPath("stream.cgc.json"));
        var a = new float[Streamed.OutputLength];
        var b = new float[StreamedFile.OutputLength];
        for (var seed = 0; seed < 24; seed++)
        {
            var input = ModelHarness.RandomInput(Streamed.InputLength, seed);
            streamed.Run(input, a);
            file.Run(input, b);
            var expected = reference.Forward(input);
            var scale = Math.Max(1f, expected.Max(MathF.Abs));
            for (var i = 0; i < a.Length; i++)
            {
                Assert.AreEqual(BitConverter.SingleToInt32Bits(b[i]), BitConverter.SingleToInt32Bits(a[i]), $"{path}, input {seed}, output {i}: streamed {a[i]} vs file {b[i]}");
                Assert.IsLessThanOrEqualTo(2e-5f * scale, MathF.Abs(a[i] - expected[i]), $"{path}, input {seed}, output {i}: {a[i]} vs reference {expected[i]}");
            }

            Assert.AreEqual(file.LastRunMacs, streamed.LastRunMacs, $"input {seed}: MACs");
        }
    }

    [TestMethod]
    public void Bytes_read_per_inference_are_exactly_the_selected_chunks_plus_the_unrouted_weights()
    {
        var manifest = ModelPath("stream.cgc.json");
        var spec = ManifestParser.Parse(manifest, File.ReadAllText(manifest)).Spec!;
        var entries = WeightLayout.Create(ModelPlanner.LayoutEntries(spec.Layers)).Entries.ToList();
        Assert.AreEqual(Streamed.LayoutHash, WeightLayout.Create(ModelPlanner.LayoutEntries(spec.Layers)).Hash, "the test's layout is the model's");

        // One read covers a chunk's (or matrix's) entries, which lie side by side in the file: first offset to last end.
        long Span(string prefix)
        {
            var matching = entries.Where(e => e.Name.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            Assert.IsNotEmpty(matching, prefix);
            return matching.Max(e => e.Offset + e.Length) - matching.Min(e => e.Offset);
        }

        long Entry(string name) => entries.Single(e => e.Name == name).Length;

        var reference = new ReferenceInterpreter(manifest);
        using var model = Streamed.Open();
        var output = new float[Streamed.OutputLength];
        var offsets = Streamed.ChunkedLayerOffsets.ToArray();
        long total = 0;
        var distinct = new HashSet<long>();
        for (var seed = 0; seed < 24; seed++)
        {
            var input = ModelHarness.RandomInput(Streamed.InputLength, seed);
            model.ResetChunkHits();
            model.Run(input, output);
            reference.Forward(input);

            // Unrouted every run: every bias, the proxy sketch of fc1, every chunk of fc3 ("exact" computes them all),
            // the layernorm's scale and shift (one read), fc4's low-rank factors, every chunk of fc5 (no topK), head whole.
            long expected = Entry("fc1.bias") + Span("fc1.proxy.") + Entry("fc2.bias") + Entry("fc3.bias") + Span("fc4.lowrank.")
                + Entry("fc4.bias") + Entry("fc5.bias") + Span("head.weight") + Entry("head.bias")
                + (entries.Single(e => e.Name == "ln.bias").Offset + Entry("ln.bias") - entries.Single(e => e.Name == "ln.weight").Offset);
            for (var c = 0; c < 6; c++)
            {
                expected += Span("fc3.c" + c + ".");
            }

            for (var c = 0; c < 4; c++)
            {
                expected += Span("fc5.c" + c + "."); // every chunk runs (no topK): one loop in the generated code
            }

            // Routed: the chunks the reference selects, and nothing else.
            for (var l = 0; l < Streamed.ChunkedLayerNames.Length; l++)
            {
                var layer = Streamed.ChunkedLayerNames[l];
                var selection = reference.LastSelection[layer];
                for (var c = 0; c < selection.Length; c++)
                {
                    Assert.AreEqual(selection[c] ? 1L : 0L, model.ChunkHits[offsets[l] + c], $"input {seed}, {layer} chunk {c}");
                    if (selection[c] && layer is not "fc3" and not "fc5")
                    {
                        expected += Span(layer + ".c" + c + ".");
                    }
                }
            }

            Assert.AreEqual(expected, model.LastRunBytesRead, $"input {seed}: bytes read");
            Assert.IsLessThanOrEqualTo(Streamed.MaxBytesReadPerRun, model.LastRunBytesRead, $"input {seed}: at most the build-time bound");
            total += expected;
            distinct.Add(expected);
        }

        Assert.AreEqual(total, model.TotalBytesRead);
        Assert.IsGreaterThan(1, distinct.Count, "the inputs select different chunks, so the bytes read differ");
        Assert.IsLessThan(new FileInfo(WeightsPath(Streamed.WeightsFileName)).Length, Streamed.MaxBytesReadPerRun, "routing reads less than the file");
    }

    [TestMethod]
    [DataRow(KernelPath.Auto)]
    [DataRow(KernelPath.Vector128)]
    [DataRow(KernelPath.Scalar)]
    public void A_streamed_convolutional_model_equals_its_in_memory_twin_and_reads_each_layer_whole(KernelPath path)
    {
        // cnn.stream.cgc.json is cnn.int8.cgc.json with stream placement: conv1, conv2 and fc are read whole per inference.
        var manifest = ModelPath("cnn.stream.cgc.json");
        var spec = ManifestParser.Parse(manifest, File.ReadAllText(manifest)).Spec!;
        var entries = WeightLayout.Create(ModelPlanner.LayoutEntries(spec.Layers)).Entries.ToList();
        long Span(string prefix)
        {
            var matching = entries.Where(e => e.Name.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            return matching.Max(e => e.Offset + e.Length) - matching.Min(e => e.Offset);
        }

        var expected = new[] { "conv1", "conv2", "fc" }.Sum(l => Span(l + ".weight") + entries.Single(e => e.Name == l + ".bias").Length);
        using var streamed = CnnStream.Open();
        using var inMemory = new CnnInt8();
        streamed.KernelPath = path;
        inMemory.KernelPath = path;
        var a = new float[CnnStream.OutputLength];
        var b = new float[CnnInt8.OutputLength];
        for (var seed = 0; seed < 6; seed++)
        {
            var input = ModelHarness.RandomInput(CnnStream.InputLength, seed);
            streamed.Run(input, a);
            inMemory.Run(input, b);
            for (var i = 0; i < a.Length; i++)
            {
                Assert.AreEqual(BitConverter.SingleToInt32Bits(b[i]), BitConverter.SingleToInt32Bits(a[i]), $"{path}, input {seed}, output {i}: streamed {a[i]} vs in memory {b[i]}");
            }

            Assert.AreEqual(expected, streamed.LastRunBytesRead, $"input {seed}: bytes read");
        }

        Assert.AreEqual(CnnStream.MaxBytesReadPerRun, expected, "the build-time bound is exact when nothing is routed");
        Assert.AreEqual(6 * expected, streamed.TotalBytesRead);
    }

    [TestMethod]
    public void Build_time_constants_bound_the_memory()
    {
        // Peak RAM (the weight scratch, the activation scratch, the input and the output; no resident weights) within the budget.
        var manifest = ModelPath("stream.cgc.json");
        var spec = ManifestParser.Parse(manifest, File.ReadAllText(manifest)).Spec!;
        Assert.IsLessThanOrEqualTo(spec.Target.RamBudgetBytes!.Value, Streamed.PeakRamBytes, "the manifest's ramBudgetBytes");
        Assert.IsGreaterThan(4L * (Streamed.ScratchFloats + Streamed.InputLength + Streamed.OutputLength), Streamed.PeakRamBytes - Streamed.WeightScratchBytes + 1, "activations are counted");
        Assert.IsLessThan(new FileInfo(WeightsPath(Streamed.WeightsFileName)).Length, (long)Streamed.WeightScratchBytes, "the scratch is a fraction of the file");

        // The scratch holds the largest single read plus, for a chunked layer, its bias after the largest chunk.
        var entries = WeightLayout.Create(ModelPlanner.LayoutEntries(spec.Layers)).Entries;
        var largestEntry = entries.Max(e => e.Length);
        Assert.IsGreaterThanOrEqualTo(largestEntry, (long)Streamed.WeightScratchBytes);
    }

    [TestMethod]
    public void Streamed_inference_allocates_nothing()
    {
        using var model = Streamed.Open();
        var output = new float[Streamed.OutputLength];
        var inputs = Enumerable.Range(0, 8).Select(s => ModelHarness.RandomInput(Streamed.InputLength, s)).ToArray();
        foreach (var input in inputs)
        {
            model.Run(input, output);
        }

        Assert.AreEqual(0L, Allocations.SteadyState(() =>
        {
            for (var i = 0; i < 200; i++)
            {
                model.Run(inputs[i % inputs.Length], output);
            }
        }), "bytes allocated by 200 streamed inferences");
        Assert.IsGreaterThan(0L, model.LastRunBytesRead);
    }

    [TestMethod]
    public void A_corrupt_weights_file_is_refused_at_open_naming_the_file_and_the_entry()
    {
        var copy = CopyWeights();
        try
        {
            var bytes = File.ReadAllBytes(copy);
            bytes[^100] ^= 0x10;
            File.WriteAllBytes(copy, bytes);
            var e = Assert.ThrowsExactly<WeightFileException>(() => Streamed.OpenFile(copy));
            Assert.AreEqual(WeightFileProblem.ChecksumMismatch, e.Problem);
            StringAssert.Contains(e.Message, copy);
            StringAssert.Contains(e.Message, "checksum mismatch in entry");
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [TestMethod]
    public void A_weights_file_of_another_layout_is_refused_at_open()
    {
        // A well-formed file whose header carries another layout hash (header checksum recomputed, so only the hash is wrong).
        var copy = CopyWeights();
        try
        {
            var bytes = File.ReadAllBytes(copy);
            var h = ChunkFileHeader.Read(bytes);
            var provisional = new ChunkFileHeader(h.Magic, h.FormatVersion, h.HeaderSize, h.LayoutHash ^ 1, h.EntryCount, h.Alignment, h.DataOffset, h.FileLength, h.TableChecksum, 0, h.Reserved);
            provisional.Write(bytes);
            var signed = new ChunkFileHeader(h.Magic, h.FormatVersion, h.HeaderSize, h.LayoutHash ^ 1, h.EntryCount, h.Alignment, h.DataOffset, h.FileLength, h.TableChecksum,
                System.IO.Hashing.XxHash3.HashToUInt64(bytes.AsSpan(0, ChunkFileLayout.HeaderChecksummedSize)), h.Reserved);
            signed.Write(bytes);
            File.WriteAllBytes(copy, bytes);
            var e = Assert.ThrowsExactly<WeightFileException>(() => Streamed.OpenFile(copy));
            Assert.AreEqual(WeightFileProblem.LayoutMismatch, e.Problem, e.Message);
            StringAssert.Contains(e.Message, copy);
            StringAssert.Contains(e.Message, "layout hash");
        }
        finally
        {
            File.Delete(copy);
        }

        // Another manifest's file (of another length), and no file at all.
        var other = WeightsPath(TinyFile.WeightsFileName);
        var wrong = Assert.ThrowsExactly<WeightFileException>(() => Streamed.OpenFile(other));
        Assert.AreEqual(WeightFileProblem.LengthMismatch, wrong.Problem, wrong.Message);
        StringAssert.Contains(wrong.Message, "packed for a different manifest");
        var missing = Path.Combine(Path.GetTempPath(), "no-such-" + Guid.NewGuid().ToString("N") + ".cgcw");
        Assert.AreEqual(WeightFileProblem.NotFound, Assert.ThrowsExactly<WeightFileException>(() => Streamed.OpenFile(missing)).Problem);
    }

    [TestMethod]
    public void A_file_truncated_after_open_makes_the_inference_throw_not_compute()
    {
        var copy = CopyWeights();
        try
        {
            using var model = Streamed.OpenFile(copy);
            var input = ModelHarness.RandomInput(Streamed.InputLength, 1);
            var output = new float[Streamed.OutputLength];
            model.Run(input, output);
            var good = output.ToArray();

            using (var f = new FileStream(copy, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
            {
                f.SetLength(Streamed.WeightBytes / 2);
            }

            output.AsSpan().Fill(float.NaN);
            var e = Assert.ThrowsExactly<WeightFileException>(() => model.Run(input, output));
            Assert.AreEqual(WeightFileProblem.ReadFailed, e.Problem);
            StringAssert.Contains(e.Message, copy);
            StringAssert.Contains(e.Message, "truncated");
            CollectionAssert.AreNotEqual(good, output, "the failed inference did not finish");

            // The file restored, the same model computes again.
            using (var f = new FileStream(copy, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
            {
                f.Write(File.ReadAllBytes(WeightsPath(Streamed.WeightsFileName)));
            }

            model.Run(input, output);
            CollectionAssert.AreEqual(good, output);
        }
        finally
        {
            File.Delete(copy);
        }
    }

    private static string CopyWeights()
    {
        var copy = Path.Combine(Path.GetTempPath(), "stream-" + Guid.NewGuid().ToString("N") + ".cgcw");
        File.Copy(WeightsPath(Streamed.WeightsFileName), copy);
        return copy;
    }
}
