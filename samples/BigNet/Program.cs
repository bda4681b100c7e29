using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using CodeGenChunk.Runtime;

namespace Samples.BigNet;

/// <summary>
/// Runs BigNet generated in f32 and int8 and prints, for each: max |difference| against the
/// plain reference forward pass, median latency, weight bytes, and bytes allocated per run.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 50;
        var weightsPath = Path.Combine(AppContext.BaseDirectory, "bignet.safetensors");
        var input = new float[BigNetF32.InputLength];
        var rng = new Random(7);
        for (var i = 0; i < input.Length; i++)
        {
            input[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        Console.WriteLine($"BigNet: 6 residual blocks of 3 x Linear(1024, 1024), LayerNorm between blocks; kernel path {KernelPaths.Best}");
        var reference = ReferenceBigNet.Load(weightsPath);
        var expected = reference.Forward(input);
        var expectedInt8 = reference.WithInt8Weights(64).Forward(input);

        var ok = true;
        using (var f32 = new BigNetF32())
        {
            ok &= Report("f32", input, expected, null, f32.Run, BigNetF32.WeightBytes, runs, 1e-3f);
        }

        using (var int8 = new BigNetInt8())
        {
            ok &= Report("int8 (group 64)", input, expected, expectedInt8, int8.Run, BigNetInt8.WeightBytes, runs, 1e-3f);
        }

        Console.WriteLine(ok ? "OK" : "FAILED: a generated model differs from the reference beyond tolerance");
        return ok ? 0 : 1;
    }

    private delegate void RunFn(ReadOnlySpan<float> input, Span<float> output);

    private static bool Report(string name, float[] input, float[] reference, float[]? quantizedReference, RunFn run, long weightBytes, int runs, float tolerance)
    {
        var output = new float[reference.Length];
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
        var diff = MaxAbsDiff(output, reference);
        var kernelDiff = quantizedReference is null ? diff : MaxAbsDiff(output, quantizedReference);
        Console.WriteLine($"{name,-16} max|diff| vs f32 reference {diff:E2}" +
            (quantizedReference is null ? string.Empty : $", vs dequantized reference {kernelDiff:E2}") +
            $"; median {times[runs / 2]:F3} ms; weights {weightBytes:N0} bytes; allocated {allocated} bytes/run; checksum {Checksum(output):F6}");
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
