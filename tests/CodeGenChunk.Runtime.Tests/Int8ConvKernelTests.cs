using System;
using CodeGenChunk.Runtime.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>The integer-activation conv2d kernel (docs/activations.md, "conv2d"): every path against exact integer window sums and against each other.</summary>
[TestClass]
public sealed class Int8ConvKernelTests
{
    private static readonly Int8DotPath[] Paths = Int8ActivationKernelTests.Paths;

    [TestMethod]
    [DataRow(1, 28, 28, 8, 5, 5, 1, 1, 2, 2, 2, 2, 64, DisplayName = "Conv mnist-8 conv1")]
    [DataRow(8, 14, 14, 16, 5, 5, 1, 1, 2, 2, 2, 2, 64, DisplayName = "Conv mnist-8 conv2")]
    [DataRow(3, 9, 21, 5, 3, 2, 1, 1, 1, 0, 2, 1, 7, DisplayName = "Conv odd shape, group 7")]
    [DataRow(2, 11, 40, 3, 3, 3, 2, 1, 0, 1, 0, 1, 18, DisplayName = "Conv vertical stride 2, 40 columns")]
    [DataRow(4, 10, 13, 3, 3, 3, 2, 2, 1, 1, 1, 1, 64, DisplayName = "Conv stride 2x2 (scalar on every path)")]
    public void Conv_EveryPath_MatchesExactReference(int inC, int h, int w, int outC, int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr, int groupSize)
    {
        var rng = new Random((inC * 131) + (h * 7) + outC);
        var f = inC * kh * kw;
        var (weights, scales, bias) = Int8ActivationKernelTests.RandomLayer(rng, f, outC, groupSize);
        var x = new byte[inC * h * w];
        rng.NextBytes(x);
        var sums = new float[outC];
        var norms = new float[outC];
        Int8Activations.RowMajorStats(weights, scales, f, groupSize, sums, norms);
        var oh = ((h + pt + pb - kh) / sh) + 1;
        var ow = ((w + pl + pr - kw) / sw) + 1;
        var scratch = new byte[Int8Activations.ConvScratchBytes(inC, h, w, kh, kw, pt, pl, pb, pr)];
        foreach (var zero in new[] { 0, 37, 128, 255 })
        {
            foreach (var relu in new[] { false, true })
            {
                var expected = Reference(weights, scales, bias, x, 0.02f, zero, inC, h, w, outC, kh, kw, sh, sw, pt, pl, groupSize, relu, oh, ow);
                float[]? first = null;
                byte[]? firstCodes = null;
                var firstClipped = -1;
                foreach (var path in Paths)
                {
                    if (!Int8Activations.IsSupported(path))
                    {
                        continue;
                    }

                    var y = new float[outC * oh * ow];
                    Assert.AreEqual(0, Int8Activations.Conv2d(weights, scales, bias, sums, x, 0.02f, zero, inC, h, w, kh, kw, sh, sw, pt, pl, pb, pr, groupSize, relu, scratch, y, default, 0f, 0, path));
                    for (var i = 0; i < y.Length; i++)
                    {
                        Assert.AreEqual(expected[i], y[i], 1e-4 * (1 + Math.Abs(expected[i])), $"{path} zero {zero} relu {relu} output {i}");
                    }

                    // requantized at a range narrow enough to clip
                    var q = new byte[y.Length];
                    var clipped = Int8Activations.Conv2d(weights, scales, bias, sums, x, 0.02f, zero, inC, h, w, kh, kw, sh, sw, pt, pl, pb, pr, groupSize, relu, scratch, default, q, 0.004f, 60, path);
                    if (first is null)
                    {
                        (first, firstCodes, firstClipped) = (y, q, clipped);
                        Assert.IsTrue(clipped > 0, "the narrow range clips");
                    }
                    else if (path != Int8DotPath.ArmDp)
                    {
                        // the u8 paths sum the same integers in the same order: bit for bit the scalar path's floats
                        CollectionAssert.AreEqual(first, y, $"{path} vs scalar, zero {zero}");
                        CollectionAssert.AreEqual(firstCodes, q, $"{path} codes vs scalar");
                        Assert.AreEqual(firstClipped, clipped);
                    }
                    else
                    {
                        // sdot corrects the zero point with 128 · S_o: the same integers, a different float rounding
                        var differ = 0;
                        for (var i = 0; i < q.Length; i++)
                        {
                            differ += Math.Abs(q[i] - firstCodes![i]) > 1 ? 100 : q[i] != firstCodes[i] ? 1 : 0;
                        }

                        Assert.IsTrue(differ <= q.Length / 100, $"{path} codes: {differ}");
                    }
                }
            }
        }
    }

    [TestMethod]
    public void Conv_Extremes_LongestGroup_NoOverflow()
    {
        // a filter of 2,653 channels x 5 x 5 = 66,325 taps: one group of 66,311 (the longest int32 holds at |255 · 127|) and one of 14
        const int inC = 2653, k = 5;
        var f = inC * k * k;
        var groupSize = Int8Activations.MaxInt32GroupLength;
        Assert.IsTrue(f > groupSize);
        foreach (var (code, weight, zero) in new[] { (255, 127, 0), (255, -127, 0), (0, 127, 255), (0, -127, 255), (255, 127, 255), (128, -127, 0) })
        {
            var weights = new sbyte[2 * f];
            weights.AsSpan().Fill((sbyte)weight);
            var scales = new float[4];
            scales.AsSpan().Fill(1f);
            var sums = new float[2];
            var norms = new float[2];
            Int8Activations.RowMajorStats(weights, scales, f, groupSize, sums, norms);
            var x = new byte[inC * k * k];
            x.AsSpan().Fill((byte)code);
            var scratch = new byte[Int8Activations.ConvScratchBytes(inC, k, k, k, k, 0, 0, 0, 0)];
            double exact = (double)(code - zero) * weight * f;
            foreach (var path in Paths)
            {
                if (!Int8Activations.IsSupported(path))
                {
                    continue;
                }

                var y = new float[2];
                Int8Activations.Conv2d(weights, scales, default, sums, x, 1f, zero, inC, k, k, k, k, 1, 1, 0, 0, 0, 0, groupSize, false, scratch, y, default, 0f, 0, path);
                foreach (var v in y)
                {
                    // float rounding of terms of 8.4e6: a wrapped int32 would be 2^32 off
                    Assert.AreEqual(exact, v, Math.Abs(exact) * 1e-6, $"{path} code {code} weight {weight} zero {zero}");
                }
            }
        }
    }

    [TestMethod]
    public void Conv_Padding_IsTheZeroPoint()
    {
        // all-zero input values at zero point 77: every output is the bias, border windows included
        const int inC = 2, h = 6, w = 7, outC = 3;
        var rng = new Random(5);
        var (weights, scales, bias) = Int8ActivationKernelTests.RandomLayer(rng, inC * 9, outC, 64);
        var sums = new float[outC];
        var norms = new float[outC];
        Int8Activations.RowMajorStats(weights, scales, inC * 9, 64, sums, norms);
        var x = new byte[inC * h * w];
        x.AsSpan().Fill(77);
        var scratch = new byte[Int8Activations.ConvScratchBytes(inC, h, w, 3, 3, 1, 1, 1, 1)];
        foreach (var path in Paths)
        {
            if (!Int8Activations.IsSupported(path))
            {
                continue;
            }

            var y = new float[outC * h * w];
            Int8Activations.Conv2d(weights, scales, bias, sums, x, 0.1f, 77, inC, h, w, 3, 3, 1, 1, 1, 1, 1, 1, 64, false, scratch, y, default, 0f, 0, path);
            for (var i = 0; i < y.Length; i++)
            {
                Assert.AreEqual(bias[i / (h * w)], y[i], 1e-4, $"{path} output {i}");
            }
        }
    }

    [TestMethod]
    public void Conv_MaxPoolCodes_IsTheMaxOfEachWindow()
    {
        var rng = new Random(9);
        foreach (var (c, h, w, k, s) in new[] { (8, 28, 28, 2, 2), (16, 14, 14, 3, 3), (3, 7, 9, 3, 2) })
        {
            var x = new byte[c * h * w];
            rng.NextBytes(x);
            var oh = ((h - k) / s) + 1;
            var ow = ((w - k) / s) + 1;
            var expected = new byte[c * oh * ow];
            for (var ci = 0; ci < c; ci++)
            {
                for (var i = 0; i < oh; i++)
                {
                    for (var j = 0; j < ow; j++)
                    {
                        var m = 0;
                        for (var ky = 0; ky < k; ky++)
                        {
                            for (var kx = 0; kx < k; kx++)
                            {
                                m = Math.Max(m, x[(ci * h * w) + (((i * s) + ky) * w) + (j * s) + kx]);
                            }
                        }

                        expected[(ci * oh * ow) + (i * ow) + j] = (byte)m;
                    }
                }
            }

            Int8Activations.MaxPoolCodes(x, c, h, w, k, k, s, s);
            CollectionAssert.AreEqual(expected, x.AsSpan(0, expected.Length).ToArray(), $"{c}x{h}x{w} k{k} s{s}");
        }
    }

    [TestMethod]
    public void Conv_ZeroAllocations()
    {
        var rng = new Random(4);
        const int inC = 8, h = 14, w = 14, outC = 16, f = inC * 25;
        var (weights, scales, bias) = Int8ActivationKernelTests.RandomLayer(rng, f, outC, 64);
        var sums = new float[outC];
        var norms = new float[outC];
        Int8Activations.RowMajorStats(weights, scales, f, 64, sums, norms);
        var x = new byte[inC * h * w];
        rng.NextBytes(x);
        var scratch = new byte[Int8Activations.ConvScratchBytes(inC, h, w, 5, 5, 2, 2, 2, 2)];
        var q = new byte[outC * h * w];
        var y = new float[outC * h * w];
        void Once()
        {
            foreach (var path in Paths)
            {
                if (Int8Activations.IsSupported(path))
                {
                    Int8Activations.PredictParams(x, 0.01f, 3, sums, norms, bias, 3f, true, out var ys, out var yz);
                    Int8Activations.Conv2d(weights, scales, bias, sums, x, 0.01f, 3, inC, h, w, 5, 5, 1, 1, 2, 2, 2, 2, 64, true, scratch, default, q, ys, yz, path);
                    Int8Activations.Conv2d(weights, scales, bias, sums, x, 0.01f, 3, inC, h, w, 5, 5, 1, 1, 2, 2, 2, 2, 64, true, scratch, y, default, 0f, 0, path);
                    Int8Activations.MaxPoolCodes(q, outC, h, w, 3, 3, 3, 3);
                }
            }
        }

        Once();
        Assert.AreEqual(0L, Allocations.SteadyState(() =>
        {
            for (var i = 0; i < 5; i++)
            {
                Once();
            }
        }));
    }

    /// <summary>docs/activations.md in exact integers: per group Σ (q − zero) · w over the window (padding is code zero), times the group scale.</summary>
    private static float[] Reference(sbyte[] w, float[] scales, float[] bias, byte[] x, float xScale, int zero, int inC, int h, int wd, int outC, int kh, int kw, int sh, int sw, int pt, int pl, int groupSize, bool relu, int oh, int ow)
    {
        var f = inC * kh * kw;
        var groups = (f + groupSize - 1) / groupSize;
        var y = new float[outC * oh * ow];
        for (var o = 0; o < outC; o++)
        {
            for (var i = 0; i < oh; i++)
            {
                for (var j = 0; j < ow; j++)
                {
                    double acc = 0;
                    for (var g = 0; g < groups; g++)
                    {
                        long s = 0;
                        for (var t = g * groupSize; t < Math.Min(f, (g + 1) * groupSize); t++)
                        {
                            var c = t / (kh * kw);
                            var ky = t / kw % kh;
                            var kx = t % kw;
                            var r = (i * sh) + ky - pt;
                            var col = (j * sw) + kx - pl;
                            var code = r >= 0 && r < h && col >= 0 && col < wd ? x[(c * h * wd) + (r * wd) + col] : zero;
                            s += (long)(code - zero) * w[(o * f) + t];
                        }

                        acc += s * (double)scales[(o * groups) + g];
                    }

                    var v = (xScale * acc) + bias[o];
                    y[(o * oh * ow) + (i * ow) + j] = (float)(relu ? Math.Max(v, 0) : v);
                }
            }
        }

        return y;
    }
}
