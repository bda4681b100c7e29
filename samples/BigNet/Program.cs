using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using CodeGenChunk.Runtime;

namespace Samples.BigNet;

/// <summary>
/// Runs BigNet generated in f32, int8, int4, base11, ternary and mixed 32/8/1 per chunk and prints, for each: max |difference|
/// against the plain reference forward pass (for a quantized model also against the reference over its
/// dequantized weights, which isolates the kernel), max abs and relative error against the f32 model on
/// the same input, bits per weight, median latency, weight bytes, bytes allocated per run and a checksum.
/// <para>
/// Usage: <c>BigNet [runs] [--model f32|int8|int4|base11|ternary|mixed|stream|all] [--no-reference]</c>. <c>runs</c> is the number of timed runs
/// (default 50). <c>--no-reference</c> skips the reference pass, which reads the 75 MB float weights
/// (bignet.safetensors) and dominates the process's memory: with <c>--model int8 --no-reference</c> the process
/// holds only what the int8 model needs, which is what docs/deployment.md measures.
/// </para>
/// </summary>
internal static class Program
{
    private const string Usage = "usage: BigNet [runs] [--model f32|int8|int4|base11|ternary|mixed|stream|all] [--no-reference]";

    /// <summary>The quantized variants: format, group size (as in bignet.&lt;format&gt;.cgc.json).</summary>
    private static readonly (string Format, int GroupSize)[] Quantized = { ("int8", 64), ("int4", 64), ("base11", 256), ("ternary", 320) };

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
                case "--model" when a + 1 < args.Length && args[a + 1] is "f32" or "int8" or "int4" or "base11" or "ternary" or "mixed" or "stream" or "all":
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
        if (model == "stream")
        {
            // The streamed model runs first, before the float reference (bignet.safetensors) is loaded, so that the
            // process's peak RSS it prints is what streaming needs.
            var streamOk = ReportStream(input, null, runs, withReference);
            Console.WriteLine(streamOk ? "OK" : "FAILED: the streamed model differs from the reference beyond tolerance, or allocates");
            return streamOk ? 0 : 1;
        }

        ReferenceBigNet? reference = null;
        float[]? expected = null;
        if (withReference)
        {
            reference = ReferenceBigNet.Load(Path.Combine(AppContext.BaseDirectory, "bignet.safetensors"));
            expected = reference.Forward(input); // every model also prints its distance from the float model
        }
        else
        {
            Console.WriteLine("reference pass skipped (--no-reference): no max|diff|, only latency, allocation and checksum");
        }

        var ok = true;
        float[]? f32Output = null;
        if (model is "f32" or "all")
        {
            using var f32 = new BigNetF32();
            ok &= Report("f32", input, expected, null, f32.Run, BigNetF32.WeightBytes, 32, runs, 1e-3f, out f32Output);
        }

        foreach (var (format, groupSize) in Quantized)
        {
            if (model != format && model != "all")
            {
                continue;
            }

            var quantizedReference = reference?.WithQuantizedWeights(format, groupSize).Forward(input);
            using var run = Create(format, out var weightBytes);
            var bits = CodeGenChunk.Formats.WeightFormats.BitsPerWeight(format, BigNetF32.InputLength, groupSize);
            ok &= Report($"{format} (group {groupSize})", input, expected, quantizedReference, run.Run, weightBytes, bits, runs, 1e-3f, out var output);
            ReportVsF32(output, f32Output);
        }

        if (model is "mixed" or "all")
        {
            ok &= ReportMixed(input, reference, expected, f32Output, runs);
        }

        if (model == "all")
        {
            ok &= ReportStream(input, reference, runs, withReference);

            // bignet.int8a.cgc.json (int8 weights x int8 activations, predicted ranges) runs in the benchmarks, not here;
            // its generated constants give the intermediate memory against the same model with f32 activations.
            Console.WriteLine($"activations: BigNet int8 x int8 (bignet.int8a, benchmarks only) keeps {BigNetInt8A.IntermediateBytes:N0} bytes of intermediates "
                + $"({BigNetInt8A.QuantizedActivationBytes:N0} of u8 codes) against {BigNetInt8A.FloatIntermediateBytes:N0} with f32 activations: "
                + "the residual stream and the LayerNorm outputs stay float");
            Console.WriteLine($"activations: BigNet base11 pairs x int8 (bignet.base11a, benchmarks only) reads {BigNetBase11A.WeightBytes:N0} bytes of weights "
                + $"against int8 x int8's {BigNetInt8A.WeightBytes:N0} ({(double)BigNetInt8A.WeightBytes / BigNetBase11A.WeightBytes:F2}x less), with the same activations");
            Console.WriteLine($"activations: BigNet int8 x int8 with the residual stream in codes (bignet.int8chain, benchmarks only) keeps {BigNetInt8Chain.IntermediateBytes:N0} bytes of intermediates "
                + $"({BigNetInt8Chain.QuantizedActivationBytes:N0} of u8 codes, {BigNetInt8Chain.ScratchBytes:N0} of floats): {(double)BigNetInt8Chain.FloatIntermediateBytes / BigNetInt8Chain.IntermediateBytes:F2}x less than {BigNetInt8Chain.FloatIntermediateBytes:N0}");
        }

        Console.WriteLine(ok ? "OK" : "FAILED: a generated model differs from the reference beyond tolerance, or allocates");
        return ok ? 0 : 1;
    }

    private static void ReportVsF32(float[] output, float[]? f32Output)
    {
        if (f32Output is null)
        {
            return;
        }

        var abs = MaxAbsDiff(output, f32Output);
        var scale = 0f;
        foreach (var v in f32Output)
        {
            scale = MathF.Max(scale, MathF.Abs(v));
        }

        Console.WriteLine($"{string.Empty,-16} vs the f32 model on the same input: max abs error {abs:E2}, relative {abs / scale:E2} (of max |f32 output| {scale:F3})");
    }

    /// <summary>
    /// BigNet with a precision per chunk (bignet.mixed.cgc.json, seed 000): every linear layer in 16 chunks of 64 output
    /// rows, each stored in f32, int8 or int1 as <c>cgc calibrate</c> chose from its activity. Prints the run like the
    /// other formats (its kernel checked against the reference over the weights each chunk stores), then seed 000's size
    /// arithmetic per layer from the generated chunk formats.
    /// </summary>
    private static bool ReportMixed(float[] input, ReferenceBigNet? reference, float[]? expected, float[]? f32Output, int runs)
    {
        var layers = BigNetMixed.ChunkedLayerNames;
        var formats = BigNetMixed.ChunkFormats;
        var chunks = BigNetMixed.ChunkCount / layers.Length;
        var quantizedReference = reference?.WithMixedWeights(layers, formats, chunks, "int8", 64).Forward(input);

        // bits per weight including metadata: every byte of the chunk file (codes, scales, biases) over the weights
        var weights = (long)layers.Length * BigNetMixed.InputLength * BigNetMixed.OutputLength;
        var bits = 8.0 * BigNetMixed.WeightBytes / weights;
        using var mixed = new BigNetMixed();
        var ok = Report("mixed 32/8/1", input, expected, quantizedReference, mixed.Run, BigNetMixed.WeightBytes, bits, runs, 1e-3f, out var output);
        ReportVsF32(output, f32Output);

        // Seed 000, section 3: S = n_high·32 + n_mid·8 + n_low·1 bits per chunk-weight, against 32 for all.
        int t32 = 0, t8 = 0, t1 = 0;
        for (var l = 0; l < layers.Length; l++)
        {
            int n32 = 0, n8 = 0, n1 = 0;
            for (var c = 0; c < chunks; c++)
            {
                switch (formats[(l * chunks) + c])
                {
                    case "f32": n32++; break;
                    case "int8": n8++; break;
                    default: n1++; break;
                }
            }

            t32 += n32;
            t8 += n8;
            t1 += n1;
            if (l < 3)
            {
                var s = (n32 * 32) + (n8 * 8) + n1;
                Console.WriteLine($"{string.Empty,-16} seed 000 size arithmetic, {layers[l]}: n_high={n32}, n_mid={n8}, n_low={n1}: S = {n32}x32 + {n8}x8 + {n1}x1 = {s} bits vs {chunks}x32 = {chunks * 32}: {100.0 * (1 - (s / (32.0 * chunks))):0.0}% smaller");
            }
        }

        var total = (t32 * 32) + (t8 * 8) + t1;
        var all = 32 * (t32 + t8 + t1);
        Console.WriteLine($"{string.Empty,-16} seed 000 size arithmetic, all {layers.Length} layers: {t32} f32 + {t8} int8 + {t1} int1 chunks: S = {total} bits vs {all}: {100.0 * (1 - ((double)total / all)):0.0}% smaller (codes only); "
            + $"with scales and biases {BigNetMixed.WeightBytes:N0} vs f32 {BigNetF32.WeightBytes:N0} bytes: {100.0 * (1 - ((double)BigNetMixed.WeightBytes / BigNetF32.WeightBytes)):0.0}% smaller");
        return ok;
    }

    /// <summary>
    /// BigNet in base11 with stream placement (bignet.stream.cgc.json): weights read from bignet.stream.cgcw per
    /// inference. Prints the build-time constants, the bytes read, latency, allocation and the process's peak RSS, then
    /// the in-memory base11 model (same format and kernels, weights held in RAM) side by side, and checks the output
    /// against the reference over the dequantized base11 weights.
    /// </summary>
    private static bool ReportStream(float[] input, ReferenceBigNet? reference, int runs, bool withReference)
    {
        var output = new float[BigNetStream.OutputLength];
        using var streamed = BigNetStream.Open();
        Console.WriteLine($"{"stream (base11)",-16} kernels generated for Vector128 and scalar (target.simd \"v128\"); weights streamed from {streamed.Weights.Name}");
        var streamMedian = Median(runs, () => streamed.Run(input, output));
        var bytesRead = streamed.LastRunBytesRead;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var r = 0; r < 10; r++)
        {
            streamed.Run(input, output);
        }

        var allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / 10;
        var peakRss = PeakRssKiB();
        Console.WriteLine($"{"stream (base11)",-16} weight scratch {BigNetStream.WeightScratchBytes:N0} bytes; PeakRamBytes {BigNetStream.PeakRamBytes:N0} (budget 262,144); " +
            $"read {bytesRead:N0} bytes/run (MaxBytesReadPerRun {BigNetStream.MaxBytesReadPerRun:N0}, file {BigNetStream.WeightBytes:N0}); median {streamMedian:F3} ms; allocated {allocated} bytes/run; " +
            $"process peak RSS (VmHWM) {(peakRss < 0 ? "n/a" : peakRss.ToString("N0", CultureInfo.InvariantCulture) + " kB")}{(reference is null ? string.Empty : " (includes the float reference and the models run before)")}");

        // Side by side with the in-memory base11 model (same format, weights in RAM), runs interleaved so that both see
        // the same machine load. The streamed model has Vector128 and scalar kernels only (target.simd "v128", for code
        // size): on the in-memory model's Vector128 path the difference is the cost of reading; on its widest path the
        // whole gap.
        var inMemoryOutput = new float[BigNetBase11.OutputLength];
        using (var inMemory = new BigNetBase11())
        {
            foreach (var path in new[] { KernelPath.Vector128, KernelPath.Auto })
            {
                inMemory.KernelPath = path;
                inMemory.Run(input, inMemoryOutput);
                var s = new double[runs];
                var m = new double[runs];
                for (var r = 0; r < runs; r++)
                {
                    var start = Stopwatch.GetTimestamp();
                    streamed.Run(input, output);
                    s[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    start = Stopwatch.GetTimestamp();
                    inMemory.Run(input, inMemoryOutput);
                    m[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                }

                Array.Sort(s);
                Array.Sort(m);
                Console.WriteLine($"{string.Empty,-16} interleaved with in-memory base11 ({BigNetBase11.WeightBytes:N0} bytes in RAM) on {inMemory.KernelPath}: streamed median {s[runs / 2]:F3} ms, " +
                    $"in-memory median {m[runs / 2]:F3} ms, streamed / in-memory {s[runs / 2] / m[runs / 2]:F2}x; max|diff| {MaxAbsDiff(output, inMemoryOutput):E2}");
            }
        }

        var ok = allocated == 0 && bytesRead == BigNetStream.MaxBytesReadPerRun && double.IsFinite(Checksum(output));
        if (withReference)
        {
            reference ??= ReferenceBigNet.Load(Path.Combine(AppContext.BaseDirectory, "bignet.safetensors"));
            var quantized = reference.WithQuantizedWeights("base11", 256).Forward(input);
            var kernelDiff = MaxAbsDiff(output, quantized);
            Console.WriteLine($"{string.Empty,-16} max|diff| vs dequantized reference {kernelDiff:E2}");
            ok &= kernelDiff <= 1e-3f;
        }

        return ok;
    }

    private static double Median(int runs, Action run)
    {
        run(); // first call: JIT, page-in
        var times = new double[runs];
        for (var r = 0; r < runs; r++)
        {
            var start = Stopwatch.GetTimestamp();
            run();
            times[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(times);
        return times[runs / 2];
    }

    /// <summary>The process's peak resident set (VmHWM in /proc/self/status) in KiB, or -1 where there is none.</summary>
    /// <remarks>Read with a file handle and parsed by hand: a StreamReader would add FileStream's code to the binary.</remarks>
    private static long PeakRssKiB()
    {
        Span<byte> text = stackalloc byte[8192];
        int length;
        try
        {
            using var handle = File.OpenHandle("/proc/self/status");
            length = RandomAccess.Read(handle, text, 0);
        }
        catch (IOException)
        {
            return -1;
        }
        catch (UnauthorizedAccessException)
        {
            return -1;
        }

        ReadOnlySpan<byte> status = text.Slice(0, length);
        int at = status.IndexOf("VmHWM:"u8);
        if (at < 0)
        {
            return -1;
        }

        long kib = 0;
        for (int i = at + 6; i < status.Length && status[i] != (byte)'\n'; i++)
        {
            if (status[i] is >= (byte)'0' and <= (byte)'9')
            {
                kib = (kib * 10) + (status[i] - '0');
            }
        }

        return kib;
    }

    private delegate void RunFn(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>One of the quantized models, as a disposable with a Run method.</summary>
    private static IModel Create(string format, out long weightBytes)
    {
        switch (format)
        {
            case "int8":
                weightBytes = BigNetInt8.WeightBytes;
                return new Model<BigNetInt8>(new BigNetInt8(), static (m, i, o) => m.Run(i, o));
            case "int4":
                weightBytes = BigNetInt4.WeightBytes;
                return new Model<BigNetInt4>(new BigNetInt4(), static (m, i, o) => m.Run(i, o));
            case "base11":
                weightBytes = BigNetBase11.WeightBytes;
                return new Model<BigNetBase11>(new BigNetBase11(), static (m, i, o) => m.Run(i, o));
            default:
                weightBytes = BigNetTernary.WeightBytes;
                return new Model<BigNetTernary>(new BigNetTernary(), static (m, i, o) => m.Run(i, o));
        }
    }

    private interface IModel : IDisposable
    {
        void Run(ReadOnlySpan<float> input, Span<float> output);
    }

    private sealed class Model<T>(T model, Model<T>.RunModel run) : IModel
        where T : IDisposable
    {
        public delegate void RunModel(T model, ReadOnlySpan<float> input, Span<float> output);

        public void Run(ReadOnlySpan<float> input, Span<float> output) => run(model, input, output);

        public void Dispose() => model.Dispose();
    }

    private static bool Report(string name, float[] input, float[]? reference, float[]? quantizedReference, RunFn run, long weightBytes, double bitsPerWeight, int runs, float tolerance, out float[] output)
    {
        output = new float[BigNetF32.OutputLength];
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
        var timing = $"{bitsPerWeight:F2} bits/weight; median {times[runs / 2]:F3} ms; weights {weightBytes:N0} bytes; allocated {allocated} bytes/run; checksum {checksum:F6}";
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
