using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using CodeGenChunk.Runtime;

namespace Samples.BigNet;

/// <summary>
/// Runs BigNet generated in f32 and int8 and prints, for each: max |difference| against the
/// plain reference forward pass, median latency, weight bytes, bytes allocated per run and a checksum.
/// <para>
/// Usage: <c>BigNet [runs] [--model f32|int8|all] [--no-reference]</c>. <c>runs</c> is the number of timed runs
/// (default 50). <c>--no-reference</c> skips the reference pass, which reads the 75 MB float weights
/// (bignet.safetensors) and dominates the process's memory: with <c>--model int8 --no-reference</c> the process
/// holds only what the int8 model needs, which is what docs/deployment.md measures.
/// </para>
/// </summary>
internal static class Program
{
    private const string Usage = "usage: BigNet [runs] [--model f32|int8|all] [--no-reference]";

    private static int Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        var runs = 50;
        var model = "all";
        var withReference = true;
        for (var a = 0; a < args.Length; a++)
        {
            switch (args[a])
            {
                case "--no-reference":
                    withReference = false;
                    break;
                case "--model" when a + 1 < args.Length && args[a + 1] is "f32" or "int8" or "all":
                    model = args[++a];
                    break;
                default:
                    if (!int.TryParse(args[a], NumberStyles.None, CultureInfo.InvariantCulture, out runs) || runs < 1)
                    {
                        Console.Error.WriteLine(Usage);
                        return 2;
                    }

                    break;
            }
        }

        var input = new float[BigNetF32.InputLength];
        var rng = new Random(7);
        for (var i = 0; i < input.Length; i++)
        {
            input[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        Console.WriteLine($"BigNet: 6 residual blocks of 3 x Linear(1024, 1024), LayerNorm between blocks; kernel path {KernelPaths.Resolve(KernelPath.Auto)} (widest accelerated {KernelPaths.Best})");
        float[]? expected = null;
        float[]? expectedInt8 = null;
        if (withReference)
        {
            var reference = ReferenceBigNet.Load(Path.Combine(AppContext.BaseDirectory, "bignet.safetensors"));
            expected = reference.Forward(input); // int8 also prints its distance from the float model
            expectedInt8 = model is "int8" or "all" ? reference.WithInt8Weights(64).Forward(input) : null;
        }
        else
        {
            Console.WriteLine("reference pass skipped (--no-reference): no max|diff|, only latency, allocation and checksum");
        }

        var ok = true;
        if (model is "f32" or "all")
        {
            using var f32 = new BigNetF32();
            ok &= Report("f32", input, expected, null, f32.Run, BigNetF32.WeightBytes, runs, 1e-3f);
        }

        if (model is "int8" or "all")
        {
            using var int8 = new BigNetInt8();
            ok &= Report("int8 (group 64)", input, expected, expectedInt8, int8.Run, BigNetInt8.WeightBytes, runs, 1e-3f);
        }

        Console.WriteLine(ok ? "OK" : "FAILED: a generated model differs from the reference beyond tolerance, or allocates");
        return ok ? 0 : 1;
    }

    private delegate void RunFn(ReadOnlySpan<float> input, Span<float> output);

    private static bool Report(string name, float[] input, float[]? reference, float[]? quantizedReference, RunFn run, long weightBytes, int runs, float tolerance)
    {
        var output = new float[BigNetF32.OutputLength];
        run(input, output); // first call: JIT, page-in of the weights
        var times = new double[runs];
        for (var r = 0; r < runs; r++)
        {
            var start = Stopwatch.GetTimestamp();
            run(input, output);
            times[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(times);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var r = 0; r < 10; r++)
        {
            run(input, output);
        }

        var allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / 10;
        var checksum = Checksum(output);
        var timing = $"median {times[runs / 2]:F3} ms; weights {weightBytes:N0} bytes; allocated {allocated} bytes/run; checksum {checksum:F6}";
        if (reference is null)
        {
            Console.WriteLine($"{name,-16} {timing}");
            return allocated == 0 && double.IsFinite(checksum);
        }

        var diff = MaxAbsDiff(output, reference);
        var kernelDiff = quantizedReference is null ? diff : MaxAbsDiff(output, quantizedReference);
        Console.WriteLine($"{name,-16} max|diff| vs f32 reference {diff:E2}" +
            (quantizedReference is null ? string.Empty : $", vs dequantized reference {kernelDiff:E2}") +
            $"; {timing}");
        return kernelDiff <= tolerance && allocated == 0;
    }

    private static float MaxAbsDiff(float[] a, float[] b)
    {
        var max = 0f;
        for (var i = 0; i < a.Length; i++)
        {
            max = MathF.Max(max, MathF.Abs(a[i] - b[i]));
        }

        return max;
    }

    private static double Checksum(float[] values)
    {
        double sum = 0;
        foreach (var v in values)
        {
            sum += v;
        }

        return sum;
    }
}
