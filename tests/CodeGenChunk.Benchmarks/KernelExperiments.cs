using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using static CodeGenChunk.Benchmarks.ExperimentKernels;

namespace CodeGenChunk.Benchmarks;

/// <summary>
/// <c>--experiments</c>: times the <see cref="ExperimentKernels"/> over BigNet-sized networks (18 x 1024x1024,
/// synthetic weights: the timing does not depend on the values), warm (one copy, back to back) and cold (rotating
/// over copies totalling at least 4 x LLC, as the cold benchmarks do). Stopwatch medians, not BenchmarkDotNet:
/// it is a profiling aid that says which change to the generated kernels pays, not a published number.
/// </summary>
internal static unsafe class KernelExperiments
{
    private const int Layers = 18;
    private const long Int8Matrix = (long)N * N;
    private const long Int8Scales = (long)N * NG * sizeof(float);
    private const long Int8Layer = Int8Matrix + Int8Scales + (N * sizeof(float)); // weights, scales, VNNI row constants
    private const long F32Layer = (long)N * N * sizeof(float);

    private enum Layout
    {
        RowMajor,
        Interleaved,
    }

    private sealed record Experiment(string Name, bool Int8, Layout Layout, string Change);

    public static int Run(string? prefix = null)
    {
        if (!Avx512F.IsSupported || !Avx512BW.IsSupported)
        {
            Console.WriteLine("--experiments needs AVX-512 (F, BW): the variants are written with Vector512.");
            return 1;
        }

        Console.WriteLine($"# {MachineInfo.Describe()}");
        Console.WriteLine($"# load average before: {MachineInfo.LoadAverage()}");
        var experiments = new List<Experiment>
        {
            new("Int8Generated", true, Layout.RowMajor, "as generated today: 4 rows at a time, 1 chain per row, 4-step loop per group"),
            new("Int8EightChains", true, Layout.RowMajor, "group unrolled, 2 partial sums per row (8 FMA chains)"),
            new("Int8Prefetch8K", true, Layout.RowMajor, "as generated + Sse.Prefetch0 8 KiB ahead in each row (x86 only)"),
            new("Int8OneRow", true, Layout.RowMajor, "1 row at a time (sequential read), 4 groups in flight — template-only change"),
            new("Int8Interleaved", true, Layout.Interleaved, "arithmetic as generated, weights packed [row/4][group][row%4][64] — layout change"),
            new("Int8InterleavedPrefetch", true, Layout.Interleaved, "Int8Interleaved + prefetcht0 of each group's 4 lines 8 KiB ahead (x86 only)"),
            new("F32Generated", false, Layout.RowMajor, "as generated today: 4 rows at a time, 2 accumulators per row"),
            new("F32OneRow", false, Layout.RowMajor, "1 row at a time, 4 accumulators (what TensorPrimitives.Dot row by row does)"),
            new("F32Interleaved", false, Layout.Interleaved, "arithmetic as generated, weights packed [row/4][input/32][row%4][32]"),
            new("F32Prefetch2K", false, Layout.Interleaved, "F32Interleaved + prefetcht0 of every line 2 KiB ahead (x86 only)"),
            new("F32Prefetch8K", false, Layout.Interleaved, "F32Interleaved + prefetcht0 of every line 8 KiB ahead (x86 only)"),
        };
        if (AvxVnni.IsSupported)
        {
            experiments.Insert(3, new("Int8Vnni", true, Layout.RowMajor, "u8 activations x s8 weights, AVX-VNNI vpdpbusd (changes numerics)"));
        }

        if (prefix is not null)
        {
            experiments.RemoveAll(e => !e.Name.StartsWith(prefix, StringComparison.Ordinal));
        }

        var x = (float*)NativeMemory.AlignedAlloc(N * sizeof(float), 64);
        var y = (float*)NativeMemory.AlignedAlloc(N * sizeof(float), 64);
        var xu = (byte*)NativeMemory.AlignedAlloc(N, 64);
        var rng = new Random(7);
        for (var i = 0; i < N; i++)
        {
            x[i] = i % 7 == 0 ? 0f : (float)((rng.NextDouble() * 2) - 1); // some zeros, as after a ReLU
        }

        var xMax = 0f;
        for (var i = 0; i < N; i++)
        {
            xMax = MathF.Max(xMax, MathF.Abs(x[i]));
        }

        var xs = xMax / 127;
        var reference = new float[N];
        var rows = new List<string>();
        var baselineCold = new Dictionary<bool, double>();
        foreach (var int8 in new[] { true, false })
        {
            foreach (var layout in new[] { Layout.RowMajor, Layout.Interleaved })
            {
                var group = experiments.FindAll(e => e.Int8 == int8 && e.Layout == layout);
                if (group.Count == 0)
                {
                    continue;
                }

                var perCopy = Layers * (int8 ? Int8Layer : F32Layer);
                var master = int8 ? MasterInt8(layout) : MasterF32(layout);
                foreach (var cold in new[] { false, true })
                {
                    var copies = cold ? BigNetBenchmarks.ColdCopies(perCopy) : 1;
                    var nets = new byte*[copies];
                    for (var k = 0; k < copies; k++)
                    {
                        nets[k] = (byte*)NativeMemory.AlignedAlloc((nuint)perCopy, 64);
                        Buffer.MemoryCopy(master, nets[k], perCopy, perCopy);
                    }

                    foreach (var e in group)
                    {
                        var next = 0;
                        void Forward()
                        {
                            var net = nets[next];
                            next = next + 1 == copies ? 0 : next + 1;
                            for (var l = 0; l < Layers; l++)
                            {
                                RunLayer(e.Name, net, l, x, y, xu, xs);
                            }
                        }

                        for (var i = 0; i < (2 * copies) + 50; i++)
                        {
                            Forward();
                        }

                        var ms = Median(Forward, Math.Max(300, 2 * copies));
                        var error = Error(e.Name, y, reference);
                        var weightBytes = Layers * (int8 ? Int8Matrix + Int8Scales : F32Layer);
                        if (cold && (e.Name == "Int8Generated" || e.Name == "F32Generated"))
                        {
                            baselineCold[int8] = ms;
                        }

                        var speedup = cold && baselineCold.TryGetValue(int8, out var b) ? (b / ms).ToString("F2", CultureInfo.InvariantCulture) + "×" : "";
                        rows.Add($"| {e.Name} | {(cold ? $"cold ({copies} copies)" : "warm")} | {ms:F3} ms | {weightBytes / ms / 1e6:F1} | {speedup} | {error} | {e.Change} |");
                        Console.WriteLine(rows[^1]);
                    }

                    foreach (var net in nets)
                    {
                        NativeMemory.AlignedFree(net);
                    }
                }

                NativeMemory.AlignedFree(master);
            }
        }

        Console.WriteLine();
        Console.WriteLine("| Kernel | Weights | Median (18 layers) | Weight GB/s | Speed-up vs generated-style (cold) | Max rel. error vs generated-style | What changes |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---|");
        foreach (var row in rows)
        {
            Console.WriteLine(row);
        }

        Console.WriteLine($"# load average after: {MachineInfo.LoadAverage()}");
        NativeMemory.AlignedFree(x);
        NativeMemory.AlignedFree(y);
        NativeMemory.AlignedFree(xu);
        return 0;
    }

    private static void RunLayer(string name, byte* net, int layer, float* x, float* y, byte* xu, float xs)
    {
        var q = (sbyte*)(net + (layer * Int8Layer));
        var sc = (float*)(net + (layer * Int8Layer) + Int8Matrix);
        var corr = (float*)(net + (layer * Int8Layer) + Int8Matrix + Int8Scales);
        var w = (float*)(net + (layer * F32Layer));
        switch (name)
        {
            case "Int8Generated":
                Int8Generated(q, sc, x, y, 0);
                break;
            case "Int8Prefetch8K":
                Int8Generated(q, sc, x, y, 8192);
                break;
            case "Int8EightChains":
                Int8EightChains(q, sc, x, y);
                break;
            case "Int8Vnni":
                for (var i = 0; i < N; i++)
                {
                    xu[i] = (byte)(MathF.Round(x[i] / xs) + 128); // part of the cost: once per layer
                }

                Int8Vnni(q, sc, xu, xs, corr, y);
                break;
            case "Int8OneRow":
                Int8OneRow(q, sc, x, y);
                break;
            case "Int8Interleaved":
                Int8Interleaved(q, sc, x, y);
                break;
            case "Int8InterleavedPrefetch":
                Int8InterleavedPrefetch(q, sc, x, y);
                break;
            case "F32Generated":
                F32Generated(w, x, y);
                break;
            case "F32OneRow":
                F32OneRow(w, x, y);
                break;
            case "F32Interleaved":
                F32Interleaved(w, x, y);
                break;
            case "F32Prefetch2K":
                F32InterleavedPrefetch(w, x, y, 2048);
                break;
            case "F32Prefetch8K":
                F32InterleavedPrefetch(w, x, y, 8192);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(name), name, null);
        }
    }

    /// <summary>Max |y - reference| / max |reference| of the last layer; the generated-style kernel sets the reference.</summary>
    private static string Error(string name, float* y, float[] reference)
    {
        if (name is "Int8Generated" or "F32Generated")
        {
            for (var i = 0; i < N; i++)
            {
                reference[i] = y[i];
            }

            return "(reference)";
        }

        double error = 0, scale = 0;
        for (var i = 0; i < N; i++)
        {
            error = Math.Max(error, Math.Abs(y[i] - reference[i]));
            scale = Math.Max(scale, Math.Abs(reference[i]));
        }

        return (error / scale).ToString("0.0E+0", CultureInfo.InvariantCulture);
    }

    private static byte* MasterInt8(Layout layout)
    {
        var rng = new Random(1);
        var net = (byte*)NativeMemory.AlignedAlloc((nuint)(Layers * Int8Layer), 64);
        var row = new sbyte[N * N];
        for (var l = 0; l < Layers; l++)
        {
            var q = (sbyte*)(net + (l * Int8Layer));
            var sc = (float*)(net + (l * Int8Layer) + Int8Matrix);
            var corr = (float*)(net + (l * Int8Layer) + Int8Matrix + Int8Scales);
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = (sbyte)rng.Next(-127, 128);
            }

            for (var i = 0; i < N * NG; i++)
            {
                sc[i] = (float)((rng.NextDouble() * 0.01) + 0.001);
            }

            for (var o = 0; o < N; o++)
            {
                double c = 0;
                for (var g = 0; g < NG; g++)
                {
                    long s = 0;
                    for (var i = 0; i < G; i++)
                    {
                        var v = row[(o * N) + (g * G) + i];
                        s += v;
                        var at = layout == Layout.RowMajor ? (o * N) + (g * G) + i : ((o / 4) * 4 * N) + (g * 4 * G) + ((o % 4) * G) + i;
                        q[at] = v;
                    }

                    c += sc[(o * NG) + g] * s;
                }

                corr[o] = (float)(128 * c);
            }
        }

        return net;
    }

    private static byte* MasterF32(Layout layout)
    {
        var rng = new Random(2);
        var net = (byte*)NativeMemory.AlignedAlloc((nuint)(Layers * F32Layer), 64);
        for (var l = 0; l < Layers; l++)
        {
            var w = (float*)(net + (l * F32Layer));
            for (var o = 0; o < N; o++)
            {
                for (var i = 0; i < N; i++)
                {
                    var v = (float)((rng.NextDouble() * 0.06) - 0.03);
                    var at = layout == Layout.RowMajor ? (o * N) + i : ((o / 4) * 4 * N) + ((i / 32) * 128) + ((o % 4) * 32) + (i % 32);
                    w[at] = v;
                }
            }
        }

        return net;
    }

    private static double Median(Action action, int runs)
    {
        var times = new double[runs];
        for (var r = 0; r < runs; r++)
        {
            var start = Stopwatch.GetTimestamp();
            action();
            times[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(times);
        return times[runs / 2];
    }
}
