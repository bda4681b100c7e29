using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using CodeGenChunk.Formats;
using CodeGenChunk.Runtime.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>
/// The base11-weight integer-activation kernel (docs/activations.md, "base11 weights"): every path this machine has against
/// exact integer group sums Σ d · (q − z) computed from the packed bytes by a plain scalar decoder, the extremes at the
/// longest group, requantized codes and clip counts, row statistics, no allocations.
/// </summary>
[TestClass]
public sealed class Base11ActivationKernelTests
{
    /// <summary>The paths this machine runs (the portable ones always; Vector256 and Vector512 where accelerated).</summary>
    public static IEnumerable<KernelPath> Paths()
    {
        yield return KernelPath.Scalar;
        yield return KernelPath.Vector128;
        if (Vector256.IsHardwareAccelerated)
        {
            yield return KernelPath.Vector256;
        }

        if (Vector512.IsHardwareAccelerated)
        {
            yield return KernelPath.Vector512;
        }
    }

    [TestMethod]
    [DataRow(784, 10, 256)] // the MNIST MLP's first layer: a short last group of 16
    [DataRow(784, 512, 256)]
    [DataRow(100, 13, 9)] // groups of one word, a row tail of one
    [DataRow(1024, 64, 144)] // 16 words per group: no padded word
    [DataRow(1152, 6, 1152)] // 9k: 128 words
    [DataRow(37, 6, 256)] // one short group
    [DataRow(130, 5, 100)] // groups not a multiple of 9
    [DataRow(300, 7, 1)] // groups of one input
    [DataRow(20, 3, 7)] // fewer rows than a block
    [DataRow(6600, 5, 6579)] // the longest group, then a short one
    public void Base11Activation_EveryPath_MatchesExactReference_OnRandomData(int inLen, int outLen, int groupSize)
    {
        var rng = new Random((inLen * 31) + outLen);
        var (packed, mins, ranges, bias) = RandomLayer(rng, inLen, outLen, groupSize);
        var x = new byte[inLen];
        rng.NextBytes(x);
        var residual = new float[outLen];
        for (var i = 0; i < outLen; i++)
        {
            residual[i] = (float)rng.NextDouble();
        }

        var (sums, _) = Stats(packed, mins, ranges, inLen, outLen, groupSize);
        var scratch = new byte[Base11Activations.ScratchBytes(inLen, groupSize)];
        foreach (var zero in new[] { 0, 37, 128, 255 })
        {
            foreach (var relu in new[] { false, true })
            {
                foreach (var withResidual in new[] { false, true })
                {
                    var res = withResidual ? residual : null;
                    var expected = Reference(packed, mins, ranges, bias, x, 0.02f, zero, inLen, outLen, groupSize, relu, res, out var magnitude);
                    float[]? scalar = null;
                    foreach (var path in Paths())
                    {
                        var y = new float[outLen];
                        scratch.AsSpan().Fill(0xA5); // the kernel writes its scratch itself
                        Base11Activations.Linear(packed, mins, ranges, bias, sums, x, 0.02f, zero, groupSize, relu, scratch, res, y, default, 0f, 0, path);
                        scalar ??= y;
                        for (var o = 0; o < outLen; o++)
                        {
                            // exact group sums scaled in float: relative 1e-5 of the terms' magnitude
                            var tolerance = (1e-5 * (1 + Math.Abs(expected[o]))) + (1e-6 * magnitude[o]);
                            Assert.AreEqual(expected[o], y[o], tolerance, $"{path} zero {zero} relu {relu} residual {withResidual} row {o}");
                            Assert.AreEqual(scalar[o], y[o], 2 * tolerance, $"{path} against scalar, zero {zero} relu {relu} row {o}");
                        }
                    }
                }
            }
        }
    }

    [TestMethod]
    public void Base11Activation_Extremes_LongestGroup_Exact()
    {
        // the longest group whose sums float holds exactly (6,579 inputs), then a short group of 50: every index 0 or 10,
        // every code 0 or 255; range 10 makes 0.1 · range exactly 1 in float and min 0, so y = Σ d · (q − z) exactly
        Assert.AreEqual(6579, Base11Activations.MaxExactGroupLength);
        const int groupSize = Base11Activations.MaxExactGroupLength;
        const int inLen = groupSize + 50;
        const int outLen = 5;
        const int groups = 2;
        var mins = new ushort[outLen * groups];
        var ranges = new ushort[outLen * groups];
        ranges.AsSpan().Fill(BitConverter.HalfToUInt16Bits((Half)10f));
        Assert.AreEqual(1f, 0.1f * (float)BitConverter.UInt16BitsToHalf(ranges[0]), "0.1 · range is exactly 1");
        var scratch = new byte[Base11Activations.ScratchBytes(inLen, groupSize)];
        foreach (var (code, digit, zero) in new[] { (255, 10, 0), (0, 10, 255), (255, 0, 0), (255, 10, 255), (128, 10, 0), (0, 10, 0), (255, 10, 1) })
        {
            var digits = new int[outLen * inLen];
            digits.AsSpan().Fill(digit);
            var packed = Pack(digits, outLen, inLen, groupSize);
            var x = new byte[inLen];
            x.AsSpan().Fill((byte)code);
            var (sums, _) = Stats(packed, mins, ranges, inLen, outLen, groupSize);
            var exact = (double)(code - zero) * digit * inLen;
            foreach (var path in Paths())
            {
                var y = new float[outLen];
                Base11Activations.Linear(packed, mins, ranges, default, sums, x, 1f, zero, groupSize, false, scratch, default, y, default, 0f, 0, path);
                foreach (var v in y)
                {
                    Assert.AreEqual(exact, (double)v, 0.0, $"{path} code {code} digit {digit} zero {zero}");
                }
            }
        }

        // one input more than the exact bound is refused
        var longer = Base11Activations.MaxExactGroupLength + 1;
        var p = new byte[Base11Activations.RowBytes(longer, longer)];
        var s = new byte[Base11Activations.ScratchBytes(longer, longer)];
        Assert.ThrowsExactly<ArgumentException>(() => Base11Activations.Linear(p, new ushort[1], new ushort[1], default, new float[1], new byte[longer], 1f, 0, longer, false, s, default, new float[1], default, 0f, 0, KernelPath.Scalar));
    }

    [TestMethod]
    public void Base11Activation_Requantized_OutputCodesAndClipCount()
    {
        var rng = new Random(5);
        const int inLen = 200, outLen = 23, groupSize = 64;
        var (packed, mins, ranges, bias) = RandomLayer(rng, inLen, outLen, groupSize);
        var x = new byte[inLen];
        rng.NextBytes(x);
        var expected = Reference(packed, mins, ranges, bias, x, 0.05f, 10, inLen, outLen, groupSize, true, null, out _);
        var (sums, _) = Stats(packed, mins, ranges, inLen, outLen, groupSize);
        var max = 0f;
        foreach (var v in expected)
        {
            max = Math.Max(max, v);
        }

        var yScale = max / 2 / 255;
        var inv = 1f / yScale;
        var expectedClips = 0;
        var expectedCodes = new byte[outLen];
        for (var o = 0; o < outLen; o++)
        {
            expectedCodes[o] = Int8Activations.CodeOf(expected[o], inv, 0, ref expectedClips);
        }

        Assert.IsTrue(expectedClips > 0);
        var scratch = new byte[Base11Activations.ScratchBytes(inLen, groupSize)];
        foreach (var path in Paths())
        {
            var codes = new byte[outLen];
            var clips = Base11Activations.Linear(packed, mins, ranges, bias, sums, x, 0.05f, 10, groupSize, true, scratch, default, default, codes, yScale, 0, path);
            Assert.AreEqual(expectedClips, clips, path.ToString());
            for (var o = 0; o < outLen; o++)
            {
                Assert.AreEqual(expectedCodes[o], codes[o], 1.0, $"{path} row {o}");
            }
        }
    }

    [TestMethod]
    public void Base11Activation_RowStats_MatchDequantizedFormat()
    {
        // weights quantized by the format itself: the row statistics are those of Base11Format's reference decoder
        // (HalfPlusOneTable[k] · range + min), up to the kernel's 0.1 · k (relative 1e-7 per weight)
        var rng = new Random(11);
        const int inLen = 150, outLen = 10, groupSize = 64;
        var w = new float[inLen * outLen];
        for (var i = 0; i < w.Length; i++)
        {
            w[i] = (float)(rng.NextDouble() - 0.5);
        }

        var groups = Base11Format.GroupsPerRow(inLen, groupSize);
        var packed = new byte[outLen * Base11Format.RowBytes(inLen, groupSize)];
        var mins = new ushort[outLen * groups];
        var ranges = new ushort[outLen * groups];
        Base11Format.Quantize(w, outLen, inLen, groupSize, packed, mins, ranges);
        Assert.AreEqual(Base11Format.RowBytes(inLen, groupSize), Base11Activations.RowBytes(inLen, groupSize));
        var decoded = new float[w.Length];
        Base11Format.Dequantize(packed, mins, ranges, outLen, inLen, groupSize, decoded);
        var (sums, norms) = Stats(packed, mins, ranges, inLen, outLen, groupSize);
        for (var o = 0; o < outLen; o++)
        {
            double s = 0, s2 = 0;
            for (var i = 0; i < inLen; i++)
            {
                s += decoded[(o * inLen) + i];
                s2 += (double)decoded[(o * inLen) + i] * decoded[(o * inLen) + i];
            }

            Assert.AreEqual(s, sums[o], 1e-5, $"sum of row {o}");
            Assert.AreEqual(Math.Sqrt(s2), norms[o], 1e-5, $"norm of row {o}");
        }
    }

    [TestMethod]
    [DataRow(KernelPath.Scalar)]
    [DataRow(KernelPath.Vector128)]
    [DataRow(KernelPath.Vector256)]
    [DataRow(KernelPath.Vector512)]
    public void Base11Activation_ZeroAllocations(KernelPath path)
    {
        var rng = new Random(3);
        const int inLen = 512, outLen = 512, groupSize = 256;
        var (packed, mins, ranges, bias) = RandomLayer(rng, inLen, outLen, groupSize);
        var (sums, norms) = Stats(packed, mins, ranges, inLen, outLen, groupSize);
        var xf = RandomFloats(rng, inLen);
        var x = new byte[inLen];
        var codes = new byte[outLen];
        var y = new float[outLen];
        var scratch = new byte[Base11Activations.ScratchBytes(inLen, groupSize)];
        void Once()
        {
            Int8Activations.DynamicParams(xf, out var s, out var z);
            Int8Activations.Quantize(xf, s, z, x);
            Int8Activations.PredictParams(x, s, z, sums, norms, bias, 3f, true, out var ys, out var yz);
            Base11Activations.Linear(packed, mins, ranges, bias, sums, x, s, z, groupSize, true, scratch, default, default, codes, ys, yz, path);
            Base11Activations.Linear(packed, mins, ranges, bias, sums, x, s, z, groupSize, true, scratch, default, y, default, 0f, 0, path);
        }

        Once();
        Assert.AreEqual(0L, Allocations.SteadyState(() =>
        {
            for (var i = 0; i < 10; i++)
            {
                Once();
            }
        }), path.ToString());
    }

    private static float[] RandomFloats(Random rng, int n)
    {
        var v = new float[n];
        for (var i = 0; i < n; i++)
        {
            v[i] = (float)rng.NextDouble();
        }

        return v;
    }

    /// <summary>Random indices 0..10 packed in the format's layout, binary16 min and range, and a bias.</summary>
    internal static (byte[] Packed, ushort[] Mins, ushort[] Ranges, float[] Bias) RandomLayer(Random rng, int inLen, int outLen, int groupSize)
    {
        var groups = (inLen + groupSize - 1) / groupSize;
        var digits = new int[inLen * outLen];
        for (var i = 0; i < digits.Length; i++)
        {
            digits[i] = rng.Next(0, 11);
        }

        var mins = new ushort[outLen * groups];
        var ranges = new ushort[outLen * groups];
        for (var i = 0; i < mins.Length; i++)
        {
            // weights about centred on zero: min ≈ −range / 2
            var range = 0.1 + (rng.NextDouble() * 0.5);
            ranges[i] = BitConverter.HalfToUInt16Bits((Half)range);
            mins[i] = BitConverter.HalfToUInt16Bits((Half)((-range / 2) + ((rng.NextDouble() - 0.5) * 0.1)));
        }

        var bias = new float[outLen];
        for (var i = 0; i < outLen; i++)
        {
            bias[i] = (float)(rng.NextDouble() - 0.5);
        }

        return (Pack(digits, outLen, inLen, groupSize), mins, ranges, bias);
    }

    /// <summary>Indices [rows][cols] packed nine to a little-endian word (index i at 11^i), groups padded with index 0.</summary>
    internal static byte[] Pack(int[] digits, int rows, int cols, int groupSize)
    {
        var rowBytes = Base11Format.RowBytes(cols, groupSize);
        var packed = new byte[rows * rowBytes];
        for (var r = 0; r < rows; r++)
        {
            for (var start = 0; start < cols; start += groupSize)
            {
                var len = Math.Min(groupSize, cols - start);
                var at = (r * rowBytes) + ((start / groupSize) * Base11Format.PackBytes(groupSize));
                for (var word = 0; word * 9 < len; word++)
                {
                    uint v = 0, place = 1;
                    for (var i = 0; i < 9; i++, place *= 11)
                    {
                        var e = (word * 9) + i;
                        v += e < len ? (uint)digits[(r * cols) + start + e] * place : 0;
                    }

                    BitConverter.TryWriteBytes(packed.AsSpan(at + (word * 4)), v);
                }
            }
        }

        return packed;
    }

    internal static (float[] Sums, float[] Norms) Stats(byte[] packed, ushort[] mins, ushort[] ranges, int inLen, int outLen, int groupSize)
    {
        var sums = new float[outLen];
        var norms = new float[outLen];
        Base11Activations.RowStats(packed, mins, ranges, inLen, groupSize, sums, norms);
        return (sums, norms);
    }

    /// <summary>
    /// Exact integer group sums Σ d · (q − z) and Σ (q − z) from the packed bytes (a plain decoder: repeated division of
    /// each word by 11), scaled in double by 0.1 · range (the float product, as the kernels take it) and min;
    /// <paramref name="magnitude"/>: Σ of the absolute scaled terms of each row.
    /// </summary>
    internal static float[] Reference(byte[] packed, ushort[] mins, ushort[] ranges, float[] bias, byte[] x, float xScale, int zero, int inLen, int outLen, int groupSize, bool relu, float[]? residual, out double[] magnitude)
    {
        var groups = (inLen + groupSize - 1) / groupSize;
        var rowBytes = Base11Format.RowBytes(inLen, groupSize);
        var y = new float[outLen];
        magnitude = new double[outLen];
        for (var o = 0; o < outLen; o++)
        {
            double acc = 0;
            for (var g = 0; g < groups; g++)
            {
                var start = g * groupSize;
                var len = Math.Min(groupSize, inLen - start);
                var at = (o * rowBytes) + (g * Base11Format.PackBytes(groupSize));
                long s = 0, t = 0;
                for (var i = 0; i < len; i++)
                {
                    var word = BitConverter.ToUInt32(packed, at + ((i / 9) * 4));
                    for (var k = 0; k < i % 9; k++)
                    {
                        word /= 11;
                    }

                    var d = (int)(word % 11);
                    s += (long)d * (x[start + i] - zero);
                    t += x[start + i] - zero;
                }

                double c = 0.1f * (float)BitConverter.UInt16BitsToHalf(ranges[(o * groups) + g]);
                double m = (float)BitConverter.UInt16BitsToHalf(mins[(o * groups) + g]);
                acc += (c * s) + (m * t);
                magnitude[o] += xScale * (Math.Abs(c * s) + Math.Abs(m * t));
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
