using System;
using System.Collections.Generic;
using System.Diagnostics;
using CodeGenChunk.Runtime;
using CodeGenChunk.Runtime.Kernels;

namespace CodeGenChunk.Benchmarks;

/// <summary>
/// <c>--floatin-cost [rounds]</c>: the MNIST MLP's first layer (784 × 512, int8 weights in groups of 64, ReLU, predicted
/// codes of the next layer out) in its two plans, interleaved round by round (Stopwatch, 50 calls each per round):
/// the input quantized into codes at its own range, then the integer kernel (<see cref="Int8Activations.Linear"/>); or
/// the float input read in place (<see cref="Int8FloatInput.Linear"/>, the prediction from the float moments). Prints
/// the median and best time per call of each and the median of the per-round ratio, for each requested path.
/// </summary>
internal static class FloatInputCost
{
    public static int Run(int rounds)
    {
        const int inLen = 784, outLen = 512, groupSize = 64, groups = (inLen + groupSize - 1) / groupSize, calls = 50;
        var rng = new Random(1);
        var w = new sbyte[inLen * outLen];
        for (var i = 0; i < w.Length; i++)
        {
            w[i] = (sbyte)rng.Next(-127, 128);
        }

        var scales = new float[outLen * groups];
        for (var i = 0; i < scales.Length; i++)
        {
            scales[i] = 0.001f + ((float)rng.NextDouble() * 0.01f);
        }

        var bias = new float[outLen];
        var x = new float[inLen];
        for (var i = 0; i < inLen; i++)
        {
            // an image: a third of the pixels 0
            x[i] = i % 3 == 0 ? 0f : (float)rng.NextDouble();
        }

        var sums = new float[outLen];
        var norms = new float[outLen];
        Int8Activations.RowStats(w, scales, inLen, groupSize, sums, norms);
        var xq = new byte[inLen];
        var q = new byte[outLen];
        Console.WriteLine($"// MNIST MLP fc1 (784 x 512, int8 group 64, predicted codes out); {rounds} rounds of {calls} calls each, interleaved; load average {MachineInfo.LoadAverage()}");
        foreach (var path in new[] { KernelPath.Vector512, KernelPath.Vector256, KernelPath.Vector128, KernelPath.Scalar })
        {
            var intPath = Int8Activations.Resolve(path);
            void Codes()
            {
                Int8Activations.DynamicParams(x, out var s, out var z);
                Int8Activations.Quantize(x, s, z, xq);
                Int8Activations.PredictParams(xq, s, z, sums, norms, bias, 8f, true, out var ys, out var yz);
                Int8Activations.Linear(w, scales, bias, sums, xq, s, z, groupSize, true, default, default, q, ys, yz, intPath);
            }

            void Floats()
            {
                Int8FloatInput.PredictParams(x, sums, norms, bias, 8f, true, out var ys, out var yz);
                Int8FloatInput.Linear(w, scales, bias, x, outLen, groupSize, true, default, q, ys, yz, path);
            }

            var a = new List<double>();
            var b = new List<double>();
            var r = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                var sw = Stopwatch.StartNew();
                for (var k = 0; k < calls; k++)
                {
                    Codes();
                }

                var ta = sw.Elapsed.TotalMicroseconds / calls;
                sw.Restart();
                for (var k = 0; k < calls; k++)
                {
                    Floats();
                }

                var tb = sw.Elapsed.TotalMicroseconds / calls;
                a.Add(ta);
                b.Add(tb);
                r.Add(tb / ta);
            }

            a.Sort();
            b.Sort();
            r.Sort();
            Console.WriteLine($"{path,-10} input codes + {intPath,-9} median {a[rounds / 2],7:F1} us, best {a[0],7:F1} us   float input ({Int8FloatInput.Resolve(path)}) median {b[rounds / 2],7:F1} us, best {b[0],7:F1} us   median ratio float/codes {r[rounds / 2],5:F2}");
        }

        return 0;
    }
}
