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

            var expected = entry.Rows == 1 && entry.Kind == EntryKind.F32 ? new long[] { entry.Cols } : new long[] { entry.Rows, entry.Cols };
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
        var int8Cache = new Dictionary<(string, int), (sbyte[] Q, float[] Scales)>();
        foreach (var entry in plan.Layout.Entries)
        {
            var values = floatsByTensor[entry.TensorName];
            switch (entry.Kind)
            {
                case EntryKind.F32:
                    encoded.Add(MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
                    break;
                case EntryKind.Int8Values:
                case EntryKind.Int8Scales:
                    var key = (entry.TensorName, entry.GroupSize);
                    if (!int8Cache.TryGetValue(key, out var q))
                    {
                        var qv = new sbyte[values.Length];
                        var sc = new float[entry.Rows * Int8GroupQuantizer.GroupsPerRow(entry.Cols, entry.GroupSize)];
                        Int8GroupQuantizer.Quantize(values, entry.Rows, entry.Cols, entry.GroupSize, qv, sc);
                        q = (qv, sc);
                        int8Cache[key] = q;
                    }

                    encoded.Add(entry.Kind == EntryKind.Int8Values
                        ? MemoryMarshal.AsBytes(q.Q.AsSpan()).ToArray()
                        : MemoryMarshal.AsBytes(q.Scales.AsSpan()).ToArray());
                    break;
                default:
                    throw new InvalidOperationException("Unknown entry kind " + entry.Kind);
            }

            if (encoded[encoded.Count - 1].Length != entry.Length)
            {
                throw new InvalidOperationException($"Entry '{entry.Name}' encodes to {encoded[encoded.Count - 1].Length} bytes; the layout says {entry.Length}.");
            }
        }

        var file = ChunkFileWriter.ToArray(plan.Layout.Hash, encoded);
        if (file.Length != plan.Layout.FileLength)
        {
            throw new InvalidOperationException($"The chunk file has {file.Length} bytes; the layout says {plan.Layout.FileLength}.");
        }

        return new PackResult(file, diagnostics);
    }
}

/// <summary>The packed chunk file, or the diagnostics that prevented it.</summary>
public sealed record PackResult(byte[]? File, IReadOnlyList<ManifestDiagnostic> Diagnostics);
