using System;
using System.Linq;
using Samples.BigNet;

namespace CodeGenChunk.Benchmarks;

/// <summary>
/// <c>--activation-error [N]</c>: BigNet's outputs with int8 activations against the f32 forward pass
/// (<see cref="PlainBigNet.ForwardDot"/>), on the BigNet sample's input (uniform [−1, 1), <c>new Random(7)</c>) and N − 1
/// more seeded inputs (<c>new Random(1000 + k)</c>, the same distribution): max |Δ|, max |Δ| / max |f32 output|, RMS Δ /
/// RMS output, for bignet.int8a (float residual stream) and bignet.int8chain (residual stream and LayerNorms in u8
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
        var ortIn = new float[dim];
        var ortOut = new float[dim];
        using var ort = OrtBigNet.Create(OrtFormat.DynamicInt8, Paths.SafeTensors(), ortIn, ortOut);
        var f32 = new float[dim];
        var a = new float[dim];
        var c = new float[dim];
        var stats = new Stats[4];
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
            input.CopyTo(ortIn, 0);
            ort.Run();
            stats[0].Add(f32, a);
            stats[1].Add(f32, c);
            stats[2].Add(a, c);
            stats[3].Add(f32, ortOut);
            if (k == 0)
            {
                Console.WriteLine($"the BigNet sample's input (Random(7)): int8a vs f32 max |Δ| {MaxAbs(f32, a):E2}, chain vs f32 {MaxAbs(f32, c):E2}, chain vs int8a {MaxAbs(a, c):E2}, ORT dynamic int8 vs f32 {MaxAbs(f32, ortOut):E2} (max |f32 output| {f32.Max(MathF.Abs):F3})");
            }
        }

        Console.WriteLine($"{count} inputs (the sample's and {count - 1} more seeded, uniform [-1, 1)):");
        Console.WriteLine("| model | against | max abs error | max abs / max abs output | mean over inputs of max abs | RMS error / RMS output |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        string[] names = { "int8a (float residual stream)|f32", "int8chain (residual stream in codes)|f32", "int8chain|int8a", "ORT dynamic int8|f32" };
        for (var s = 0; s < 4; s++)
        {
            var p = names[s].Split('|');
            Console.WriteLine($"| {p[0]} | {p[1]} | {stats[s].Max:E2} | {stats[s].MaxRelative:E2} | {stats[s].SumMax / count:E2} | {Math.Sqrt(stats[s].Se / stats[s].Ss):E2} |");
        }

        Console.WriteLine($"int8chain clips over the {count} inputs ({string.Join(", ", BigNetInt8Chain.ActivationLayerNames)}): {string.Join(", ", chain.ClipCounts.ToArray())} of {count * dim} values each");
        Console.WriteLine($"intermediates: int8chain {BigNetInt8Chain.IntermediateBytes:N0} B (float scratch {BigNetInt8Chain.ScratchBytes:N0} + u8 codes {BigNetInt8Chain.QuantizedActivationBytes:N0}), int8a {BigNetInt8A.IntermediateBytes:N0} B, f32 activations {BigNetInt8Chain.FloatIntermediateBytes:N0} B");
        return 0;
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
