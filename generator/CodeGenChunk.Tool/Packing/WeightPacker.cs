using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using CodeGenChunk.Formats;
using CodeGenChunk.Model;
using CodeGenChunk.Model.Diagnostics;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Model.Planning;
using CodeGenChunk.Tool.SafeTensors;

namespace CodeGenChunk.Tool.Packing;

/// <summary>
/// The build step: reads the float32 tensors a manifest names, checks them against the layers
/// (name, dtype, shape, finite values), encodes each layout entry in its format and writes the
/// chunk file. Problems are diagnostics at the manifest's JSON positions, as the generator's are.
/// </summary>
public static class WeightPacker
{
    public static PackResult Pack(ManifestSpec spec, ModelPlan plan, string? sourceOverride = null)
    {
        var diagnostics = new List<ManifestDiagnostic>();
        var manifestDir = Path.GetDirectoryName(Path.GetFullPath(spec.FilePath)) ?? ".";
        var sourcePath = sourceOverride ?? Path.Combine(manifestDir, spec.Weights.Source);
        if (!File.Exists(sourcePath))
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.WeightsSourceMissing, spec.Weights.SourceSpan, spec.Weights.Source, Path.GetFullPath(sourcePath)));
            return new PackResult(null, diagnostics);
        }

        SafeTensorsFile source;
        try
        {
            source = SafeTensorsFile.Read(sourcePath);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.WeightsSourceUnreadable, spec.Weights.SourceSpan, spec.Weights.Source, ex.Message));
            return new PackResult(null, diagnostics);
        }

        var layers = spec.Layers.ToDictionary(l => l.Name, StringComparer.Ordinal);
        var sourceName = Path.GetFileName(sourcePath);
        var floatsByTensor = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var checkedTensors = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in plan.Layout.Entries)
        {
            if (!checkedTensors.Add(entry.TensorName))
            {
                continue; // several entries (int8 values and scales) come from one tensor: check it once
            }

            var layer = layers[entry.Layer];
            var span = layer.NameSpan;
            if (!source.Tensors.TryGetValue(entry.TensorName, out var tensor))
            {
                var available = string.Join(", ", source.Tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).Take(12));
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.TensorMissing, span, entry.TensorName, layer.Name, sourceName, available.Length == 0 ? "no tensors" : available));
                continue;
            }

            if (tensor.DType != "F32")
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.TensorDType, span, entry.TensorName, sourceName, tensor.DType));
                continue;
            }

            var expected = layer.Op == Ops.Conv2d && entry.Name != layer.Name + ".bias"
                ? new long[] { layer.OutChannels, layer.InChannels, layer.KernelH, layer.KernelW }
                : entry.TensorRows == 1 && entry.Kind == EntryKind.F32 ? new long[] { entry.TensorCols } : new long[] { entry.TensorRows, entry.TensorCols };
            if (!tensor.Shape.SequenceEqual(expected))
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.TensorShape, layer.OutSpan ?? layer.DimSpan ?? span, entry.TensorName, sourceName, tensor.ShapeText, layer.Name, "[" + string.Join(", ", expected) + "]"));
                continue;
            }

            float[] values;
            try
            {
                values = source.GetFloats(tensor).ToArray();
            }
            catch (InvalidDataException ex)
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.WeightsSourceUnreadable, spec.Weights.SourceSpan, spec.Weights.Source, ex.Message));
                continue;
            }

            var bad = Array.FindIndex(values, v => !float.IsFinite(v));
            if (bad >= 0)
            {
                diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.NonFiniteWeight, span, entry.TensorName, sourceName, values[bad], bad));
                continue;
            }

            floatsByTensor[entry.TensorName] = values;
        }

        if (diagnostics.Count > 0)
        {
            return new PackResult(null, diagnostics);
        }

        var encoded = new List<ReadOnlyMemory<byte>>();
        var lowRank = new Dictionary<(string Tensor, int Rank), (float[] V, float[] U)>();
        var cache = new Dictionary<(string Tensor, string Format, int Group, int Row, int Col, int Rows, int Cols, string Derived, bool Pairs), byte[][]>();
        foreach (var entry in plan.Layout.Entries)
        {
            var values = Region(entry, floatsByTensor[entry.TensorName], lowRank);
            byte[] bytes;
            if (entry.Kind == EntryKind.F32)
            {
                // A linear layer's matrix is stored row-blocked in slices of 16 floats, as its kernel reads it;
                // a conv2d filter bank row by row.
                var raw = MemoryMarshal.AsBytes(values.AsSpan());
                bytes = entry.Rows > 1 && !entry.RowMajor ? RowBlocked(raw, entry.Rows, entry.Cols * 4, 64) : raw.ToArray();
            }
            else
            {
                var key = (entry.TensorName, entry.Format, entry.GroupSize, entry.RowStart, entry.ColStart, entry.Rows, entry.Cols, entry.Derived, entry.Pairs);
                if (!cache.TryGetValue(key, out var parts))
                {
                    try
                    {
                        parts = Encode(entry, values);
                    }
                    catch (ArgumentException ex)
                    {
                        var layer = layers[entry.Layer];
                        diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.NotEncodable, layer.Quant?.FormatSpan ?? layer.NameSpan, entry.TensorName, entry.Format, ex.Message));
                        return new PackResult(null, diagnostics);
                    }

                    cache[key] = parts;
                }

                bytes = entry.Kind switch
                {
                    EntryKind.Int8Values or EntryKind.F16Values or EntryKind.BlockValues or EntryKind.Base11Values or EntryKind.BitPlaneValues => parts[0],
                    EntryKind.Base11Range => parts[2],
                    _ => parts[1],
                };
            }

            if (bytes.Length != entry.Length)
            {
                throw new InvalidOperationException($"Entry '{entry.Name}' encodes to {bytes.Length} bytes; the layout says {entry.Length}.");
            }

            encoded.Add(bytes);
        }

        var file = ChunkFileWriter.ToArray(plan.Layout.Hash, encoded);
        if (file.Length != plan.Layout.FileLength)
        {
            throw new InvalidOperationException($"The chunk file has {file.Length} bytes; the layout says {plan.Layout.FileLength}.");
        }

        return new PackResult(file, diagnostics);
    }

    /// <summary>
    /// The values an entry encodes: the whole tensor, the block of it a chunk holds, or the proxy
    /// sketch derived from the layer's chunks (<see cref="ProxySketch"/>).
    /// </summary>
    private static float[] Region(LayoutEntry entry, float[] tensor, Dictionary<(string Tensor, int Rank), (float[] V, float[] U)> lowRank)
    {
        if (!entry.IsPartial)
        {
            return tensor;
        }

        if (entry.Derived.StartsWith("lowrank-", StringComparison.Ordinal))
        {
            var rank = int.Parse(entry.Derived.Substring(entry.Derived.IndexOf(':') + 1), System.Globalization.CultureInfo.InvariantCulture);
            var key = (entry.TensorName, rank);
            if (!lowRank.TryGetValue(key, out var factors))
            {
                factors = ProxySketch.LowRank(tensor, entry.TensorRows, entry.TensorCols, rank);
                lowRank[key] = factors;
            }

            return entry.Derived.StartsWith("lowrank-v:", StringComparison.Ordinal) ? factors.V : factors.U;
        }

        if (entry.Derived.StartsWith("pooltaps:", StringComparison.Ordinal))
        {
            // pool routing's proxy: per output channel its largest-|w| taps and their indices (docs/routing.md)
            var taps = int.Parse(entry.Derived.Substring("pooltaps:".Length), System.Globalization.CultureInfo.InvariantCulture);
            return PoolTapsFormat.Build(tensor, entry.TensorRows, entry.TensorCols, taps);
        }

        if (entry.Derived.StartsWith("sketch:", StringComparison.Ordinal))
        {
            var parts = entry.Derived.Split(':');
            var count = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            var rank = int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture);
            return ProxySketch.Build(tensor, entry.TensorRows, entry.TensorCols, count, rank);
        }

        var values = new float[entry.Rows * entry.Cols];
        for (var r = 0; r < entry.Rows; r++)
        {
            tensor.AsSpan(((entry.RowStart + r) * entry.TensorCols) + entry.ColStart, entry.Cols).CopyTo(values.AsSpan(r * entry.Cols));
        }

        return values;
    }

    /// <summary>
    /// Packed rows in the kernel's reading order: rows in blocks of <see cref="KernelSpecShape.RowBlock"/>,
    /// each block stored slice by slice (int8: a group; block formats: a 16-byte block) with the
    /// block's rows' slices side by side, so the kernel, which computes a block of rows together,
    /// reads one sequential stream (four interleaved short rows starve the hardware prefetcher).
    /// Rows past the last whole block stay row by row (a block of one).
    /// </summary>
    internal static byte[] RowBlocked(ReadOnlySpan<byte> rowMajor, int rows, int cols, int groupSize)
    {
        var result = new byte[rowMajor.Length];
        var written = 0;
        for (var first = 0; first < rows;)
        {
            var block = rows - first >= KernelSpecShape.RowBlock ? KernelSpecShape.RowBlock : 1;
            for (var start = 0; start < cols; start += groupSize)
            {
                var length = Math.Min(groupSize, cols - start);
                for (var r = 0; r < block; r++)
                {
                    rowMajor.Slice(((first + r) * cols) + start, length).CopyTo(result.AsSpan(written));
                    written += length;
                }
            }

            first += block;
        }

        return result;
    }

    /// <summary>
    /// int8 codes [rows][cols] as column panels of <paramref name="panelRows"/> rows (rows a multiple of it): panel after
    /// panel, column after column, the panel's codes of the column side by side (see <see cref="LayoutEntry.PanelRows"/>).
    /// </summary>
    internal static byte[] Panels(ReadOnlySpan<byte> rowMajor, int rows, int cols, int panelRows)
    {
        var result = new byte[rowMajor.Length];
        var written = 0;
        for (var panel = 0; panel < rows; panel += panelRows)
        {
            for (var c = 0; c < cols; c++)
            {
                for (var r = 0; r < panelRows; r++)
                {
                    result[written++] = rowMajor[((panel + r) * cols) + c];
                }
            }
        }

        return result;
    }

    /// <summary>Scales [rows][groups] as panels: panel after panel, group after group, the panel's rows' scales side by side.</summary>
    internal static float[] PanelScales(ReadOnlySpan<float> scales, int rows, int groups, int panelRows)
    {
        var result = new float[scales.Length];
        var written = 0;
        for (var panel = 0; panel < rows; panel += panelRows)
        {
            for (var g = 0; g < groups; g++)
            {
                for (var r = 0; r < panelRows; r++)
                {
                    result[written++] = scales[((panel + r) * groups) + g];
                }
            }
        }

        return result;
    }

    /// <summary>Encodes one tensor in its format: [values, scales or minima, ranges].</summary>
    private static byte[][] Encode(LayoutEntry entry, float[] w)
    {
        int rows = entry.Rows, cols = entry.Cols, g = entry.GroupSize;
        switch (entry.Format)
        {
            case WeightFormats.Int8:
            {
                var q = new sbyte[rows * cols];
                var scales = new float[rows * Int8GroupQuantizer.GroupsPerRow(cols, g)];
                Int8GroupQuantizer.Quantize(w, rows, cols, g, q, scales);
                var values = MemoryMarshal.AsBytes(q.AsSpan());
                if (entry.PanelRows > 0)
                {
                    return new[] { Panels(values, rows, cols, entry.PanelRows), MemoryMarshal.AsBytes(PanelScales(scales, rows, Int8GroupQuantizer.GroupsPerRow(cols, g), entry.PanelRows)).ToArray() };
                }

                return new[] { entry.RowMajor ? values.ToArray() : RowBlocked(values, rows, cols, g), MemoryMarshal.AsBytes(scales.AsSpan()).ToArray() };
            }

            case BitPlaneFormat.Name:
            {
                // int8's codes and scales, the codes as eight bit-planes (sign plane first), each plane contiguous.
                var q = new sbyte[rows * cols];
                var scales = new float[rows * Int8GroupQuantizer.GroupsPerRow(cols, g)];
                Int8GroupQuantizer.Quantize(w, rows, cols, g, q, scales);
                var planes = new byte[BitPlaneFormat.Planes * BitPlaneFormat.PlaneBytes(rows, cols)];
                BitPlaneFormat.Pack(q, rows, cols, planes);
                return new[] { planes, MemoryMarshal.AsBytes(scales.AsSpan()).ToArray() };
            }

            case WeightFormats.F16:
            {
                var packed = new byte[rows * HalfFormat.RowBytes(cols)];
                HalfFormat.Quantize(w, rows, cols, packed);
                return new[] { packed };
            }

            case WeightFormats.Int4:
            case WeightFormats.Ternary:
            case WeightFormats.Int1:
            {
                var packed = new byte[rows * WeightFormats.WeightBytesPerRow(entry.Format, cols, g)];
                var scales = new float[rows * ((cols + g - 1) / g)];
                switch (entry.Format)
                {
                    case WeightFormats.Int4:
                        Int4BlockFormat.Quantize(w, rows, cols, g, packed, scales);
                        break;
                    case WeightFormats.Ternary:
                        TernaryBlockFormat.Quantize(w, rows, cols, g, packed, scales);
                        break;
                    default:
                        Int1BlockFormat.Quantize(w, rows, cols, g, packed, scales);
                        break;
                }

                // The kernels read a row block's 16-byte blocks side by side: interleave them.
                var rowBytes = (int)WeightFormats.WeightBytesPerRow(entry.Format, cols, g);
                return new[] { entry.RowMajor ? packed : RowBlocked(packed, rows, rowBytes, 16), MemoryMarshal.AsBytes(scales.AsSpan()).ToArray() };
            }

            case WeightFormats.Base11 when entry.Pairs:
            {
                // the same min, range and indices as the seed's words, two indices per 7-bit code (Base11PairsFormat)
                var packed = new byte[rows * Base11PairsFormat.RowBytes(cols, g)];
                var groups = (cols + g - 1) / g;
                var min = new ushort[rows * groups];
                var range = new ushort[rows * groups];
                Base11PairsFormat.Quantize(w, rows, cols, g, packed, min, range);
                return new[] { packed, MemoryMarshal.AsBytes(min.AsSpan()).ToArray(), MemoryMarshal.AsBytes(range.AsSpan()).ToArray() };
            }

            case WeightFormats.Base11:
            {
                var rowBytes = Base11Format.RowBytes(cols, g);
                var packed = new byte[(rows * rowBytes) + 64]; // 64 zero bytes: SIMD loads may read past the last row
                var groups = (cols + g - 1) / g;
                var min = new ushort[rows * groups];
                var range = new ushort[rows * groups];
                Base11Format.Quantize(w, rows, cols, g, packed.AsSpan(0, rows * rowBytes), min, range);
                return new[] { packed, MemoryMarshal.AsBytes(min.AsSpan()).ToArray(), MemoryMarshal.AsBytes(range.AsSpan()).ToArray() };
            }

            default:
                throw new InvalidOperationException("No encoder for format " + entry.Format);
        }
    }
}

/// <summary>The packed chunk file, or the diagnostics that prevented it.</summary>
/// <summary>The packed chunk file, or the diagnostics that prevented it.</summary>
public sealed record PackResult(byte[]? File, IReadOnlyList<ManifestDiagnostic> Diagnostics);
