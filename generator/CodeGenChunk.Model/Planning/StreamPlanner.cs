using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using CodeGenChunk.Formats;
using CodeGenChunk.Model.Manifest;

namespace CodeGenChunk.Model.Planning;

/// <summary>
/// Stream placement (docs/streaming.md): no weight stays in RAM. Before each kernel call its weights are read
/// from the chunk file into one weight scratch, and the call's offsets are rebased onto that scratch. A chunked
/// layer reads its bias once to a fixed place after the largest of its chunks, then each selected chunk (all of
/// its entries, one read) to the start of the scratch just before the chunk's kernel runs; an unchunked linear or
/// conv2d layer reads its whole matrix and its bias; a layernorm its scale and shift.
/// </summary>
public static class StreamPlanner
{
    /// <summary>The bytes one unit of work reads at once, for the budget check (CGC0050).</summary>
    public sealed record Unit(string Layer, string Op, long Bytes, string What, bool Chunked);

    /// <summary>The steps rewritten for streaming, the weight scratch they need, and the most bytes one inference reads.</summary>
    public sealed record Result(List<PlanStep> Steps, long ScratchBytes, long MaxBytesReadPerRun, string ScratchLayer, List<Unit> Units);

    public static Result Apply(IReadOnlyList<PlanStep> steps, WeightLayout layout, IReadOnlyList<LayerSpec> layers)
    {
        var entries = layout.Entries.ToList();
        var specs = layers.ToDictionary(l => l.Name, l => l);
        var result = new List<PlanStep>();
        var units = new List<Unit>();
        long scratch = 0;
        long maxRead = 0;
        var scratchLayer = string.Empty;

        void Need(string layer, long bytes)
        {
            if (bytes > scratch)
            {
                scratch = bytes;
                scratchLayer = layer;
            }
        }

        foreach (var s in steps)
        {
            if (s.Kernel is not null || s.Conv is not null)
            {
                var (start, length) = SpanOf(entries, s.Layer, s.Layer + ".weight");
                var bias = Find(entries, s.Layer + ".bias", s.Layer);
                var biasAt = ChunkFileLayout.AlignUp(length);
                var reads = new List<StreamRead> { new(start, (int)length, 0) };
                if (bias is not null)
                {
                    reads.Add(new StreamRead(bias.Offset, (int)bias.Length, (int)biasAt));
                }

                var bytes = bias is null ? length : biasAt + bias.Length;
                Need(s.Layer, bytes);
                maxRead += length + (bias?.Length ?? 0);
                units.Add(new Unit(s.Layer, s.Conv is not null ? Ops.Conv2d : Ops.Linear, bytes, WhatOf(entries, s.Layer, s.Layer + ".weight", bias), false));
                result.Add(s with
                {
                    WeightOffset = Rebase(s.WeightOffset, start, 0),
                    ScaleOffset = Rebase(s.ScaleOffset, start, 0),
                    Scale2Offset = Rebase(s.Scale2Offset, start, 0),
                    BiasOffset = bias is null ? 0 : biasAt,
                    StreamReads = reads.ToEquatableArray(),
                });
            }
            else if (s.Op == Ops.LayerNorm)
            {
                var gamma = Find(entries, s.Layer + ".weight", s.Layer)!;
                var beta = Find(entries, s.Layer + ".bias", s.Layer)!;
                var length = beta.Offset + beta.Length - gamma.Offset;
                Need(s.Layer, length);
                maxRead += length;
                units.Add(new Unit(s.Layer, Ops.LayerNorm, length, "its scale and shift", false));
                result.Add(s with
                {
                    GammaOffset = 0,
                    BetaOffset = beta.Offset - gamma.Offset,
                    StreamReads = new[] { new StreamRead(gamma.Offset, (int)length, 0) }.ToEquatableArray(),
                });
            }
            else if (s.Route is { } r)
            {
                var l = specs[r.Layer];
                var chunkSpans = s.Chunks.Select(c => SpanOf(entries, l.Name, Chunking.ChunkPrefix(l, c.Index) + ".weight")).ToList();
                (long Start, long Length)? estimator = r.Activity switch
                {
                    "proxy" when r.ProxyKernel is not null => SpanOf(entries, l.Name, l.Name + ".proxy.weight"),
                    "lowrank" when r.ProxyKernel is not null => SpanOf(entries, l.Name, l.Name + ".lowrank."),
                    _ => null,
                };
                var region = Math.Max(chunkSpans.Max(c => c.Length), estimator?.Length ?? 0);
                var biasAt = ChunkFileLayout.AlignUp(region);
                var bias = Find(entries, l.Name + ".bias", l.Name);
                var bytes = bias is null ? region : biasAt + bias.Length;
                Need(l.Name, bytes);
                units.Add(new Unit(l.Name, Ops.Linear, bytes, "its largest chunk" + (bias is null ? string.Empty : " and its bias"), true));

                // Most bytes one inference reads here: the bias, the estimator and the largest chunks it may select.
                var selectable = r.Routed && r.Activity != "exact" ? r.Limit : r.Count;
                maxRead += (bias?.Length ?? 0) + (estimator?.Length ?? 0) + chunkSpans.Select(c => c.Length).OrderByDescending(x => x).Take(selectable).Sum();

                string BiasExpr(string old, int start, int length) =>
                    old == "default" ? old : string.Format(CultureInfo.InvariantCulture, "Floats(ref w, {0}, {1})", biasAt + (4L * start), length);

                var output = r.Axis == "output";
                var chunks = s.Chunks.Select((c, i) => c with
                {
                    WeightOffset = Rebase(c.WeightOffset, chunkSpans[i].Start, 0),
                    ScaleOffset = Rebase(c.ScaleOffset, chunkSpans[i].Start, 0),
                    Scale2Offset = Rebase(c.Scale2Offset, chunkSpans[i].Start, 0),
                    BiasOffset = c.BiasOffset == 0 ? 0 : biasAt + (4L * c.Start),
                    Bias = output ? BiasExpr(c.Bias, c.Start, c.Length) : c.Bias,
                    Read = new StreamRead(chunkSpans[i].Start, (int)chunkSpans[i].Length, 0),
                }).ToEquatableArray();
                var route = r with
                {
                    Bias = BiasExpr(r.Bias, 0, r.Out),
                    EstimatorRead = estimator is { } e ? new StreamRead(e.Start, (int)e.Length, 0) : null,
                    ProxyWeightOffset = estimator is { } e1 ? Rebase(r.ProxyWeightOffset, e1.Start, 0) : r.ProxyWeightOffset,
                    ProxyScaleOffset = estimator is { } e2 ? Rebase(r.ProxyScaleOffset, e2.Start, 0) : r.ProxyScaleOffset,
                    ProxyScale2Offset = estimator is { } e3 ? Rebase(r.ProxyScale2Offset, e3.Start, 0) : r.ProxyScale2Offset,
                    LowRankUOffset = estimator is { } e4 && r.LowRankUKernel is not null ? Rebase(r.LowRankUOffset, e4.Start, 0) : r.LowRankUOffset,
                    LowRankBiasOffset = r.LowRankUKernel is not null && bias is not null ? biasAt : 0,

                    // each chunk reads its weights before its kernel: no resident offset tables
                    Loops = EquatableArray<ChunkLoop>.Empty,
                };
                route = route with { Loop = LoopOf(route, chunks) };
                result.Add(s with
                {
                    Chunks = chunks,
                    Route = route,
                    StreamReads = bias is null
                        ? EquatableArray<StreamRead>.Empty
                        : new[] { new StreamRead(bias.Offset, (int)bias.Length, (int)biasAt) }.ToEquatableArray(),
                });
            }
            else
            {
                result.Add(s);
            }
        }

        return new Result(result, scratch, maxRead, scratchLayer, units);
    }

    /// <summary>
    /// The CGC0050 advice for a unit over budget: split a layer into (more) chunks so one chunk fits
    /// <paramref name="room"/> bytes, or what else can be done.
    /// </summary>
    public static string Advice(Unit unit, LayerSpec layer, long room)
    {
        if (unit.Op == Ops.Linear && room > 0)
        {
            var count = unit.Chunked ? layer.Chunks!.Count : 1;
            var matrix = unit.Bytes - (layer.Bias ? 4L * layer.Out : 0);
            var perChunkRoom = room - (layer.Bias ? 4L * layer.Out : 0) - ChunkFileLayout.Alignment;
            if (perChunkRoom > 0)
            {
                var needed = (long)Math.Ceiling((double)matrix * count / perChunkRoom);
                if (needed <= Math.Min(1024, layer.Out))
                {
                    return string.Format(
                        CultureInfo.InvariantCulture,
                        "stream it in smaller pieces: \"chunks\": {{ \"count\": {0}, \"axis\": \"output\" }} or more (without topK every chunk runs, one at a time), or quantize it further, or raise the budget",
                        Math.Max(needed, count + 1));
                }
            }
        }

        return unit.Op switch
        {
            Ops.Conv2d => "a conv2d filter bank is read whole: quantize it further, use fewer output channels, or raise the budget",
            _ => "quantize it further or raise the budget",
        };
    }

    /// <summary>The chunks as one loop, when every chunk runs and all are alike (see <see cref="StreamLoop"/>), else null.</summary>
    private static StreamLoop? LoopOf(ChunkRoute r, EquatableArray<ChunkCall> chunks)
    {
        if (r.Routed || r.Axis != "output" || r.PanelRows > 0 || chunks.Count < 2)
        {
            return null;
        }

        var first = chunks[0];
        var stride = chunks[1].Read!.FileOffset - first.Read!.FileOffset;
        for (var i = 1; i < chunks.Count; i++)
        {
            var c = chunks[i];
            if (c.Kernel != first.Kernel || c.Length != first.Length || c.Start != i * first.Length
                || c.WeightOffset != first.WeightOffset || c.ScaleOffset != first.ScaleOffset || c.Scale2Offset != first.Scale2Offset
                || (first.BiasOffset != 0 && c.BiasOffset != first.BiasOffset + (4L * c.Start))
                || c.Read!.Length != first.Read.Length || c.Read.FileOffset != first.Read.FileOffset + (i * stride))
            {
                return null;
            }
        }

        string Rows(string expression) => expression == "default"
            ? expression
            : string.Format(CultureInfo.InvariantCulture, "{0}.Slice({1} * c, {1})", expression, first.Length);
        return new StreamLoop(first.Read.FileOffset, stride, first.Read.Length, first.Length, Rows(r.Destination), r.HasResidual ? Rows(r.Residual) : "default");
    }

    private static long Rebase(long offset, long from, long to) => offset == 0 ? 0 : offset - from + to;

    private static LayoutEntry? Find(List<LayoutEntry> entries, string name, string layer) =>
        entries.FirstOrDefault(e => e.Layer == layer && e.Name == name);

    /// <summary>The bytes from the first to the end of the last entry of <paramref name="layer"/> named <paramref name="prefix"/>…, one read.</summary>
    private static (long Start, long Length) SpanOf(List<LayoutEntry> entries, string layer, string prefix)
    {
        var matching = entries.Where(e => e.Layer == layer && e.Name.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        var start = matching.Min(e => e.Offset);
        var end = matching.Max(e => e.Offset + e.Length);
        return (start, end - start);
    }

    private static string WhatOf(List<LayoutEntry> entries, string layer, string prefix, LayoutEntry? bias)
    {
        var (_, length) = SpanOf(entries, layer, prefix);
        return string.Format(CultureInfo.InvariantCulture, "its whole weight matrix, {0} bytes{1}", length, bias is null ? string.Empty : ", and its bias");
    }
}
