using System;
using System.Linq;
using CodeGenChunk.Formats;
using CodeGenChunk.Model.Planning;
using CodeGenChunk.Models.Tests.Generated;
using CodeGenChunk.Runtime;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Models.Tests;

/// <summary>Per-input precision of routed chunks stored as bit-planes (docs/routing.md, docs/formats.md "bitplanes").</summary>
[TestClass]
public sealed class PlaneTests
{
    private static string ManifestPath => System.IO.Path.Combine(AppContext.BaseDirectory, "Models", "planes.cgc.json");

    // (layer, rows, columns, group size, first chunk in ChunkHits, chunk count)
    private static readonly (string Name, int Rows, int Cols, int Group, int First, int Count)[] Layers =
        [("fc1", 50, 96, 32, 0, 6), ("fc2", 50, 50, 16, 6, 5), ("fc3", 40, 50, 64, 11, 4), ("fc4", 10, 40, 16, 15, 2)];

    [TestMethod]
    [DataRow(KernelPath.Auto)]
    [DataRow(KernelPath.Vector256)]
    [DataRow(KernelPath.Vector128)]
    [DataRow(KernelPath.Scalar)]
    public void Plane_chunks_select_bits_count_and_compute_like_the_reference(KernelPath path)
    {
        using var model = new Planes { KernelPath = path };
        var reference = new ReferenceInterpreter(ManifestPath);
        var output = new float[Planes.OutputLength];
        var offsets = Planes.ChunkedLayerOffsets.ToArray();
        var seen = new System.Collections.Generic.HashSet<int>();
        for (var seed = 0; seed < 24; seed++)
        {
            var input = ModelHarness.RandomInput(Planes.InputLength, seed);
            model.ResetChunkHits();
            model.Run(input, output);
            var expected = reference.Forward(input);
            for (var l = 0; l < Planes.ChunkedLayerNames.Length; l++)
            {
                var name = Planes.ChunkedLayerNames[l];
                var selection = reference.LastSelection[name];
                var bits = reference.LastBits[name];
                for (var c = 0; c < selection.Length; c++)
                {
                    Assert.AreEqual(selection[c] ? 1L : 0L, model.ChunkHits[offsets[l] + c], $"input {seed}, {name} chunk {c} selected");
                    Assert.AreEqual(bits[c], model.LastRunChunkBits[offsets[l] + c], $"input {seed}, {name} chunk {c} bits");
                    seen.Add(bits[c]);
                }
            }

            Assert.AreEqual(reference.LastMacs, model.LastRunMacs, $"input {seed}: MACs executed");
            for (var o = 0; o < output.Length; o++)
            {
                Assert.AreEqual(expected[o], output[o], 1e-4f * (1 + Math.Abs(expected[o])), $"input {seed}, output {o}, {path}");
            }
        }

        // Every class of every layer's policy occurs (0: skipped).
        CollectionAssert.IsSubsetOf(new[] { 0, 1, 2, 3, 4, 5, 8 }, seen.ToArray(), string.Join(", ", seen.Order()));
    }

    [TestMethod]
    public void Bytes_read_follow_the_chosen_bits()
    {
        using var model = new Planes();
        var output = new float[Planes.OutputLength];

        // Fixed: fc1's proxy sketch (6x3 rows of 96, int1) and fc3's lowrank factors (V: 4x50 ternary, U: 40x4 f32);
        // fc2's "exact" estimator reads every chunk's 8 planes and scales. fc4's two chunks always run at 8 bits.
        long fixedBytes = (18 * Int1BlockFormat.RowBytes(96)) + (4L * 18 * 1)
            + (4 * TernaryBlockFormat.RowBytes(50)) + (4L * 4 * 1) + (4L * 40 * 4);
        var fc2Parts = Chunking.Split(50, 5, 4);
        fixedBytes += fc2Parts.Sum(p => (8L * p.Length * BitPlaneFormat.RowBytes(50)) + (4L * p.Length * 4));

        var distinct = new System.Collections.Generic.HashSet<long>();
        for (var seed = 0; seed < 24; seed++)
        {
            model.Run(ModelHarness.RandomInput(Planes.InputLength, seed), output);
            var expected = fixedBytes;
            var bits = model.LastRunChunkBits;
            foreach (var (name, rows, cols, group, first, count) in Layers)
            {
                var parts = Chunking.Split(rows, count, 4);
                for (var c = 0; c < count; c++)
                {
                    var q = bits[first + c];
                    if (q == 0 || (name == "fc2" && q == 8))
                    {
                        continue; // skipped, or fc2's 8-bit chunks: already computed by the estimator
                    }

                    expected += (parts[c].Length * (long)BitPlaneFormat.RowBytes(cols) * q) + (4L * parts[c].Length * ((cols + group - 1) / group));
                }
            }

            Assert.AreEqual(expected, model.LastRunBytesRead, $"input {seed}");
            distinct.Add(model.LastRunBytesRead);
        }

        Assert.IsGreaterThan(4, distinct.Count, "bytes read vary with the bits chosen");
    }
}
