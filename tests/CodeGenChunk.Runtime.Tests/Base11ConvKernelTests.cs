using System;
using System.Linq;
using CodeGenChunk.Formats;
using CodeGenChunk.Runtime.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>
/// The base11-weight integer-activation conv2d kernel (docs/activations.md, "conv2d"): every path against exact integer
/// window sums Σ d · (q − z) and Σ (q − z) per group from a plain decoder, bit for bit equal across paths, requantized
/// codes and clip counts, the extremes at the longest group, padding, row statistics, no allocations.
/// </summary>
[TestClass]
public sealed class Base11ConvKernelTests
{
    private static readonly KernelPath[] Paths = Base11ActivationKernelTests.Paths().ToArray();

    [TestMethod]
    [DataRow(1, 28, 28, 8, 5, 5, 1, 1, 2, 2, 2, 2, 64, DisplayName = "Base11 conv mnist-8 conv1")]
    [DataRow(8, 14, 14, 16, 5, 5, 1, 1, 2, 2, 2, 2, 64, DisplayName = "Base11 conv mnist-8 conv2 (short last group of 8)")]
    [DataRow(3, 9, 21, 5, 3, 2, 1, 1, 1, 0, 2, 1, 7, DisplayName = "Base11 conv odd shape, asymmetric padding, group 7")]
    [DataRow(2, 11, 40, 3, 3, 3, 2, 1, 0, 1, 0, 1, 18, DisplayName = "Base11 conv vertical stride 2, 40 columns")]
    [DataRow(4, 10, 13, 3, 3, 3, 2, 2, 1, 1, 1, 1, 64, DisplayName = "Base11 conv stride 2x2 (scalar on every path)")]
    [DataRow(5, 6, 17, 2, 3, 3, 1, 1, 0, 2, 1, 0, 10, DisplayName = "Base11 conv group 10, short last group of 5")]
    public void Conv_EveryPath_MatchesExactReference(int inC, int h, int w, int outC, int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr, int groupSize)
    {
        var rng = new Random((inC * 131) + (h * 7) + outC);
        var f = inC * kh * kw;
        var (digits, packed, mins, ranges, bias) = RandomFilters(rng, f, outC, groupSize);
        var x = new byte[inC * h * w];
        rng.NextBytes(x);
        var sums = new float[outC];
        var norms = new float[outC];
        Base11Activations.RowStats(packed, mins, ranges, f, groupSize, sums, norms);
        var oh = ((h + pt + pb - kh) / sh) + 1;
        var ow = ((w + pl + pr - kw) / sw) + 1;
        var scratch = new byte[Base11Activations.ConvScratchBytes(inC, h, w, kh, kw, pt, pl, pb, pr, groupSize)];
        foreach (var zero in new[] { 0, 37, 128, 255 })
        {
            foreach (var relu in new[] { false, true })
            {
                var expected = Reference(digits, mins, ranges, bias, x, 0.02f, zero, inC, h, w, outC, kh, kw, sh, sw, pt, pl, groupSize, relu, oh, ow, out var magnitude);
                float[]? first = null;
                byte[]? firstCodes = null;
                var firstClipped = -1;
                foreach (var path in Paths)
                {
                    var y = new float[outC * oh * ow];
                    Assert.AreEqual(0, Base11Activations.Conv2d(packed, mins, ranges, bias, sums, x, 0.02f, zero, inC, h, w, kh, kw, sh, sw, pt, pl, pb, pr, groupSize, relu, scratch, y, default, 0f, 0, path));
                    for (var i = 0; i < y.Length; i++)
                    {
                        Assert.AreEqual(expected[i], y[i], 1e-6 * (1 + magnitude[i / (oh * ow)]), $"{path} zero {zero} relu {relu} output {i}");
                    }

                    // requantized at a range narrow enough to clip
                    var q = new byte[y.Length];
                    var clipped = Base11Activations.Conv2d(packed, mins, ranges, bias, sums, x, 0.02f, zero, inC, h, w, kh, kw, sh, sw, pt, pl, pb, pr, groupSize, relu, scratch, default, q, 0.004f, 60, path);
                    var expectedClips = 0;
                    for (var i = 0; i < y.Length; i++)
                    {
                        var v = MathF.Round(y[i] * (1f / 0.004f)) + 60;
                        expectedClips += v < 0 || v > 255 ? 1 : 0;
                        Assert.AreEqual((byte)Math.Clamp(v, 0, 255), q[i], $"{path} code {i}");
                    }

                    Assert.AreEqual(expectedClips, clipped, $"{path} clips");
                    if (first is null)
                    {
                        (first, firstCodes, firstClipped) = (y, q, clipped);
                        Assert.IsTrue(clipped > 0, "the narrow range clips");
                    }
                    else
                    {
                        // every path sums the same integers and adds the same float terms in the same order
                        CollectionAssert.AreEqual(first, y, $"{path} vs scalar, zero {zero}");
                        CollectionAssert.AreEqual(firstCodes, q, $"{path} codes vs scalar");
                        Assert.AreEqual(firstClipped, clipped);
                    }
                }
            }
        }
    }

    [TestMethod]
    public void Conv_Extremes_LongestGroup_Exact()
    {
        // 264 channels x 5 x 5 = 6,600 taps: one group of 6,579 (the longest whose sums are exact in float) and one of 21
        const int inC = 264, k = 5;
        var f = inC * k * k;
        var groupSize = Base11Activations.MaxExactGroupLength;
        Assert.AreEqual(6579, groupSize);
        foreach (var (code, zero) in new[] { (255, 0), (0, 255), (255, 255), (0, 0) })
        {
            var digits = Enumerable.Repeat(10, 2 * f).ToArray();
            var packed = Base11ActivationKernelTests.Pack(digits, 2, f, groupSize);

            // group 0: 0.1 · range = 1 (0.1f · 10 rounds to 1f), min 0; group 1: range and min 0, so y = Σ_{group 0} 10 · (q − z) exactly
            var ranges = new[] { H(10), H(0), H(10), H(0) };
            var mins = new[] { H(0), H(0), H(0), H(0) };
            var sums = new float[2];
            var norms = new float[2];
            Base11Activations.RowStats(packed, mins, ranges, f, groupSize, sums, norms);
            var x = new byte[inC * k * k];
            x.AsSpan().Fill((byte)code);
            var scratch = new byte[Base11Activations.ConvScratchBytes(inC, k, k, k, k, 0, 0, 0, 0, groupSize)];
            float exact = 10f * (code - zero) * groupSize; // |·| ≤ 16,776,450 < 2^24
            foreach (var path in Paths)
            {
                var y = new float[2];
                Base11Activations.Conv2d(packed, mins, ranges, default, sums, x, 1f, zero, inC, k, k, k, k, 1, 1, 0, 0, 0, 0, groupSize, false, scratch, y, default, 0f, 0, path);
                Assert.AreEqual(exact, y[0], $"{path} code {code} zero {zero}");
                Assert.AreEqual(exact, y[1], $"{path} code {code} zero {zero}");
            }
        }

        static ushort H(float v) => BitConverter.HalfToUInt16Bits((Half)v);
    }

    [TestMethod]
    public void Conv_GroupTooLong_Throws()
    {
        var f = 264 * 25;
        var packed = new byte[Base11Format.RowBytes(f, 6580)];
        var halves = new ushort[2];
        var scratch = new byte[Base11Activations.ConvScratchBytes(264, 5, 5, 5, 5, 0, 0, 0, 0, 6580)];
        Assert.ThrowsExactly<ArgumentException>(() => Base11Activations.Conv2d(packed, halves, halves, default, new float[1], new byte[f], 1f, 0, 264, 5, 5, 5, 5, 1, 1, 0, 0, 0, 0, 6580, false, scratch, new float[1], default, 0f, 0, KernelPath.Scalar));
    }

    [TestMethod]
    public void Conv_Padding_IsTheZeroPoint()
    {
        // all input values 0.0 at zero point 77: every output is the bias, border windows included
        const int inC = 2, h = 6, w = 7, outC = 3;
        var rng = new Random(5);
        var (_, packed, mins, ranges, bias) = RandomFilters(rng, inC * 9, outC, 64);
        var sums = new float[outC];
        var norms = new float[outC];
        Base11Activations.RowStats(packed, mins, ranges, inC * 9, 64, sums, norms);
        var x = new byte[inC * h * w];
        x.AsSpan().Fill(77);
        var scratch = new byte[Base11Activations.ConvScratchBytes(inC, h, w, 3, 3, 1, 1, 1, 1, 64)];
        foreach (var path in Paths)
        {
            var y = new float[outC * h * w];
            Base11Activations.Conv2d(packed, mins, ranges, bias, sums, x, 0.1f, 77, inC, h, w, 3, 3, 1, 1, 1, 1, 1, 1, 64, false, scratch, y, default, 0f, 0, path);
            for (var i = 0; i < y.Length; i++)
            {
                Assert.AreEqual(bias[i / (h * w)], y[i], $"{path} output {i}");
            }
        }
    }

    [TestMethod]
    public void Conv_RowStats_AreThoseOfTheDecodedFilters()
    {
        // the filter bank [OutC, InC·KH·KW] is base11 rows: RowStats over it equals the sums and norms of FilterDecode's floats
        var rng = new Random(21);
        const int f = 8 * 25, outC = 16, groupSize = 64;
        var (_, packed, mins, ranges, _) = RandomFilters(rng, f, outC, groupSize);
        var sums = new float[outC];
        var norms = new float[outC];
        Base11Activations.RowStats(packed, mins, ranges, f, groupSize, sums, norms);
        var decoded = new float[outC * f];
        Base11Format.Dequantize(packed, mins, ranges, outC, f, groupSize, decoded);
        for (var o = 0; o < outC; o++)
        {
            var row = decoded.AsSpan(o * f, f).ToArray();
            Assert.AreEqual(row.Sum(v => (double)v), sums[o], 1e-4);
            Assert.AreEqual(Math.Sqrt(row.Sum(v => (double)v * v)), norms[o], 1e-4);
        }
    }

    [TestMethod]
    public void Conv_ZeroAllocations()
    {
        var rng = new Random(4);
        const int inC = 8, h = 14, w = 14, outC = 16, f = inC * 25;
        var (_, packed, mins, ranges, bias) = RandomFilters(rng, f, outC, 64);
        var sums = new float[outC];
        var norms = new float[outC];
        Base11Activations.RowStats(packed, mins, ranges, f, 64, sums, norms);
        var x = new byte[inC * h * w];
        rng.NextBytes(x);
        var scratch = new byte[Base11Activations.ConvScratchBytes(inC, h, w, 5, 5, 2, 2, 2, 2, 64)];
        var q = new byte[outC * h * w];
        var y = new float[outC * h * w];
        void Once()
        {
            foreach (var path in Paths)
            {
                Int8Activations.PredictParams(x, 0.01f, 3, sums, norms, bias, 3f, true, out var ys, out var yz);
                Base11Activations.Conv2d(packed, mins, ranges, bias, sums, x, 0.01f, 3, inC, h, w, 5, 5, 1, 1, 2, 2, 2, 2, 64, true, scratch, default, q, ys, yz, path);
                Base11Activations.Conv2d(packed, mins, ranges, bias, sums, x, 0.01f, 3, inC, h, w, 5, 5, 1, 1, 2, 2, 2, 2, 64, true, scratch, y, default, 0f, 0, path);
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

    /// <summary>Random indices 0..10 (kept, for the reference) packed as base11 rows, binary16 min and range, a bias.</summary>
    private static (int[] Digits, byte[] Packed, ushort[] Mins, ushort[] Ranges, float[] Bias) RandomFilters(Random rng, int f, int outC, int groupSize)
    {
        var groups = (f + groupSize - 1) / groupSize;
        var digits = new int[f * outC];
        for (var i = 0; i < digits.Length; i++)
        {
            digits[i] = rng.Next(0, 11);
        }

        var mins = new ushort[outC * groups];
        var ranges = new ushort[outC * groups];
        for (var i = 0; i < mins.Length; i++)
        {
            var range = 0.1 + (rng.NextDouble() * 0.5);
            ranges[i] = BitConverter.HalfToUInt16Bits((Half)range);
            mins[i] = BitConverter.HalfToUInt16Bits((Half)((-range / 2) + ((rng.NextDouble() - 0.5) * 0.1)));
        }

        var bias = new float[outC];
        for (var i = 0; i < outC; i++)
        {
            bias[i] = (float)(rng.NextDouble() - 0.5);
        }

        return (digits, Base11ActivationKernelTests.Pack(digits, outC, f, groupSize), mins, ranges, bias);
    }

    /// <summary>
    /// docs/activations.md in exact integers: per group A = Σ d · (q − z) and B = Σ (q − z) over the window (padding is
    /// code z) as longs, then (0.1f · range) · A + min · B in double; <paramref name="magnitude"/>: per channel the largest
    /// Σ of absolute terms times the scale (the float rounding the kernel may differ by).
    /// </summary>
    private static float[] Reference(int[] d, ushort[] mins, ushort[] ranges, float[] bias, byte[] x, float xScale, int zero, int inC, int h, int wd, int outC, int kh, int kw, int sh, int sw, int pt, int pl, int groupSize, bool relu, int oh, int ow, out double[] magnitude)
    {
        var f = inC * kh * kw;
        var groups = (f + groupSize - 1) / groupSize;
        var y = new float[outC * oh * ow];
        magnitude = new double[outC];
        for (var o = 0; o < outC; o++)
        {
            for (var i = 0; i < oh; i++)
            {
                for (var j = 0; j < ow; j++)
                {
                    double acc = 0, abs = 0;
                    for (var g = 0; g < groups; g++)
                    {
                        long a = 0, b = 0;
                        for (var t = g * groupSize; t < Math.Min(f, (g + 1) * groupSize); t++)
                        {
                            var c = t / (kh * kw);
                            var ky = t / kw % kh;
                            var kx = t % kw;
                            var r = (i * sh) + ky - pt;
                            var col = (j * sw) + kx - pl;
                            var code = r >= 0 && r < h && col >= 0 && col < wd ? x[(c * h * wd) + (r * wd) + col] : zero;
                            a += (long)d[(o * f) + t] * (code - zero);
                            b += code - zero;
                        }

                        double step = 0.1f * (float)BitConverter.UInt16BitsToHalf(ranges[(o * groups) + g]);
                        double min = (float)BitConverter.UInt16BitsToHalf(mins[(o * groups) + g]);
                        acc += (step * a) + (min * b);
                        abs += Math.Abs(step * a) + Math.Abs(min * b);
                    }

                    var v = (xScale * acc) + bias[o];
                    magnitude[o] = Math.Max(magnitude[o], xScale * abs);
                    y[(o * oh * ow) + (i * ow) + j] = (float)(relu ? Math.Max(v, 0) : v);
                }
            }
        }

        return y;
    }
}
