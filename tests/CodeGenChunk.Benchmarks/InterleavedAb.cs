using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Samples.BigNet;

namespace CodeGenChunk.Benchmarks;

/// <summary>
/// <c>--int4a-ab [rounds]</c>: BigNet warm, interleaved A/B on a shared machine. Each round runs every model a batch of
/// calls in turn (the order rotates by round), so load from other processes falls on all of them alike; prints each
/// model's median per-call time over the rounds and the median of the per-round ratios to Int4A (docs/activations.md).
/// Models: int4 weights × int8 activations (BigNetInt4A), int8 × int8 (BigNetInt8A), int4 with float activations
/// (BigNetInt4), ONNX Runtime MatMulNBits 4-bit (block 32, accuracy_level 4, one thread).
/// </summary>
internal static class InterleavedAb
{
    public static int Run(int rounds)
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
        using var int4a = BigNetInt4A.Open();
        using var int8a = BigNetInt8A.Open();
        using var int4 = new BigNetInt4();
        using var ort = OrtBigNet.Create(OrtFormat.MatMulNBits4, Paths.SafeTensors(), input, ortOutput);
        var models = new (string Name, Action Run)[]
        {
            ("Int4A_Generated", () => int4a.Run(input, output)),
            ("Int8A_Generated", () => int8a.Run(input, output)),
            ("Int4_Generated", () => int4.Run(input, output)),
            ("Ort_MatMulNBits4", ort.Run),
        };
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
        Console.WriteLine("| model | median per call | min | median of per-round ratio (model ÷ Int4A) |");
        Console.WriteLine("|---|---:|---:|---:|");
        for (var m = 0; m < models.Length; m++)
        {
            var ratios = Enumerable.Range(0, rounds).Select(r => times[m][r] / times[0][r]).ToList();
            Console.WriteLine($"| {models[m].Name} | {Median(times[m]):F1} µs | {times[m].Min():F1} µs | {Median(ratios):F3} |");
        }

        return 0;
    }

    private static double Median(List<double> values)
    {
        var s = values.OrderBy(v => v).ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[(s.Count / 2) - 1] + s[s.Count / 2]) / 2;
    }
}
