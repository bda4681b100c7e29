using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Samples.BigNet;

/// <summary>
/// The plain forward pass of BigNet, written the obvious way (double accumulation, no SIMD),
/// straight from the float weights: what the generated kernels are checked against.
/// </summary>
internal sealed class ReferenceBigNet
{
    private const int Dim = 1024;
    private readonly Dictionary<string, float[]> _tensors;

    private ReferenceBigNet(Dictionary<string, float[]> tensors) => _tensors = tensors;

    /// <summary>Reads a float32 safetensors file (8-byte header length, JSON header, raw data).</summary>
    public static ReferenceBigNet Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var tensors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__")
            {
                continue;
            }

            var offsets = p.Value.GetProperty("data_offsets");
            var begin = 8 + headerLength + offsets[0].GetInt32();
            var end = 8 + headerLength + offsets[1].GetInt32();
            tensors[p.Name] = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(begin, end - begin)).ToArray();
        }

        return new ReferenceBigNet(tensors);
    }

    /// <summary>Replaces every linear weight by its value in <paramref name="format"/> (what that model's kernels compute with).</summary>
    public ReferenceBigNet WithQuantizedWeights(string format, int groupSize)
    {
        var copy = new Dictionary<string, float[]>(_tensors, StringComparer.Ordinal);
        foreach (var (name, values) in _tensors)
        {
            if (name.StartsWith("blocks.", StringComparison.Ordinal) && name.EndsWith(".weight", StringComparison.Ordinal))
            {
                copy[name] = CodeGenChunk.Formats.WeightFormats.RoundTrip(format, values, Dim, Dim, groupSize);
            }
        }

        return new ReferenceBigNet(copy);
    }

    /// <summary>
    /// The weights each chunk of a mixed-precision model holds: layer <c>layers[l]</c> split into <c>chunks</c> blocks
    /// of output rows, block c round-tripped through <c>formats[l * chunks + c]</c> (with <paramref name="groupSize"/>
    /// for <paramref name="layerFormat"/>, else the format's default group size), as the packer stores it; f32 blocks
    /// are kept as they are.
    /// </summary>
    public ReferenceBigNet WithMixedWeights(IReadOnlyList<string> layers, IReadOnlyList<string> formats, int chunks, string layerFormat, int groupSize)
    {
        var copy = new Dictionary<string, float[]>(_tensors, StringComparer.Ordinal);
        var rows = Dim / chunks;
        for (var l = 0; l < layers.Count; l++)
        {
            var w = _tensors[layers[l] + ".weight"];
            var mixed = (float[])w.Clone();
            for (var c = 0; c < chunks; c++)
            {
                var format = formats[(l * chunks) + c];
                if (format == "f32")
                {
                    continue;
                }

                var group = format == layerFormat ? groupSize : CodeGenChunk.Formats.WeightFormats.DefaultGroupSize(format);
                var block = w.AsSpan(c * rows * Dim, rows * Dim);
                CodeGenChunk.Formats.WeightFormats.RoundTrip(format, block, rows, Dim, group).CopyTo(mixed, c * rows * Dim);
            }

            copy[layers[l] + ".weight"] = mixed;
        }

        return new ReferenceBigNet(copy);
    }

    public float[] Forward(ReadOnlySpan<float> input)
    {
        var x = input.ToArray();
        for (var b = 0; b < 6; b++)
        {
            var h = Linear(x, $"blocks.{b}.l0", relu: true);
            h = Linear(h, $"blocks.{b}.l1", relu: true);
            h = Linear(h, $"blocks.{b}.l2", relu: false);
            for (var i = 0; i < Dim; i++)
            {
                h[i] += x[i];
            }

            x = b < 5 ? LayerNorm(h, $"ln.{b}") : h;
        }

        return x;
    }

    private float[] Linear(float[] x, string name, bool relu)
    {
        var w = _tensors[name + ".weight"];
        var bias = _tensors[name + ".bias"];
        var y = new float[Dim];
        for (var o = 0; o < Dim; o++)
        {
            double s = bias[o];
            for (var i = 0; i < Dim; i++)
            {
                s += (double)w[(o * Dim) + i] * x[i];
            }

            y[o] = relu ? (float)Math.Max(s, 0) : (float)s;
        }

        return y;
    }

    private float[] LayerNorm(float[] x, string name)
    {
        var gamma = _tensors[name + ".weight"];
        var beta = _tensors[name + ".bias"];
        double mean = 0;
        foreach (var v in x)
        {
            mean += v;
        }

        mean /= Dim;
        double variance = 0;
        foreach (var v in x)
        {
            variance += (v - mean) * (v - mean);
        }

        variance /= Dim;
        var inv = 1 / Math.Sqrt(variance + 1e-5);
        var y = new float[Dim];
        for (var i = 0; i < Dim; i++)
        {
            y[i] = (float)(((x[i] - mean) * inv * gamma[i]) + beta[i]);
        }

        return y;
    }
}
