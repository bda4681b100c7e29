using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace CodeGenChunk.Benchmarks;

/// <summary>
/// BigNet written by hand in plain C#, over the float32 weights of bignet.safetensors held in one
/// 64-byte-aligned native block (the same alignment the generated models get from FromBytes):
/// 6 residual blocks of Linear-ReLU-Linear-ReLU-Linear, + block input, LayerNorm between blocks.
/// Two forward passes: <see cref="ForwardDot"/> (each output = TensorPrimitives.Dot(row, x) + bias) and
/// <see cref="ForwardNaive"/> (nested for-loops, float accumulation). Neither allocates.
/// </summary>
internal sealed unsafe class PlainBigNet : IDisposable
{
    public const int Dim = 1024;
    public const int Blocks = 6;
    public const int LinearsPerBlock = 3;
    private const float Eps = 1e-5f;

    // Float offsets inside _data.
    private readonly long[] _weight = new long[Blocks * LinearsPerBlock];
    private readonly long[] _bias = new long[Blocks * LinearsPerBlock];
    private readonly long[] _gamma = new long[Blocks - 1];
    private readonly long[] _beta = new long[Blocks - 1];
    private readonly long _floats;
    private float* _data;

    // Activations (not weights): input of the block, and two ping-pong buffers.
    private readonly float[] _x = new float[Dim];
    private readonly float[] _h = new float[Dim];
    private readonly float[] _g = new float[Dim];

    private PlainBigNet(long floats)
    {
        _floats = floats;
        _data = (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);
    }

    /// <summary>Bytes of weights (matrices, biases, LayerNorm parameters) one forward pass reads.</summary>
    public long WeightBytes => _floats * sizeof(float);

    /// <summary>Reads bignet.safetensors (float32: 8-byte header length, JSON header, raw data).</summary>
    public static PlainBigNet Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var tensors = new Dictionary<string, (int Begin, int End)>(StringComparer.Ordinal);
        using (var doc = JsonDocument.Parse(bytes.AsMemory(8, headerLength)))
        {
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__")
                {
                    continue;
                }

                if (p.Value.GetProperty("dtype").GetString() != "F32")
                {
                    throw new InvalidDataException($"{path}: tensor '{p.Name}' is not F32");
                }

                var offsets = p.Value.GetProperty("data_offsets");
                tensors[p.Name] = (8 + headerLength + offsets[0].GetInt32(), 8 + headerLength + offsets[1].GetInt32());
            }
        }

        // Layout: per block the three matrices then the three biases, then the block's LayerNorm, each
        // tensor starting on a 64-byte boundary (16 floats) like the chunk file does.
        var order = new List<(string Name, int Length, Action<PlainBigNet, long> Record)>();
        for (var b = 0; b < Blocks; b++)
        {
            for (var j = 0; j < LinearsPerBlock; j++)
            {
                var index = (b * LinearsPerBlock) + j;
                order.Add(($"blocks.{b}.l{j}.weight", Dim * Dim, (m, o) => m._weight[index] = o));
                order.Add(($"blocks.{b}.l{j}.bias", Dim, (m, o) => m._bias[index] = o));
            }

            if (b < Blocks - 1)
            {
                var ln = b;
                order.Add(($"ln.{b}.weight", Dim, (m, o) => m._gamma[ln] = o));
                order.Add(($"ln.{b}.bias", Dim, (m, o) => m._beta[ln] = o));
            }
        }

        long total = 0;
        foreach (var t in order)
        {
            total += RoundUp16(t.Length);
        }

        var model = new PlainBigNet(total);
        long offset = 0;
        foreach (var (name, length, record) in order)
        {
            if (!tensors.TryGetValue(name, out var range) || range.End - range.Begin != length * sizeof(float))
            {
                throw new InvalidDataException($"{path}: tensor '{name}' missing or not {length} floats");
            }

            MemoryMarshal.Cast<byte, float>(bytes.AsSpan(range.Begin, range.End - range.Begin)).CopyTo(new Span<float>(model._data + offset, length));
            record(model, offset);
            offset += RoundUp16(length);
        }

        return model;
    }

    /// <summary>An independent copy of the weights in new memory (for cold-cache rotation).</summary>
    public PlainBigNet Clone()
    {
        var copy = new PlainBigNet(_floats);
        Array.Copy(_weight, copy._weight, _weight.Length);
        Array.Copy(_bias, copy._bias, _bias.Length);
        Array.Copy(_gamma, copy._gamma, _gamma.Length);
        Array.Copy(_beta, copy._beta, _beta.Length);
        Buffer.MemoryCopy(_data, copy._data, _floats * sizeof(float), _floats * sizeof(float));
        return copy;
    }

    /// <summary>The forward pass with TensorPrimitives: Dot per output row, then bias, ReLU, residual, LayerNorm.</summary>
    public void ForwardDot(ReadOnlySpan<float> input, Span<float> output)
    {
        var x = _x.AsSpan();
        var h = _h.AsSpan();
        var g = _g.AsSpan();
        input.CopyTo(x);
        for (var b = 0; b < Blocks; b++)
        {
            var l = b * LinearsPerBlock;
            LinearDot(l, x, h);
            TensorPrimitives.Max(h, 0f, h);
            LinearDot(l + 1, h, g);
            TensorPrimitives.Max(g, 0f, g);
            LinearDot(l + 2, g, h);
            TensorPrimitives.Add(h, x, h);
            if (b < Blocks - 1)
            {
                LayerNormTp(h, Span(_gamma[b], Dim), Span(_beta[b], Dim), x);
            }
            else
            {
                h.CopyTo(output);
            }
        }
    }

    /// <summary>The forward pass with plain nested for-loops and float accumulation.</summary>
    public void ForwardNaive(ReadOnlySpan<float> input, Span<float> output)
    {
        var x = _x;
        var h = _h;
        var g = _g;
        input.CopyTo(x);
        for (var b = 0; b < Blocks; b++)
        {
            var l = b * LinearsPerBlock;
            LinearNaive(l, x, h, relu: true);
            LinearNaive(l + 1, h, g, relu: true);
            LinearNaive(l + 2, g, h, relu: false);
            for (var i = 0; i < Dim; i++)
            {
                h[i] += x[i];
            }

            if (b < Blocks - 1)
            {
                LayerNormNaive(h, _data + _gamma[b], _data + _beta[b], x);
            }
            else
            {
                h.CopyTo(output);
            }
        }
    }

    private void LinearDot(int layer, ReadOnlySpan<float> x, Span<float> y)
    {
        var w = _data + _weight[layer];
        var bias = _data + _bias[layer];
        for (var o = 0; o < Dim; o++)
        {
            y[o] = TensorPrimitives.Dot(new ReadOnlySpan<float>(w + ((long)o * Dim), Dim), x) + bias[o];
        }
    }

    private void LinearNaive(int layer, float[] x, float[] y, bool relu)
    {
        var w = _data + _weight[layer];
        var bias = _data + _bias[layer];
        for (var o = 0; o < Dim; o++)
        {
            var row = w + ((long)o * Dim);
            var s = 0f;
            for (var i = 0; i < Dim; i++)
            {
                s += row[i] * x[i];
            }

            s += bias[o];
            y[o] = relu && s < 0f ? 0f : s;
        }
    }

    private static void LayerNormTp(ReadOnlySpan<float> source, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> destination)
    {
        var mean = TensorPrimitives.Sum(source) / Dim;
        TensorPrimitives.Subtract(source, mean, destination);
        var variance = TensorPrimitives.SumOfSquares(destination) / Dim;
        TensorPrimitives.Multiply(destination, 1f / MathF.Sqrt(variance + Eps), destination);
        TensorPrimitives.FusedMultiplyAdd(destination, gamma, beta, destination);
    }

    private static void LayerNormNaive(float[] source, float* gamma, float* beta, float[] destination)
    {
        var mean = 0f;
        for (var i = 0; i < Dim; i++)
        {
            mean += source[i];
        }

        mean /= Dim;
        var variance = 0f;
        for (var i = 0; i < Dim; i++)
        {
            var d = source[i] - mean;
            variance += d * d;
        }

        variance /= Dim;
        var inv = 1f / MathF.Sqrt(variance + Eps);
        for (var i = 0; i < Dim; i++)
        {
            destination[i] = ((source[i] - mean) * inv * gamma[i]) + beta[i];
        }
    }

    private ReadOnlySpan<float> Span(long offset, int length) => new(_data + offset, length);

    private static long RoundUp16(long floats) => (floats + 15) & ~15L;

    public void Dispose()
    {
        if (_data != null)
        {
            NativeMemory.AlignedFree(_data);
            _data = null;
        }
    }
}
