using System;
using System.Collections.Generic;
using System.IO;
using CodeGenChunk.Formats;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Tool.SafeTensors;

namespace CodeGenChunk.Models.Tests;

/// <summary>
/// The plain reference: walks a manifest's layers one by one over the float weights, with double
/// accumulation, no SIMD and plain loops (a convolution tests every tap for padding). Quantized
/// layers use the weights as their format stores them (dequantized), so the comparison measures
/// the kernels, not the quantization.
/// </summary>
internal sealed class ReferenceInterpreter
{
    private readonly ManifestSpec _spec;
    private readonly SafeTensorsFile _weights;

    public ReferenceInterpreter(string manifestPath)
    {
        var parsed = ManifestParser.Parse(manifestPath, File.ReadAllText(manifestPath));
        _spec = parsed.Spec ?? throw new InvalidOperationException("Manifest does not parse: " + manifestPath);
        _weights = SafeTensorsFile.Read(Path.Combine(Path.GetDirectoryName(manifestPath)!, _spec.Weights.Source));
    }

    public ManifestSpec Spec => _spec;

    public float[] Forward(float[] input)
    {
        var values = new Dictionary<string, float[]>(StringComparer.Ordinal) { ["input"] = input };
        var x = input;

        // [C, H, W] of the current tensor while it has one (a three-dimensional input, then conv2d and maxpool outputs).
        var shape = _spec.InputShape.Count == 3 ? new[] { _spec.InputShape[0], _spec.InputShape[1], _spec.InputShape[2] } : null;
        foreach (var l in _spec.Layers)
        {
            x = l.Op switch
            {
                Ops.Linear => Linear(l, x),
                Ops.Relu => Array.ConvertAll(x, v => MathF.Max(v, 0f)),
                Ops.Residual => Add(x, values[l.From!]),
                Ops.LayerNorm => LayerNorm(l, x),
                Ops.Conv2d => Conv2d(l, x, ref shape),
                Ops.MaxPool => MaxPool(l, x, ref shape),
                Ops.Flatten => (float[])x.Clone(),
                Ops.Softmax => Softmax(x),
                _ => throw new NotSupportedException(l.Op),
            };
            if (l.Op is Ops.Flatten or Ops.Linear)
            {
                shape = null;
            }

            values[l.Name] = x;
        }

        return x;
    }

    /// <summary>y[o, i, j] = b[o] + Σ w[o, c, ky, kx] · x[c, i·sh + ky − top, j·sw + kx − left], cells outside the input are 0.</summary>
    private float[] Conv2d(LayerSpec l, float[] x, ref int[]? shape)
    {
        int c = shape![0], h = shape[1], wd = shape[2];
        int kh = l.KernelH, kw = l.KernelW, f = l.FilterLength;
        var outH = ((h + l.PadTop + l.PadBottom - kh) / l.StrideH) + 1;
        var outW = ((wd + l.PadLeft + l.PadRight - kw) / l.StrideW) + 1;
        var w = WeightFormats.RoundTrip(l.Quant!.Format, Tensor(l.WeightsPrefix + ".weight"), l.OutChannels, f, l.Quant.GroupSize);
        var b = l.Bias ? Tensor(l.WeightsPrefix + ".bias") : new float[l.OutChannels];
        var y = new float[l.OutChannels * outH * outW];
        for (var o = 0; o < l.OutChannels; o++)
        {
            for (var i = 0; i < outH; i++)
            {
                for (var j = 0; j < outW; j++)
                {
                    double s = b[o];
                    for (var ci = 0; ci < c; ci++)
                    {
                        for (var ky = 0; ky < kh; ky++)
                        {
                            for (var kx = 0; kx < kw; kx++)
                            {
                                var r = (i * l.StrideH) + ky - l.PadTop;
                                var col = (j * l.StrideW) + kx - l.PadLeft;
                                if (r >= 0 && r < h && col >= 0 && col < wd)
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

    /// <summary>y[c, i, j] = max over the window's cells inside the input (padding never wins).</summary>
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

    /// <summary>exp(x − max) / Σ exp(x − max), in double.</summary>
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

    private float[] Tensor(string name) => _weights.GetFloats(_weights.Tensors[name]).ToArray();

    private float[] Linear(LayerSpec l, float[] x)
    {
        var w = Dequantized(l, Tensor(l.WeightsPrefix + ".weight"));
        var b = l.Bias ? Tensor(l.WeightsPrefix + ".bias") : new float[l.Out];
        var y = new float[l.Out];
        for (var o = 0; o < l.Out; o++)
        {
            double s = b[o];
            for (var i = 0; i < l.In; i++)
            {
                s += (double)w[(o * l.In) + i] * x[i];
            }

            y[o] = (float)s;
        }

        return y;
    }

    /// <summary>The weights as the layer's format stores them, decoded by the formats' reference decoders.</summary>
    private static float[] Dequantized(LayerSpec l, float[] w) =>
        WeightFormats.RoundTrip(l.Quant!.Format, w, l.Out, l.In, l.Quant.GroupSize);

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
        double mean = 0;
        foreach (var v in x)
        {
            mean += v;
        }

        mean /= x.Length;
        double variance = 0;
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
