using System;
using CodeGenChunk.Runtime.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>
/// The int16-activation kernel (docs/activations.md, "int16 activations"): every dot-product path against exact integer
/// group sums (row tails, short last groups, ReLU, residual), the extremes over the longest group int32 holds, int16
/// codes out with clip counts, quantization and prediction, no allocations.
/// </summary>
[TestClass]
public sealed class Int16ActivationKernelTests
{
    public static readonly Int16DotPath[] Paths = { Int16DotPath.Scalar, Int16DotPath.Vector128, Int16DotPath.AdvSimd, Int16DotPath.Avx2, Int16DotPath.AvxVnni, Int16DotPath.Avx512BW };

    [TestMethod]
    [DataRow(784, 10, 64)]
    [DataRow(784, 512, 64)]
    [DataRow(100, 13, 32)]
    [DataRow(37, 6, 64)]
    [DataRow(130, 5, 96)]
    [DataRow(1000, 9, 512)]
    [DataRow(20, 7, 5)]
    [DataRow(600, 6, 200)]
    [DataRow(48, 5, 48)]
    [DataRow(71, 3, 17)]
    public void Int16Activation_EveryPath_MatchesExactReference_OnRandomData(int inLen, int outLen, int groupSize)
    {
        var rng = new Random((inLen * 31) + outLen);
        var (w, scales, bias) = RandomLayer(rng, inLen, outLen, groupSize);
        var packed = Int8ActivationKernelTests.RowBlocked(w, outLen, inLen, groupSize);
        var x = RandomCodes(rng, inLen);
        var residual = new float[outLen];
        for (var i = 0; i < outLen; i++)
        {
            residual[i] = (float)rng.NextDouble();
        }

        var (sums, _) = Int8ActivationKernelTests.Stats(packed, scales, inLen, outLen, groupSize);
        const float xScale = 3e-5f;
        var ran = 0;
        foreach (var relu in new[] { false, true })
        {
            foreach (var res in new[] { null, residual })
            {
                var expected = Reference(w, scales, bias, x, xScale, inLen, outLen, groupSize, relu, res, out var magnitude);
                float[]? scalar = null;
                foreach (var path in Paths)
                {
                    if (!Int16Activations.IsSupported(path))
                    {
                        continue;
                    }

                    ran++;
                    var y = new float[outLen];
                    Assert.AreEqual(0, Int16Activations.Linear(packed, scales, bias, sums, x, xScale, groupSize, relu, res, y, default, 0f, path));
                    scalar ??= y;
                    for (var o = 0; o < outLen; o++)
                    {
                        // exact int32 group sums, scaled and summed in float: relative 1e-5 of the terms' magnitude
                        var tolerance = (1e-5 * (1 + Math.Abs(expected[o]))) + (1e-6 * magnitude[o]);
                        Assert.AreEqual(expected[o], y[o], tolerance, $"{path} relu {relu} residual {res is not null} row {o}");
                        Assert.AreEqual(scalar[o], y[o], 2 * tolerance, $"{path} against scalar, relu {relu} row {o}");
                    }
                }
            }
        }

        Assert.IsGreaterThanOrEqualTo(12, ran, "scalar, Vector128 and at least one more path on each of the four epilogues");
    }

    [TestMethod]
    public void Int16Activation_Bound_Is512ForEveryInt8Byte()
    {
        Assert.AreEqual(512, Int16Activations.MaxInt32GroupLength);
        Assert.IsLessThanOrEqualTo((long)int.MaxValue, 512L * 32767 * 128);
        Assert.IsGreaterThan((long)int.MaxValue, 513L * 32767 * 128);
        var w = new sbyte[513];
        var x = new short[513];
        Assert.ThrowsExactly<ArgumentException>(() => Int16Activations.Linear(w, new float[1], default, new float[1], x, 1f, 513, false, default, new float[1], default, 0f, Int16DotPath.Scalar));
    }

    [TestMethod]
    public void Int16Activation_Extremes_LongestGroup_NoOverflow()
    {
        // groups of 512 inputs (the longest int32 holds for every int8 byte): codes ±32767 times weights −128 and 127, a
        // row of two full groups and a short last group of 307 inputs; five rows (a block of four and a single row).
        // Each group sum is up to 512 · 32767 · 128 = 2,147,418,112, 65,535 below 2^31 − 1: a wrapped int32 would be 2^32 off
        const int groupSize = 512;
        const int inLen = (2 * groupSize) + 307;
        const int outLen = 5;
        const int groups = 3;
        foreach (var (code, weight) in new[] { (32767, -128), (-32767, -128), (32767, 127), (-32767, 127), (32767, 0) })
        {
            var w = new sbyte[outLen * inLen];
            w.AsSpan().Fill((sbyte)weight);
            var scales = new float[outLen * groups];
            scales.AsSpan().Fill(1f);
            var packed = Int8ActivationKernelTests.RowBlocked(w, outLen, inLen, groupSize);
            var x = new short[inLen];
            x.AsSpan().Fill((short)code);
            var (sums, _) = Int8ActivationKernelTests.Stats(packed, scales, inLen, outLen, groupSize);
            var exact = (double)code * weight * inLen;
            foreach (var path in Paths)
            {
                if (!Int16Activations.IsSupported(path))
                {
                    continue;
                }

                var y = new float[outLen];
                Int16Activations.Linear(packed, scales, default, sums, x, 1f, groupSize, false, default, y, default, 0f, path);
                foreach (var v in y)
                {
                    Assert.AreEqual(exact, v, (Math.Abs(exact) * 1e-6) + 1e-3, $"{path} code {code} weight {weight}");
                }
            }
        }
    }

    [TestMethod]
    public void Int16Activation_Requantized_OutputCodesAndClipCount()
    {
        var rng = new Random(5);
        const int inLen = 200, outLen = 23, groupSize = 64;
        var (w, scales, bias) = RandomLayer(rng, inLen, outLen, groupSize);
        var packed = Int8ActivationKernelTests.RowBlocked(w, outLen, inLen, groupSize);
        var x = RandomCodes(rng, inLen);
        const float xScale = 1e-4f;
        var (sums, _) = Int8ActivationKernelTests.Stats(packed, scales, inLen, outLen, groupSize);
        foreach (var relu in new[] { true, false })
        {
            var expected = Reference(w, scales, bias, x, xScale, inLen, outLen, groupSize, relu, null, out _);
            var max = 0f;
            foreach (var v in expected)
            {
                max = Math.Max(max, Math.Abs(v));
            }

            // a range of half the largest output: the largest values clip at ±32767
            var yScale = max / 2 / 32767;
            var inv = 1f / yScale;
            var expectedClips = 0;
            var expectedCodes = new short[outLen];
            for (var o = 0; o < outLen; o++)
            {
                expectedCodes[o] = Int16Activations.CodeOf(expected[o], inv, ref expectedClips);
            }

            Assert.IsGreaterThan(0, expectedClips);
            foreach (var path in Paths)
            {
                if (!Int16Activations.IsSupported(path))
                {
                    continue;
                }

                var codes = new short[outLen];
                var clips = Int16Activations.Linear(packed, scales, bias, sums, x, xScale, groupSize, relu, default, default, codes, yScale, path);
                Assert.AreEqual(expectedClips, clips, $"{path} relu {relu}");
                for (var o = 0; o < outLen; o++)
                {
                    Assert.AreEqual(expectedCodes[o], codes[o], 1.0, $"{path} relu {relu} row {o}");
                    Assert.IsTrue(Math.Abs((int)codes[o]) <= 32767, "codes are symmetric");
                    if (relu)
                    {
                        Assert.IsGreaterThanOrEqualTo((short)0, codes[o]);
                    }
                }
            }
        }
    }

    [TestMethod]
    public void Int16Activation_QuantizeAndDynamicScale()
    {
        var rng = new Random(9);
        var x = new float[1003];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = (float)((rng.NextDouble() - 0.3) * 4);
        }

        x[17] = -3.5f;
        var scale = Int16Activations.DynamicScale(x);
        Assert.AreEqual(3.5f / 32767, scale, 1e-12f);
        var q = new short[x.Length];
        Assert.AreEqual(0, Int16Activations.Quantize(x, scale, q));
        Assert.AreEqual((short)-32767, q[17]);
        var inv = 1f / scale;
        for (var i = 0; i < x.Length; i++)
        {
            Assert.AreEqual((short)Math.Clamp(MathF.Round(x[i] * inv), -32767, 32767), q[i], $"code {i}");
            Assert.AreEqual(x[i], q[i] * scale, scale / 2 * 1.001, $"value {i}");
        }

        // half the range: the values beyond ±1.75 clip at ±32767 (never −32768), counted on the vector and scalar parts
        var half = scale / 2;
        var expectedClips = 0;
        foreach (var v in x)
        {
            expectedClips += Math.Abs(MathF.Round(v * (1f / half))) > 32767 ? 1 : 0;
        }

        Assert.IsGreaterThan(0, expectedClips);
        Assert.AreEqual(expectedClips, Int16Activations.Quantize(x, half, q));
        Assert.AreEqual((short)-32767, q[17]);
        Assert.AreEqual(1f, Int16Activations.DynamicScale(new float[5]), "an all-zero input: scale 1");
        Assert.AreEqual(2f / 32767, Int16Activations.RangeScale(-2f, 0.5f));
        Assert.AreEqual(0.5f / 32767, Int16Activations.RangeScale(0f, 0.5f));
    }

    [TestMethod]
    public void Int16Activation_PredictScale_MatchesGaussianRange()
    {
        var rng = new Random(13);
        const int inLen = 300, outLen = 40, groupSize = 64;
        var (w, scales, bias) = RandomLayer(rng, inLen, outLen, groupSize);
        var packed = Int8ActivationKernelTests.RowBlocked(w, outLen, inLen, groupSize);
        var (sums, norms) = Int8ActivationKernelTests.Stats(packed, scales, inLen, outLen, groupSize);
        var x = RandomCodes(rng, inLen);
        const float xScale = 2e-4f;
        double s1 = 0, s2 = 0;
        foreach (var q in x)
        {
            s1 += q;
            s2 += (double)q * q;
        }

        Int16Activations.CodeMoments(x, out var m1, out var m2);
        Assert.AreEqual((long)s1, m1);
        Assert.AreEqual((long)s2, m2);
        var m = xScale * s1 / inLen;
        var sd = Math.Sqrt(Math.Max((xScale * xScale * s2 / inLen) - (m * m), 0));
        foreach (var relu in new[] { false, true })
        {
            double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
            for (var o = 0; o < outLen; o++)
            {
                var mu = (m * sums[o]) + bias[o];
                lo = Math.Min(lo, mu - (2.5 * sd * norms[o]));
                hi = Math.Max(hi, mu + (2.5 * sd * norms[o]));
            }

            var expected = Math.Max(relu ? 0 : -lo, hi) / 32767;
            Assert.AreEqual(expected, Int16Activations.PredictScale(x, xScale, sums, norms, bias, 2.5f, relu), expected * 1e-4, $"relu {relu}");
        }
    }

    [TestMethod]
    public void Int16Activation_ZeroAllocations()
    {
        var rng = new Random(3);
        const int inLen = 512, outLen = 510, groupSize = 64;
        var (w, scales, bias) = RandomLayer(rng, inLen, outLen, groupSize);
        var packed = Int8ActivationKernelTests.RowBlocked(w, outLen, inLen, groupSize);
        var (sums, norms) = Int8ActivationKernelTests.Stats(packed, scales, inLen, outLen, groupSize);
        var xf = new float[inLen];
        for (var i = 0; i < inLen; i++)
        {
            xf[i] = (float)rng.NextDouble();
        }

        var x = new short[inLen];
        var codes = new short[outLen];
        var y = new float[outLen];
        var clips = 0;
        void Once()
        {
            var s = Int16Activations.DynamicScale(xf);
            clips += Int16Activations.Quantize(xf, s, x);
            var ys = Int16Activations.PredictScale(x, s, sums, norms, bias, 3f, true);
            foreach (var path in Paths)
            {
                if (Int16Activations.IsSupported(path))
                {
                    clips += Int16Activations.Linear(packed, scales, bias, sums, x, s, groupSize, true, default, default, codes, ys, path);
                    Int16Activations.Linear(packed, scales, bias, sums, x, s, groupSize, true, default, y, default, 0f, path);
                }
            }
        }

        Once();
        Assert.AreEqual(0L, Allocations.SteadyState(() =>
        {
            for (var i = 0; i < 10; i++)
            {
                Once();
            }
        }));
        Assert.AreNotEqual(0f, y[0] + y[1] + y[2] + y[3], "the layer ran");
    }

    /// <summary>Random int8 weights over every byte a file can hold (−128..127), scales and biases.</summary>
    internal static (sbyte[] RowMajor, float[] Scales, float[] Bias) RandomLayer(Random rng, int inLen, int outLen, int groupSize)
    {
        var (w, scales, bias) = Int8ActivationKernelTests.RandomLayer(rng, inLen, outLen, groupSize);
        for (var i = 0; i < w.Length; i += 97)
        {
            w[i] = -128;
        }

        return (w, scales, bias);
    }

    /// <summary>Random codes over the whole symmetric range, with both extremes.</summary>
    internal static short[] RandomCodes(Random rng, int length)
    {
        var x = new short[length];
        for (var i = 0; i < length; i++)
        {
            x[i] = (short)rng.Next(-32767, 32768);
        }

        x[0] = 32767;
        if (length > 1)
        {
            x[length - 1] = -32767;
        }

        return x;
    }

    /// <summary>Exact integer group sums (long), scaled in double; <paramref name="magnitude"/>: Σ |scaled group sum| of each row.</summary>
    internal static float[] Reference(sbyte[] w, float[] scales, float[] bias, short[] x, float xScale, int inLen, int outLen, int groupSize, bool relu, float[]? residual, out double[] magnitude)
    {
        var groups = (inLen + groupSize - 1) / groupSize;
        var y = new float[outLen];
        magnitude = new double[outLen];
        for (var o = 0; o < outLen; o++)
        {
            double acc = 0;
            for (var g = 0; g < groups; g++)
            {
                long s = 0, sa = 0;
                for (var i = g * groupSize; i < Math.Min(inLen, (g + 1) * groupSize); i++)
                {
                    s += (long)x[i] * w[(o * inLen) + i];
                    sa += Math.Abs((long)x[i] * w[(o * inLen) + i]);
                }

                acc += (double)scales[(o * groups) + g] * s;
                magnitude[o] += xScale * scales[(o * groups) + g] * sa;
            }

            var v = (xScale * acc) + bias[o];
            if (relu)
            {
                v = Math.Max(v, 0);
            }

            y[o] = (float)(v + (residual?[o] ?? 0));
        }

        return y;
    }
}
