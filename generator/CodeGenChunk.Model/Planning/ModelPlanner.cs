using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using CodeGenChunk.Formats;
using CodeGenChunk.Model.Diagnostics;
using CodeGenChunk.Model.Json;
using CodeGenChunk.Model.Manifest;

namespace CodeGenChunk.Model.Planning;

/// <summary>
/// Checks a parsed manifest for consistency (sizes, residual sources, budget), lays out its
/// weights, fuses epilogues and assigns every tensor a place in one scratch buffer.
/// </summary>
public static class ModelPlanner
{
    public static PlanResult Plan(ManifestSpec spec, CancellationToken cancellationToken = default)
    {
        var diagnostics = new List<ManifestDiagnostic>();
        var layers = spec.Layers;
        CheckNames(layers, diagnostics);
        var sizes = CheckSizes(spec, diagnostics, out var shapes);
        CheckFormats(layers, diagnostics, System.IO.Path.GetFileName(spec.FilePath));
        CheckActivations(layers, diagnostics, System.IO.Path.GetFileName(spec.FilePath));
        CheckPoolRoutes(spec, shapes, diagnostics);
        CheckPairsLayout(layers, diagnostics);
        if (diagnostics.Any(d => d.Info.Severity == Severity.Error))
        {
            return new PlanResult(null, diagnostics.ToEquatableArray());
        }

        cancellationToken.ThrowIfCancellationRequested();
        var layout = WeightLayout.Create(LayoutEntries(layers));
        var entryOffsets = layout.Entries.ToDictionary(e => e.Name, e => e.Offset);
        var entryLengths = layout.Entries.ToDictionary(e => e.Name, e => e.Length);
        var program = BuildProgram(spec, sizes, shapes, entryOffsets, entryLengths, activations: true);
        AssignBuffers(program);
        var actBytes = AssignActivationBuffers(program);
        var floatScratch = program.ScratchFloats;
        if (program.Steps.Any(s => s.Act is not null))
        {
            // the same model with f32 activations, for the generated comparison of intermediate memory
            var floatProgram = BuildProgram(spec, sizes, shapes, entryOffsets, entryLengths, activations: false);
            AssignBuffers(floatProgram);
            floatScratch = floatProgram.ScratchFloats;
        }

        var steps = program.Steps.Select(s => s.ToPlanStep(program.Values)).ToList();
        var kernels = steps.Where(s => s.Kernel is not null).Select(s => s.Kernel!)
            .Concat(steps.Where(s => s.Route is not { PanelRows: > 0 }).SelectMany(s => s.Chunks.Where(c => !c.Planes).Select(c => c.Kernel)))
            .Concat(steps.Where(s => s.Route?.ProxyKernel is not null).Select(s => s.Route!.ProxyKernel!))
            .Concat(steps.Where(s => s.Route?.LowRankUKernel is not null).Select(s => s.Route!.LowRankUKernel!))
            .Distinct().ToList();
        var convKernels = steps.Where(s => s.Conv is not null).Select(s => s.Conv!)
            .Concat(steps.Where(s => s.Route?.ConvBank is not null).Select(s => s.Route!.ConvBank!))
            .Concat(steps.Where(s => s.Route?.ConvV is not null).SelectMany(s => new[] { s.Route!.ConvV!, s.Route.ConvU! }))
            .Distinct().ToList();
        var poolKernels = steps.Where(s => s.Pool is not null).Select(s => s.Pool!).Distinct().ToList();
        var scratchFloats = program.ScratchFloats;

        // Peak RAM: resident weights (embedded or file placement keep the whole file in memory)
        // plus the activations live while a step runs: scratch, the caller's input and output.
        var activationBytes = (4L * (scratchFloats + spec.InputLength + sizes[sizes.Length - 1])) + actBytes;
        var peakRam = layout.FileLength + activationBytes;
        var peakStep = program.Steps.OrderByDescending(s => s.LiveFloats(program.Values)).First();
        var peakLayer = peakStep.ReportName ?? peakStep.LayerName;
        var weightsInRam = layout.FileLength;
        var weightsText = "{0} bytes of weights + {1} bytes of activations";
        StreamPlanner.Result? stream = null;
        if (spec.Target.Placement == "stream")
        {
            // Chunked conv2d layers decode their chunks into one filter bank from resident weights; not streamed yet.
            foreach (var conv in layers.Where(l => l.Op == Ops.Conv2d && Chunking.IsChunked(l)))
            {
                diagnostics.Add(ManifestDiagnostic.Create(
                    DiagnosticCatalog.ChunkConfig,
                    conv.Chunks!.Span,
                    conv.Name,
                    "split a conv2d layer's output channels, which \"stream\" placement does not read chunk by chunk",
                    "remove \"chunks\" from this layer (its filter bank is then streamed whole) or use \"file\" placement"));
            }

            // Integer-activation layers keep per-row weight statistics computed from resident weights; not streamed yet.
            foreach (var act in layers.Where(l => l.Activations is { IsInteger: true }))
            {
                diagnostics.Add(ManifestDiagnostic.Create(
                    DiagnosticCatalog.ActivationsInvalid,
                    act.Activations!.Span,
                    act.Name,
                    "read per-row statistics of weights kept in memory, which \"stream\" placement does not keep",
                    "use \"file\" or \"embedded\" placement, or \"f32\" activations"));
            }

            // Bit-plane chunks read their planes from resident weights; not streamed yet.
            foreach (var planes in layers.Where(l => l.Quant?.Policy is { IsRuntime: true }))
            {
                diagnostics.Add(ManifestDiagnostic.Create(
                    DiagnosticCatalog.PolicyInvalid,
                    planes.Quant!.Policy!.Span,
                    planes.Name,
                    "stores its chunks as bit-planes (by \"runtime-activity\"), which \"stream\" placement does not read plane by plane",
                    "use \"file\" or \"embedded\" placement, or a policy by \"activity\""));
            }

            if (diagnostics.Any(d => d.Info.Severity == Severity.Error))
            {
                return new PlanResult(null, diagnostics.ToEquatableArray());
            }

            // Stream placement keeps no weights resident: the peak is the weight scratch plus the activations.
            stream = StreamPlanner.Apply(steps, layout, layers);
            steps = stream.Steps;
            weightsInRam = stream.ScratchBytes;
            peakRam = stream.ScratchBytes + activationBytes;
            peakLayer = stream.ScratchLayer.Length > 0 ? stream.ScratchLayer : peakLayer;
            weightsText = "{0} bytes of weight scratch (streamed) + {1} bytes of activations";
            if (spec.Target.RamBudgetBytes is { } streamBudget)
            {
                foreach (var unit in stream.Units.Where(u => u.Bytes + activationBytes > streamBudget))
                {
                    var layer = layers.First(l => l.Name == unit.Layer);
                    diagnostics.Add(ManifestDiagnostic.Create(
                        DiagnosticCatalog.StreamUnitOverBudget,
                        layer.Span,
                        unit.Layer,
                        unit.Bytes,
                        unit.What,
                        activationBytes,
                        unit.Bytes + activationBytes - streamBudget,
                        streamBudget,
                        StreamPlanner.Advice(unit, layer, streamBudget - activationBytes)));
                }

                if (diagnostics.Any(d => d.Info.Severity == Severity.Error))
                {
                    return new PlanResult(null, diagnostics.ToEquatableArray());
                }
            }
        }

        if (spec.Target.RamBudgetBytes is { } budget && peakRam > budget)
        {
            diagnostics.Add(ManifestDiagnostic.Create(
                DiagnosticCatalog.OverBudget,
                spec.Target.Span,
                peakRam,
                peakLayer,
                string.Format(CultureInfo.InvariantCulture, weightsText, weightsInRam, activationBytes),
                peakRam - budget,
                budget,
                stream is null
                    ? "raise the budget, quantize the weights further, or use \"stream\" placement"
                    : "raise the budget, or make the layers' activations smaller (the weights are already streamed)"));
            return new PlanResult(null, diagnostics.ToEquatableArray());
        }

        var macs = layers.Where(l => l.Op == Ops.Linear).Sum(l => (long)l.In * l.Out) + steps.Where(s => s.Conv is not null).Sum(s => s.Conv!.Macs)
            + steps.SelectMany(s => s.ConvChunks).Sum(c => c.Macs) + steps.Where(s => s.PoolRoute is not null).Sum(s => s.PoolRoute!.DenseMacs);
        var plan = new ModelPlan(
            spec.Namespace,
            spec.Model,
            spec.BaseName,
            spec.Target.Placement,
            spec.Target.Simd,
            spec.InputLength,
            sizes[sizes.Length - 1],
            scratchFloats,
            layout,
            peakRam,
            peakLayer,
            macs,
            steps.ToEquatableArray(),
            kernels.ToEquatableArray())
        {
            ChunkCounters = program.ChunkHits,
            FixedMacs = steps.Where(s => s.Kernel is not null).Sum(s => (long)s.Kernel!.In * s.Kernel.Out) + steps.Where(s => s.Act is not null).Sum(s => s.Act!.Macs) + steps.Where(s => s.Conv is not null).Sum(s => s.Conv!.Macs)
                + steps.Where(s => s.PoolRoute is not null).Sum(s => s.PoolRoute!.Macs),
            FixedBytesRead = layers.Where(l => (l.Op == Ops.Linear || l.Op == Ops.Conv2d) && !Chunking.IsChunked(l)).Sum(l => MatrixBytes(entryLengths, l.Name))
                + layers.Where(Chunking.IsPoolRouted).Sum(l => entryLengths[l.Name + ".pooltaps"]),
            HasPlanes = steps.Any(s => s.Route is { Planes: true }),
            ActivationLayers = steps.Count(s => s.Act is not null || s.Norm is not null),
            HasCodeNorm = steps.Any(s => s.Norm is not null),
            ActivationBufferBytes = actBytes,
            ActivationRowFloats = steps.Where(s => s.Act is not null).Sum(s => 2 * s.Act!.Out),
            FloatScratchFloats = floatScratch,
            ConvKernels = convKernels.ToEquatableArray(),
            PoolKernels = poolKernels.ToEquatableArray(),
            WeightScratchBytes = stream?.ScratchBytes ?? 0,
            MaxBytesReadPerRun = stream?.MaxBytesReadPerRun ?? 0,
        };
        return new PlanResult(plan, diagnostics.ToEquatableArray());
    }

    /// <summary>Bytes of a matrix's entries (values and metadata, not the bias) under an entry-name prefix ("fc1", "fc1.c3", "fc1.proxy").</summary>
    private static long MatrixBytes(Dictionary<string, long> lengths, string prefix)
    {
        var start = prefix + ".weight";
        return lengths.Where(e => e.Key.StartsWith(start, StringComparison.Ordinal)).Sum(e => e.Value);
    }

    /// <summary>The chunk-file entries of the manifest's layers, in order (offsets not yet placed).</summary>
    public static List<LayoutEntry> LayoutEntries(IReadOnlyList<LayerSpec> layers)
    {
        var entries = new List<LayoutEntry>();
        foreach (var l in layers)
        {
            switch (l.Op)
            {
                case Ops.Linear:
                case Ops.Conv2d:
                {
                    // A conv2d filter bank is the matrix [outChannels, inChannels * kH * kW], stored row by row.
                    var conv = l.Op == Ops.Conv2d;
                    var rows = conv ? l.OutChannels : l.Out;
                    var cols = conv ? l.FilterLength : l.In;
                    if (conv && Chunking.IsChunked(l))
                    {
                        // Output-channel chunks: rows [start, start + length) of the filter bank, each row by row in its own format.
                        var c = l.Chunks!;
                        var parts = Chunking.Split(l, c);
                        for (var i = 0; i < parts.Length; i++)
                        {
                            var (format, group) = Chunking.FormatOf(l, i);
                            MatrixEntries(entries, l, Chunking.ChunkPrefix(l, i), l.WeightsPrefix + ".weight", format, group, parts[i].Length, cols, parts[i].Start, 0, string.Empty, rows, cols, true);
                        }

                        if (c.Routed && c.Activity == "lowrank")
                        {
                            // W ≈ U V over the filter bank: V (rank filters, a conv of rank output channels) and U (outC x rank, a 1x1 conv).
                            var pf = c.ProxyFormat;
                            var rank = c.ProxyRank.ToString(CultureInfo.InvariantCulture);
                            MatrixEntries(entries, l, l.Name + ".lowrank.v", l.WeightsPrefix + ".weight", pf, WeightFormats.IsGrouped(pf) ? WeightFormats.DefaultGroupSize(pf) : 0, c.ProxyRank, cols, 0, 0, "lowrank-v:" + rank, rows, cols, true);
                            MatrixEntries(entries, l, l.Name + ".lowrank.u", l.WeightsPrefix + ".weight", "f32", 0, rows, c.ProxyRank, 0, 0, "lowrank-u:" + rank, rows, cols, true);
                        }
                    }
                    else if (!conv && Chunking.IsChunked(l))
                    {
                        var c = l.Chunks!;
                        var parts = Chunking.Split(l, c);
                        var panels = Chunking.PanelRows(l);
                        for (var i = 0; i < parts.Length; i++)
                        {
                            var (format, group) = Chunking.FormatOf(l, i);
                            var chunkRows = c.Axis == "output" ? parts[i].Length : l.Out;
                            var chunkCols = c.Axis == "output" ? l.In : parts[i].Length;
                            MatrixEntries(entries, l, Chunking.ChunkPrefix(l, i), l.WeightsPrefix + ".weight", format, group, chunkRows, chunkCols, c.Axis == "output" ? parts[i].Start : 0, c.Axis == "output" ? 0 : parts[i].Start, string.Empty, rows, cols, false, panels);
                        }

                        if (Chunking.IsScored(l) && c.Activity == "proxy")
                        {
                            var pf = c.ProxyFormat;
                            var derived = string.Format(CultureInfo.InvariantCulture, "sketch:{0}:{1}", c.Count, c.ProxyRank);
                            MatrixEntries(entries, l, l.Name + ".proxy", l.WeightsPrefix + ".weight", pf, WeightFormats.IsGrouped(pf) ? WeightFormats.DefaultGroupSize(pf) : 0, c.Count * c.ProxyRank, l.In, 0, 0, derived, rows, cols, false);
                        }
                        else if (Chunking.IsScored(l) && c.Activity == "lowrank")
                        {
                            // W ≈ U V: V = U_rᵀ W (rank × in, in the proxy format), U = U_r (out × rank, f32).
                            var pf = c.ProxyFormat;
                            var rank = c.ProxyRank.ToString(CultureInfo.InvariantCulture);
                            MatrixEntries(entries, l, l.Name + ".lowrank.v", l.WeightsPrefix + ".weight", pf, WeightFormats.IsGrouped(pf) ? WeightFormats.DefaultGroupSize(pf) : 0, c.ProxyRank, l.In, 0, 0, "lowrank-v:" + rank, rows, cols, false);
                            MatrixEntries(entries, l, l.Name + ".lowrank.u", l.WeightsPrefix + ".weight", "f32", 0, l.Out, c.ProxyRank, 0, 0, "lowrank-u:" + rank, rows, cols, false);
                        }
                    }
                    else
                    {
                        MatrixEntries(entries, l, l.Name, l.WeightsPrefix + ".weight", l.Quant!.Format, l.Quant.GroupSize, rows, cols, 0, 0, string.Empty, rows, cols, conv, pairs: !conv && l.Quant.IsPairs);
                        if (Chunking.IsPoolRouted(l))
                        {
                            // the proxy of pool routing: per channel its largest-|w| taps, then their indices (PoolTapsFormat)
                            var taps = l.Chunks!.ProxyTaps;
                            entries.Add(new LayoutEntry(l.Name + ".pooltaps", l.WeightsPrefix + ".weight", EntryKind.F32, rows, PoolTapsFormat.RowFloats(taps), 0, 4L * rows * PoolTapsFormat.RowFloats(taps))
                            {
                                Layer = l.Name,
                                SourceRows = rows,
                                SourceCols = cols,
                                Derived = "pooltaps:" + taps.ToString(CultureInfo.InvariantCulture),
                                RowMajor = true,
                            });
                        }
                    }

                    if (l.Bias)
                    {
                        entries.Add(new LayoutEntry(l.Name + ".bias", l.WeightsPrefix + ".bias", EntryKind.F32, 1, rows, 0, 4L * rows) { Layer = l.Name });
                    }

                    break;
                }

                case Ops.LayerNorm:
                    entries.Add(new LayoutEntry(l.Name + ".weight", l.WeightsPrefix + ".weight", EntryKind.F32, 1, l.Dim, 0, 4L * l.Dim) { Layer = l.Name });
                    entries.Add(new LayoutEntry(l.Name + ".bias", l.WeightsPrefix + ".bias", EntryKind.F32, 1, l.Dim, 0, 4L * l.Dim) { Layer = l.Name });
                    break;
            }
        }

        return entries;
    }

    /// <summary>The entries of one matrix (a layer's weights, one chunk of them, or a derived sketch) in its format.</summary>
    private static void MatrixEntries(List<LayoutEntry> entries, LayerSpec l, string prefix, string tensor, string f, int g, int rows, int cols, int rowStart, int colStart, string derived, int sourceRows, int sourceCols, bool rowMajor, int panelRows = 0, bool pairs = false)
    {
        LayoutEntry Entry(string suffix, EntryKind kind, long length) =>
            new(prefix + suffix, tensor, kind, rows, cols, g, length)
            {
                Layer = l.Name,
                Format = f,
                RowStart = rowStart,
                ColStart = colStart,
                SourceRows = sourceRows,
                SourceCols = sourceCols,
                Derived = derived,
                RowMajor = rowMajor,
                PanelRows = panelRows,
                Pairs = pairs,
            };
        switch (f)
        {
            case "int8":
                entries.Add(Entry(".weight.q", EntryKind.Int8Values, (long)rows * cols));
                entries.Add(Entry(".weight.scale", EntryKind.Int8Scales, 4L * rows * Int8GroupQuantizer.GroupsPerRow(cols, g)));
                break;
            case "f16":
                entries.Add(Entry(".weight.f16", EntryKind.F16Values, 2L * rows * cols));
                break;
            case BitPlaneFormat.Name:
                entries.Add(Entry(".weight.planes", EntryKind.BitPlaneValues, BitPlaneFormat.Planes * BitPlaneFormat.PlaneBytes(rows, cols)));
                entries.Add(Entry(".weight.scale", EntryKind.BitPlaneScales, 4L * rows * Int8GroupQuantizer.GroupsPerRow(cols, g)));
                break;
            case "int4":
            case "ternary":
            case "int1":
                entries.Add(Entry(".weight.q", EntryKind.BlockValues, rows * WeightFormats.WeightBytesPerRow(f, cols, g)));
                entries.Add(Entry(".weight.scale", EntryKind.BlockScales, rows * WeightFormats.MetadataBytesPerRow(f, cols, g)));
                break;
            case "base11":
                var groups = (cols + g - 1) / g;
                // the seed's words with 64 bytes past the last row for SIMD loads; the pairs layout's kernel never reads past a block
                entries.Add(Entry(".weight.b11", EntryKind.Base11Values, pairs ? (long)rows * Base11PairsFormat.RowBytes(cols, g) : (rows * WeightFormats.WeightBytesPerRow(f, cols, g)) + 64));
                entries.Add(Entry(".weight.min", EntryKind.Base11Min, 2L * rows * groups));
                entries.Add(Entry(".weight.range", EntryKind.Base11Range, 2L * rows * groups));
                break;
            default:
                entries.Add(Entry(".weight", EntryKind.F32, 4L * rows * cols) with { GroupSize = 0, Format = "f32" });
                break;
        }
    }

    private static void CheckNames(IReadOnlyList<LayerSpec> layers, List<ManifestDiagnostic> diagnostics)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var l in layers)
        {
            if (l.Name == "input")
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.DuplicateName, l.NameSpan, l.Name, "the model input (\"input\" is reserved for residual sources)"));
            }
            else if (seen.TryGetValue(l.Name, out var first))
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.DuplicateName, l.NameSpan, l.Name, "layer " + first.ToString(CultureInfo.InvariantCulture)));
            }
            else
            {
                seen[l.Name] = l.Index;
            }
        }
    }

    /// <summary>
    /// Follows the tensor through the layers: sizes[i] is layer i's output size, shapes[i] its
    /// [C, H, W] shape when it has one (the input when "input.shape" has three dimensions, and the
    /// outputs of conv2d, maxpool and the element-wise layers after them; flatten and linear end it).
    /// </summary>
    private static int[] CheckSizes(ManifestSpec spec, List<ManifestDiagnostic> diagnostics, out Chw?[] shapes)
    {
        var layers = spec.Layers;
        var sizes = new int[layers.Count];
        shapes = new Chw?[layers.Count];
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        var current = spec.InputLength;
        Chw? shape = spec.InputShape.Count == 3 ? new Chw(spec.InputShape[0], spec.InputShape[1], spec.InputShape[2]) : null;
        var known = true; // false after a layer whose output could not be computed: later layers are not checked against it
        var producer = "the input";
        Chw? flattened = null; // the shape a flatten right before this layer took apart, for messages
        for (var i = 0; i < layers.Count; i++)
        {
            var l = layers[i];
            switch (l.Op)
            {
                case Ops.Linear:
                    if (known && l.In != current)
                    {
                        var what = flattened is { } flat ? producer + " (the flattened " + flat.Describe() + ")" : producer;
                        diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.DimensionMismatch, l.InSpan ?? l.Span, l.Name, l.In, what, current));
                    }

                    if ((long)l.In * l.Out > int.MaxValue / 4)
                    {
                        diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ModelTooLarge, l.OutSpan ?? l.Span, l.Name, (long)l.In * l.Out, int.MaxValue / 4));
                    }

                    current = l.Out;
                    shape = null;
                    known = true;
                    break;
                case Ops.LayerNorm:
                    if (known && l.Dim != current)
                    {
                        diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.DimensionMismatch, l.DimSpan ?? l.Span, l.Name, l.Dim, producer, current));
                    }

                    current = l.Dim;
                    break;
                case Ops.Conv2d:
                case Ops.MaxPool:
                {
                    var conv = l.Op == Ops.Conv2d;
                    if (!known)
                    {
                        break;
                    }

                    if (shape is not { } input)
                    {
                        diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.NotChw, l.Span, l.Name, l.Op, producer, current.ToString(CultureInfo.InvariantCulture) + " values without [C, H, W] shape"));
                        known = false;
                        break;
                    }

                    if (conv && l.InChannels != input.C)
                    {
                        diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ChannelMismatch, l.InChannelsSpan ?? l.Span, l.Name, l.InChannels, producer, input.C, input.Describe()));
                    }

                    if (!conv && (l.PadTop >= l.KernelH || l.PadBottom >= l.KernelH || l.PadLeft >= l.KernelW || l.PadRight >= l.KernelW))
                    {
                        var vertical = l.PadTop >= l.KernelH || l.PadBottom >= l.KernelH;
                        diagnostics.Add(ManifestDiagnostic.Create(
                            DiagnosticCatalog.PoolPadding,
                            l.PadSpan ?? l.Span,
                            l.Name,
                            vertical ? "a row side" : "a column side",
                            vertical ? Math.Max(l.PadTop, l.PadBottom) : Math.Max(l.PadLeft, l.PadRight),
                            vertical ? "height " + l.KernelH.ToString(CultureInfo.InvariantCulture) : "width " + l.KernelW.ToString(CultureInfo.InvariantCulture)));
                        known = false;
                        break;
                    }

                    var spanH = (long)input.H + l.PadTop + l.PadBottom;
                    var spanW = (long)input.W + l.PadLeft + l.PadRight;
                    if (spanH < l.KernelH || spanW < l.KernelW)
                    {
                        diagnostics.Add(ManifestDiagnostic.Create(
                            DiagnosticCatalog.EmptyOutput,
                            l.KernelSpan ?? l.Span,
                            l.Name,
                            l.KernelH.ToString(CultureInfo.InvariantCulture) + "x" + l.KernelW.ToString(CultureInfo.InvariantCulture),
                            string.Format(CultureInfo.InvariantCulture, "{0} rows and {1} columns", spanH, spanW),
                            spanH < l.KernelH ? "row" : "column"));
                        known = false;
                        break;
                    }

                    var output = new Chw(
                        conv ? l.OutChannels : input.C,
                        (int)((spanH - l.KernelH) / l.StrideH) + 1,
                        (int)((spanW - l.KernelW) / l.StrideW) + 1);
                    var weightsCount = conv ? (long)l.OutChannels * l.InChannels * l.KernelH * l.KernelW : 0;
                    var largest = Math.Max(Math.Max(output.Length, weightsCount), conv ? (long)input.C * spanH * spanW * l.StrideW : 0);
                    if (largest > int.MaxValue / 4)
                    {
                        diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ModelTooLarge, (conv ? l.OutSpan : l.KernelSpan) ?? l.Span, l.Name, largest, int.MaxValue / 4));
                        known = false;
                        break;
                    }

                    shape = output;
                    current = (int)output.Length;
                    break;
                }

                case Ops.Flatten:
                    flattened = shape;
                    shape = null;
                    sizes[i] = current;
                    shapes[i] = null;
                    byName[l.Name] = i;
                    producer = "layer '" + l.Name + "'";
                    continue;
                case Ops.Residual:
                    int fromSize;
                    if (l.From == "input")
                    {
                        fromSize = spec.InputLength;
                    }
                    else if (l.From is not null && byName.TryGetValue(l.From, out var fromIndex))
                    {
                        fromSize = sizes[fromIndex];
                    }
                    else
                    {
                        var names = byName.Keys.Count == 0 ? "input" : "input, " + string.Join(", ", byName.Keys);
                        diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ResidualUnknown, l.FromSpan ?? l.Span, l.From ?? string.Empty, names));
                        break;
                    }

                    if (known && fromSize != current)
                    {
                        diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ResidualIncompatible, l.FromSpan ?? l.Span, l.From!, fromSize, current));
                    }

                    break;
            }

            sizes[i] = current;
            shapes[i] = shape;
            byName[l.Name] = i;
            producer = "layer '" + l.Name + "'";
            flattened = null;
        }

        return sizes;
    }

    private static void CheckFormats(IReadOnlyList<LayerSpec> layers, List<ManifestDiagnostic> diagnostics, string manifest)
    {
        foreach (var l in layers)
        {
            if (l.Op is not (Ops.Linear or Ops.Conv2d) || l.Quant is null)
            {
                continue;
            }

            var q = l.Quant;
            var cols = l.Op == Ops.Conv2d ? l.FilterLength : l.In;
            var colsText = l.Op == Ops.Conv2d ? " weights per output channel" : " inputs";
            if (Array.IndexOf(Ops.ImplementedFormats, q.Format) < 0)
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.FormatNotImplemented, q.FormatSpan, q.Format, l.Name, string.Join(", ", Ops.ImplementedFormats)));
            }
            else if (WeightFormats.IsGrouped(q.Format) && q.GroupSize % WeightFormats.GroupSizeMultiple(q.Format) != 0)
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.GroupSize, q.GroupSizeSpan, q.GroupSize, l.Name, q.Format + " packs weights in blocks of " + WeightFormats.GroupSizeMultiple(q.Format).ToString(CultureInfo.InvariantCulture) + ", so groupSize must be a multiple of that"));
            }
            else if (WeightFormats.IsGrouped(q.Format) && q.GroupSize > cols && q.GroupSizeSpan != q.FormatSpan)
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.GroupSize, q.GroupSizeSpan, q.GroupSize, l.Name, "it is larger than the layer's " + cols.ToString(CultureInfo.InvariantCulture) + colsText + "; use at most that"));
            }
            else if (!WeightFormats.IsGrouped(q.Format) && q.GroupSize > 0 && q.GroupSizeSpan != q.FormatSpan)
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.GroupSize, q.GroupSizeSpan, q.GroupSize, l.Name, q.Format + " weights have no groups; remove groupSize"));
            }

            CheckChunks(l, diagnostics, manifest);
        }
    }

    /// <summary>
    /// A conv2d layer splits its output channels (docs/routing.md): axis "output" only, ranked by "exact" or
    /// "lowrank" when routed (the "input" estimator cannot rank output chunks; "proxy" sketches are not built for
    /// filter banks).
    /// </summary>
    private static void CheckConvChunks(LayerSpec l, ChunksSpec c, List<ManifestDiagnostic> diagnostics)
    {
        string Text(int v) => v.ToString(CultureInfo.InvariantCulture);
        if (c.Axis == "input")
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ChunkConfig, c.AxisSpan ?? c.Span, l.Name, "split the input channels of a conv2d layer, which this version does not generate", "use axis 'output' (chunks of output channels)"));
        }
        else if (c.Count > l.OutChannels)
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ChunkConfig, c.CountSpan ?? c.Span, l.Name, "split " + Text(l.OutChannels) + " output channels into " + Text(c.Count) + " chunks", "use a count of at most " + Text(l.OutChannels)));
        }
        else if (c.Activity == "input")
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ChunkConfig, c.ActivitySpan ?? c.Span, l.Name, "split the output channels, and every output chunk reads the same input, so the 'input' estimator cannot rank them", "use activity 'exact' or 'lowrank'"));
        }
        else if (c.Routed && c.Activity == "proxy")
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ChunkConfig, c.ActivitySpan ?? c.Span, l.Name, "of a conv2d layer are ranked by 'proxy', which this version does not generate for filter banks", "use activity 'exact' or 'lowrank'"));
        }
        else if (c.Routed && c.Activity == "lowrank" && c.ProxyRank > Math.Min(l.FilterLength, l.OutChannels))
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ChunkConfig, c.ActivitySpan ?? c.Span, l.Name, "estimate its " + Text(l.OutChannels) + " x " + Text(l.FilterLength) + " filter bank at rank " + Text(c.ProxyRank) + ", above the matrix's rank", "use a proxyRank of at most " + Text(Math.Min(l.FilterLength, l.OutChannels))));
        }
    }

    /// <summary>
    /// Pool routing (<c>chunks.axis: "pool"</c>, docs/routing.md): an f32 conv2d layer, followed by an optional ReLU and
    /// a max pool with stride = window and no padding (nothing else reading the conv's or the ReLU's output), ranked by
    /// its "taps" proxy; count (when given) the window size, topK within the window, proxyTaps within the filter.
    /// One diagnostic per layer, the first problem found.
    /// </summary>
    private static void CheckPoolRoutes(ManifestSpec spec, Chw?[] shapes, List<ManifestDiagnostic> diagnostics)
    {
        string Text(int v) => v.ToString(CultureInfo.InvariantCulture);
        var layers = spec.Layers;
        var referenced = new HashSet<string>(layers.Where(l => l.Op == Ops.Residual && l.From is not null).Select(l => l.From!), StringComparer.Ordinal);
        for (var i = 0; i < layers.Count; i++)
        {
            var l = layers[i];
            if (l.Chunks is not { } c || !(c.IsPool || c.Activity == "taps"))
            {
                continue;
            }

            void Fail(TextSpanInfo? span, string what, string fix) =>
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.PoolRouteInvalid, span ?? c.Span, l.Name, what, fix));

            if (!c.IsPool)
            {
                Fail(c.ActivitySpan, "ranks chunks by 'taps', the proxy of pool routing, but its chunks are not pool windows", "use axis 'pool' on a conv2d layer followed by a max pool, or another activity");
                continue;
            }

            if (l.Op != Ops.Conv2d)
            {
                Fail(c.AxisSpan, "splits a " + l.Op + " layer by pool windows, which only a conv2d layer followed by a max pool has", "use axis 'output' or 'input'");
                continue;
            }

            if (c.Activity != "taps")
            {
                Fail(c.ActivitySpan, "ranks the positions of a window by '" + c.Activity + "', but pool windows are ranked by their 'taps' proxy", "use activity 'taps' (or leave it out)");
                continue;
            }

            if (c.ExtraSpan is { } extra)
            {
                Fail(extra, "gives minActivity, maxK, proxyFormat or proxyRank, which pool routing does not use (it keeps exactly topK positions per window, its proxy is f32 taps of the layer's own filters)", "remove it; use topK and proxyTaps");
                continue;
            }

            if (l.Activations is { IsInteger: true })
            {
                // CheckActivations reports integer activations with chunks (CGC0044)
                continue;
            }

            if (l.Quant is { } q && (q.Format != "f32" || q.Policy is not null))
            {
                Fail(q.Policy is not null ? q.Policy.Span : q.FormatSpan, q.Policy is not null ? "has a precision policy per chunk, but its chunks are pool windows, not stored apart" : "needs f32 weights, but they are " + q.Format, q.Policy is not null ? "remove the policy" : "set the layer's quant.format to \"f32\" (pool routing reads the f32 filter bank)");
                continue;
            }

            if (spec.Target.Placement == "stream")
            {
                Fail(c.AxisSpan, "reads its filters at every selected position, from resident weights, which \"stream\" placement does not keep", "use \"file\" or \"embedded\" placement, or remove the chunks");
                continue;
            }

            if (referenced.Contains(l.Name))
            {
                Fail(c.AxisSpan, "needs the conv's output to go only to its max pool, but a residual add reads it", "remove the residual add of '" + l.Name + "', or the chunks");
                continue;
            }

            var j = i + 1;
            if (j < layers.Count && layers[j].Op == Ops.Relu)
            {
                if (referenced.Contains(layers[j].Name))
                {
                    Fail(c.AxisSpan, "needs the ReLU's output to go only to its max pool, but a residual add reads it", "remove the residual add of '" + layers[j].Name + "', or the chunks");
                    continue;
                }

                j++;
            }

            if (j >= layers.Count || layers[j].Op != Ops.MaxPool)
            {
                Fail(c.AxisSpan, "needs a max pool right after the layer (a relu between allowed), but " + (j < layers.Count ? "layer " + Text(j) + " is a " + layers[j].Op : "the model ends"), "add the max pool, or use axis 'output'");
                continue;
            }

            var pool = layers[j];
            if (pool.StrideH != pool.KernelH || pool.StrideW != pool.KernelW || pool.PadTop + pool.PadLeft + pool.PadBottom + pool.PadRight != 0)
            {
                Fail(c.AxisSpan, "needs windows that do not overlap and hold no padding, but max pool '" + pool.Name + "' has window " + Text(pool.KernelH) + "x" + Text(pool.KernelW) + ", stride " + Text(pool.StrideH) + "x" + Text(pool.StrideW) + (pool.PadTop + pool.PadLeft + pool.PadBottom + pool.PadRight != 0 ? " and padding" : string.Empty), "give the max pool a stride equal to its window and no padding, or use axis 'output'");
                continue;
            }

            var window = pool.KernelH * pool.KernelW;
            if (window > 64)
            {
                Fail(c.AxisSpan, "ranks windows of " + Text(window) + " positions (max pool '" + pool.Name + "'), more than the 64 the kernel ranks", "use a smaller max pool window, or axis 'output'");
                continue;
            }

            if (c.Count != 0 && c.Count != window)
            {
                Fail(c.CountSpan, "has count " + Text(c.Count) + ", but max pool '" + pool.Name + "' has windows of " + Text(window) + " positions", "set count to " + Text(window) + " or leave it out");
                continue;
            }

            if (c.TopK is { } k && k > window)
            {
                Fail(c.TopKSpan, "keeps topK " + Text(k) + " positions of windows of " + Text(window), "use a topK of 1 to " + Text(window));
                continue;
            }

            if (c.ProxyTaps > l.FilterLength)
            {
                Fail(c.ProxyTapsSpan, "ranks by " + Text(c.ProxyTaps) + " taps of filters of " + Text(l.FilterLength) + " (inChannels x kH x kW)", "use proxyTaps of 1 to " + Text(l.FilterLength));
                continue;
            }

        }
    }

    private static void CheckChunks(LayerSpec l, List<ManifestDiagnostic> diagnostics, string manifest)
    {
        var q = l.Quant!;
        var c = l.Chunks;
        if (c is not null && (c.IsPool || c.Activity == "taps"))
        {
            // pool routing is checked with the layers after it (CheckPoolRoutes), its policy and format too
            return;
        }

        if (c is not null && l.Op == Ops.Conv2d)
        {
            CheckConvChunks(l, c, diagnostics);
        }
        else if (c is not null)
        {
            var dim = c.Axis == "input" ? l.In : l.Out;
            var what = c.Axis == "input" ? "inputs (columns)" : "outputs (rows)";
            if (c.Count > dim)
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ChunkConfig, c.CountSpan ?? c.Span, l.Name, "split " + dim.ToString(CultureInfo.InvariantCulture) + " " + what + " into " + c.Count.ToString(CultureInfo.InvariantCulture) + " chunks", "use a count of at most " + dim.ToString(CultureInfo.InvariantCulture)));
            }
            else if (c.Count > 1024)
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ChunkConfig, c.CountSpan ?? c.Span, l.Name, "number " + c.Count.ToString(CultureInfo.InvariantCulture), "use at most 1024 chunks per layer"));
            }
            else if (c.Axis == "output" && c.Activity == "input")
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ChunkConfig, c.ActivitySpan ?? c.Span, l.Name, "split the outputs, and every output chunk reads the same input, so the 'input' estimator cannot rank them", "use activity 'proxy' or 'exact', or axis 'input'"));
            }
            else if (c.Axis == "input" && c.Activity != "input")
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ChunkConfig, c.ActivitySpan ?? c.Span, l.Name, "split the inputs, which are ranked by their own mean |x|", "use activity 'input' (or axis 'output' for '" + c.Activity + "')"));
            }
            else if (c.Activity == "lowrank" && c.ProxyRank > Math.Min(l.In, l.Out))
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ChunkConfig, c.ActivitySpan ?? c.Span, l.Name, "estimate its " + l.Out.ToString(CultureInfo.InvariantCulture) + " x " + l.In.ToString(CultureInfo.InvariantCulture) + " matrix at rank " + c.ProxyRank.ToString(CultureInfo.InvariantCulture) + ", above the matrix's rank", "use a proxyRank of at most " + Math.Min(l.In, l.Out).ToString(CultureInfo.InvariantCulture)));
            }
        }

        var p = q.Policy;
        if (p is null)
        {
            return;
        }

        if (p.IsRuntime)
        {
            CheckRuntimePolicy(l, q, c, p, diagnostics);
            return;
        }

        if (p.Bits.Count > 0)
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.PolicyInvalid, p.BitsSpan ?? p.Span, l.Name, "gives bits, which only 'by': 'runtime-activity' uses", "give 'formats' for 'by': 'activity', or use 'by': 'runtime-activity'"));
            return;
        }

        if (c is not { Count: > 1 })
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.PolicyInvalid, p.Span, l.Name, "chooses a format per chunk, but the layer has no chunks", "add \"chunks\": { \"count\": 12 } (two or more) to the layer"));
            return;
        }

        if (p.Formats.Count != p.Thresholds.Count + 1)
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.PolicyInvalid, p.FormatsSpan, l.Name, "has " + p.Thresholds.Count.ToString(CultureInfo.InvariantCulture) + " thresholds and " + p.Formats.Count.ToString(CultureInfo.InvariantCulture) + " formats", "give one format more than thresholds (lowest activity first)"));
            return;
        }

        for (var i = 1; i < p.Thresholds.Count; i++)
        {
            if (!(p.Thresholds[i] > p.Thresholds[i - 1]))
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.PolicyInvalid, p.Span, l.Name, "has thresholds that do not increase", "list them in increasing order"));
                return;
            }
        }

        foreach (var f in p.Formats)
        {
            if (Array.IndexOf(Ops.ImplementedFormats, f) < 0)
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.PolicyInvalid, p.FormatsSpan, l.Name, "names format '" + f + "', which has no kernels", "use " + string.Join(", ", Ops.ImplementedFormats)));
                return;
            }
        }

        if (p.Chosen.Count == 0)
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.PolicyNotCalibrated, p.Span, l.Name, "no choice is recorded yet", manifest));
            return;
        }

        if (p.Chosen.Count != c.Count)
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.PolicyNotCalibrated, p.ChosenSpan, l.Name, "'chosen' lists " + p.Chosen.Count.ToString(CultureInfo.InvariantCulture) + " formats for " + c.Count.ToString(CultureInfo.InvariantCulture) + " chunks", manifest));
            return;
        }

        foreach (var f in p.Chosen)
        {
            if (!p.Formats.Contains(f))
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.PolicyInvalid, p.ChosenSpan, l.Name, "records format '" + f + "', which is not among its formats (" + string.Join(", ", p.Formats) + ")", "run 'cgc calibrate' again or correct 'chosen'"));
                return;
            }
        }
    }

    /// <summary>A per-input precision policy (docs/routing.md): output chunks stored as bit-planes of int8 codes.</summary>
    private static void CheckRuntimePolicy(LayerSpec l, QuantSpec q, ChunksSpec? c, PolicySpec p, List<ManifestDiagnostic> diagnostics)
    {
        string I(int v) => v.ToString(CultureInfo.InvariantCulture);
        if (c is not { Count: > 1 })
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.PolicyInvalid, p.Span, l.Name, "chooses bits per chunk and input, but the layer has no chunks", "add \"chunks\": { \"count\": 12, \"topK\": 3 } (two or more) to the layer"));
        }
        else if (c.Axis != "output")
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.PolicyInvalid, p.Span, l.Name, "chooses bits per input for input chunks, which bit-planes do not support yet", "use \"axis\": \"output\""));
        }
        else if (q.Format != WeightFormats.Int8)
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.PolicyInvalid, q.FormatSpan, l.Name, "stores bit-planes of int8 codes, but the layer's format is '" + q.Format + "'", "use \"format\": \"int8\""));
        }
        else if (q.GroupSize % BitPlaneFormat.GroupSizeMultiple != 0)
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.PolicyInvalid, q.GroupSizeSpan, l.Name, "needs groups of whole 16-column units, but groupSize is " + I(q.GroupSize), "use a multiple of 16 (default 64)"));
        }
        else if (p.HasFormats || p.Chosen.Count > 0)
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.PolicyInvalid, p.FormatsSpan, l.Name, "lists formats, but 'runtime-activity' chooses bits", "replace 'formats' (and 'chosen') with 'bits', e.g. \"bits\": [4, 8]"));
        }
        else if (p.Bits.Count == 0)
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.PolicyInvalid, p.Span, l.Name, "gives no bits", "add \"bits\": one entry more than thresholds, ascending, from 1 to 8 (e.g. \"thresholds\": [0.5], \"bits\": [4, 8])"));
        }
        else if (p.Bits.Count != p.Thresholds.Count + 1)
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.PolicyInvalid, p.BitsSpan ?? p.Span, l.Name, "has " + I(p.Thresholds.Count) + " thresholds and " + I(p.Bits.Count) + " bits", "give one bits entry more than thresholds (lowest activity first)"));
        }
        else
        {
            for (var i = 1; i < p.Thresholds.Count; i++)
            {
                if (!(p.Thresholds[i] > p.Thresholds[i - 1]))
                {
                    diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.PolicyInvalid, p.Span, l.Name, "has thresholds that do not increase", "list them in increasing order"));
                    return;
                }
            }

            for (var i = 1; i < p.Bits.Count; i++)
            {
                if (!(p.Bits[i] > p.Bits[i - 1]))
                {
                    diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.PolicyInvalid, p.BitsSpan ?? p.Span, l.Name, "has bits that do not increase", "list them in increasing order (fewest bits for the least active chunks)"));
                    return;
                }
            }
        }
    }

    /// <summary>
    /// The layer whose output is layer <paramref name="i"/>'s input and can write it as u8 codes: the linear or conv2d
    /// layer before it with integer activations, no residual, and an output nothing else reads, with at most a ReLU
    /// (fused into it) and then max pools without padding and flattens between them (a max pool of codes is the code
    /// of the max pool: quantization is monotonic); or -1.
    /// </summary>
    public static int ProducerOf(IReadOnlyList<LayerSpec> layers, int i, HashSet<string> referenced)
    {
        var j = i - 1;
        while (j >= 0 && !referenced.Contains(layers[j].Name) && ((layers[j].Op == Ops.MaxPool && layers[j].PadTop + layers[j].PadLeft + layers[j].PadBottom + layers[j].PadRight == 0) || layers[j].Op == Ops.Flatten))
        {
            j--;
        }

        if (j >= 0 && layers[j].Op == Ops.Relu && !referenced.Contains(layers[j].Name))
        {
            j--;
        }

        if (j >= 0 && layers[j].Activations is null)
        {
            // a linear layer reading floats that writes this layer's codes
            return FloatInputProducerOf(layers, i, referenced, requireCalibrated: true);
        }

        if (j < 0 || layers[j].Activations is null || referenced.Contains(layers[j].Name))
        {
            return -1;
        }

        // codes pass between layers of one width only: at an int8 / int16 boundary the producer writes floats
        if (layers[i].Activations is { } consumer && consumer.Format != layers[j].Activations!.Format)
        {
            return -1;
        }

        // a linear producer has nothing but its ReLU after it; a conv2d may be pooled and flattened
        return layers[j].Op == Ops.Conv2d || (layers[j].Op == Ops.Linear && (i - j == 1 || (i - j == 2 && layers[i - 1].Op == Ops.Relu))) ? j : -1;
    }

    /// <summary>
    /// The linear layer just before layer <paramref name="i"/> (a ReLU between allowed; no residual; nothing else
    /// reading its output) that reads a float input and writes layer <paramref name="i"/>'s u8 codes (docs/activations.md,
    /// "A float input writing the next layer's codes"), or -1: its own <c>"activations": { "format": "f32" }</c>, int8
    /// weights, no chunks or precision policy; layer <paramref name="i"/> a linear layer with int8 (u8 code) activations and
    /// <c>static</c> params, or <c>predicted</c> with a calibrated <c>z</c> (<paramref name="requireCalibrated"/>; without
    /// one the layer quantizes the floats at their own range, as before, and <c>cgc calibrate</c> asks with false).
    /// </summary>
    public static int FloatInputProducerOf(IReadOnlyList<LayerSpec> layers, int i, HashSet<string> referenced, bool requireCalibrated)
    {
        if (i < 1 || i >= layers.Count || layers[i].Op != Ops.Linear || layers[i].Activations is not { Format: "int8", Params: "static" or "predicted" } a
            || (requireCalibrated && a.Params == "predicted" && a.Z is null))
        {
            return -1;
        }

        var j = i - 1;
        if (layers[j].Op == Ops.Relu && !referenced.Contains(layers[j].Name))
        {
            j--;
        }

        return j >= 0 && layers[j] is { Op: Ops.Linear, Activations: null, FloatActivations: not null, Chunks: null, Quant: { Format: "int8", Policy: null } }
            && !referenced.Contains(layers[j].Name) ? j : -1;
    }

    private static Program BuildProgram(ManifestSpec spec, int[] sizes, Chw?[] shapes, Dictionary<string, long> offsets, Dictionary<string, long> lengths, bool activations)
    {
        var layers = spec.Layers;
        var referenced = new HashSet<string>(layers.Where(l => l.Op == Ops.Residual && l.From is not null).Select(l => l.From!), StringComparer.Ordinal);

        // Integer-activation layers whose static or predicted input the previous layer writes as codes.
        var consumerOf = new Dictionary<int, int>();
        for (var i = 0; activations && i < layers.Count; i++)
        {
            if (layers[i].Activations is { Params: not "dynamic" } && ProducerOf(layers, i, referenced) is var p && p >= 0)
            {
                consumerOf[p] = i;
            }
        }

        // LayerNorms on u8 codes (the residual stream in codes): their input is the residual sum the linear layer before
        // writes as codes, their output codes the next layer's input and later fused residuals (checked by CheckActivations).
        var codeNorms = new HashSet<int>(activations ? layers.Where(l => l.Op == Ops.LayerNorm && l.Activations is not null).Select(l => l.Index) : Enumerable.Empty<int>());

        var program = new Program();
        var input = program.NewValue(spec.InputLength, external: BufferKind.Input);
        var named = new Dictionary<string, int>(StringComparer.Ordinal) { ["input"] = input };
        var current = input;
        var hitOffset = 0;

        // the step whose u8 codes the current value is (a conv2d producer, then its pools and flattens), or null
        Step? codes = null;
        for (var i = 0; i < layers.Count; i++)
        {
            var l = layers[i];
            var step = new Step(l.Name, l.Op) { Source = current };
            if (l.Op is not (Ops.MaxPool or Ops.Flatten))
            {
                codes = null;
            }

            switch (l.Op)
            {
                case Ops.Linear:
                {
                    var relu = false;
                    var residual = -1;
                    var last = l;
                    if (i + 1 < layers.Count && layers[i + 1].Op == Ops.Relu && !referenced.Contains(last.Name))
                    {
                        relu = true;
                        last = layers[++i];
                    }

                    if (i + 1 < layers.Count && layers[i + 1].Op == Ops.Residual && !referenced.Contains(last.Name))
                    {
                        last = layers[++i];
                        residual = named[last.From!];
                    }

                    if (Chunking.IsChunked(l))
                    {
                        step = ChunkedStep(l, last, relu, residual, current, offsets, lengths, ref hitOffset);
                        break;
                    }

                    var format = l.Quant!.Format;
                    var grouped = WeightFormats.IsGrouped(format);
                    if (activations && l.Activations is null && consumerOf.TryGetValue(l.Index, out var floatConsumer))
                    {
                        // reads its float input in place and writes the next layer's codes: no input codes, no float output
                        step = FloatInputLinear(l, last, relu, current, offsets, layers[floatConsumer]);
                        step.Act = step.Act! with { OutCode = program.NewCode(l.Out) };
                        step.Destination = program.NewValue(0, BufferKind.None);
                        program.CodeOfValue[step.Destination] = step.Act.OutCode;
                        named[step.LayerName] = step.Destination;
                        current = step.Destination;
                        program.Steps.Add(step);
                        continue;
                    }

                    if (activations && l.Activations is { } a)
                    {
                        step = ActivationLinear(l, last, a, relu, residual, current, offsets, layers, i, consumerOf, referenced, codeNorms);
                        var act = step.Act!;
                        var fromCodes = program.CodeOfValue.TryGetValue(current, out var inCode);
                        act = act with
                        {
                            QuantizeEntry = !fromCodes,
                            InCode = fromCodes ? inCode : program.NewCode(act.CodeBytes * l.In),
                            ResidualCodes = residual >= 0 && program.CodeOfValue.ContainsKey(residual),
                            ResidualCode = residual >= 0 && program.CodeOfValue.TryGetValue(residual, out var rc) ? rc : -1,
                        };
                        if (act.Format is "base11" or "ternary")
                        {
                            // the (digit-major or padded) copy of the input codes and the group sums: live only while the step runs
                            act = act with { ScratchCode = program.NewCode(act.ScratchBytes) };
                        }

                        step.Act = act;
                        if (act.QuantizeOutput)
                        {
                            // the output is written as codes into the code buffer: no float tensor
                            step.Act = act with { OutCode = program.NewCode(act.CodeBytes * l.Out) };
                            step.Destination = program.NewValue(0, BufferKind.None);
                            program.CodeOfValue[step.Destination] = step.Act.OutCode;
                            named[step.LayerName] = step.Destination;
                            current = step.Destination;
                            program.Steps.Add(step);
                            continue;
                        }

                        break;
                    }

                    var kernel = new KernelSpec(format, l.In, l.Out, grouped ? l.Quant.GroupSize : 0, l.Bias, relu, residual >= 0) { Pairs = format == "base11" && l.Quant.IsPairs };
                    var (weightOffset, scaleOffset, scale2Offset) = MatrixOffsets(offsets, l.Name, format);
                    step = new Step(last.Name, l.Op)
                    {
                        ReportName = l.Name,
                        Source = current,
                        Residual = residual,
                        Kernel = kernel,
                        WeightOffset = weightOffset,
                        ScaleOffset = scaleOffset,
                        Scale2Offset = scale2Offset,
                        BiasOffset = l.Bias ? offsets[l.Name + ".bias"] : 0,
                        Comment = string.Format(
                            CultureInfo.InvariantCulture,
                            "layer {0} '{1}': linear {2} -> {3}, {4}{5}, epilogue: {6}",
                            l.Index,
                            l.Name,
                            l.In,
                            l.Out,
                            kernel.Pairs ? "base11 pairs" : format,
                            grouped ? " (group " + l.Quant.GroupSize.ToString(CultureInfo.InvariantCulture) + ")" : string.Empty,
                            kernel.Epilogue + (residual >= 0 ? " from '" + last.From + "'" : string.Empty)),
                    };
                    break;
                }

                case Ops.Conv2d:
                {
                    var inShape = i == 0 ? new Chw(spec.InputShape[0], spec.InputShape[1], spec.InputShape[2]) : shapes[i - 1]!.Value;
                    var relu = false;
                    var last = l;
                    if (i + 1 < layers.Count && layers[i + 1].Op == Ops.Relu && !referenced.Contains(last.Name))
                    {
                        relu = true;
                        last = layers[++i];
                    }

                    if (Chunking.IsChunked(l))
                    {
                        step = ConvChunkedStep(program, l, last, inShape, relu, current, offsets, ref hitOffset);
                        break;
                    }

                    if (Chunking.IsPoolRouted(l))
                    {
                        // conv2d, its ReLU and the max pool after it as one step (CheckPoolRoutes admitted the max pool)
                        var maxPool = layers[++i];
                        var route = new PoolRouteSpec(
                            inShape.C,
                            inShape.H,
                            inShape.W,
                            l.OutChannels,
                            l.KernelH,
                            l.KernelW,
                            l.StrideH,
                            l.StrideW,
                            l.PadTop,
                            l.PadLeft,
                            l.PadBottom,
                            l.PadRight,
                            maxPool.KernelH,
                            maxPool.KernelW,
                            l.Chunks!.TopK ?? (maxPool.KernelH * maxPool.KernelW),
                            l.Chunks.ProxyTaps,
                            l.Bias,
                            relu)
                        {
                            WeightOffset = offsets[l.Name + ".weight"],
                            BiasOffset = l.Bias ? offsets[l.Name + ".bias"] : 0,
                            ProxyOffset = offsets[l.Name + ".pooltaps"],
                        };
                        step = new Step(maxPool.Name, l.Op)
                        {
                            ReportName = l.Name,
                            Source = current,
                            PoolRoute = route,
                            Temp = program.NewValue(route.TempFloats, BufferKind.None),
                            Comment = string.Format(
                                CultureInfo.InvariantCulture,
                                "layers {0}-{1} '{2}'{3} and '{4}': conv2d {5} -> [{6}, {7}, {8}], f32, {9}, then max pool {10}x{11} -> [{6}, {12}, {13}], one step: {14} ({15} multiply-adds, the dense layer {16}; the pool reads conv rows 0..{17} and columns 0..{18} of {19}x{20})",
                                l.Index,
                                maxPool.Index,
                                l.Name,
                                relu ? ", '" + last.Name + "'" : string.Empty,
                                maxPool.Name,
                                inShape.Describe(),
                                l.OutChannels,
                                route.ConvH,
                                route.ConvW,
                                relu ? "relu" : "no relu",
                                route.PoolH,
                                route.PoolW,
                                route.OutH,
                                route.OutW,
                                route.Describe(),
                                route.Macs,
                                route.DenseMacs,
                                (route.OutH * route.PoolH) - 1,
                                (route.OutW * route.PoolW) - 1,
                                route.ConvH,
                                route.ConvW),
                        };
                        break;
                    }

                    if (activations && l.Activations is { } ca)
                    {
                        step = ActivationConv(l, last, ca, inShape, relu, current, offsets, layers, consumerOf, referenced, codeNorms);
                        var cact = step.Act!;
                        var convFromCodes = program.CodeOfValue.TryGetValue(current, out var convIn);
                        step.Act = cact = cact with
                        {
                            QuantizeEntry = !convFromCodes,
                            InCode = convFromCodes ? convIn : program.NewCode(cact.In),
                            ScratchCode = program.NewCode(cact.ScratchBytes),
                        };
                        if (cact.QuantizeOutput)
                        {
                            // every output plane as codes (its max pools shrink them in place; the consumer reads this tensor)
                            step.Act = cact with { OutCode = program.NewCode(cact.OutCodes) };
                            step.Destination = program.NewValue(0, BufferKind.None);
                            program.CodeOfValue[step.Destination] = step.Act.OutCode;
                            named[step.LayerName] = step.Destination;
                            current = step.Destination;
                            codes = step;
                            program.Steps.Add(step);
                            continue;
                        }

                        break;
                    }

                    var format = l.Quant!.Format;
                    var grouped = WeightFormats.IsGrouped(format);
                    var conv = new ConvKernelSpec(
                        format,
                        inShape.C,
                        inShape.H,
                        inShape.W,
                        l.OutChannels,
                        l.KernelH,
                        l.KernelW,
                        l.StrideH,
                        l.StrideW,
                        l.PadTop,
                        l.PadLeft,
                        l.PadBottom,
                        l.PadRight,
                        grouped ? l.Quant.GroupSize : 0,
                        l.Bias,
                        relu);
                    var (weightOffset, scaleOffset, scale2Offset) = MatrixOffsets(offsets, l.Name, format);
                    step = new Step(last.Name, l.Op)
                    {
                        ReportName = l.Name,
                        Source = current,
                        Conv = conv,
                        Temp = program.NewValue(conv.TempFloats, BufferKind.None),
                        WeightOffset = weightOffset,
                        ScaleOffset = scaleOffset,
                        Scale2Offset = scale2Offset,
                        BiasOffset = l.Bias ? offsets[l.Name + ".bias"] : 0,
                        Comment = string.Format(
                            CultureInfo.InvariantCulture,
                            "layer {0} '{1}': conv2d {2} -> {3}, {4}{5}, epilogue: {6}",
                            l.Index,
                            l.Name,
                            inShape.Describe(),
                            conv.Geometry,
                            format,
                            grouped ? " (group " + l.Quant.GroupSize.ToString(CultureInfo.InvariantCulture) + ")" : string.Empty,
                            conv.Epilogue),
                    };
                    break;
                }

                case Ops.MaxPool:
                {
                    var inShape = i == 0 ? new Chw(spec.InputShape[0], spec.InputShape[1], spec.InputShape[2]) : shapes[i - 1]!.Value;
                    var pool = new PoolKernelSpec(inShape.C, inShape.H, inShape.W, l.KernelH, l.KernelW, l.StrideH, l.StrideW, l.PadTop, l.PadLeft, l.PadBottom, l.PadRight);
                    if (codes is not null)
                    {
                        // the producer wrote u8 codes: pool them in place (ProducerOf admits no padding here)
                        step.CodePool = pool;
                        step.CodeProducer = codes;
                        step.Comment = string.Format(
                            CultureInfo.InvariantCulture,
                            "layer {0} '{1}': maxpool of u8 codes {2} -> [{3}, {4}, {5}], window {6}x{7}, stride {8}x{9}, in place (the largest code is the code of the largest value)",
                            l.Index,
                            l.Name,
                            inShape.Describe(),
                            inShape.C,
                            pool.OutH,
                            pool.OutW,
                            pool.KH,
                            pool.KW,
                            pool.SH,
                            pool.SW);
                        step.Destination = program.NewValue(0, BufferKind.None);
                        program.CodeOfValue[step.Destination] = codes.Act!.OutCode;
                        named[step.LayerName] = step.Destination;
                        current = step.Destination;
                        program.Steps.Add(step);
                        continue;
                    }

                    step.Pool = pool;
                    step.Comment = string.Format(
                        CultureInfo.InvariantCulture,
                        "layer {0} '{1}': maxpool {2} -> [{3}, {4}, {5}], window {6}x{7}, stride {8}x{9}{10}",
                        l.Index,
                        l.Name,
                        inShape.Describe(),
                        inShape.C,
                        pool.OutH,
                        pool.OutW,
                        pool.KH,
                        pool.KW,
                        pool.SH,
                        pool.SW,
                        pool.HasPadding ? string.Format(CultureInfo.InvariantCulture, ", pad [{0}, {1}, {2}, {3}]", pool.PadTop, pool.PadLeft, pool.PadBottom, pool.PadRight) : string.Empty);
                    break;
                }

                case Ops.Flatten when codes is not null:
                    step.Comment = string.Format(CultureInfo.InvariantCulture, "layer {0} '{1}': flatten to {2} u8 codes (same memory order)", l.Index, l.Name, sizes[i]);
                    step.Destination = program.NewValue(0, BufferKind.None);
                    program.CodeOfValue[step.Destination] = codes.Act!.OutCode;
                    named[step.LayerName] = step.Destination;
                    current = step.Destination;
                    program.Steps.Add(step);
                    continue;
                case Ops.Flatten:
                    step.Comment = string.Format(CultureInfo.InvariantCulture, "layer {0} '{1}': flatten to {2} values (same memory order)", l.Index, l.Name, sizes[i]);
                    break;
                case Ops.Softmax:
                    step.Comment = string.Format(CultureInfo.InvariantCulture, "layer {0} '{1}': softmax over {2} values", l.Index, l.Name, sizes[i]);
                    break;
                case Ops.Relu:
                    step.Comment = string.Format(CultureInfo.InvariantCulture, "layer {0} '{1}': relu", l.Index, l.Name);
                    break;
                case Ops.Residual:
                    step.Residual = named[l.From!];
                    step.Comment = string.Format(CultureInfo.InvariantCulture, "layer {0} '{1}': residual add of '{2}'", l.Index, l.Name, l.From);
                    break;
                case Ops.LayerNorm:
                    step.GammaOffset = offsets[l.Name + ".weight"];
                    step.BetaOffset = offsets[l.Name + ".bias"];
                    step.Eps = l.Eps;
                    step.Comment = string.Format(CultureInfo.InvariantCulture, "layer {0} '{1}': layernorm over {2}, eps {3}", l.Index, l.Name, l.Dim, FloatLiteral.Format(l.Eps));
                    if (codeNorms.Contains(i) && program.CodeOfValue.TryGetValue(current, out var outputCode))
                    {
                        // adds the residual and the linear step's output from their codes, normalises with the sum's exact
                        // moments, writes its output as codes at the output's exact range
                        var producer = program.Steps[program.Steps.Count - 1];
                        step.Residual = producer.Residual;
                        step.Norm = new NormCodesStep(0, l.Name, l.Dim)
                        {
                            InCode = outputCode,
                            ResidualCodes = producer.Act!.ResidualCodes,
                            ResidualCode = producer.Act.ResidualCode,
                            OutCode = program.NewCode(l.Dim),
                        };
                        step.Comment += ", on u8 codes: residual + the previous layer's output from their codes (exact mean and variance from its epilogue), u8 codes at the output's exact range out";
                        step.Destination = program.NewValue(0, BufferKind.None);
                        program.CodeOfValue[step.Destination] = step.Norm.OutCode;
                        named[step.LayerName] = step.Destination;
                        current = step.Destination;
                        program.Steps.Add(step);
                        continue;
                    }

                    break;
            }

            step.Destination = program.NewValue(sizes[i], BufferKind.None);
            named[step.LayerName] = step.Destination;
            current = step.Destination;
            program.Steps.Add(step);
        }

        program.Values[current].Buffer = new BufferRef(BufferKind.Output, 0, program.Values[current].Length);
        program.ChunkHits = hitOffset;
        return program;
    }

    /// <summary>
    /// Offsets of a matrix's entries (see <see cref="MatrixEntries"/>): its values, its scales (base11: minima),
    /// and base11's ranges; 0 for an entry the format does not have.
    /// </summary>
    private static (long Weights, long Scales, long Scales2) MatrixOffsets(Dictionary<string, long> offsets, string prefix, string format)
    {
        var values = format switch
        {
            "f32" => ".weight",
            "f16" => ".weight.f16",
            "base11" => ".weight.b11",
            BitPlaneFormat.Name => ".weight.planes",
            _ => ".weight.q",
        };
        return format == "base11"
            ? (offsets[prefix + values], offsets[prefix + ".weight.min"], offsets[prefix + ".weight.range"])
            : (offsets[prefix + values], format == BitPlaneFormat.Name || WeightFormats.IsGrouped(format) ? offsets[prefix + ".weight.scale"] : 0, 0);
    }

    /// <summary>A conv kernel of layer <paramref name="l"/>'s geometry over <paramref name="inShape"/>, for <paramref name="outC"/> channels.</summary>
    private static ConvKernelSpec ConvSpec(LayerSpec l, Chw inShape, string format, int group, int outC, bool bias, bool relu) =>
        new(format, inShape.C, inShape.H, inShape.W, outC, l.KernelH, l.KernelW, l.StrideH, l.StrideW, l.PadTop, l.PadLeft, l.PadBottom, l.PadRight, group, bias, relu);

    /// <summary>
    /// A conv2d layer chunked by output channels (docs/routing.md): each chunk decodes its filters (its format, offsets and
    /// channel range folded in) into a filter bank that one f32 kernel reads — every chunk's in channel order, or the
    /// selected chunks' packed together ("lowrank") — and the routing that picks them.
    /// </summary>
    private static Step ConvChunkedStep(Program program, LayerSpec l, LayerSpec last, Chw inShape, bool relu, int source, Dictionary<string, long> offsets, ref int hitOffset)
    {
        var c = l.Chunks!;
        var parts = Chunking.Split(l, c);
        var routed = c.Routed;
        var chunks = new List<ConvChunkCall>();
        var formats = new List<string>();
        ConvKernelSpec? first = null;
        for (var i = 0; i < parts.Length; i++)
        {
            var (format, group) = Chunking.FormatOf(l, i);
            formats.Add(format);
            var (weightOffset, scaleOffset, scale2Offset) = MatrixOffsets(offsets, Chunking.ChunkPrefix(l, i), format);
            var (start, length) = parts[i];
            var kernel = ConvSpec(l, inShape, format, group, length, l.Bias, relu);
            first ??= kernel;
            chunks.Add(new ConvChunkCall(i, start, length, kernel, weightOffset, scaleOffset, scale2Offset, l.Bias ? offsets[l.Name + ".bias"] + (4L * start) : 0, (long)length * kernel.OutPlane * kernel.Filter));
        }

        var plane = first!.OutPlane;
        var allMacs = (long)l.OutChannels * plane * l.FilterLength;

        // When every chunk is computed (precision per chunk, or "exact" routing), the chunks decode their filters, each in
        // its own format, into one bank that a single kernel over all channels reads: a kernel per chunk of one or two
        // channels would feed one or two multiply-adds per input load.
        var bank = ConvSpec(l, inShape, "f32", 0, l.OutChannels, l.Bias, relu) with { FilterBank = true };
        var temp = bank.TempFloats;

        var limit = c.TopK ?? c.MaxK ?? c.Count;
        var route = new ChunkRoute("output", c.Activity, c.Count, Math.Min(limit, c.Count), c.MinActivity is not null, FloatLiteral.Format((float)(c.MinActivity ?? 0)), hitOffset, l.OutChannels * plane, relu, false)
        {
            Routed = routed,
            ProxyRank = c.ProxyRank,
            Layer = l.Name,
            AllMacs = allMacs,
            Plane = plane,
            ConvBank = bank,
        };
        int zOffset = 0, uOffset = 0, compactOffset = 0;
        if (routed && c.Activity == "lowrank")
        {
            // z = V * x: rank planes (a conv of rank output channels, padding the input where the bank kernel reads it);
            // then U z + b with the layer's ReLU, a 1x1 conv writing the estimate of every channel where the output goes.
            var pf = c.ProxyFormat;
            var pg = WeightFormats.IsGrouped(pf) ? WeightFormats.DefaultGroupSize(pf) : 0;
            var v = ConvSpec(l, inShape, pf, pg, c.ProxyRank, false, false);
            var u = new ConvKernelSpec("f32", c.ProxyRank, v.OutH, v.OutW, l.OutChannels, 1, 1, 1, 1, 0, 0, 0, 0, 0, l.Bias, relu);

            // The selected chunks' filters (decoded in their formats) and biases are packed into one bank, computed by one
            // kernel into compact planes, then copied to their channels.
            bank = ConvSpec(l, inShape, "f32", 0, l.OutChannels, l.Bias, relu) with { FilterBank = true, Gather = true };
            temp = Math.Max(bank.TempFloats, v.TempFloats);
            zOffset = (temp + 15) & ~15;
            uOffset = (zOffset + (c.ProxyRank * plane) + 15) & ~15;
            compactOffset = (uOffset + u.TempFloats + 15) & ~15;
            temp = compactOffset + (l.OutChannels * plane);
            var (vWeights, vScales, vScales2) = MatrixOffsets(offsets, l.Name + ".lowrank.v", pf);
            route = route with
            {
                ConvBank = bank,
                ConvV = v,
                ConvU = u,
                ProxyWeightOffset = vWeights,
                ProxyScaleOffset = vScales,
                ProxyScale2Offset = vScales2,
                LowRankUOffset = offsets[l.Name + ".lowrank.u.weight"],
                LowRankBiasOffset = l.Bias ? offsets[l.Name + ".bias"] : 0,
            };
        }

        hitOffset += c.Count;
        var distinct = formats.Distinct().ToList();
        var formatText = distinct.Count == 1 ? distinct[0] : string.Join("/", distinct.Select(f => formats.Count(x => x == f).ToString(CultureInfo.InvariantCulture) + " " + f));
        var routing = routed
            ? string.Format(CultureInfo.InvariantCulture, "top {0} by '{1}' activity{2}", route.Limit, c.Activity, c.MinActivity is null ? string.Empty : " above " + route.MinActivityLiteral)
            : "all chunks";
        return new Step(last.Name, "chunked")
        {
            ReportName = l.Name,
            Source = source,
            ConvChunks = chunks,
            Route = route,
            Temp = program.NewValue(temp, BufferKind.None),
            LowRankZOffset = zOffset,
            LowRankUTempOffset = uOffset,
            CompactOffset = compactOffset,
            BiasOffset = l.Bias ? offsets[l.Name + ".bias"] : -1,
            Comment = string.Format(
                CultureInfo.InvariantCulture,
                "layer {0} '{1}': conv2d {2} -> [{3}, {4}, {5}], kernel {6}x{7}, in {8} chunks of output channels ({9}), {10}{11}{12}",
                l.Index,
                l.Name,
                inShape.Describe(),
                l.OutChannels,
                first.OutH,
                first.OutW,
                l.KernelH,
                l.KernelW,
                c.Count,
                formatText,
                routing,
                l.Bias ? ", + bias" : string.Empty,
                relu ? ", ReLU" : string.Empty),
        };
    }

    /// <summary>A chunked linear layer: one kernel call per chunk, and the routing that picks them (docs/routing.md).</summary>
    private static Step ChunkedStep(LayerSpec l, LayerSpec last, bool relu, int residual, int source, Dictionary<string, long> offsets, Dictionary<string, long> lengths, ref int hitOffset)
    {
        var c = l.Chunks!;
        var parts = Chunking.Split(l, c);
        var output = c.Axis == "output";
        var routed = Chunking.IsScored(l);
        var planes = l.Quant?.Policy is { IsRuntime: true };
        var chunks = new List<ChunkCall>();
        var formats = new List<string>();
        for (var i = 0; i < parts.Length; i++)
        {
            var (format, group) = Chunking.FormatOf(l, i);
            formats.Add(format);
            var (weightOffset, scaleOffset, scale2Offset) = MatrixOffsets(offsets, Chunking.ChunkPrefix(l, i), format);
            var (start, length) = parts[i];

            // Output chunks own their rows: the whole epilogue fuses, unless "exact" must see W_i x first.
            // Input chunks add into the layer's output, which starts as the bias.
            var kernel = output
                ? (c.Activity == "exact" && routed && !planes
                    ? new KernelSpec(format, l.In, length, group, false, false, false)
                    : new KernelSpec(format, l.In, length, group, l.Bias, relu, residual >= 0))
                : new KernelSpec(format, length, l.Out, group, false, false, true);
            chunks.Add(new ChunkCall(
                i,
                start,
                length,
                kernel,
                weightOffset,
                scaleOffset,
                scale2Offset,
                output && l.Bias ? offsets[l.Name + ".bias"] + (4L * start) : 0,
                (long)length * (output ? l.In : l.Out))
            {
                Planes = planes,
                Bytes = MatrixBytes(lengths, Chunking.ChunkPrefix(l, i)),
                PlaneBytes = planes ? BitPlaneFormat.PlaneBytes(length, l.In) : 0,
                ScaleBytes = planes ? 4L * length * Int8GroupQuantizer.GroupsPerRow(l.In, group) : 0,
            });
        }

        var limit = c.TopK ?? c.MaxK ?? c.Count;
        var route = new ChunkRoute(
            c.Axis,
            c.Activity,
            c.Count,
            Math.Min(limit, c.Count),
            c.MinActivity is not null,
            FloatLiteral.Format((float)(c.MinActivity ?? 0)),
            hitOffset,
            l.Out,
            relu,
            residual >= 0)
        {
            Routed = routed,
            PanelRows = Chunking.PanelRows(l),
            ProxyRank = c.ProxyRank,
            Layer = l.Name,
            AllMacs = (long)l.In * l.Out,
            AllBytes = chunks.Sum(x => x.Bytes),
            Planes = planes,
        };
        if (planes)
        {
            var p = l.Quant!.Policy!;
            var g = Chunking.FormatOf(l, 0).GroupSize;
            route = route with
            {
                Thresholds = p.Thresholds.Select(t => FloatLiteral.Format((float)t)).ToEquatableArray(),
                Bits = p.Bits,
                PlaneGroupSize = g,
                PlaneGroups = Int8GroupQuantizer.GroupsPerRow(l.In, g),
                PaddedIn = BitPlaneFormat.PaddedColumns(l.In),
                In = l.In,
                AllPlaneBytes = chunks.Sum(x => x.PlaneBytes),
                AllScaleBytes = chunks.Sum(x => x.ScaleBytes),
            };
            var expression = new System.Text.StringBuilder();
            for (var j = 0; j < route.Thresholds.Count; j++)
            {
                expression.Append("score < ").Append(route.Thresholds[j]).Append(" ? ").Append(route.Bits[j].ToString(CultureInfo.InvariantCulture)).Append(" : ");
            }

            expression.Append(route.Bits[route.Bits.Count - 1].ToString(CultureInfo.InvariantCulture));
            route = route with { BitsExpression = expression.ToString() };
        }

        if (routed && c.Activity == "proxy")
        {
            var pf = c.ProxyFormat;
            var pg = WeightFormats.IsGrouped(pf) ? WeightFormats.DefaultGroupSize(pf) : 0;
            var (proxyWeights, proxyScales, proxyScales2) = MatrixOffsets(offsets, l.Name + ".proxy", pf);
            route = route with
            {
                ProxyBytes = MatrixBytes(lengths, l.Name + ".proxy"),
                ProxyKernel = new KernelSpec(pf, l.In, c.Count * c.ProxyRank, pg, false, false, false),
                ProxyWeightOffset = proxyWeights,
                ProxyScaleOffset = proxyScales,
                ProxyScale2Offset = proxyScales2,
            };
        }
        else if (routed && c.Activity == "lowrank")
        {
            var pf = c.ProxyFormat;
            var pg = WeightFormats.IsGrouped(pf) ? WeightFormats.DefaultGroupSize(pf) : 0;
            var (vWeights, vScales, vScales2) = MatrixOffsets(offsets, l.Name + ".lowrank.v", pf);
            route = route with
            {
                // z = V x (rank values), then the estimate U z + b with the layer's ReLU, written where the output goes.
                ProxyBytes = MatrixBytes(lengths, l.Name + ".lowrank.v") + MatrixBytes(lengths, l.Name + ".lowrank.u"),
                ProxyKernel = new KernelSpec(pf, l.In, c.ProxyRank, pg, false, false, false),
                ProxyWeightOffset = vWeights,
                ProxyScaleOffset = vScales,
                ProxyScale2Offset = vScales2,
                LowRankUKernel = new KernelSpec("f32", c.ProxyRank, l.Out, 0, l.Bias, relu, false),
                LowRankUOffset = offsets[l.Name + ".lowrank.u.weight"],
                LowRankBiasOffset = l.Bias ? offsets[l.Name + ".bias"] : 0,
            };
        }

        hitOffset += c.Count;
        var distinct = formats.Distinct().ToList();
        var formatText = distinct.Count == 1 ? distinct[0] : string.Join("/", distinct.Select(f => formats.Count(x => x == f).ToString(CultureInfo.InvariantCulture) + " " + f));
        if (planes)
        {
            formatText += ", bits " + string.Join("/", route.Bits.Select(b => b.ToString(CultureInfo.InvariantCulture))) + " by activity / max" + (route.Thresholds.Count == 0 ? string.Empty : " at " + string.Join(", ", route.Thresholds));
        }

        var routing = routed
            ? string.Format(CultureInfo.InvariantCulture, "top {0} by '{1}' activity{2}", route.Limit, c.Activity, c.MinActivity is null ? string.Empty : " above " + route.MinActivityLiteral)
            : "all chunks";
        return new Step(last.Name, "chunked")
        {
            ReportName = l.Name,
            Source = source,
            Residual = residual,
            Chunks = chunks,
            Route = route,
            BiasOffset = l.Bias ? offsets[l.Name + ".bias"] : -1,
            Comment = string.Format(
                CultureInfo.InvariantCulture,
                "layer {0} '{1}': linear {2} -> {3} in {4} {5} chunks ({6}), {7}{8}{9}{10}",
                l.Index,
                l.Name,
                l.In,
                l.Out,
                c.Count,
                c.Axis,
                formatText,
                routing,
                l.Bias ? ", + bias" : string.Empty,
                relu ? ", ReLU" : string.Empty,
                residual >= 0 ? ", + residual from '" + last.From + "'" : string.Empty),
        };
    }

    /// <summary>The statement that decodes a conv chunk's filters (its format's rows) into <paramref name="destination"/>.</summary>
    private static string DecodeInto(ConvChunkCall c, string destination)
    {
        var k = c.Kernel;
        string L(long v) => v.ToString(CultureInfo.InvariantCulture) + "L";
        string I(int v) => v.ToString(CultureInfo.InvariantCulture);
        return k.Format switch
        {
            "f32" => string.Format(CultureInfo.InvariantCulture, "Floats(ref w, {0}, {1}).CopyTo({2});", L(c.WeightOffset), c.Length * k.Filter, destination),
            "f16" => "FilterDecode.HalfRows(ref w, " + L(c.WeightOffset) + ", 0, " + I(c.Length) + ", " + I(k.Filter) + ", " + destination + ");",
            "base11" => "FilterDecode.Base11Rows(ref w, " + L(c.WeightOffset) + ", " + L(c.ScaleOffset) + ", " + L(c.Scale2Offset) + ", 0, " + I(c.Length) + ", " + I(k.Filter) + ", " + I(k.GroupSize) + ", " + destination + ");",
            _ => "FilterDecode." + k.Format switch { "int8" => "Int8Rows", "int4" => "Int4Rows", "ternary" => "TernaryRows", _ => "Int1Rows" }
                + "(ref w, " + L(c.WeightOffset) + ", " + L(c.ScaleOffset) + ", 0, " + I(c.Length) + ", " + I(k.Filter) + ", " + I(k.GroupSize) + ", " + destination + ");",
        };
    }

    private static Step ActivationConv(LayerSpec l, LayerSpec last, ActivationsSpec a, Chw inShape, bool relu, int source, Dictionary<string, long> offsets, IReadOnlyList<LayerSpec> layers, Dictionary<int, int> consumerOf, HashSet<string> referenced, HashSet<int> codeNorms)
    {
        var conv = ConvSpec(l, inShape, l.Quant!.Format, l.Quant.GroupSize, l.OutChannels, l.Bias, relu);
        var linearLike = ActivationLinear(l with { In = (int)inShape.Length, Out = l.OutChannels }, last, a, relu, -1, source, offsets, layers, l.Index, consumerOf, referenced, codeNorms);
        var act = linearLike.Act! with { Conv = conv };
        var comment = string.Format(
            CultureInfo.InvariantCulture,
            "layer {0} '{1}': conv2d {2} -> {3}, {9} (group {4}) x int8 activations ({5}: {6}), epilogue: {7}, writes {8}",
            l.Index,
            l.Name,
            inShape.Describe(),
            conv.Geometry,
            l.Quant.GroupSize,
            a.Params,
            act.QuantizeEntry ? (act.EntryMode == "static" ? "quantized here at its calibrated range" : "quantized here at its own range") : "codes from the previous layer",
            conv.Epilogue,
            act.QuantizeOutput
                ? (act.OutMode == "predicted" ? "u8 codes of '" + layers[consumerOf[l.Index]].Name + "' at a range predicted from this input" : "u8 codes of '" + layers[consumerOf[l.Index]].Name + "' at its calibrated range")
                : "floats",
            l.Quant.Format);
        linearLike.Act = act;
        linearLike.Comment = comment;
        return linearLike;
    }

    private static Step ActivationLinear(LayerSpec l, LayerSpec last, ActivationsSpec a, bool relu, int residual, int source, Dictionary<string, long> offsets, IReadOnlyList<LayerSpec> layers, int lastIndex, Dictionary<int, int> consumerOf, HashSet<string> referenced, HashSet<int> codeNorms)
    {
        var fromProducer = (a.Params != "dynamic" && ProducerOf(layers, l.Index, referenced) >= 0) || codeNorms.Contains(l.Index - 1);
        var act = new ActivationStep(0, l.Name, l.In, l.Out, l.Quant!.GroupSize, l.Bias, relu, residual >= 0, a.Params)
        {
            Format = l.Quant.Format,
            Pairs = l.Quant.IsPairs,
            ActFormat = a.Format,
            QuantizeEntry = !fromProducer,
            EntryMode = a.Params == "static" ? "static" : "dynamic",
        };
        if (act.QuantizeEntry && a.Params == "static" && a.Range.Count == 2)
        {
            var (scale, zero) = a.IsInt16 ? (RangeScale16(a.Range[0], a.Range[1]), 0) : RangeParams(a.Range[0], a.Range[1]);
            act = act with { InScaleLiteral = FloatLiteral.Format(scale), InZero = zero };
        }

        string mode;
        if (residual >= 0 && codeNorms.Contains(lastIndex + 1))
        {
            // the residual sum is the input of a LayerNorm on codes: the output before the residual add is written as
            // codes at a range predicted from this layer's input, with the exact moments of output + residual
            var norm = layers[lastIndex + 1];
            act = act with { QuantizeOutput = true, OutMode = "residual", ZLiteral = FloatLiteral.Format((float)(norm.Activations!.Z ?? 0)) };
            mode = "its output before the residual add as u8 codes for '" + norm.Name + "' at a range predicted from this input, and the exact moments of output + residual";
        }
        else if (consumerOf.TryGetValue(l.Index, out var c))
        {
            var next = layers[c].Activations!;
            act = act with { QuantizeOutput = true, OutMode = next.Params, ZLiteral = FloatLiteral.Format((float)(next.Z ?? 0)) };
            if (next.Params == "static" && next.Range.Count == 2)
            {
                var (scale, zero) = next.IsInt16 ? (RangeScale16(next.Range[0], next.Range[1]), 0) : RangeParams(next.Range[0], next.Range[1]);
                act = act with { OutScaleLiteral = FloatLiteral.Format(scale), OutZero = zero };
            }

            mode = next.Params == "predicted"
                ? (next.IsInt16 ? "int16" : "u8") + " codes of '" + layers[c].Name + "' at a range predicted from this input"
                : (next.IsInt16 ? "int16" : "u8") + " codes of '" + layers[c].Name + "' at its calibrated range";
        }
        else
        {
            mode = "floats";
        }

        var (weightOffset, scaleOffset, scale2Offset) = MatrixOffsets(offsets, l.Name, l.Quant.Format);
        return new Step(last.Name, l.Op)
        {
            ReportName = l.Name,
            Source = source,
            Residual = residual,
            Act = act,
            WeightOffset = weightOffset,
            ScaleOffset = scaleOffset,
            Scale2Offset = scale2Offset,
            BiasOffset = l.Bias ? offsets[l.Name + ".bias"] : 0,
            Comment = string.Format(
                CultureInfo.InvariantCulture,
                "layer {0} '{1}': linear {2} -> {3}, {9} (group {4}) x {10} activations ({5}: {6}), epilogue: {7}, writes {8}",
                l.Index,
                l.Name,
                l.In,
                l.Out,
                l.Quant.GroupSize,
                a.Params,
                act.QuantizeEntry ? (act.EntryMode == "static" ? "quantized here at its calibrated range" : "quantized here at its own range") : "codes from the previous layer",
                new KernelSpec("int8", l.In, l.Out, l.Quant.GroupSize, l.Bias, relu, residual >= 0).Epilogue + (residual >= 0 ? " from '" + last.From + "'" + (codeNorms.Contains(layers.FirstOrDefault(x => x.Name == last.From)?.Index ?? -1) ? " (its u8 codes)" : string.Empty) : string.Empty),
                mode,
                l.Quant.Format,
                a.Format),
        };
    }

    /// <summary>The scale of symmetric int16 codes over a range: max(|lo|, |hi|) / 32767 (the same arithmetic as Int16Activations.RangeScale).</summary>
    internal static float RangeScale16(double lo, double hi)
    {
        var scale = Math.Max(Math.Max(-(float)lo, (float)hi), 0f) / 32767f;
        return scale > 0f && !float.IsInfinity(scale) ? scale : 1f;
    }

    /// <summary>
    /// A linear layer with int8 weights and a float input that writes the u8 codes of <paramref name="consumer"/>
    /// (static or predicted params) in its epilogue: <c>Int8FloatInput.Linear</c>, the prediction from the float input's
    /// moments (docs/activations.md, "A float input writing the next layer's codes").
    /// </summary>
    private static Step FloatInputLinear(LayerSpec l, LayerSpec last, bool relu, int source, Dictionary<string, long> offsets, LayerSpec consumer)
    {
        var next = consumer.Activations!;
        var act = new ActivationStep(0, l.Name, l.In, l.Out, l.Quant!.GroupSize, l.Bias, relu, false, "f32")
        {
            Format = "int8",
            FloatInput = true,
            QuantizeEntry = false,
            QuantizeOutput = true,
            OutMode = next.Params,
            ZLiteral = FloatLiteral.Format((float)(next.Z ?? 0)),
        };
        if (next.Params == "static" && next.Range.Count == 2)
        {
            var (scale, zero) = RangeParams(next.Range[0], next.Range[1]);
            act = act with { OutScaleLiteral = FloatLiteral.Format(scale), OutZero = zero };
        }

        var (weightOffset, scaleOffset, _) = MatrixOffsets(offsets, l.Name, "int8");
        return new Step(last.Name, l.Op)
        {
            ReportName = l.Name,
            Source = source,
            Act = act,
            WeightOffset = weightOffset,
            ScaleOffset = scaleOffset,
            BiasOffset = l.Bias ? offsets[l.Name + ".bias"] : 0,
            Comment = string.Format(
                CultureInfo.InvariantCulture,
                "layer {0} '{1}': linear {2} -> {3}, int8 (group {4}) x f32 input (read in place), epilogue: {5}, writes u8 codes of '{6}' {7}",
                l.Index,
                l.Name,
                l.In,
                l.Out,
                l.Quant.GroupSize,
                new KernelSpec("int8", l.In, l.Out, l.Quant.GroupSize, l.Bias, relu, false).Epilogue,
                consumer.Name,
                next.Params == "predicted" ? "at a range predicted from this input's float moments" : "at its calibrated range"),
        };
    }

    /// <summary>u8 parameters of a range widened to include 0 (the same arithmetic as Int8Activations.RangeParams).</summary>
    internal static (float Scale, int Zero) RangeParams(double lo, double hi)
    {
        var l = Math.Min((float)lo, 0f);
        var h = Math.Max((float)hi, 0f);
        var scale = (h - l) / 255f;
        if (!(scale > 0f) || float.IsInfinity(scale))
        {
            return (1f, 0);
        }

        return (scale, (int)Math.Min(Math.Max(Math.Round(-l / scale, MidpointRounding.ToEven), 0), 255));
    }

    /// <summary>
    /// Numbers the integer-activation steps (their clip counters) and places their u8 code tensors in slots of one
    /// buffer: a tensor takes the first slot whose tensor was last read by an earlier step (never one the step itself
    /// reads), else a new slot. A chain of linear layers ping-pongs between two slots, as before; a block with a
    /// residual stream in codes uses three (block input and residual, the inner ping-pong, the residual sum in the
    /// slot of the dead inner tensor). A conv2d's output tensor holds every output plane (its max pools shrink them in
    /// place, and the consumer reads the same tensor); its scratch is a tensor live only during the step, placed in its
    /// input's slot after the input's codes (never over the input or the output), as is a base11 or ternary linear step's
    /// scratch (the digit-major or padded copy of its input codes and its group sums). Slots start 64-byte aligned. Returns
    /// the buffer's bytes.
    /// </summary>
    private static int AssignActivationBuffers(Program program)
    {
        var steps = program.Steps.Where(s => s.Act is not null || s.Norm is not null).ToList();
        var codes = program.CodeLengths.Count;
        var lastUse = Enumerable.Repeat(-1, codes).ToArray();
        for (var j = 0; j < steps.Count; j++)
        {
            foreach (var t in Reads(steps[j]))
            {
                lastUse[t] = Math.Max(lastUse[t], j);
            }
        }

        var slotOf = Enumerable.Repeat(-1, codes).ToArray();
        var within = new int[codes];
        var slotEnd = new List<int>();
        var slotSize = new List<int>();
        void Place(int t, int j)
        {
            var k = 0;
            while (k < slotEnd.Count && slotEnd[k] >= j)
            {
                k++;
            }

            if (k == slotEnd.Count)
            {
                slotEnd.Add(-1);
                slotSize.Add(0);
            }

            slotOf[t] = k;
            slotEnd[k] = Math.Max(lastUse[t], j);
            slotSize[k] = Math.Max(slotSize[k], program.CodeLengths[t]);
        }

        for (var j = 0; j < steps.Count; j++)
        {
            var s = steps[j];
            if (s.Act is { QuantizeEntry: true } entry)
            {
                Place(entry.InCode, j);
            }

            var output = s.Act?.OutCode ?? s.Norm!.OutCode;
            if (output >= 0)
            {
                Place(output, j);
            }

            if (s.Act is { ScratchCode: >= 0 } conv)
            {
                // a conv2d's scratch (tap offsets, bordered input) is live only while it runs: it goes into its input's
                // slot after the input's codes (64-byte aligned). That slot holds nothing else until the input's last
                // read (here or later), the output is in another slot, and a pooled input's codes are [0, In) of its
                // producer's output (the rest of the slot is dead after the pools)
                var k = slotOf[conv.InCode];
                slotOf[conv.ScratchCode] = k;
                within[conv.ScratchCode] = (conv.In + 63) & ~63;
                slotEnd[k] = Math.Max(slotEnd[k], j);
                slotSize[k] = Math.Max(slotSize[k], within[conv.ScratchCode] + program.CodeLengths[conv.ScratchCode]);
            }
        }

        var slotOffset = new int[slotSize.Count];
        var end = 0;
        for (var k = 0; k < slotSize.Count; k++)
        {
            slotOffset[k] = (end + 63) & ~63;
            end = slotOffset[k] + slotSize[k];
        }

        // the 2-bit refinement planes of the code LayerNorms' outputs (read by the residual adds): one region, each
        // LayerNorm rewrites it in place while it reads the previous one (the residual of its own input)
        var planeOffset = end;
        var planeBytes = steps.Where(s => s.Norm is not null).Select(s => s.Norm!.PlaneBytes).DefaultIfEmpty(0).Max();
        end += planeBytes;

        int Offset(int t) => t < 0 ? 0 : slotOffset[slotOf[t]] + within[t];
        var rows = 0;
        for (var j = 0; j < steps.Count; j++)
        {
            if (steps[j].Act is { } a)
            {
                steps[j].Act = a with
                {
                    Index = j,
                    InOffset = Offset(a.InCode),
                    OutOffset = Offset(a.OutCode),
                    ResidualOffset = Offset(a.ResidualCode),
                    ResidualPlaneOffset = a.ResidualCodes ? planeOffset : 0,
                    RowStatsOffset = rows,
                    ScratchOffset = Offset(a.ScratchCode),
                };
                rows += 2 * a.Out;
            }
            else
            {
                var n = steps[j].Norm!;
                steps[j].Norm = n with { Index = j, InOffset = Offset(n.InCode), OutOffset = Offset(n.OutCode), ResidualOffset = Offset(n.ResidualCode), PlaneOffset = planeOffset };
            }
        }

        return steps.Count == 0 ? 0 : end;

        static IEnumerable<int> Reads(Step s) => (s.Act is { } a ? new[] { a.InCode, a.ResidualCode, a.ScratchCode } : new[] { s.Norm!.InCode, s.Norm.ResidualCode }).Where(t => t >= 0);
    }

    /// <summary>Largest group whose int32 sum of u8 codes times int8 weights cannot overflow: ⌊(2³¹ − 1) / (255 · 127)⌋ (Int8Activations.MaxInt32GroupLength).</summary>
    public const int MaxInt32GroupLength = int.MaxValue / (255 * 127);

    /// <summary>The same for int4 weights (nibbles decode to −8..7): ⌊(2³¹ − 1) / (255 · 8)⌋ (Int4Activations.MaxInt32GroupLength).</summary>
    public const int MaxInt32GroupLengthInt4 = int.MaxValue / (255 * 8);

    /// <summary>
    /// The same for ternary weights (q in −1..1): ⌊(2³¹ − 1) / 255⌋ rounded down to a multiple of the 80-input block (TernaryActivations.MaxInt32GroupLength).
    /// </summary>
    public const int MaxInt32GroupLengthTernary = int.MaxValue / 255 / 80 * 80;

    /// <summary>
    /// The same for int16 activations on int8 weights: symmetric codes −32767..32767 times any int8 byte (−128..127),
    /// ⌊(2³¹ − 1) / (32767 · 128)⌋ = 512 (Int16Activations.MaxInt32GroupLength).
    /// </summary>
    public const int MaxInt32GroupLengthInt16 = int.MaxValue / (32767 * 128);

    /// <summary>
    /// The same for base11 weights (indices 0..10) with int8 activations, whose group sums Σ d · (q − z) are exact in float
    /// while below 2²⁴: ⌊2²⁴ / (10 · 255)⌋ (Base11Activations.MaxExactGroupLength).
    /// </summary>
    public const int MaxExactGroupLengthBase11 = (1 << 24) / (10 * 255);

    /// <summary>
    /// quant.layout "pairs" (Base11PairsFormat) is a kernel layout of base11 weights for the linear kernels with int8
    /// (Base11PairsActivations) and with f32 activations (Base11PairsFloat): other formats, int16 activations, conv2d and
    /// chunked layers are refused (CGC0047).
    /// </summary>
    private static void CheckPairsLayout(IReadOnlyList<LayerSpec> layers, List<ManifestDiagnostic> diagnostics)
    {
        foreach (var l in layers)
        {
            if (l.Quant is not { Layout: "pairs" } q || (l.Op != Ops.Linear && l.Op != Ops.Conv2d))
            {
                continue;
            }

            var span = q.LayoutSpan ?? q.FormatSpan;
            string? why =
                q.Format != "base11" ? ("its weights are " + q.Format + ", and the layout arranges base11 indices") :
                l.Op == Ops.Conv2d ? "it is a conv2d layer (the pairs kernels are for linear layers)" :
                l.Chunks is not null || q.Policy is not null ? "it has chunks or a precision policy" :
                l.Activations is { IsInt16: true } ? "its activations are int16 (the pairs kernel reads u8 codes)" :
                null;
            if (why is not null)
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.PairsLayoutInvalid, span, l.Name, why, "give the layer base11 weights and f32 or int8 activations, or remove quant.layout (the default \"words\" layout runs everywhere)"));
            }
        }
    }

    private static void CheckActivations(IReadOnlyList<LayerSpec> layers, List<ManifestDiagnostic> diagnostics, string manifest)
    {
        var referenced = new HashSet<string>(layers.Where(l => l.Op == Ops.Residual && l.From is not null).Select(l => l.From!), StringComparer.Ordinal);
        for (var i = 0; i < layers.Count; i++)
        {
            var l = layers[i];
            if (l.Activations is not { } a)
            {
                continue;
            }

            if (l.Op == Ops.LayerNorm)
            {
                CheckCodeNorm(layers, i, a, referenced, diagnostics, manifest);
                continue;
            }

            if (a.IsInt16 && l.Op == Ops.Conv2d)
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ActivationsInvalid, a.Span, l.Name, "(int16) are for linear layers (Int16Activations has no conv2d kernel)", "use \"int8\" activations on the conv2d layer, or \"f32\""));
                continue;
            }

            if (a.IsInt16 && l.Quant is not { Format: "int8" })
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ActivationsInvalid, a.Span, l.Name, "(int16) need int8 weights, but its weights are " + (l.Quant?.Format ?? "f32"), "set the layer's quant.format to \"int8\", or its activations to \"int8\" or \"f32\""));
                continue;
            }

            if (l.Quant is not { Format: "int8" or "int4" or "ternary" or "base11" } q)
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ActivationsInvalid, a.Span, l.Name, "need int8, int4, ternary or base11 weights (int4 and ternary on linear layers), but its weights are " + (l.Quant?.Format ?? "f32"), "set the layer's quant.format to \"int8\", \"int4\", \"ternary\" or \"base11\", or its activations to \"f32\""));
                continue;
            }

            if (l.Chunks is not null || q.Policy is not null)
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ActivationsInvalid, a.Span, l.Name, "cannot be combined with chunks or a precision policy", "remove the chunks or use \"f32\" activations"));
                continue;
            }

            if (q.Format == "base11" && q.GroupSize > MaxExactGroupLengthBase11 && (l.Op == Ops.Conv2d ? l.FilterLength : l.In) > MaxExactGroupLengthBase11)
            {
                diagnostics.Add(ManifestDiagnostic.Create(
                    DiagnosticCatalog.ActivationsInvalid,
                    q.GroupSizeSpan,
                    l.Name,
                    string.Format(CultureInfo.InvariantCulture, "sum groups of {0} {1} in float, whose sums of index times code difference are exact only below 2^24 ({0} · 10 · 255 > 2^24)", q.GroupSize, l.Op == Ops.Conv2d ? "filter taps" : "inputs"),
                    string.Format(CultureInfo.InvariantCulture, "use a group size of at most {0}", MaxExactGroupLengthBase11)));
                continue;
            }

            var int4 = q.Format == "int4";
            var ternary = q.Format == "ternary";
            if ((int4 || ternary) && l.Op == Ops.Conv2d)
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ActivationsInvalid, a.Span, l.Name, "need int8 or base11 weights on a conv2d layer (" + q.Format + " x int8 activations is for linear layers), but its weights are " + q.Format, "set the layer's quant.format to \"int8\" or \"base11\", or its activations to \"f32\""));
                continue;
            }

            var maxGroup = a.IsInt16 ? MaxInt32GroupLengthInt16 : int4 ? MaxInt32GroupLengthInt4 / 32 * 32 : ternary ? MaxInt32GroupLengthTernary : MaxInt32GroupLength;
            if (q.GroupSize > maxGroup && (l.Op == Ops.Conv2d ? l.FilterLength : l.In) > maxGroup)
            {
                diagnostics.Add(ManifestDiagnostic.Create(
                    DiagnosticCatalog.ActivationsInvalid,
                    q.GroupSizeSpan,
                    l.Name,
                    a.IsInt16
                        ? string.Format(CultureInfo.InvariantCulture, "(int16) sum groups of {0} inputs in int32, which can overflow ({0} · 32767 · 128 > 2^31 - 1)", q.GroupSize)
                        : string.Format(CultureInfo.InvariantCulture, "sum groups of {0} inputs in int32, which can overflow ({0} · 255 · {1} > 2^31 - 1)", q.GroupSize, int4 ? "8 (int4 codes -8..7)" : ternary ? "1 (ternary codes -1..1)" : "127"),
                    string.Format(CultureInfo.InvariantCulture, int4 ? "use a group size of at most {0} (a multiple of 32)" : ternary ? "use a group size of at most {0} (a multiple of 80)" : "use a group size of at most {0}", maxGroup)));
                continue;
            }

            if (a.Params == "static" && a.Range.Count != 2)
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ActivationsNotCalibrated, a.ParamsSpan, l.Name, "static", "no range is recorded yet", manifest));
            }
            else if (a.Params == "predicted" && a.Z is null && ProducerOf(layers, i, referenced) >= 0)
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ActivationsNotCalibrated, a.ParamsSpan, l.Name, "predicted", "no z is recorded yet", manifest));
            }
        }
    }

    /// <summary>
    /// A LayerNorm with int8 activations (the residual stream in codes, docs/activations.md): "predicted" parameters;
    /// its input a residual add fused into an int8-activation linear layer just before; the next layer an
    /// int8-activation linear layer; every residual add of its output fused into an int8-activation linear layer.
    /// </summary>
    private static void CheckCodeNorm(IReadOnlyList<LayerSpec> layers, int i, ActivationsSpec a, HashSet<string> referenced, List<ManifestDiagnostic> diagnostics, string manifest)
    {
        var l = layers[i];
        void Fail(TextSpanInfo span, string problem, string fix) => diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ActivationsInvalid, span, l.Name, problem, fix));

        if (a.IsInt16)
        {
            Fail(a.Span, "(int16) are not supported on a layernorm (the residual stream in codes is u8 codes only)", "use \"int8\" activations on the layernorm, or remove them");
            return;
        }

        // the linear layer (int8 weights, int8 activations: Int8Activations.LinearResidual) whose epilogue a residual add at index r is fused into, or -1
        int FusedInto(int r)
        {
            var j = r - 1;
            if (j >= 0 && layers[j].Op == Ops.Relu && !referenced.Contains(layers[j].Name))
            {
                j--;
            }

            return r >= 0 && r < layers.Count && layers[r].Op == Ops.Residual && j >= 0 && layers[j].Op == Ops.Linear
                && layers[j].Activations is { IsInt8: true } && layers[j].Quant is { Format: "int8" } && !referenced.Contains(layers[j].Name) && !referenced.Contains(layers[r - 1].Name) ? j : -1;
        }

        if (a.Params != "predicted")
        {
            Fail(a.ParamsSpan, "of a layernorm support only \"params\": \"predicted\" (its input is the residual sum the linear layer before writes as codes at a predicted range)", "use \"params\": \"predicted\", or remove the layernorm's activations");
            return;
        }

        if (FusedInto(i - 1) < 0 || referenced.Contains(layers[i - 1].Name))
        {
            Fail(a.Span, "need a residual add just before the layernorm, fused into a linear layer with int8 weights and int8 activations (linear, optional relu, residual; nothing else reading their outputs)", "remove the layernorm's activations, or give the linear layer before the residual int8 activations");
            return;
        }

        if (i + 1 >= layers.Count || layers[i + 1].Op != Ops.Linear || layers[i + 1].Activations is not { IsInt8: true })
        {
            Fail(a.Span, "write u8 codes, so the next layer must be a linear layer with int8 activations (the model's output stays float)", "remove the layernorm's activations, or give the next linear layer int8 activations");
            return;
        }

        for (var r = i + 1; r < layers.Count; r++)
        {
            if (layers[r].Op == Ops.Residual && layers[r].From == l.Name && FusedInto(r) < 0)
            {
                Fail(layers[r].Span, "are read by a residual add that is not fused into a linear layer with int8 weights and int8 activations (only such an epilogue reads a residual from codes)", "place the residual add right after a linear layer with int8 weights and int8 activations (a relu between allowed), or remove the layernorm's activations");
                return;
            }

            // the residual's refinement plane is rewritten by the next code LayerNorm (in place, while it reads it)
            if (layers[r].Op == Ops.Residual && layers[r].From == l.Name && layers.Skip(i + 1).Take(r - i - 1).Any(n => n.Op == Ops.LayerNorm && n.Activations is not null))
            {
                Fail(layers[r].Span, "are read by a residual add after the next layernorm with int8 activations, which has replaced them (each code layernorm's output is the residual of the next block only)", "read the residual from the latest layernorm, or remove the layernorms' activations");
                return;
            }
        }

        if (a.Z is null)
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.ActivationsNotCalibrated, a.ParamsSpan, l.Name, "predicted", "no z is recorded yet", manifest));
        }
    }

    /// <summary>Greedy slot assignment: in-place where the source dies, else the first free slot.</summary>
    private static void AssignBuffers(Program program)
    {
        for (var s = 0; s < program.Steps.Count; s++)
        {
            var step = program.Steps[s];
            program.Values[step.Source].LastUse = s;
            if (step.Residual >= 0)
            {
                program.Values[step.Residual].LastUse = s;
            }

            if (step.Temp >= 0)
            {
                program.Values[step.Temp].LastUse = s;
            }
        }

        var slots = new List<Slot>();
        for (var s = 0; s < program.Steps.Count; s++)
        {
            var step = program.Steps[s];
            if (step.Temp >= 0)
            {
                // Scratch of the step itself: live only while it runs, so never shared with its source or destination.
                Place(program, slots, step.Temp, s);
            }

            var dst = program.Values[step.Destination];
            if (dst.Buffer.Kind == BufferKind.Output)
            {
                continue;
            }

            var src = program.Values[step.Source];
            var inPlace = step.Kernel is null && step.Act is null && step.Chunks is null && step.ConvChunks is null && step.Conv is null && step.Pool is null && src.Slot >= 0 && src.LastUse == s && src.Length >= dst.Length;
            if (inPlace)
            {
                dst.Slot = src.Slot;
                slots[dst.Slot].Holder = step.Destination;
                slots[dst.Slot].Size = Math.Max(slots[dst.Slot].Size, dst.Length);
            }
            else
            {
                Place(program, slots, step.Destination, s);
            }
        }

        var offset = 0;
        foreach (var slot in slots)
        {
            slot.Offset = offset;
            offset += (slot.Size + 15) & ~15; // keep each slot 64-byte aligned within the scratch buffer
        }

        program.ScratchFloats = offset;
        foreach (var v in program.Values)
        {
            if (v.Slot >= 0)
            {
                v.Buffer = new BufferRef(BufferKind.Scratch, slots[v.Slot].Offset, v.Length);
            }
        }
    }

    /// <summary>Puts a value into the first slot whose holder is dead before step <paramref name="s"/>, or a new slot.</summary>
    private static void Place(Program program, List<Slot> slots, int value, int s)
    {
        var free = slots.FindIndex(sl => program.Values[sl.Holder].LastUse < s);
        if (free < 0)
        {
            slots.Add(new Slot());
            free = slots.Count - 1;
        }

        var v = program.Values[value];
        v.Slot = free;
        slots[free].Holder = value;
        slots[free].Size = Math.Max(slots[free].Size, v.Length);
    }

    private sealed class Program
    {
        public List<Value> Values { get; } = new();

        public List<Step> Steps { get; } = new();

        public int ScratchFloats { get; set; }

        /// <summary>Chunks of all chunked layers (the length of the model's chunk-hit counters).</summary>
        public int ChunkHits { get; set; }

        /// <summary>Lengths of the u8 code tensors of the integer-activation steps (docs/activations.md).</summary>
        public List<int> CodeLengths { get; } = new();

        /// <summary>Values that exist only as u8 codes (an integer-activation step's output), and their code tensor.</summary>
        public Dictionary<int, int> CodeOfValue { get; } = new();

        public int NewCode(int length)
        {
            CodeLengths.Add(length);
            return CodeLengths.Count - 1;
        }

        public int NewValue(int length, BufferKind external)
        {
            Values.Add(new Value { Length = length, Buffer = new BufferRef(external, 0, length) });
            return Values.Count - 1;
        }
    }

    private sealed class Value
    {
        public int Length { get; set; }

        public int Slot { get; set; } = -1;

        public int LastUse { get; set; } = -1;

        public BufferRef Buffer { get; set; } = BufferRef.None;
    }

    private sealed class Slot
    {
        public int Holder { get; set; }

        public int Size { get; set; }

        public int Offset { get; set; }
    }

    private sealed class Step
    {
        public Step(string layerName, string op)
        {
            LayerName = layerName;
            Op = op;
        }

        public string LayerName { get; }

        /// <summary>The layer diagnostics name for this step: the linear layer a fused ReLU/residual belongs to.</summary>
        public string? ReportName { get; set; }

        public string Op { get; }

        public string Comment { get; set; } = string.Empty;

        public int Source { get; set; }

        public int Destination { get; set; }

        public int Residual { get; set; } = -1;

        public KernelSpec? Kernel { get; set; }

        public ConvKernelSpec? Conv { get; set; }

        public PoolKernelSpec? Pool { get; set; }

        /// <summary>A pool-routed conv2d with its ReLU and max pool (docs/routing.md), or null.</summary>
        public PoolRouteSpec? PoolRoute { get; set; }

        /// <summary>The value of the step's own scratch (conv2d), or -1.</summary>
        public int Temp { get; set; } = -1;

        public long WeightOffset { get; set; }

        public long ScaleOffset { get; set; }

        public long Scale2Offset { get; set; }

        public long BiasOffset { get; set; }

        public long GammaOffset { get; set; }

        public long BetaOffset { get; set; }

        public float Eps { get; set; }

        public List<ChunkCall>? Chunks { get; set; }

        public List<ConvChunkCall>? ConvChunks { get; set; }

        /// <summary>conv2d "lowrank": where in the step's scratch the rank planes z and the U kernel's scratch start.</summary>
        public int LowRankZOffset { get; set; }

        public int LowRankUTempOffset { get; set; }

        /// <summary>conv2d "lowrank": where the gathered kernel writes the selected channels' planes, one after another.</summary>
        public int CompactOffset { get; set; }

        public ChunkRoute? Route { get; set; }

        public ActivationStep? Act { get; set; }

        public NormCodesStep? Norm { get; set; }

        /// <summary>maxpool of u8 codes: the pool's shape; the codes are where <see cref="CodeProducer"/> wrote them.</summary>
        public PoolKernelSpec? CodePool { get; set; }

        public Step? CodeProducer { get; set; }

        public long LiveFloats(List<Value> values) =>
            values[Source].Length + values[Destination].Length + (Residual >= 0 ? values[Residual].Length : 0) + (Temp >= 0 ? values[Temp].Length : 0);

        public PlanStep ToPlanStep(List<Value> values)
        {
            var src = values[Source].Buffer;
            var dst = values[Destination].Buffer;
            var res = Residual >= 0 ? values[Residual].Buffer : BufferRef.None;
            var step = new PlanStep(Op, Comment, src, dst, res, Kernel)
            {
                WeightOffset = WeightOffset,
                ScaleOffset = ScaleOffset,
                Scale2Offset = Scale2Offset,
                BiasOffset = BiasOffset,
                GammaOffset = GammaOffset,
                BetaOffset = BetaOffset,
                Length = values[Destination].Length,
                EpsLiteral = FloatLiteral.Format(Eps),
                Conv = Conv,
                Pool = Pool,
                PoolRoute = PoolRoute,
                Temp = Temp >= 0 ? values[Temp].Buffer : BufferRef.None,
                Layer = ReportName ?? LayerName,
                Act = Act,
                Norm = Norm,
                CodePool = CodePool,
                CodeOffset = CodeProducer?.Act?.OutOffset ?? 0,
            };
            if (ConvChunks is not null && Route is not null)
            {
                var temp = values[Temp].Buffer;
                var plane = Route.Plane;
                string ConvBias(int start, int length) => BiasOffset < 0 ? "default" : string.Format(CultureInfo.InvariantCulture, "Floats(ref w, {0}, {1})", BiasOffset + (4L * start), length);
                return step with
                {
                    ConvChunks = ConvChunks.Select(c => c with
                    {
                        Destination = dst.Slice(c.Start * plane, c.Length * plane),
                        Bias = ConvBias(c.Start, c.Length),
                        Decode = Route.ConvBank is not { } bank ? string.Empty
                            : bank.Gather ? DecodeInto(c, string.Format(CultureInfo.InvariantCulture, "bank.Slice(n * {0}, {1})", bank.Filter, c.Length * bank.Filter))
                            : DecodeInto(c, temp.Slice(bank.FilterBufferOffset + (c.Start * bank.Filter), c.Length * bank.Filter)),
                    }).ToEquatableArray(),
                    Route = Route with
                    {
                        Destination = dst.Expression,
                        Bias = ConvBias(0, Route.Out / plane),
                        Temp = temp.Expression,
                        LowRankZ = Route.ConvV is { } v ? temp.Slice(LowRankZOffset, v.OutC * plane) : "default",
                        LowRankUTemp = Route.ConvU is { } u ? temp.Slice(LowRankUTempOffset, u.TempFloats) : "default",
                        GatherBank = Route.ConvBank is { Gather: true } g ? temp.Slice(g.FilterBufferOffset, g.FilterBufferFloats) : "default",
                        GatherBias = Route.ConvBank is { Gather: true } gb ? temp.Slice(gb.GatherBiasOffset, gb.OutC) : "default",
                        Compact = Route.ConvBank is { Gather: true } gc ? temp.Slice(CompactOffset, gc.OutC * plane) : "default",
                    },
                };
            }

            if (Chunks is null || Route is null)
            {
                return step;
            }

            var output = Route.Axis == "output";
            string Bias(int start, int length) => BiasOffset < 0 ? "default" : string.Format(CultureInfo.InvariantCulture, "Floats(ref w, {0}, {1})", BiasOffset + (4L * start), length);
            var chunks = Chunks.Select(c => c with
            {
                Source = output ? src.Expression : src.Slice(c.Start, c.Length),
                Destination = output ? dst.Slice(c.Start, c.Length) : dst.Expression,
                Residual = output ? res.Slice(c.Start, c.Length) : dst.Expression,
                Bias = output ? Bias(c.Start, c.Length) : "default",
            });
            var calls = chunks.ToEquatableArray();
            var loops = EquatableArray<ChunkLoop>.Empty;
            if (output && !Route.Routed && Route.PanelRows == 0 && Route.Loop is null && !Route.Planes && calls.All(c => c.Read is null && !c.Planes))
            {
                // one loop per kernel, in order of first appearance (deterministic)
                loops = calls.GroupBy(c => c.Kernel.Name, StringComparer.Ordinal)
                    .Select(g => new ChunkLoop(
                        g.First().Kernel,
                        g.First().Length,
                        g.SelectMany(c => new[] { (long)c.Start, c.WeightOffset, c.ScaleOffset, c.Scale2Offset, c.BiasOffset }).ToEquatableArray()))
                    .ToEquatableArray();
            }

            return step with
            {
                Chunks = calls,
                Route = Route with { Destination = dst.Expression, Residual = res.Expression, Bias = Bias(0, Route.Out), Loops = loops },
            };
        }
    }
}

/// <summary>The outcome of planning: the plan when there were no errors, and every diagnostic.</summary>
public sealed record PlanResult(ModelPlan? Plan, EquatableArray<ManifestDiagnostic> Diagnostics);
