using System;
using System.Diagnostics;
using CodeGenChunk.Runtime;
using CodeGenChunk.Runtime.Kernels;

namespace CodeGenChunk.Benchmarks;

/// <summary>
/// <c>--activation-cost</c>: one BigNet-sized layer (1024 × 1024, int8 weights in groups of 64) with int8 activations,
/// timed by Stopwatch (best of 7 rounds) on every dot-product path of this machine: the kernel writing predicted codes,
/// the prediction (<see cref="Int8Activations.PredictParams"/>: input moments and the per-row range), and the dynamic
/// quantization of a float input (range, then codes). Prints the prediction's cost as a share of the layer's, and the
/// same layer with int4 weights (<see cref="Int4Activations.Linear"/>, group 64, nibbles unpacked in registers) and with
/// int16 activations (<see cref="Int16Activations.Linear"/>, the same int8 weights) on every int16 path, as a ratio to
/// the fastest int8 path, and with base11 weights (<see cref="Base11Activations.Linear"/>, group 256) on every
/// <see cref="KernelPath"/>, as a ratio to the int8 layer on this machine's widest int8 path, and the same with ternary
/// weights (<see cref="TernaryActivations.Linear"/>, group 320).
/// </summary>
internal static class ActivationCost
{
    public static int Run()
    {
        const int inLen = 1024, outLen = 1024, groupSize = 64, groups = inLen / groupSize;
        var rng = new Random(1);
        var w = new sbyte[inLen * outLen];
        for (var i = 0; i < w.Length; i++)
        {
            w[i] = (sbyte)rng.Next(-127, 128);
        }

        var scales = new float[outLen * groups];
        Array.Fill(scales, 0.01f);
        var bias = new float[outLen];
        var sums = new float[outLen];
        var norms = new float[outLen];
        Int8Activations.RowStats(w, scales, inLen, groupSize, sums, norms);
        var x = new byte[inLen];
        rng.NextBytes(x);
        var xf = new float[inLen];
        for (var i = 0; i < inLen; i++)
        {
            xf[i] = (float)rng.NextDouble();
        }

        var q = new byte[outLen];
        var w4 = new byte[outLen * Int4Activations.RowBytes(inLen)];
        rng.NextBytes(w4);
        var sums4 = new float[outLen];
        var norms4 = new float[outLen];
        Int4Activations.RowStats(w4, scales, inLen, groupSize, sums4, norms4);
        Console.WriteLine($"// 1024 x 1024 int8 (group 64) x u8 codes; best of 7 rounds; load average {MachineInfo.LoadAverage()}");
        var int8Best = double.MaxValue;
        foreach (var path in new[] { Int8DotPath.AvxVnni, Int8DotPath.ArmDp, Int8DotPath.Vector128, Int8DotPath.Scalar })
        {
            if (!Int8Activations.IsSupported(path))
            {
                Console.WriteLine($"{path,-10} not supported here");
                continue;
            }

            double layer = double.MaxValue, layer4 = double.MaxValue, predict = double.MaxValue, quantize = double.MaxValue;
            var n = path == Int8DotPath.Scalar ? 20 : 400;
            for (var round = 0; round < 7; round++)
            {
                var sw = Stopwatch.StartNew();
                for (var k = 0; k < n; k++)
                {
                    Int8Activations.Linear(w, scales, bias, sums, x, 0.01f, 3, groupSize, true, default, default, q, 0.05f, 0, path);
                }

                layer = Math.Min(layer, sw.Elapsed.TotalMicroseconds / n);
                sw.Restart();
                for (var k = 0; k < n; k++)
                {
                    Int4Activations.Linear(w4, scales, bias, sums4, x, 0.01f, 3, groupSize, true, default, default, q, 0.05f, 0, path);
                }

                layer4 = Math.Min(layer4, sw.Elapsed.TotalMicroseconds / n);
                sw.Restart();
                for (var k = 0; k < 4000; k++)
                {
                    Int8Activations.PredictParams(x, 0.01f, 3, sums, norms, bias, 3f, true, out _, out _);
                }

                predict = Math.Min(predict, sw.Elapsed.TotalMicroseconds / 4000);
                sw.Restart();
                for (var k = 0; k < 4000; k++)
                {
                    Int8Activations.DynamicParams(xf, out var s, out var z);
                    Int8Activations.Quantize(xf, s, z, x);
                }

                quantize = Math.Min(quantize, sw.Elapsed.TotalMicroseconds / 4000);
            }

            int8Best = Math.Min(int8Best, layer);
            Console.WriteLine($"{path,-10} layer {layer,8:F1} us ({inLen * (double)outLen / layer / 1e3,5:F1} GMAC/s)   prediction {predict,5:F2} us = {100 * predict / layer,5:F2}% of the layer   dynamic quantization {quantize,5:F2} us   int4 layer {layer4,8:F1} us ({inLen * (double)outLen / layer4 / 1e3,5:F1} GMAC/s)");
        }

        // the same layer with int16 activations (Int16Activations: symmetric int16 codes x the same int8 weights), codes out
        var x16 = new short[inLen];
        for (var i = 0; i < inLen; i++)
        {
            x16[i] = (short)rng.Next(-32767, 32768);
        }

        var q16 = new short[outLen];
        Console.WriteLine($"// the same layer x int16 codes (Int16Activations, int16 codes out); ratio to the fastest int8 path above; load average {MachineInfo.LoadAverage()}");
        foreach (var path in new[] { Int16DotPath.Avx512BW, Int16DotPath.AvxVnni, Int16DotPath.Avx2, Int16DotPath.AdvSimd, Int16DotPath.Vector128, Int16DotPath.Scalar })
        {
            if (!Int16Activations.IsSupported(path))
            {
                Console.WriteLine($"{path,-10} not supported here");
                continue;
            }

            double layer = double.MaxValue, predict = double.MaxValue, quantize = double.MaxValue;
            var n = path == Int16DotPath.Scalar ? 20 : 400;

            // each round also times the int8 layer on the fastest int8 path right before: the ratio per round (median
            // of 7) is what a machine shared with other work can still compare
            var int8Path = Int8Activations.Resolve(KernelPath.Vector256);
            var ratios = new double[7];
            for (var round = 0; round < 7; round++)
            {
                var sw = Stopwatch.StartNew();
                for (var k = 0; k < n; k++)
                {
                    Int8Activations.Linear(w, scales, bias, sums, x, 0.01f, 3, groupSize, true, default, default, q, 0.05f, 0, int8Path);
                }

                var int8Round = sw.Elapsed.TotalMicroseconds / n;
                sw.Restart();
                for (var k = 0; k < n; k++)
                {
                    Int16Activations.Linear(w, scales, bias, sums, x16, 1e-4f, groupSize, true, default, default, q16, 0.05f, path);
                }

                var round16 = sw.Elapsed.TotalMicroseconds / n;
                layer = Math.Min(layer, round16);
                ratios[round] = round16 / int8Round;
                sw.Restart();
                for (var k = 0; k < 4000; k++)
                {
                    Int16Activations.PredictScale(x16, 1e-4f, sums, norms, bias, 3f, true);
                }

                predict = Math.Min(predict, sw.Elapsed.TotalMicroseconds / 4000);
                sw.Restart();
                for (var k = 0; k < 4000; k++)
                {
                    Int16Activations.Quantize(xf, Int16Activations.DynamicScale(xf), x16);
                }

                quantize = Math.Min(quantize, sw.Elapsed.TotalMicroseconds / 4000);
            }

            Array.Sort(ratios);
            Console.WriteLine($"{path,-10} int16 layer {layer,8:F1} us ({inLen * (double)outLen / layer / 1e3,5:F1} GMAC/s) = {layer / int8Best,5:F2}x the best int8 layer above, median per-round ratio to {int8Path} int8 {ratios[3],5:F2}x   prediction {predict,5:F2} us   dynamic quantization {quantize,5:F2} us");
        }

        // base11 weights (group 256) x int8 activations, beside the int8 layer on the widest int8 path, per KernelPath
        const int groupSize11 = 256, groups11 = inLen / groupSize11;
        var w11 = new byte[outLen * Base11Activations.RowBytes(inLen, groupSize11)];
        for (var i = 0; i + 4 <= w11.Length; i += 4)
        {
            BitConverter.TryWriteBytes(w11.AsSpan(i), (uint)rng.NextInt64(0, 2357947691L));
        }

        var mins11 = new ushort[outLen * groups11];
        var ranges11 = new ushort[outLen * groups11];
        Array.Fill(mins11, BitConverter.HalfToUInt16Bits((Half)(-0.05f)));
        Array.Fill(ranges11, BitConverter.HalfToUInt16Bits((Half)0.1f));
        var sums11 = new float[outLen];
        var norms11 = new float[outLen];
        Base11Activations.RowStats(w11, mins11, ranges11, inLen, groupSize11, sums11, norms11);
        var scratch11 = new byte[Base11Activations.ScratchBytes(inLen, groupSize11)];
        var best = Int8Activations.Resolve(KernelPath.Auto);
        double int8Layer = double.MaxValue;
        for (var round = 0; round < 7; round++)
        {
            var sw = Stopwatch.StartNew();
            for (var k = 0; k < 400; k++)
            {
                Int8Activations.Linear(w, scales, bias, sums, x, 0.01f, 3, groupSize, true, default, default, q, 0.05f, 0, best);
            }

            int8Layer = Math.Min(int8Layer, sw.Elapsed.TotalMicroseconds / 400);
        }

        Console.WriteLine($"// 1024 x 1024 base11 (group 256) x u8 codes beside int8 (group 64) on {best}: {int8Layer:F1} us");
        foreach (var path in new[] { KernelPath.Vector512, KernelPath.Vector256, KernelPath.Vector128, KernelPath.Scalar })
        {
            if (KernelPaths.Resolve(path) != path)
            {
                Console.WriteLine($"{path,-10} not accelerated here");
                continue;
            }

            double layer11 = double.MaxValue;
            var n = path == KernelPath.Scalar ? 10 : 200;
            for (var round = 0; round < 7; round++)
            {
                var sw = Stopwatch.StartNew();
                for (var k = 0; k < n; k++)
                {
                    Base11Activations.Linear(w11, mins11, ranges11, bias, sums11, x, 0.01f, 3, groupSize11, true, scratch11, default, default, q, 0.05f, 0, path);
                }

                layer11 = Math.Min(layer11, sw.Elapsed.TotalMicroseconds / n);
            }

            Console.WriteLine($"{path,-10} base11 layer {layer11,8:F1} us ({inLen * (double)outLen / layer11 / 1e3,5:F1} GMAC/s) = {layer11 / int8Layer,5:F2}x the int8 layer");
        }

        // ternary weights (group 320) x int8 activations (TernaryActivations), beside the same int8 layer
        const int groupSize3 = 320, groups3 = (inLen + groupSize3 - 1) / groupSize3;
        var w3 = new byte[outLen * TernaryActivations.RowBytes(inLen)];
        for (var i = 0; i < w3.Length; i++)
        {
            w3[i] = (byte)rng.Next(0, 243);
        }

        var scales3 = new float[outLen * groups3];
        Array.Fill(scales3, 0.01f);
        var sums3 = new float[outLen];
        var norms3 = new float[outLen];
        TernaryActivations.RowStats(w3, scales3, inLen, groupSize3, sums3, norms3);
        var scratch3 = new byte[TernaryActivations.ScratchBytes(inLen, groupSize3)];
        Console.WriteLine($"// 1024 x 1024 ternary (group 320) x u8 codes beside int8 (group 64) on {best}: {int8Layer:F1} us");
        foreach (var path in new[] { KernelPath.Vector512, KernelPath.Vector128, KernelPath.Scalar })
        {
            if (TernaryActivations.Resolve(path) != path)
            {
                Console.WriteLine($"{path,-10} not available here (runs as {TernaryActivations.Resolve(path)})");
                continue;
            }

            double layer3 = double.MaxValue;
            var n = path == KernelPath.Scalar ? 10 : 200;
            for (var round = 0; round < 7; round++)
            {
                var sw = Stopwatch.StartNew();
                for (var k = 0; k < n; k++)
                {
                    TernaryActivations.Linear(w3, scales3, bias, sums3, x, 0.01f, 3, groupSize3, true, scratch3, default, default, q, 0.05f, 0, path);
                }

                layer3 = Math.Min(layer3, sw.Elapsed.TotalMicroseconds / n);
            }

            Console.WriteLine($"{path,-10} ternary layer {layer3,8:F1} us ({inLen * (double)outLen / layer3 / 1e3,5:F1} GMAC/s) = {layer3 / int8Layer,5:F2}x the int8 layer");
        }

        Console.WriteLine($"BigNetInt8A: intermediate bytes {Samples.BigNet.BigNetInt8A.IntermediateBytes:N0} (float scratch {Samples.BigNet.BigNetInt8A.ScratchBytes:N0} + u8 codes {Samples.BigNet.BigNetInt8A.QuantizedActivationBytes:N0}); with f32 activations {Samples.BigNet.BigNetInt8A.FloatIntermediateBytes:N0}");
        return 0;
    }
}

/// <summary>
/// <c>--activation-layers</c>: BenchmarkDotNet rows of one 1024 × 1024 layer with int8 activations (codes in, codes out,
/// ReLU), int8 weights in groups of 64 (the baseline, on this machine's widest int8 path) beside base11 weights in groups
/// of 256 (<see cref="Base11Activations"/> on the widest <see cref="KernelPath"/>): the ratio column is base11's cost
/// relative to int8's. In process, as <c>--routing</c>.
/// </summary>
[BenchmarkDotNet.Attributes.MemoryDiagnoser]
public class ActivationLayerBenchmarks
{
    private const int InLen = 1024, OutLen = 1024, GroupSize = 64, GroupSize11 = 256;
    private sbyte[] _w = Array.Empty<sbyte>();
    private float[] _scales = Array.Empty<float>();
    private float[] _bias = Array.Empty<float>();
    private float[] _sums = Array.Empty<float>();
    private byte[] _x = Array.Empty<byte>();
    private byte[] _q = Array.Empty<byte>();
    private byte[] _w11 = Array.Empty<byte>();
    private ushort[] _mins11 = Array.Empty<ushort>();
    private ushort[] _ranges11 = Array.Empty<ushort>();
    private float[] _sums11 = Array.Empty<float>();
    private byte[] _scratch11 = Array.Empty<byte>();
    private Int8DotPath _int8Path;
    private KernelPath _path;

    [BenchmarkDotNet.Attributes.GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _w = new sbyte[InLen * OutLen];
        for (var i = 0; i < _w.Length; i++)
        {
            _w[i] = (sbyte)rng.Next(-127, 128);
        }

        _scales = new float[OutLen * (InLen / GroupSize)];
        Array.Fill(_scales, 0.01f);
        _bias = new float[OutLen];
        _sums = new float[OutLen];
        Int8Activations.RowStats(_w, _scales, InLen, GroupSize, _sums, new float[OutLen]);
        _x = new byte[InLen];
        rng.NextBytes(_x);
        _q = new byte[OutLen];
        _w11 = new byte[OutLen * Base11Activations.RowBytes(InLen, GroupSize11)];
        for (var i = 0; i + 4 <= _w11.Length; i += 4)
        {
            BitConverter.TryWriteBytes(_w11.AsSpan(i), (uint)rng.NextInt64(0, 2357947691L));
        }

        _mins11 = new ushort[OutLen * (InLen / GroupSize11)];
        _ranges11 = new ushort[_mins11.Length];
        Array.Fill(_mins11, BitConverter.HalfToUInt16Bits((Half)(-0.05f)));
        Array.Fill(_ranges11, BitConverter.HalfToUInt16Bits((Half)0.1f));
        _sums11 = new float[OutLen];
        Base11Activations.RowStats(_w11, _mins11, _ranges11, InLen, GroupSize11, _sums11, new float[OutLen]);
        _scratch11 = new byte[Base11Activations.ScratchBytes(InLen, GroupSize11)];
        _int8Path = Int8Activations.Resolve(KernelPath.Auto);
        _path = KernelPaths.Resolve(KernelPath.Auto);
    }

    [BenchmarkDotNet.Attributes.Benchmark(Baseline = true)]
    public int Int8Weights_Int8A() => Int8Activations.Linear(_w, _scales, _bias, _sums, _x, 0.01f, 3, GroupSize, true, default, default, _q, 0.05f, 0, _int8Path);

    [BenchmarkDotNet.Attributes.Benchmark]
    public int Base11Weights_Int8A() => Base11Activations.Linear(_w11, _mins11, _ranges11, _bias, _sums11, _x, 0.01f, 3, GroupSize11, true, _scratch11, default, default, _q, 0.05f, 0, _path);
}
