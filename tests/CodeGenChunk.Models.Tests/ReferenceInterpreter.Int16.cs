using System;
using System.Collections.Generic;
using CodeGenChunk.Model.Manifest;

namespace CodeGenChunk.Models.Tests;

/// <summary>
/// int16 activations in the reference interpreter, written from docs/activations.md ("int16 activations"): symmetric
/// int16 codes q = clamp(round(x / scale), −32767, 32767), zero point 0, scale = max(|lo|, |hi|) / 32767 of the range
/// (dynamic: the input's own; static: the manifest's; predicted: the range the producer, an int16-activation layer,
/// predicted from its own input codes), then y = scale · Σ q · w + b in double over the dequantized weights.
/// </summary>
internal sealed partial class ReferenceInterpreter
{
    /// <summary>Each int16-activation layer's input codes and scale in the last Forward.</summary>
    private readonly Dictionary<int, (short[] Codes, float Scale)> _codes16 = new();

    private static float RangeScale16(double lo, double hi)
    {
        var scale = (float)Math.Max(Math.Max(-lo, hi), 0) / 32767f;
        return scale > 0f && !float.IsInfinity(scale) ? scale : 1f;
    }

    private (short[] Codes, float Scale) QuantizeInput16(LayerSpec l, ActivationsSpec act, float[] x)
    {
        var producer = Producer(l.Index);
        float scale;
        if (act.Params == "static")
        {
            scale = RangeScale16(act.Range[0], act.Range[1]);
        }
        else if (act.Params == "predicted" && producer >= 0)
        {
            var p = _spec.Layers[producer];
            var (codes, ps) = _codes16[producer];
            double s1 = 0, s2 = 0;
            foreach (var q in codes)
            {
                s1 += q;
                s2 += (double)q * q;
            }

            var m = ps * (s1 / codes.Length);
            var e2 = (double)ps * ps * (s2 / codes.Length);
            var k = act.Z!.Value * Math.Sqrt(Math.Max(e2 - (m * m), 0));
            var pw = Dequantized(p, Tensor(p.WeightsPrefix + ".weight"));
            var pb = p.Bias ? Tensor(p.WeightsPrefix + ".bias") : new float[p.Out];
            double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
            for (var o = 0; o < p.Out; o++)
            {
                double sum = 0, sq = 0;
                for (var i = 0; i < p.In; i++)
                {
                    sum += pw[(o * p.In) + i];
                    sq += (double)pw[(o * p.In) + i] * pw[(o * p.In) + i];
                }

                var mu = (m * sum) + pb[o];
                lo = Math.Min(lo, mu - (k * Math.Sqrt(sq)));
                hi = Math.Max(hi, mu + (k * Math.Sqrt(sq)));
            }

            if (_reluFollows.Contains(p.Name))
            {
                lo = 0;
            }

            scale = RangeScale16((float)lo, (float)hi);
        }
        else
        {
            float m = 0;
            foreach (var v in x)
            {
                m = Math.Max(m, Math.Abs(v));
            }

            scale = RangeScale16(-m, m);
        }

        var codesOut = new short[x.Length];
        var clipped = 0;
        for (var i = 0; i < x.Length; i++)
        {
            var c = Math.Round(x[i] / (double)scale, MidpointRounding.ToEven);
            if (Math.Abs(c) > 32767)
            {
                clipped++;
            }

            codesOut[i] = (short)Math.Clamp(c, -32767, 32767);
        }

        _codes16[l.Index] = (codesOut, scale);
        if (act.Params != "dynamic" && (act.Params == "static" || producer >= 0))
        {
            LastClipped[l.Name] = clipped;
        }

        return (codesOut, scale);
    }

    /// <summary>y = scale · Σ q · w + b in double over the dequantized weights, from the input's int16 codes.</summary>
    private float[] IntegerLinear16(LayerSpec l, ActivationsSpec act, float[] w, float[] x)
    {
        var (codes, scale) = QuantizeInput16(l, act, x);
        var b = l.Bias ? Tensor(l.WeightsPrefix + ".bias") : new float[l.Out];
        var y = new float[l.Out];
        for (var o = 0; o < l.Out; o++)
        {
            double acc = 0;
            for (var i = 0; i < l.In; i++)
            {
                acc += (double)w[(o * l.In) + i] * codes[i];
            }

            y[o] = (float)((scale * acc) + b[o]);
        }

        return y;
    }
}
