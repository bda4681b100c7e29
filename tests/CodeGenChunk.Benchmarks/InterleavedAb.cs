using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Samples.BigNet;

namespace CodeGenChunk.Benchmarks;

/// <summary>
/// Interleaved A/B of BigNet warm on a shared machine. Each round runs every model a batch of calls in turn (the order
/// rotates by round), so load from other processes falls on all of them alike; prints each model's median per-call time
/// over the rounds and the median of the per-round ratios to the first model.
/// <list type="bullet">
/// <item><c>--int4a-ab [rounds]</c> (docs/activations.md): int4 weights × int8 activations (BigNetInt4A), int8 × int8
/// (BigNetInt8A), int4 with float activations (BigNetInt4), ONNX Runtime MatMulNBits 4-bit (block 32, accuracy_level 4).</item>
/// <item><c>--peers-ab [rounds]</c> (docs/benchmarks.md): each generated model next to its ONNX Runtime peer (one thread):
/// f32 against Gemm, int8 × int8 (per-group and per-row scales) against dynamic int8, int4 × int8 against MatMulNBits,
/// and every weight format with float activations (f16, int8, int4, base11 pairs, ternary, int1) against ORT f32; also
/// prints the median of the per-round speed-ups (peer ÷ model) of each pair.</item>
/// <item><c>--formats-ab [rounds]</c> (docs/benchmarks.md): fewer bytes, less time? Every weight format with int8
/// activations: int8 (per-group and per-row scales), base11 pairs, ternary, int4.</item>
/// </list>
/// </summary>
internal static class InterleavedAb
{
    public static int Run(int rounds) => Run(rounds, peers: false);

    public static int Run(int rounds, bool peers, bool formats = false)
    {
        const int batch = 10;
        var input = new float[PlainBigNet.Dim];
        var rng = new Random(7);
        for (var i = 0; i < input.Length; i++)
        {
            input[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        var output = new float[PlainBigNet.Dim];
        var ortOutput = new float[PlainBigNet.Dim];
        var disposables = new List<IDisposable>();
        T Keep<T>(T d)
            where T : IDisposable
        {
            disposables.Add(d);
            return d;
        }

        (string Name, Action Run)[] models;
        if (formats)
        {
            var int8a = Keep(BigNetInt8A.Open());
            var int8arow = Keep(BigNetInt8ARow.Open());
            var base11a = Keep(BigNetBase11A.Open());
            var ternarya = Keep(BigNetTernaryA.Open());
            var int4a = Keep(BigNetInt4A.Open());
            models = new (string Name, Action Run)[]
            {
                ("Int8A_Generated", () => int8a.Run(input, output)),
                ("Int8ARow_Generated", () => int8arow.Run(input, output)),
                ("Base11A_Generated", () => base11a.Run(input, output)),
                ("TernaryA_Generated", () => ternarya.Run(input, output)),
                ("Int4A_Generated", () => int4a.Run(input, output)),
            };
        }
        else if (peers)
        {
            var f32 = Keep(new BigNetF32());
            var int8a = Keep(BigNetInt8A.Open());
            var int8arow = Keep(BigNetInt8ARow.Open());
            var int4a = Keep(BigNetInt4A.Open());
            var ortF32 = Keep(OrtBigNet.Create(OrtFormat.F32, Paths.SafeTensors(), input, ortOutput));
            var ortInt8 = Keep(OrtBigNet.Create(OrtFormat.DynamicInt8, Paths.SafeTensors(), input, ortOutput));
            var ortInt4 = Keep(OrtBigNet.Create(OrtFormat.MatMulNBits4, Paths.SafeTensors(), input, ortOutput));
            var f16 = Keep(BigNetF16.Open());
            var int8 = Keep(new BigNetInt8());
            var int4 = Keep(new BigNetInt4());
            var base11p = Keep(BigNetBase11P.Open());
            var ternary = Keep(new BigNetTernary());
            var int1 = Keep(BigNetInt1.Open());
            models = new (string Name, Action Run)[]
            {
                ("F32_Generated", () => f32.Run(input, output)),
                ("Ort_F32", ortF32.Run),
                ("Int8A_Generated", () => int8a.Run(input, output)),
                ("Int8ARow_Generated", () => int8arow.Run(input, output)),
                ("Ort_DynamicInt8", ortInt8.Run),
                ("Int4A_Generated", () => int4a.Run(input, output)),
                ("Ort_MatMulNBits4", ortInt4.Run),
                ("F16_Generated", () => f16.Run(input, output)),
                ("Int8_Generated", () => int8.Run(input, output)),
                ("Int4_Generated", () => int4.Run(input, output)),
                ("Base11P_Generated", () => base11p.Run(input, output)),
                ("Ternary_Generated", () => ternary.Run(input, output)),
                ("Int1_Generated", () => int1.Run(input, output)),
            };
        }
        else
        {
            var int4a = Keep(BigNetInt4A.Open());
            var int8a = Keep(BigNetInt8A.Open());
            var int4 = Keep(new BigNetInt4());
            var ort = Keep(OrtBigNet.Create(OrtFormat.MatMulNBits4, Paths.SafeTensors(), input, ortOutput));
            models = new (string Name, Action Run)[]
            {
                ("Int4A_Generated", () => int4a.Run(input, output)),
                ("Int8A_Generated", () => int8a.Run(input, output)),
                ("Int4_Generated", () => int4.Run(input, output)),
                ("Ort_MatMulNBits4", ort.Run),
            };
        }

        try
        {
            foreach (var m in models)
            {
                for (var k = 0; k < 20; k++)
                {
                    m.Run(); // warm-up: JIT (tiered to full optimization) and caches
                }
            }

            var times = models.Select(_ => new List<double>()).ToArray();
            Console.WriteLine($"// {rounds} rounds x {batch} calls per model, interleaved; load average before {MachineInfo.LoadAverage()}");
            var sw = new Stopwatch();
            for (var r = 0; r < rounds; r++)
            {
                for (var j = 0; j < models.Length; j++)
                {
                    var m = (j + r) % models.Length;
                    sw.Restart();
                    for (var k = 0; k < batch; k++)
                    {
                        models[m].Run();
                    }

                    times[m].Add(sw.Elapsed.TotalMicroseconds / batch);
                }
            }

            Console.WriteLine($"// load average after {MachineInfo.LoadAverage()}");
            Console.WriteLine($"| model | median per call | min | median of per-round ratio (model ÷ {models[0].Name}) |");
            Console.WriteLine("|---|---:|---:|---:|");
            for (var m = 0; m < models.Length; m++)
            {
                var ratios = Enumerable.Range(0, rounds).Select(r => times[m][r] / times[0][r]).ToList();
                Console.WriteLine($"| {models[m].Name} | {Median(times[m]):F1} µs | {times[m].Min():F1} µs | {Median(ratios):F3} |");
            }

            if (formats)
            {
                Console.WriteLine();
                Console.WriteLine($"| format | median of per-round speed-up ({models[0].Name} ÷ format) | rounds the format is faster |");
                Console.WriteLine("|---|---:|---:|");
                for (var m = 1; m < models.Length; m++)
                {
                    var speedups = Enumerable.Range(0, rounds).Select(r => times[0][r] / times[m][r]).ToList();
                    Console.WriteLine($"| {models[m].Name} | {Median(speedups):F3}× | {speedups.Count(v => v > 1)} of {rounds} |");
                }
            }

            if (peers && !formats)
            {
                Console.WriteLine();
                Console.WriteLine("| generated | ONNX Runtime peer | median of per-round speed-up (peer ÷ generated) | rounds the generated model is faster |");
                Console.WriteLine("|---|---|---:|---:|");
                foreach (var (g, o) in new[] { (0, 1), (2, 4), (3, 4), (5, 6), (7, 1), (8, 1), (9, 1), (10, 1), (11, 1), (12, 1) })
                {
                    var speedups = Enumerable.Range(0, rounds).Select(r => times[o][r] / times[g][r]).ToList();
                    Console.WriteLine($"| {models[g].Name} | {models[o].Name} | {Median(speedups):F3}× | {speedups.Count(v => v > 1)} of {rounds} |");
                }
            }
        }
        finally
        {
            foreach (var d in disposables)
            {
                d.Dispose();
            }
        }

        return 0;
    }

    private static double Median(List<double> values)
    {
        var s = values.OrderBy(v => v).ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[(s.Count / 2) - 1] + s[s.Count / 2]) / 2;
    }
}
