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

    public float[] Run(float[] input, Action<LayerSpec, float[]>? beforeLayer = null) => Run(input, beforeLayer, null);

    /// <summary>
    /// Runs the layers; <paramref name="beforeLayer"/> sees each layer's input, <paramref name="afterLayer"/> its output
    /// (a conv2d's before any ReLU: [outChannels, outH, outW]).
    /// </summary>
    public float[] Run(float[] input, Action<LayerSpec, float[]>? beforeLayer, Action<LayerSpec, float[]>? afterLayer)
    {
        var named = new Dictionary<string, float[]>(StringComparer.Ordinal) { ["input"] = input };
        var x = input;
        int[]? shape = _spec.InputShape.Count == 3 ? new[] { _spec.InputShape[0], _spec.InputShape[1], _spec.InputShape[2] } : null;
        foreach (var l in _spec.Layers)
        {
            beforeLayer?.Invoke(l, x);
            x = l.Op switch
            {
                Ops.Linear => Linear(l, x),
                Ops.Relu => Array.ConvertAll(x, v => MathF.Max(v, 0f)),
                Ops.Residual => Add(x, named[l.From!]),
                Ops.LayerNorm => LayerNorm(l, x),
                Ops.Conv2d => Conv2d(l, x, ref shape),
                Ops.MaxPool => MaxPool(l, x, ref shape),
                Ops.Flatten => x,
                Ops.Softmax => Softmax(x),
                _ => throw new NotSupportedException($"Calibration does not run '{l.Op}' layers yet."),
            };
            if (l.Op is Ops.Linear or Ops.Flatten)
            {
                shape = null;
            }

            afterLayer?.Invoke(l, x);
            named[l.Name] = x;
        }

        return x;
    }

    /// <summary>y[o, i, j] = b[o] + Σ w[o, c, ky, kx] · x[c, i·sh + ky − top, j·sw + kx − left] (cells outside the input are 0), in double.</summary>
    private float[] Conv2d(LayerSpec l, float[] x, ref int[]? shape)
    {
        int c = shape![0], h = shape[1], wd = shape[2];
        int kh = l.KernelH, kw = l.KernelW, f = l.FilterLength;
        var outH = ((h + l.PadTop + l.PadBottom - kh) / l.StrideH) + 1;
        var outW = ((wd + l.PadLeft + l.PadRight - kw) / l.StrideW) + 1;
        var w = Tensor(l.WeightsPrefix + ".weight");
        var b = l.Bias ? Tensor(l.WeightsPrefix + ".bias") : null;
        var y = new float[l.OutChannels * outH * outW];
        for (var o = 0; o < l.OutChannels; o++)
        {
            for (var i = 0; i < outH; i++)
            {
                for (var j = 0; j < outW; j++)
                {
                    double s = b?[o] ?? 0;
                    for (var ci = 0; ci < c; ci++)
                    {
                        for (var ky = 0; ky < kh; ky++)
                        {
                            var r = (i * l.StrideH) + ky - l.PadTop;
                            if (r < 0 || r >= h)
                            {
                                continue;
                            }

                            for (var kx = 0; kx < kw; kx++)
                            {
                                var col = (j * l.StrideW) + kx - l.PadLeft;
                                if (col >= 0 && col < wd)
                                {
                                    s += (double)w[(o * f) + (((ci * kh) + ky) * kw) + kx] * x[(((ci * h) + r) * wd) + col];
                                }
                            }
                        }
                    }

                    y[(((o * outH) + i) * outW) + j] = (float)s;
                }
            }
        }

        shape = new[] { l.OutChannels, outH, outW };
        return y;
    }

    /// <summary>Maximum of each window's cells inside the input.</summary>
    private static float[] MaxPool(LayerSpec l, float[] x, ref int[]? shape)
    {
        int c = shape![0], h = shape[1], wd = shape[2];
        var outH = ((h + l.PadTop + l.PadBottom - l.KernelH) / l.StrideH) + 1;
        var outW = ((wd + l.PadLeft + l.PadRight - l.KernelW) / l.StrideW) + 1;
        var y = new float[c * outH * outW];
        for (var ci = 0; ci < c; ci++)
        {
            for (var i = 0; i < outH; i++)
            {
                for (var j = 0; j < outW; j++)
                {
                    var m = float.NegativeInfinity;
                    for (var ky = 0; ky < l.KernelH; ky++)
                    {
                        for (var kx = 0; kx < l.KernelW; kx++)
                        {
                            var r = (i * l.StrideH) + ky - l.PadTop;
                            var col = (j * l.StrideW) + kx - l.PadLeft;
                            if (r >= 0 && r < h && col >= 0 && col < wd)
                            {
                                m = Math.Max(m, x[(((ci * h) + r) * wd) + col]);
                            }
                        }
                    }

                    y[(((ci * outH) + i) * outW) + j] = m;
                }
            }
        }

        shape = new[] { c, outH, outW };
        return y;
    }

    private static float[] Softmax(float[] x)
    {
        var max = double.NegativeInfinity;
        foreach (var v in x)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        foreach (var v in x)
        {
            sum += Math.Exp(v - max);
        }

        return Array.ConvertAll(x, v => (float)(Math.Exp(v - max) / sum));
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
