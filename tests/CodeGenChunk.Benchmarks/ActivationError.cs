using System;
using System.Collections.Generic;
using System.Linq;
using Samples.BigNet;

namespace CodeGenChunk.Benchmarks;

/// <summary>
/// <c>--activation-error [N]</c>: BigNet's outputs with int8 activations against the f32 forward pass
/// (<see cref="PlainBigNet.ForwardDot"/>), on the BigNet sample's input (uniform [−1, 1), <c>new Random(7)</c>) and N − 1
/// more seeded inputs (<c>new Random(1000 + k)</c>, the same distribution): max |Δ|, max |Δ| / max |f32 output|, RMS Δ /
/// RMS output, for bignet.int8a (float residual stream), bignet.int8arow (the same with one weight scale per row) and bignet.int8chain (residual stream and LayerNorms in u8
/// codes), and the chain against int8a; ONNX Runtime's dynamic int8 for scale; the chain's clip counts (docs/activations.md).
/// </summary>
internal static class ActivationError
{
    public static int Run(int count)
    {
        var dim = PlainBigNet.Dim;
        using var plain = PlainBigNet.Load(Paths.SafeTensors());
        using var int8a = BigNetInt8A.Open();
        using var chain = BigNetInt8Chain.Open();
        using var row = BigNetInt8ARow.Open();
        var ortIn = new float[dim];
        var ortOut = new float[dim];
        using var ort = OrtBigNet.Create(OrtFormat.DynamicInt8, Paths.SafeTensors(), ortIn, ortOut);
        var f32 = new float[dim];
        var a = new float[dim];
        var c = new float[dim];
        var r = new float[dim];
        var stats = new Stats[5];
        for (var k = 0; k < count; k++)
        {
            var rng = new Random(k == 0 ? 7 : 1000 + k);
            var input = new float[dim];
            for (var i = 0; i < dim; i++)
            {
                input[i] = (float)((rng.NextDouble() * 2) - 1);
            }

            plain.ForwardDot(input, f32);
            int8a.Run(input, a);
            chain.Run(input, c);
            row.Run(input, r);
            input.CopyTo(ortIn, 0);
            ort.Run();
            stats[0].Add(f32, a);
            stats[1].Add(f32, c);
            stats[2].Add(a, c);
            stats[3].Add(f32, ortOut);
            stats[4].Add(f32, r);
            if (k == 0)
            {
                Console.WriteLine($"the BigNet sample's input (Random(7)): int8a vs f32 max |Δ| {MaxAbs(f32, a):E2}, chain vs f32 {MaxAbs(f32, c):E2}, chain vs int8a {MaxAbs(a, c):E2}, ORT dynamic int8 vs f32 {MaxAbs(f32, ortOut):E2} (max |f32 output| {f32.Max(MathF.Abs):F3})");
            }
        }

        Console.WriteLine($"{count} inputs (the sample's and {count - 1} more seeded, uniform [-1, 1)):");
        Console.WriteLine("| model | against | max abs error | max abs / max abs output | mean over inputs of max abs | RMS error / RMS output |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        string[] names = { "int8a (float residual stream)|f32", "int8chain (residual stream in codes)|f32", "int8chain|int8a", "ORT dynamic int8|f32", "int8arow (a weight scale per row)|f32" };
        for (var s = 0; s < names.Length; s++)
        {
            var p = names[s].Split('|');
            Console.WriteLine($"| {p[0]} | {p[1]} | {stats[s].Max:E2} | {stats[s].MaxRelative:E2} | {stats[s].SumMax / count:E2} | {Math.Sqrt(stats[s].Se / stats[s].Ss):E2} |");
        }

        Console.WriteLine($"int8chain clips over the {count} inputs ({string.Join(", ", BigNetInt8Chain.ActivationLayerNames)}): {string.Join(", ", chain.ClipCounts.ToArray())} of {count * dim} values each");
        Attribution(Math.Min(count, 20));
        Console.WriteLine($"intermediates: int8chain {BigNetInt8Chain.IntermediateBytes:N0} B (float scratch {BigNetInt8Chain.ScratchBytes:N0} + u8 codes {BigNetInt8Chain.QuantizedActivationBytes:N0}), int8a {BigNetInt8A.IntermediateBytes:N0} B, f32 activations {BigNetInt8Chain.FloatIntermediateBytes:N0} B");
        return 0;
    }

    /// <summary>
    /// Where the chain's error comes from: BigNet in double with float weights and float inner activations, the residual
    /// stream quantized to u8 alone: the LayerNorm outputs (the next block's input and residual) at their exact range or
    /// clipped at |normalised value| ≤ c; the residual sums at their exact range, or at f times it (a predicted range is
    /// wider than the actual one). RMS error / RMS output against the unquantized pass, over <paramref name="count"/> inputs.
    /// </summary>
    public static void Attribution(int count)
    {
        var t = OrtBigNet.ReadTensors(Paths.SafeTensors());
        var dim = PlainBigNet.Dim;
        (string Name, double LnClip, double SumWiden, bool QuantLn, bool QuantSum)[] variants =
        {
            ("LayerNorm outputs in codes (exact range)", 0, 0, true, false),
            ("LayerNorm outputs in codes, clipped at |u| <= 3", 3, 0, true, false),
            ("LayerNorm outputs in codes, clipped at |u| <= 2.5", 2.5, 0, true, false),
            ("residual sums in codes (exact range)", 0, 1, false, true),
            ("residual sums in codes (range 1.5x the actual)", 0, 1.5, false, true),
            ("residual sums in codes (range 2x the actual)", 0, 2, false, true),
            ("both (exact ranges)", 0, 1, true, true),
            ("the layer's output before the residual add in codes (exact range)", 0, -1, false, true),
            ("the layer's output before the residual add (exact) and LayerNorm outputs (exact) in codes", 0, -1, true, true),
        };
        Console.WriteLine("| u8 in the residual stream (float weights, float inner activations) | RMS error / RMS output | max abs error |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var v in variants)
        {
            double se = 0, ss = 0, max = 0;
            for (var k = 0; k < count; k++)
            {
                var rng = new Random(k == 0 ? 7 : 1000 + k);
                var input = new double[dim];
                for (var i = 0; i < dim; i++)
                {
                    input[i] = (float)((rng.NextDouble() * 2) - 1);
                }

                var exact = Forward(t, input, default);
                var q = Forward(t, input, v);
                for (var i = 0; i < dim; i++)
                {
                    se += (q[i] - exact[i]) * (q[i] - exact[i]);
                    ss += exact[i] * exact[i];
                    max = Math.Max(max, Math.Abs(q[i] - exact[i]));
                }
            }

            Console.WriteLine($"| {v.Name} | {Math.Sqrt(se / ss):E2} | {max:E2} |");
        }
    }

    private static double[] Forward(Dictionary<string, float[]> t, double[] input, (string Name, double LnClip, double SumWiden, bool QuantLn, bool QuantSum) v)
    {
        var x = input;
        for (var b = 0; b < PlainBigNet.Blocks; b++)
        {
            var h = x;
            for (var l = 0; l < 3; l++)
            {
                h = Linear(t[$"blocks.{b}.l{l}.weight"], t[$"blocks.{b}.l{l}.bias"], h, relu: l < 2);
            }

            if (v.QuantSum && v.SumWiden < 0 && b < PlainBigNet.Blocks - 1)
            {
                Quantize(h, h.Min(), h.Max());
            }

            for (var i = 0; i < h.Length; i++)
            {
                h[i] += x[i];
            }

            if (b == PlainBigNet.Blocks - 1)
            {
                return h;
            }

            if (v.QuantSum && v.SumWiden > 0)
            {
                var (lo, hi) = (h.Min(), h.Max());
                var mid = (lo + hi) / 2;
                Quantize(h, mid - ((hi - lo) / 2 * v.SumWiden), mid + ((hi - lo) / 2 * v.SumWiden));
            }

            var n = h.Length;
            var mean = h.Average();
            var sd = Math.Sqrt(h.Select(e => (e - mean) * (e - mean)).Sum() / n + 1e-5);
            var g = t[$"ln.{b}.weight"];
            var be = t[$"ln.{b}.bias"];
            var y = new double[n];
            double ylo = double.PositiveInfinity, yhi = double.NegativeInfinity;
            for (var i = 0; i < n; i++)
            {
                var u = (h[i] - mean) / sd;
                y[i] = (u * g[i]) + be[i];
                var ulo = v.LnClip > 0 ? (-v.LnClip * Math.Abs(g[i])) + be[i] : y[i];
                var uhi = v.LnClip > 0 ? (v.LnClip * Math.Abs(g[i])) + be[i] : y[i];
                ylo = Math.Min(ylo, ulo);
                yhi = Math.Max(yhi, uhi);
            }

            if (v.QuantLn)
            {
                Quantize(y, ylo, yhi);
            }

            x = y;
        }

        return x;
    }

    private static void Quantize(double[] x, double lo, double hi)
    {
        lo = Math.Min(lo, 0);
        hi = Math.Max(hi, 0);
        var scale = (hi - lo) / 255;
        var zero = Math.Round(-lo / scale);
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = scale * (Math.Clamp(Math.Round(x[i] / scale) + zero, 0, 255) - zero);
        }
    }

    private static double[] Linear(float[] w, float[] b, double[] x, bool relu)
    {
        var y = new double[b.Length];
        for (var o = 0; o < y.Length; o++)
        {
            double s = b[o];
            for (var i = 0; i < x.Length; i++)
            {
                s += w[(o * x.Length) + i] * x[i];
            }

            y[o] = relu ? Math.Max(s, 0) : s;
        }

        return y;
    }

    private static float MaxAbs(float[] x, float[] y)
    {
        var m = 0f;
        for (var i = 0; i < x.Length; i++)
        {
            m = MathF.Max(m, MathF.Abs(x[i] - y[i]));
        }

        return m;
    }

    private struct Stats
    {
        public double Max;
        public double MaxRelative;
        public double SumMax;
        public double Se;
        public double Ss;

        public void Add(float[] expected, float[] actual)
        {
            double max = 0, scale = 0;
            for (var i = 0; i < expected.Length; i++)
            {
                var d = (double)actual[i] - expected[i];
                max = Math.Max(max, Math.Abs(d));
                scale = Math.Max(scale, Math.Abs(expected[i]));
                Se += d * d;
                Ss += (double)expected[i] * expected[i];
            }

            Max = Math.Max(Max, max);
            MaxRelative = Math.Max(MaxRelative, max / scale);
            SumMax += max;
        }
    }
}
