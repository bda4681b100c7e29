using System;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CodeGenChunk.Runtime.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>
/// The int8-weights × float-input kernel that writes the next layer's codes (docs/activations.md): every path against a
/// double-precision reference over the dequantized weights, requantized codes and clip counts, the moments and the
/// predicted range, no allocations.
/// </summary>
[TestClass]
public sealed class Int8FloatInputKernelTests
{
    public static readonly KernelPath[] Paths = { KernelPath.Scalar, KernelPath.Vector128, KernelPath.Vector256, KernelPath.Vector512 };

    /// <summary>Whether the path runs as itself here (a path the machine lacks falls back to a narrower one, which the other rows test).</summary>
    private static bool Runs(KernelPath path) => Int8FloatInput.Resolve(path) == path;

    [TestMethod]
    public void FloatInput_Resolve_FallsBackToNarrowerPaths()
    {
        Assert.AreEqual(KernelPath.Scalar, Int8FloatInput.Resolve(KernelPath.Scalar));
        Assert.AreEqual(Vector128.IsHardwareAccelerated ? KernelPath.Vector128 : KernelPath.Scalar, Int8FloatInput.Resolve(KernelPath.Vector128));
        Assert.AreEqual(Avx512F.IsSupported && Vector512.IsHardwareAccelerated, Int8FloatInput.Resolve(KernelPath.Vector512) == KernelPath.Vector512);
        Assert.AreEqual(Avx2.IsSupported && Vector256.IsHardwareAccelerated, Int8FloatInput.Resolve(KernelPath.Vector256) == KernelPath.Vector256);
    }

    [TestMethod]
    [DataRow(784, 512, 64)] // the MNIST MLP's first layer: 12 full groups and one of 16
    [DataRow(784, 10, 64)]
    [DataRow(100, 13, 32)] // four blocks and one single row; groups of 32, last 4
    [DataRow(37, 6, 100)] // one group shorter than every vector step but the scalar one
    [DataRow(130, 5, 48)] // groups 48, 48, 34 (vector steps and tails)
    [DataRow(23, 7, 7)] // groups of 7: tails only on the 8- and 16-wide paths
    [DataRow(1024, 64, 64)]
    public void FloatInput_EveryPath_MatchesDoubleReference(int inLen, int outLen, int groupSize)
    {
        var rng = new Random((inLen * 17) + outLen);
        var (rowMajor, scales, bias) = Int8ActivationKernelTests.RandomLayer(rng, inLen, outLen, groupSize);
        var packed = Int8ActivationKernelTests.RowBlocked(rowMajor, outLen, inLen, groupSize);
        var x = RandomInput(rng, inLen);
        foreach (var relu in new[] { false, true })
        {
            var expected = Reference(rowMajor, scales, bias, x, inLen, outLen, groupSize, relu, out var magnitude);
            foreach (var path in Paths)
            {
                if (!Runs(path))
                {
                    continue;
                }

                var y = new float[outLen];
                var clips = Int8FloatInput.Linear(packed, scales, bias, x, outLen, groupSize, relu, y, default, 0f, 0, path);
                Assert.AreEqual(0, clips);
                for (var o = 0; o < outLen; o++)
                {
                    // float accumulation: the error grows with Σ |w · x| of the row, not with the (cancelling) result
                    Assert.AreEqual(expected[o], y[o], (2e-6 * magnitude[o]) + 1e-6, $"{path} relu {relu} row {o}");
                    if (relu)
                    {
                        Assert.IsGreaterThanOrEqualTo(0f, y[o]);
                    }
                }
            }
        }
    }

    [TestMethod]
    public void FloatInput_NoBias_MatchesDoubleReference()
    {
        var rng = new Random(11);
        const int inLen = 90, outLen = 9, groupSize = 40;
        var (rowMajor, scales, _) = Int8ActivationKernelTests.RandomLayer(rng, inLen, outLen, groupSize);
        var packed = Int8ActivationKernelTests.RowBlocked(rowMajor, outLen, inLen, groupSize);
        var x = RandomInput(rng, inLen);
        var expected = Reference(rowMajor, scales, new float[outLen], x, inLen, outLen, groupSize, false, out var magnitude);
        foreach (var path in Paths)
        {
            var y = new float[outLen];
            Int8FloatInput.Linear(packed, scales, default, x, outLen, groupSize, false, y, default, 0f, 0, path);
            for (var o = 0; o < outLen; o++)
            {
                Assert.AreEqual(expected[o], y[o], (2e-6 * magnitude[o]) + 1e-6, $"{path} row {o}");
            }
        }
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(40)]
    public void FloatInput_Codes_AndClipCount(int yZero)
    {
        var rng = new Random(5 + yZero);
        const int inLen = 200, outLen = 23, groupSize = 64;
        var (rowMajor, scales, bias) = Int8ActivationKernelTests.RandomLayer(rng, inLen, outLen, groupSize);
        var packed = Int8ActivationKernelTests.RowBlocked(rowMajor, outLen, inLen, groupSize);
        var x = RandomInput(rng, inLen);
        var relu = yZero == 0;
        var expected = Reference(rowMajor, scales, bias, x, inLen, outLen, groupSize, relu, out _);
        var max = 0f;
        foreach (var v in expected)
        {
            max = Math.Max(max, Math.Abs(v));
        }

        // a range of half the largest output: the outputs beyond it clip to 255 (or to 0 below the zero point)
        var yScale = max / 2 / 255;
        var inv = 1f / yScale;
        var expectedClips = 0;
        var expectedCodes = new byte[outLen];
        for (var o = 0; o < outLen; o++)
        {
            expectedCodes[o] = Int8Activations.CodeOf(expected[o], inv, yZero, ref expectedClips);
        }

        Assert.IsGreaterThan(0, expectedClips);
        foreach (var path in Paths)
        {
            if (!Runs(path))
            {
                continue;
            }

            var q = new byte[outLen];
            var clips = Int8FloatInput.Linear(packed, scales, bias, x, outLen, groupSize, relu, default, q, yScale, yZero, path);
            Assert.AreEqual(expectedClips, clips, path.ToString());
            for (var o = 0; o < outLen; o++)
            {
                // a float sum can land on the other side of a rounding boundary than the double reference: one step
                Assert.AreEqual(expectedCodes[o], q[o], 1.0, $"{path} row {o}");
            }
        }
    }

    [TestMethod]
    public void FloatInput_Moments_AndPredictedRange()
    {
        var rng = new Random(3);
        foreach (var n in new[] { 0, 1, 3, 4, 7, 784 })
        {
            var x = RandomInput(rng, n);
            double s1 = 0, s2 = 0;
            foreach (var v in x)
            {
                s1 += v;
                s2 += (double)v * v;
            }

            Int8FloatInput.Moments(x, out var mean, out var variance);
            var m = n == 0 ? 0 : s1 / n;
            Assert.AreEqual(m, mean, 1e-12, $"n {n}");
            Assert.AreEqual(n == 0 ? 0 : Math.Max((s2 / n) - (m * m), 0), variance, 1e-12, $"n {n}");
        }

        // the prediction from float moments is the codes' prediction with the same moments: codes 0..255 at scale 1/255
        // and zero 0 are the floats q / 255 exactly (up to the float rounding of the quotients)
        const int inLen = 300, outLen = 21, groupSize = 64;
        var (rowMajor, scales, bias) = Int8ActivationKernelTests.RandomLayer(rng, inLen, outLen, groupSize);
        var packed = Int8ActivationKernelTests.RowBlocked(rowMajor, outLen, inLen, groupSize);
        var (sums, norms) = Int8ActivationKernelTests.Stats(packed, scales, inLen, outLen, groupSize);
        var codes = new byte[inLen];
        rng.NextBytes(codes);
        var floats = Array.ConvertAll(codes, q => q / 255f);
        foreach (var relu in new[] { false, true })
        {
            Int8Activations.PredictParams(codes, 1f / 255, 0, sums, norms, bias, 2.5f, relu, out var codeScale, out var codeZero);
            Int8FloatInput.PredictParams(floats, sums, norms, bias, 2.5f, relu, out var floatScale, out var floatZero);
            Assert.AreEqual(codeScale, floatScale, 1e-5 * codeScale, $"relu {relu}");
            Assert.AreEqual(codeZero, floatZero, 1, $"relu {relu}");
            if (relu)
            {
                Assert.AreEqual(0, floatZero);
            }

            // and it is the Gaussian range of docs/activations.md, computed here in double
            Int8FloatInput.Moments(floats, out var mean, out var variance);
            double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
            for (var o = 0; o < outLen; o++)
            {
                var mu = (mean * sums[o]) + bias[o];
                var d = 2.5 * Math.Sqrt(variance) * norms[o];
                lo = Math.Min(lo, mu - d);
                hi = Math.Max(hi, mu + d);
            }

            lo = relu ? 0 : Math.Min(lo, 0);
            hi = Math.Max(hi, 0);
            Assert.AreEqual((hi - lo) / 255, floatScale, 1e-5 * floatScale, $"relu {relu}");
        }
    }

    [TestMethod]
    public void FloatInput_ShapeMismatch_Throws()
    {
        var w = new sbyte[10 * 4];
        var scales = new float[4];
        Assert.ThrowsExactly<ArgumentException>(() => Int8FloatInput.Linear(w, scales, default, new float[10], 4, 16, false, new float[3], default, 0f, 0, KernelPath.Scalar));
        Assert.ThrowsExactly<ArgumentException>(() => Int8FloatInput.Linear(w, scales, default, new float[11], 4, 16, false, new float[4], default, 0f, 0, KernelPath.Scalar));
        Assert.ThrowsExactly<ArgumentException>(() => Int8FloatInput.Linear(w, scales, default, new float[10], 4, 16, false, default, new byte[3], 1f, 0, KernelPath.Scalar));
    }

    [TestMethod]
    public void FloatInput_AllocatesNothing()
    {
        var rng = new Random(9);
        const int inLen = 784, outLen = 514, groupSize = 64;
        var (rowMajor, scales, bias) = Int8ActivationKernelTests.RandomLayer(rng, inLen, outLen, groupSize);
        var packed = Int8ActivationKernelTests.RowBlocked(rowMajor, outLen, inLen, groupSize);
        var (sums, norms) = Int8ActivationKernelTests.Stats(packed, scales, inLen, outLen, groupSize);
        var x = RandomInput(rng, inLen);
        var q = new byte[outLen];
        var y = new float[outLen];
        void Once()
        {
            for (var p = 0; p < Paths.Length; p++)
            {
                Int8FloatInput.PredictParams(x, sums, norms, bias, 3f, true, out var s, out var z);
                Int8FloatInput.Linear(packed, scales, bias, x, outLen, groupSize, true, default, q, s, z, Paths[p]);
                Int8FloatInput.Linear(packed, scales, bias, x, outLen, groupSize, false, y, default, 0f, 0, Paths[p]);
            }
        }

        Once();
        Assert.AreEqual(0L, Allocations.SteadyState(() =>
        {
            for (var k = 0; k < 5; k++)
            {
                Once();
            }
        }));
    }

    /// <summary>Inputs in [0, 1) with every tenth negative (an image after normalisation, or a hidden layer).</summary>
    private static float[] RandomInput(Random rng, int n)
    {
        var x = new float[n];
        for (var i = 0; i < n; i++)
        {
            x[i] = (float)rng.NextDouble() * (i % 10 == 3 ? -1 : 1);
        }

        return x;
    }

    /// <summary>y = Σ_g s_g · Σ_{i∈g} w_i · x_i + b in double over the dequantized weights, ReLU; and Σ |s · w · x| + |b| per row.</summary>
    private static float[] Reference(sbyte[] w, float[] scales, float[] bias, float[] x, int inLen, int outLen, int groupSize, bool relu, out double[] magnitude)
    {
        var groups = (inLen + groupSize - 1) / groupSize;
        var y = new float[outLen];
        magnitude = new double[outLen];
        for (var o = 0; o < outLen; o++)
        {
            double acc = bias[o], mag = Math.Abs(bias[o]);
            for (var i = 0; i < inLen; i++)
            {
                var t = (double)scales[(o * groups) + (i / groupSize)] * w[(o * inLen) + i] * x[i];
                acc += t;
                mag += Math.Abs(t);
            }

            y[o] = (float)(relu ? Math.Max(acc, 0) : acc);
            magnitude[o] = mag;
        }

        return y;
    }
}
