using System;
using System.Linq;
using CodeGenChunk.Models.Tests.Generated;
using CodeGenChunk.Runtime;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Models.Tests;

/// <summary>Chunk routing of the generated code against the reference's own routing (docs/routing.md).</summary>
[TestClass]
public sealed class RoutingTests
{
    [TestMethod]
    [DataRow(KernelPath.Auto)]
    [DataRow(KernelPath.Vector128)]
    [DataRow(KernelPath.Scalar)]
    public void Selected_chunks_and_executed_macs_match_the_reference(KernelPath path)
    {
        using var model = new Routed { KernelPath = path };
        var reference = new ReferenceInterpreter(System.IO.Path.Combine(AppContext.BaseDirectory, "Models", "routed.cgc.json"));
        var output = new float[Routed.OutputLength];
        var offsets = Routed.ChunkedLayerOffsets.ToArray();
        for (var seed = 0; seed < 16; seed++)
        {
            var input = ModelHarness.RandomInput(Routed.InputLength, seed);
            model.ResetChunkHits();
            model.Run(input, output);
            reference.Forward(input);
            for (var l = 0; l < Routed.ChunkedLayerNames.Length; l++)
            {
                var expected = reference.LastSelection[Routed.ChunkedLayerNames[l]];
                for (var c = 0; c < expected.Length; c++)
                {
                    Assert.AreEqual(expected[c] ? 1L : 0L, model.ChunkHits[offsets[l] + c], $"input {seed}, layer {Routed.ChunkedLayerNames[l]}, chunk {c}");
                }
            }

            Assert.AreEqual(reference.LastMacs, model.LastRunMacs, $"input {seed}: MACs executed");
        }
    }

    [TestMethod]
    [DataRow(KernelPath.Auto)]
    [DataRow(KernelPath.Vector256)]
    [DataRow(KernelPath.Vector128)]
    [DataRow(KernelPath.Scalar)]
    public void Int8_column_panels_select_count_and_compute_like_the_reference(KernelPath path)
    {
        // fc1 (64-row panels, top 2 of 4), fc2 (16-row panels, all 3), fc3 (16-row panels, top 1 of 2, residual).
        Assert.AreEqual(3, Panels.ChunkedLayerNames.Length);
        using var model = new Panels { KernelPath = path };
        var reference = new ReferenceInterpreter(System.IO.Path.Combine(AppContext.BaseDirectory, "Models", "panels.cgc.json"));
        var output = new float[Panels.OutputLength];
        var offsets = Panels.ChunkedLayerOffsets.ToArray();
        for (var seed = 0; seed < 16; seed++)
        {
            var input = ModelHarness.RandomInput(Panels.InputLength, seed);
            model.ResetChunkHits();
            model.Run(input, output);
            var expectedOutput = reference.Forward(input);
            for (var l = 0; l < Panels.ChunkedLayerNames.Length; l++)
            {
                var expected = reference.LastSelection[Panels.ChunkedLayerNames[l]];
                for (var c = 0; c < expected.Length; c++)
                {
                    Assert.AreEqual(expected[c] ? 1L : 0L, model.ChunkHits[offsets[l] + c], $"input {seed}, layer {Panels.ChunkedLayerNames[l]}, chunk {c}");
                }
            }

            Assert.AreEqual(reference.LastMacs, model.LastRunMacs, $"input {seed}: MACs executed");
            for (var o = 0; o < output.Length; o++)
            {
                Assert.AreEqual(expectedOutput[o], output[o], 1e-3f * (1 + Math.Abs(expectedOutput[o])), $"input {seed}, output {o}");
            }
        }
    }

    [TestMethod]
    [DataRow(KernelPath.Auto)]
    [DataRow(KernelPath.Vector256)]
    [DataRow(KernelPath.Vector128)]
    [DataRow(KernelPath.Scalar)]
    public void Lowrank_selection_and_executed_macs_match_the_reference(KernelPath path)
    {
        using var model = new RoutedLowRank { KernelPath = path };
        var reference = new ReferenceInterpreter(System.IO.Path.Combine(AppContext.BaseDirectory, "Models", "routed.lowrank.cgc.json"));
        var output = new float[RoutedLowRank.OutputLength];
        var offsets = RoutedLowRank.ChunkedLayerOffsets.ToArray();
        var fc3Counts = new int[4];
        for (var seed = 0; seed < 24; seed++)
        {
            var input = ModelHarness.RandomInput(RoutedLowRank.InputLength, seed);
            model.ResetChunkHits();
            model.Run(input, output);
            reference.Forward(input);
            for (var l = 0; l < RoutedLowRank.ChunkedLayerNames.Length; l++)
            {
                var expected = reference.LastSelection[RoutedLowRank.ChunkedLayerNames[l]];
                for (var c = 0; c < expected.Length; c++)
                {
                    Assert.AreEqual(expected[c] ? 1L : 0L, model.ChunkHits[offsets[l] + c], $"input {seed}, layer {RoutedLowRank.ChunkedLayerNames[l]}, chunk {c}");
                }
            }

            fc3Counts[Array.FindAll(reference.LastSelection["fc3"], s => s).Length]++;
            Assert.AreEqual(reference.LastMacs, model.LastRunMacs, $"input {seed}: MACs executed");
        }

        // fc3's threshold lets a varying number of chunks through, capped at maxK = 3.
        Assert.IsGreaterThan(1, fc3Counts[1] + fc3Counts[2] + fc3Counts[3] - Math.Max(fc3Counts[1], Math.Max(fc3Counts[2], fc3Counts[3])), string.Join(", ", fc3Counts));
    }

    [TestMethod]
    [DataRow(KernelPath.Auto)]
    [DataRow(KernelPath.Vector256)]
    [DataRow(KernelPath.Vector128)]
    [DataRow(KernelPath.Scalar)]
    public void Conv_chunk_selection_outputs_and_executed_macs_match_the_reference(KernelPath path)
    {
        // conv1: top 2 of 3 by "exact"; conv2: top 2 of 5 by "lowrank" (mixed f32/int4 chunks); conv3 (no bias): "lowrank" above 0.012, at most 3 of 4.
        using var model = new ConvRouted { KernelPath = path };
        var reference = new ReferenceInterpreter(System.IO.Path.Combine(AppContext.BaseDirectory, "Models", "conv.routed.cgc.json"));
        var output = new float[ConvRouted.OutputLength];
        var offsets = ConvRouted.ChunkedLayerOffsets.ToArray();
        CollectionAssert.AreEqual(new[] { "conv1", "conv2", "conv3" }, ConvRouted.ChunkedLayerNames);
        var conv3Counts = new int[5];
        for (var seed = 0; seed < 24; seed++)
        {
            var input = ModelHarness.RandomInput(ConvRouted.InputLength, seed);
            model.ResetChunkHits();
            model.Run(input, output);
            var expectedOutput = reference.Forward(input);
            for (var l = 0; l < ConvRouted.ChunkedLayerNames.Length; l++)
            {
                var expected = reference.LastSelection[ConvRouted.ChunkedLayerNames[l]];
                for (var c = 0; c < expected.Length; c++)
                {
                    Assert.AreEqual(expected[c] ? 1L : 0L, model.ChunkHits[offsets[l] + c], $"input {seed}, layer {ConvRouted.ChunkedLayerNames[l]}, chunk {c}");
                }
            }

            conv3Counts[Array.FindAll(reference.LastSelection["conv3"], s => s).Length]++;
            Assert.AreEqual(reference.LastMacs, model.LastRunMacs, $"input {seed}: MACs executed");
            for (var o = 0; o < output.Length; o++)
            {
                Assert.AreEqual(expectedOutput[o], output[o], 1e-3f * (1 + Math.Abs(expectedOutput[o])), $"input {seed}, output {o}");
            }
        }

        Assert.AreEqual(2L, model.ChunkHits[..3].ToArray().Sum());
        Assert.IsLessThan(ConvRouted.MacsPerRun, model.LastRunMacs);

        // conv3's threshold lets a varying number of chunks through.
        Assert.IsGreaterThan(1, conv3Counts.Count(n => n > 0), string.Join(", ", conv3Counts));
    }

    [TestMethod]
    public void Conv_lowrank_costs_its_two_factors_and_the_selected_channels()
    {
        using var model = new ConvRouted();
        var output = new float[ConvRouted.OutputLength];
        model.ResetChunkHits();
        model.Run(ModelHarness.RandomInput(ConvRouted.InputLength, 7), output);
        var hits = model.ChunkHits.ToArray();

        // conv1 (exact) computes all 8 channels of 20x20 with filters of 2*3*3; conv2: V (4 filters of 8*3*3) and U (13 x 4)
        // over 20x20 planes, then the selected channels; conv3: V (3 of 13*3*3) and U (12 x 3) over 5x5, then the selected ones; fc.
        long expected = (8L * 400 * 18) + (4L * 400 * 72) + (13L * 400 * 4) + (3L * 25 * 117) + (12L * 25 * 3) + (300 * 10);
        (int Channels, int Count, int Plane, int Filter, int First)[] layers = [(13, 5, 400, 72, 3), (12, 4, 25, 117, 8)];
        foreach (var (channels, count, plane, filter, first) in layers)
        {
            var parts = CodeGenChunk.Model.Planning.Chunking.Split(channels, count);
            for (var c = 0; c < count; c++)
            {
                expected += hits[first + c] * parts[c].Length * plane * filter;
            }
        }

        Assert.AreEqual(expected, model.LastRunMacs);
    }

    [TestMethod]
    public void Lowrank_costs_its_two_factors_and_the_selected_chunks()
    {
        using var model = new RoutedLowRank();
        var output = new float[RoutedLowRank.OutputLength];
        model.ResetChunkHits();
        model.Run(ModelHarness.RandomInput(RoutedLowRank.InputLength, 5), output);
        var hits = model.ChunkHits.ToArray();

        // fc1: V 6x96 + U 50x6, then 2 of its 6 chunks of 96 columns; fc2: V 16x50 + U 50x16, then 3 of 5 chunks of 50
        // columns; fc3: V 8x50 + U 40x8, then the chunks above the threshold; fc4 dense 40x10.
        long expected = (6 * 96) + (50 * 6) + (16 * 50) + (50 * 16) + (8 * 50) + (40 * 8) + (40 * 10);
        (int Rows, int Count, int Width, int First)[] layers = [(50, 6, 96, 0), (50, 5, 50, 6), (40, 4, 50, 11)];
        foreach (var (rows, count, width, first) in layers)
        {
            var parts = CodeGenChunk.Model.Planning.Chunking.Split(rows, count, 4);
            for (var c = 0; c < count; c++)
            {
                expected += hits[first + c] * parts[c].Length * width;
            }
        }

        Assert.AreEqual(2L, hits[..6].Sum());
        Assert.AreEqual(3L, hits[6..11].Sum());
        Assert.AreEqual(expected, model.LastRunMacs);
        Assert.IsLessThan(RoutedLowRank.MacsPerRun, model.LastRunMacs);
    }

    [TestMethod]
    [DataRow("routed.cgc.json")]
    [DataRow("routed.lowrank.cgc.json")]
    public void Bytes_read_are_the_estimators_and_the_chunks_that_ran(string manifest)
    {
        // Layers without chunks read their whole matrix; chunked layers their estimator's matrices (proxy sketch, lowrank
        // factors) and the chunks that ran ("exact": every chunk).
        var path = System.IO.Path.Combine(AppContext.BaseDirectory, "Models", manifest);
        var reference = new ReferenceInterpreter(path);
        var entries = CodeGenChunk.Model.Planning.ModelPlanner.LayoutEntries(reference.Spec.Layers);
        long Bytes(string prefix) => entries.Where(e => e.Name.StartsWith(prefix + ".weight", StringComparison.Ordinal)).Sum(e => e.Length);
        IDisposable model = manifest == "routed.cgc.json" ? new Routed() : new RoutedLowRank();
        using (model)
        {
            var output = new float[10];
            for (var seed = 0; seed < 8; seed++)
            {
                var input = ModelHarness.RandomInput(96, seed);
                long actual;
                if (model is Routed r)
                {
                    r.Run(input, output);
                    actual = r.LastRunBytesRead;
                }
                else
                {
                    var m = (RoutedLowRank)model;
                    m.Run(input, output);
                    actual = m.LastRunBytesRead;
                }

                reference.Forward(input);
                long expected = reference.Spec.Layers.Where(l => l.Op == "linear" && l.Chunks is null).Sum(l => Bytes(l.Name));
                foreach (var l in reference.Spec.Layers.Where(l => l.Chunks is not null))
                {
                    var c = l.Chunks!;
                    var selected = reference.LastSelection[l.Name];
                    expected += Bytes(l.Name + ".proxy") + Bytes(l.Name + ".lowrank.v") + Bytes(l.Name + ".lowrank.u");
                    for (var i = 0; i < c.Count; i++)
                    {
                        if (selected[i] || (c.Activity == "exact" && c.Routed))
                        {
                            expected += Bytes(CodeGenChunk.Model.Planning.Chunking.ChunkPrefix(l, i));
                        }
                    }
                }

                Assert.AreEqual(expected, actual, $"{manifest}, input {seed}");
            }
        }
    }

    [TestMethod]
    public void Routing_executes_fewer_macs_than_dense_and_counts_them()
    {
        using var model = new Routed();
        var output = new float[Routed.OutputLength];
        model.Run(ModelHarness.RandomInput(Routed.InputLength, 3), output);

        // fc1: sketch 6x3 rows of 96 + 2 of 6 chunks (9 or 8 rows); fc2: at most 3 of 4 input chunks;
        // fc3 "exact" computes all 40x40; fc4 runs whole (3 chunks, no routing).
        Assert.IsLessThan(Routed.MacsPerRun, model.LastRunMacs);
        Assert.IsGreaterThanOrEqualTo((6 * 3 * 96) + (2 * 8 * 96) + (40 * 40) + (40 * 10), model.LastRunMacs);
        long hits = 0;
        foreach (var h in model.ChunkHits)
        {
            hits += h;
        }

        Assert.IsLessThanOrEqualTo(2 + 3 + 3 + 3, (int)hits);
        Assert.IsGreaterThanOrEqualTo(2 + 1 + 3 + 3, (int)hits);
    }

    [TestMethod]
    public void Skipped_output_chunks_yield_their_epilogue_of_zero()
    {
        // The first layer's skipped rows are ReLU(bias), read back from the scratch memory.
        using var model = new Routed();
        var reference = new ReferenceInterpreter(System.IO.Path.Combine(AppContext.BaseDirectory, "Models", "routed.cgc.json"));
        var weights = CodeGenChunk.Tool.SafeTensors.SafeTensorsFile.Read(System.IO.Path.Combine(AppContext.BaseDirectory, "Models", "weights", "routed.safetensors"));
        var bias = weights.GetFloats(weights.Tensors["fc1.bias"]).ToArray();
        var output = new float[Routed.OutputLength];
        var scratch = new float[Routed.ScratchFloats];
        var checkedInputs = 0;
        for (var seed = 0; seed < 40; seed++)
        {
            var input = ModelHarness.RandomInput(Routed.InputLength, seed);
            model.Run(input, output, scratch);
            reference.Forward(input);
            var selected = reference.LastSelection["fc1"];
            Assert.AreEqual(2, Array.FindAll(selected, s => s).Length);

            // fc1's output lives at scratch[0..50) until fc3 overwrites scratch[0..40): rows 42..49
            // (the last chunk's) are still there after the run.
            if (!selected[5])
            {
                checkedInputs++;
                for (var r = 42; r < 50; r++)
                {
                    Assert.AreEqual(MathF.Max(bias[r], 0f), scratch[r], $"input {seed}, row {r}");
                }
            }
        }

        Assert.IsGreaterThan(10, checkedInputs, "inputs for which the last chunk of fc1 was skipped");
    }
}
