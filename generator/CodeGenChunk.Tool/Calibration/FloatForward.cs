using System;
using System.Collections.Generic;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Tool.SafeTensors;

namespace CodeGenChunk.Tool.Calibration;

/// <summary>
/// The float model, layer by layer over the source weights (no quantization, no chunking): what
/// calibration measures activity on. Calls back with each layer's input before running it.
/// </summary>
public sealed class FloatForward
{
    private readonly ManifestSpec _spec;
    private readonly SafeTensorsFile _weights;
    private readonly Dictionary<string, float[]> _tensors = new(StringComparer.Ordinal);

    public FloatForward(ManifestSpec spec, SafeTensorsFile weights)
    {
        _spec = spec;
        _weights = weights;
    }

    public float[] Tensor(string name)
    {
        if (!_tensors.TryGetValue(name, out var t))
        {
            if (!_weights.Tensors.TryGetValue(name, out var info))
            {
                throw new InvalidOperationException($"The weights have no tensor '{name}'.");
            }

            t = _weights.GetFloats(info).ToArray();
            _tensors[name] = t;
        }

        return t;
    }

    public float[] Run(float[] input, Action<LayerSpec, float[]>? beforeLayer = null)
    {
        var named = new Dictionary<string, float[]>(StringComparer.Ordinal) { ["input"] = input };
        var x = input;
        foreach (var l in _spec.Layers)
        {
            beforeLayer?.Invoke(l, x);
            x = l.Op switch
            {
                Ops.Linear => Linear(l, x),
                Ops.Relu => Array.ConvertAll(x, v => MathF.Max(v, 0f)),
                Ops.Residual => Add(x, named[l.From!]),
                Ops.LayerNorm => LayerNorm(l, x),
                _ => throw new NotSupportedException($"Calibration does not run '{l.Op}' layers yet."),
            };
            named[l.Name] = x;
        }

        return x;
    }

    /// <summary>Mean |W x| over rows [start, start + length) of a linear layer (no bias).</summary>
    public double MeanAbsRows(LayerSpec l, float[] x, int start, int length)
    {
        var w = Tensor(l.WeightsPrefix + ".weight");
        double sum = 0;
        for (var o = start; o < start + length; o++)
        {
            double s = 0;
            for (var i = 0; i < l.In; i++)
            {
                s += (double)w[(o * l.In) + i] * x[i];
            }

            sum += Math.Abs(s);
        }

        return sum / length;
    }

    private float[] Linear(LayerSpec l, float[] x)
    {
        var w = Tensor(l.WeightsPrefix + ".weight");
        var b = l.Bias ? Tensor(l.WeightsPrefix + ".bias") : null;
        var y = new float[l.Out];
        for (var o = 0; o < l.Out; o++)
        {
            double s = b?[o] ?? 0;
            for (var i = 0; i < l.In; i++)
            {
                s += (double)w[(o * l.In) + i] * x[i];
            }

            y[o] = (float)s;
        }

        return y;
    }

    private static float[] Add(float[] a, float[] b)
    {
        var y = new float[a.Length];
        for (var i = 0; i < y.Length; i++)
        {
            y[i] = a[i] + b[i];
        }

        return y;
    }

    private float[] LayerNorm(LayerSpec l, float[] x)
    {
        var gamma = Tensor(l.WeightsPrefix + ".weight");
        var beta = Tensor(l.WeightsPrefix + ".bias");
        double mean = 0, variance = 0;
        foreach (var v in x)
        {
            mean += v;
        }

        mean /= x.Length;
        foreach (var v in x)
        {
            variance += (v - mean) * (v - mean);
        }

        variance /= x.Length;
        var inv = 1 / Math.Sqrt(variance + l.Eps);
        var y = new float[x.Length];
        for (var i = 0; i < y.Length; i++)
        {
            y[i] = (float)(((x[i] - mean) * inv * gamma[i]) + beta[i]);
        }

        return y;
    }
}
