using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics.X86;
using CodeGenChunk.Formats;
using CodeGenChunk.Runtime.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>
/// The base11 "pairs" layout with float activations (Base11PairsFloat): every path against a double-precision reference of
/// the same convention (<c>w = 0.1 · range · d + min</c>; Vector256 and Vector512 where the machine has them) on random weights of several shapes (inputs not a multiple of 128
/// or of the group, rows not a multiple of 4, groups of 7 to 1,024 and short last groups), the epilogue (bias, ReLU,
/// residual), garbage in the scratch, the Vector512 guard at the end of the weights, no allocations.
/// </summary>
[TestClass]
public sealed class Base11PairsFloatTests
{
    /// <summary>The paths this machine runs: scalar and Vector128 always, Vector256 with AVX2 and FMA, Vector512 with AVX-512 VBMI.</summary>
    public static IEnumerable<KernelPath> Paths()
    {
        yield return KernelPath.Scalar;
        yield return KernelPath.Vector128;
        if (Avx2.IsSupported && Fma.IsSupported)
        {
            yield return KernelPath.Vector256;
        }

        if (Avx512Vbmi.IsSupported)
        {
            yield return KernelPath.Vector512;
        }
    }

    [TestMethod]
    [DataRow(1024, 12, 256)] // BigNet: whole blocks, input read in place
    [DataRow(784, 10, 256)] // the MNIST MLP's first layer: a short last group of 16, input copied and padded
    [DataRow(1024, 9, 384)] // groups of three blocks, a short last group of 256
    [DataRow(512, 13, 128)]
    [DataRow(640, 6, 512)] // a short last group of 128
    [DataRow(300, 7, 100)] // groups shorter than a block
    [DataRow(1000, 5, 1000)] // one group, a short last block
    [DataRow(37, 5, 256)] // one short group
    [DataRow(20, 3, 7)]
    [DataRow(2048, 4, 1024)]
    public void Linear_EveryPath_MatchesTheDoubleReference(int inLen, int outLen, int groupSize)
    {
        var rng = new Random((inLen * 31) + outLen + groupSize);
        var (digits, pairs, mins, ranges) = RandomLayer(rng, outLen, inLen, groupSize);
        var x = new float[inLen];
        for (var i = 0; i < inLen; i++)
        {
            x[i] = (float)((rng.NextDouble() * 4) - 2);
        }

        var bias = new float[outLen];
        var residual = new float[outLen];
        for (var o = 0; o < outLen; o++)
        {
            bias[o] = (float)(rng.NextDouble() - 0.5);
            residual[o] = (float)(rng.NextDouble() - 0.5);
        }

        var scratch = new float[Base11PairsFloat.ScratchFloats(inLen, groupSize)];
        foreach (var withBias in new[] { false, true })
        {
            foreach (var relu in new[] { false, true })
            {
                foreach (var withResidual in new[] { false, true })
                {
                    var b = withBias ? bias : default(ReadOnlySpan<float>);
                    var r = withResidual ? residual : default(ReadOnlySpan<float>);
                    var (expected, bound) = Reference(digits, mins, ranges, withBias ? bias : null, withResidual ? residual : null, x, outLen, groupSize, relu);
                    foreach (var path in Paths())
                    {
                        var y = new float[outLen];
                        scratch.AsSpan().Fill(float.NaN); // the padding must be written, not assumed zero
                        Base11PairsFloat.Linear(pairs, mins, ranges, b, x, groupSize, relu, scratch, r, y, path);
                        for (var o = 0; o < outLen; o++)
                        {
                            // float sums of up to 2,048 products: within 1e-5 of the sum of the terms' magnitudes
                            Assert.AreEqual(expected[o], y[o], 1e-5 * (1 + bound[o]), $"{path} bias {withBias} relu {relu} residual {withResidual} row {o}");
                        }
                    }
                }
            }
        }
    }

    [TestMethod]
    public void Linear_Vector512_OnWeightsWithTrailingBytes_MatchesExactWeights()
    {
        // the same rows in a span with spare bytes after them (every row block then reads 64 bytes per block) and in an
        // exact span (the last row block falls back to the Vector128 path): the same results within rounding
        var rng = new Random(11);
        const int inLen = 1024, outLen = 16, groupSize = 256;
        var (_, pairs, mins, ranges) = RandomLayer(rng, outLen, inLen, groupSize);
        var longer = new byte[pairs.Length + 64];
        pairs.CopyTo(longer, 0);
        var x = new float[inLen];
        for (var i = 0; i < inLen; i++)
        {
            x[i] = (float)(rng.NextDouble() - 0.5);
        }

        var scratch = new float[Base11PairsFloat.ScratchFloats(inLen, groupSize)];
        var a = new float[outLen];
        var c = new float[outLen];
        Base11PairsFloat.Linear(pairs, mins, ranges, default, x, groupSize, false, scratch, default, a, KernelPath.Vector512);
        Base11PairsFloat.Linear(longer, mins, ranges, default, x, groupSize, false, scratch, default, c, KernelPath.Vector512);
        for (var o = 0; o < outLen; o++)
        {
            Assert.AreEqual(a[o], c[o], 1e-4 * (1 + Math.Abs(a[o])), $"row {o}");
        }
    }

    [TestMethod]
    public void Linear_RefusesSpansThatDoNotMatch()
    {
        var s = new float[Base11PairsFloat.ScratchFloats(256, 256)];
        var w = new byte[4 * Base11PairsActivations.RowBytes(256, 256)];
        Assert.ThrowsExactly<ArgumentException>(() => Base11PairsFloat.Linear(w, new ushort[4], new ushort[4], default, new float[256], 256, false, s, default, new float[5], KernelPath.Scalar));
        Assert.ThrowsExactly<ArgumentException>(() => Base11PairsFloat.Linear(w, new ushort[4], new ushort[4], default, new float[256], 256, false, Array.Empty<float>(), default, new float[4], KernelPath.Scalar));
        Assert.ThrowsExactly<ArgumentException>(() => Base11PairsFloat.Linear(w, new ushort[4], new ushort[4], new float[3], new float[256], 256, false, s, default, new float[4], KernelPath.Scalar));
    }

    [TestMethod]
    [DataRow(KernelPath.Scalar, 1024)]
    [DataRow(KernelPath.Vector128, 1024)]
    [DataRow(KernelPath.Vector256, 1024)]
    [DataRow(KernelPath.Vector512, 1024)]
    [DataRow(KernelPath.Scalar, 784)]
    [DataRow(KernelPath.Vector128, 784)]
    [DataRow(KernelPath.Vector256, 784)]
    [DataRow(KernelPath.Vector512, 784)]
    public void Linear_ZeroAllocations(KernelPath path, int inLen)
    {
        var rng = new Random(5);
        const int outLen = 64, groupSize = 256;
        var (_, pairs, mins, ranges) = RandomLayer(rng, outLen, inLen, groupSize);
        var x = new float[inLen];
        x.AsSpan().Fill(0.25f);
        var bias = new float[outLen];
        var residual = new float[outLen];
        var y = new float[outLen];
        var scratch = new float[Base11PairsFloat.ScratchFloats(inLen, groupSize)];
        Base11PairsFloat.Linear(pairs, mins, ranges, bias, x, groupSize, true, scratch, residual, y, path);
        Assert.AreEqual(0L, Allocations.SteadyState(() =>
        {
            for (var i = 0; i < 10; i++)
            {
                Base11PairsFloat.Linear(pairs, mins, ranges, bias, x, groupSize, true, scratch, residual, y, path);
            }
        }), path.ToString());
    }

    [TestMethod]
    public void ScratchFloats()
    {
        // [the zero-padded input unless every group is whole blocks][the Vector512 path's lane-ordered copy][Σ x per group]
        Assert.AreEqual(1024 + 4, Base11PairsFloat.ScratchFloats(1024, 256));
        Assert.AreEqual((2 * ((3 * 256) + 128)) + 4, Base11PairsFloat.ScratchFloats(784, 256));
        Assert.AreEqual(1024 + 3, Base11PairsFloat.ScratchFloats(1024, 384));
        Assert.AreEqual((2 * ((2 * 384) + 128)) + 3, Base11PairsFloat.ScratchFloats(800, 384));
        Assert.AreEqual((2 * 1024) + 1, Base11PairsFloat.ScratchFloats(1000, 1000));
    }

    /// <summary>y = W x (+ b), ReLU, (+ residual) in double with w = 0.1 · range · d + min, and per row Σ_g (0.1 · |range| · Σ |d · x| + |min| · Σ |x|) + |b| + |residual|.</summary>
    private static (double[] Y, double[] Bound) Reference(int[] digits, ushort[] mins, ushort[] ranges, float[]? bias, float[]? residual, float[] x, int outLen, int groupSize, bool relu)
    {
        int inLen = x.Length;
        int groups = (inLen + groupSize - 1) / groupSize;
        var y = new double[outLen];
        var bound = new double[outLen];
        for (var o = 0; o < outLen; o++)
        {
            double s = 0, m = 0;
            for (var g = 0; g < groups; g++)
            {
                double range = (double)(float)BitConverter.UInt16BitsToHalf(ranges[(o * groups) + g]);
                double min = (double)(float)BitConverter.UInt16BitsToHalf(mins[(o * groups) + g]);
                double dx = 0, adx = 0, sx = 0, asx = 0;
                for (var i = g * groupSize; i < Math.Min(inLen, (g + 1) * groupSize); i++)
                {
                    dx += digits[(o * inLen) + i] * (double)x[i];
                    adx += Math.Abs(digits[(o * inLen) + i] * (double)x[i]);
                    sx += x[i];
                    asx += Math.Abs(x[i]);
                }

                s += (0.1 * range * dx) + (min * sx);
                m += (0.1 * Math.Abs(range) * adx) + (Math.Abs(min) * asx);
            }

            if (bias is not null)
            {
                s += bias[o];
                m += Math.Abs(bias[o]);
            }

            if (relu)
            {
                s = Math.Max(s, 0);
            }

            if (residual is not null)
            {
                s += residual[o];
                m += Math.Abs(residual[o]);
            }

            y[o] = s;
            bound[o] = m;
        }

        return (y, bound);
    }

    /// <summary>Random indices [rows][cols], their pairs bytes, and random binary16 mins (−1..0) and ranges (0..2) per group.</summary>
    private static (int[] Digits, byte[] Pairs, ushort[] Mins, ushort[] Ranges) RandomLayer(Random rng, int rows, int cols, int groupSize)
    {
        var digits = new int[rows * cols];
        for (var i = 0; i < digits.Length; i++)
        {
            digits[i] = rng.Next(0, 11);
        }

        var rowBytes = Base11PairsFormat.RowBytes(cols, groupSize);
        var pairs = new byte[rows * rowBytes];
        var group = new byte[groupSize];
        for (var r = 0; r < rows; r++)
        {
            for (var start = 0; start < cols; start += groupSize)
            {
                var len = Math.Min(groupSize, cols - start);
                for (var i = 0; i < len; i++)
                {
                    group[i] = (byte)digits[(r * cols) + start + i];
                }

                Base11PairsFormat.PackGroup(group.AsSpan(0, len), pairs.AsSpan((r * rowBytes) + ((start / groupSize) * Base11PairsFormat.PackBytes(groupSize)), Base11PairsFormat.PackBytes(len)));
            }
        }

        var groups = (cols + groupSize - 1) / groupSize;
        var mins = new ushort[rows * groups];
        var ranges = new ushort[rows * groups];
        for (var i = 0; i < mins.Length; i++)
        {
            mins[i] = BitConverter.HalfToUInt16Bits((Half)(-rng.NextDouble()));
            ranges[i] = BitConverter.HalfToUInt16Bits((Half)(2 * rng.NextDouble()));
        }

        return (digits, pairs, mins, ranges);
    }
}
