using System;
using System.Collections.Generic;
using System.IO;
using CodeGenChunk.Formats;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Tool.SafeTensors;

namespace CodeGenChunk.Models.Tests;

/// <summary>
/// The plain reference: walks a manifest's layers one by one over the float weights, with double
/// accumulation and no SIMD. int8 layers use the weights as the quantizer stores them
/// (dequantized), so the comparison measures the kernels, not the quantization.
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
        foreach (var l in _spec.Layers)
        {
            x = l.Op switch
            {
                Ops.Linear => Linear(l, x),
                Ops.Relu => Array.ConvertAll(x, v => MathF.Max(v, 0f)),
                Ops.Residual => Add(x, values[l.From!]),
                Ops.LayerNorm => LayerNorm(l, x),
                _ => throw new NotSupportedException(l.Op),
            };
            values[l.Name] = x;
        }

        return x;
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
