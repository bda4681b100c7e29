using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CodeGenChunk.Formats;
using CodeGenChunk.Runtime.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>
/// The base11 "pairs" layout (Base11PairsFormat: two indices per 7-bit code, 64 codes in 56 bytes per block of 128) and its
/// integer-activation kernel (Base11PairsActivations): round trips of random and short groups, the byte layout, every path's
/// exact int32 group sums against a plain reference, the kernel's output against the word-layout kernel on the same indices,
/// no allocations.
/// </summary>
[TestClass]
public sealed class Base11PairsTests
{
    /// <summary>The paths this machine runs: scalar and Vector128 always, Vector512 with AVX-512 VBMI.</summary>
    public static IEnumerable<KernelPath> Paths()
    {
        yield return KernelPath.Scalar;
        yield return KernelPath.Vector128;
        if (Avx512Vbmi.IsSupported)
        {
            yield return KernelPath.Vector512;
        }
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(9)]
    [DataRow(63)]
    [DataRow(64)]
    [DataRow(65)]
    [DataRow(127)]
    [DataRow(128)]
    [DataRow(129)]
    [DataRow(256)]
    [DataRow(300)]
    [DataRow(1000)]
    public void PackGroup_RoundTrips_RandomGroups(int length)
    {
        var rng = new Random(length);
        var digits = new byte[length];
        for (var trial = 0; trial < 20; trial++)
        {
            for (var i = 0; i < length; i++)
            {
                digits[i] = (byte)rng.Next(0, 11);
            }

            var packed = new byte[Base11PairsFormat.PackBytes(length)];
            Assert.AreEqual(((length + 127) / 128) * 56, packed.Length);
            Base11PairsFormat.PackGroup(digits, packed);
            for (var i = 0; i < length; i++)
            {
                Assert.AreEqual(digits[i], Base11PairsFormat.Index(packed, i), $"length {length} index {i}");
                Assert.AreEqual(digits[i], Base11PairsActivations.Digit(packed, i), $"kernel digit, length {length} index {i}");
            }

            // padding digits are 0, every code at most 120
            for (var i = length; i < packed.Length / 56 * 128; i++)
            {
                Assert.AreEqual(0, Base11PairsFormat.Index(packed, i), $"padding {i}");
            }

            for (var b = 0; b < packed.Length / 56; b++)
            {
                for (var j = 0; j < 64; j++)
                {
                    Assert.IsLessThanOrEqualTo(120, Base11PairsFormat.Code(packed.AsSpan(b * 56, 56), j));
                }
            }
        }
    }

    [TestMethod]
    public void PackGroup_ByteLayout_IsTheLittleEndianBitStreamOfPairCodes()
    {
        // d[j] = j % 11, d[64 + j] = (j + 3) % 11: code j = d[j] + 11 · d[64 + j] at bits 7j..7j+6
        var digits = new byte[128];
        for (var j = 0; j < 64; j++)
        {
            digits[j] = (byte)(j % 11);
            digits[64 + j] = (byte)((j + 3) % 11);
        }

        var packed = new byte[56];
        Base11PairsFormat.PackGroup(digits, packed);
        var bits = new System.Numerics.BigInteger(packed, isUnsigned: true, isBigEndian: false);
        for (var j = 0; j < 64; j++)
        {
            var code = (int)((bits >> (7 * j)) & 127);
            Assert.AreEqual((j % 11) + (11 * ((j + 3) % 11)), code, $"code {j}");
        }

        // a short group of 3: one 56-byte block, codes 0..2 hold the digits, the rest is zero
        var shortPacked = new byte[Base11PairsFormat.PackBytes(3)];
        Base11PairsFormat.PackGroup(new byte[] { 10, 1, 7 }, shortPacked);
        Assert.AreEqual(56, shortPacked.Length);
        Assert.AreEqual(10 | (1 << 7) | (7 << 14), shortPacked[0] | (shortPacked[1] << 8) | (shortPacked[2] << 16));
        for (var i = 3; i < 56; i++)
        {
            Assert.AreEqual(0, shortPacked[i]);
        }
    }

    [TestMethod]
    [DataRow(784, 5, 256)] // the MNIST MLP's first layer: a short last group of 16
    [DataRow(300, 3, 100)]
    [DataRow(1000, 2, 1000)]
    public void Quantize_SameMinRangeAndIndicesAsTheWordLayout_ShortGroups(int cols, int rows, int groupSize)
    {
        var rng = new Random(cols);
        var weights = new float[rows * cols];
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = (float)(rng.NextDouble() - 0.5);
        }

        var groups = Base11Format.GroupsPerRow(cols, groupSize);
        var words = new byte[rows * Base11Format.RowBytes(cols, groupSize)];
        var min = new ushort[rows * groups];
        var range = new ushort[rows * groups];
        Base11Format.Quantize(weights, rows, cols, groupSize, words, min, range);
        var pairs = new byte[rows * Base11PairsFormat.RowBytes(cols, groupSize)];
        var pmin = new ushort[rows * groups];
        var prange = new ushort[rows * groups];
        Base11PairsFormat.Quantize(weights, rows, cols, groupSize, pairs, pmin, prange);
        CollectionAssert.AreEqual(min, pmin);
        CollectionAssert.AreEqual(range, prange);
        var a = new float[weights.Length];
        var b = new float[weights.Length];
        Base11Format.Dequantize(words, min, range, rows, cols, groupSize, a);
        Base11PairsFormat.Dequantize(pairs, pmin, prange, rows, cols, groupSize, b);
        FormatTestData.AreBitIdentical(a, b, "pairs dequantize");
    }

    [TestMethod]
    [DataRow(1024, 12, 256)] // BigNet: whole blocks, codes read in place
    [DataRow(784, 10, 256)] // a short last group of 16: codes copied and padded
    [DataRow(512, 9, 512)]
    [DataRow(300, 7, 100)] // groups shorter than a block
    [DataRow(37, 5, 256)] // one short group
    [DataRow(6600, 5, 6579)] // the longest group, then a short one
    public void GroupDots_EveryPath_IsTheExactIntegerSum(int inLen, int rows, int groupSize)
    {
        var rng = new Random(inLen + rows);
        var (digits, pairs) = RandomPairs(rng, rows, inLen, groupSize);
        var x = new byte[inLen];
        var groups = (inLen + groupSize - 1) / groupSize;
        var scratch = new byte[Base11PairsActivations.ScratchBytes(inLen, groupSize)];
        foreach (var fill in new[] { -1, 0, 255 })
        {
            if (fill < 0)
            {
                rng.NextBytes(x);
            }
            else
            {
                x.AsSpan().Fill((byte)fill);
            }

            var expected = new int[rows * groups];
            for (var r = 0; r < rows; r++)
            {
                for (var i = 0; i < inLen; i++)
                {
                    expected[(r * groups) + (i / groupSize)] += digits[(r * inLen) + i] * x[i];
                }
            }

            foreach (var path in Paths())
            {
                var dots = new int[rows * groups];
                scratch.AsSpan().Fill(0xA5);
                Base11PairsActivations.GroupDots(pairs, x, rows, groupSize, scratch, dots, path);
                CollectionAssert.AreEqual(expected, dots, $"{path} fill {fill}");
            }
        }
    }

    [TestMethod]
    [DataRow(1024, 64, 256)]
    [DataRow(784, 10, 256)]
    [DataRow(512, 13, 512)]
    [DataRow(300, 7, 100)]
    [DataRow(20, 3, 7)]
    public void Linear_EveryPath_MatchesTheWordLayoutKernel(int inLen, int outLen, int groupSize)
    {
        var rng = new Random((inLen * 7) + outLen);
        var (words, mins, ranges, bias) = Base11ActivationKernelTests.RandomLayer(rng, inLen, outLen, groupSize);
        var pairs = new byte[outLen * Base11PairsActivations.RowBytes(inLen, groupSize)];
        Base11PairsFormat.FromWords(words, outLen, inLen, groupSize, pairs);
        var groups = (inLen + groupSize - 1) / groupSize;
        var sums = new float[outLen];
        var norms = new float[outLen];
        var wsums = new float[outLen];
        var wnorms = new float[outLen];
        Base11PairsActivations.RowStats(pairs, mins, ranges, inLen, groupSize, sums, norms);
        Base11Activations.RowStats(words, mins, ranges, inLen, groupSize, wsums, wnorms);
        CollectionAssert.AreEqual(wsums, sums, "row sums");
        CollectionAssert.AreEqual(wnorms, norms, "row norms");
        var x = new byte[inLen];
        rng.NextBytes(x);
        var residual = new float[outLen];
        for (var i = 0; i < outLen; i++)
        {
            residual[i] = (float)rng.NextDouble();
        }

        var wscratch = new byte[Base11Activations.ScratchBytes(inLen, groupSize)];
        var scratch = new byte[Base11PairsActivations.ScratchBytes(inLen, groupSize)];
        foreach (var zero in new[] { 0, 128, 255 })
        {
            foreach (var relu in new[] { false, true })
            {
                var expected = new float[outLen];
                Base11Activations.Linear(words, mins, ranges, bias, wsums, x, 0.02f, zero, groupSize, relu, wscratch, residual, expected, default, 0f, 0, KernelPath.Scalar);
                foreach (var path in Paths())
                {
                    var y = new float[outLen];
                    Base11PairsActivations.Linear(pairs, mins, ranges, bias, sums, x, 0.02f, zero, groupSize, relu, scratch, residual, y, default, 0f, 0, path);
                    for (var o = 0; o < outLen; o++)
                    {
                        // the zero point enters through the row sums: float roundings of terms up to 0.02 · 255 · Σ|w|
                        var tolerance = 1e-5 * (1 + Math.Abs(expected[o]) + (0.02 * 255 * (Math.Abs(wsums[o]) + wnorms[o] * Math.Sqrt(inLen))));
                        Assert.AreEqual(expected[o], y[o], tolerance, $"{path} zero {zero} relu {relu} row {o}");
                    }

                    // codes: requantized outputs agree with the word-layout kernel's within one code
                    var q = new byte[outLen];
                    var wq = new byte[outLen];
                    Base11Activations.Linear(words, mins, ranges, bias, wsums, x, 0.02f, zero, groupSize, relu, wscratch, default, default, wq, 0.05f, 10, KernelPath.Scalar);
                    Base11PairsActivations.Linear(pairs, mins, ranges, bias, sums, x, 0.02f, zero, groupSize, relu, scratch, default, default, q, 0.05f, 10, path);
                    for (var o = 0; o < outLen; o++)
                    {
                        Assert.IsLessThanOrEqualTo(1, Math.Abs(q[o] - wq[o]), $"{path} code row {o}");
                    }
                }
            }
        }
    }

    [TestMethod]
    public void Linear_RefusesGroupsLongerThanTheExactBound()
    {
        var longer = Base11Activations.MaxExactGroupLength + 1;
        var p = new byte[Base11PairsActivations.RowBytes(longer, longer)];
        var s = new byte[Base11PairsActivations.ScratchBytes(longer, longer)];
        Assert.ThrowsExactly<ArgumentException>(() => Base11PairsActivations.Linear(p, new ushort[1], new ushort[1], default, new float[1], new byte[longer], 1f, 0, longer, false, s, default, new float[1], default, 0f, 0, KernelPath.Scalar));
    }

    [TestMethod]
    [DataRow(KernelPath.Scalar, 1024)]
    [DataRow(KernelPath.Vector128, 1024)]
    [DataRow(KernelPath.Vector512, 1024)]
    [DataRow(KernelPath.Scalar, 784)]
    [DataRow(KernelPath.Vector128, 784)]
    [DataRow(KernelPath.Vector512, 784)]
    public void Linear_ZeroAllocations(KernelPath path, int inLen)
    {
        var rng = new Random(5);
        const int outLen = 64, groupSize = 256;
        var (_, pairs) = RandomPairs(rng, outLen, inLen, groupSize);
        var groups = (inLen + groupSize - 1) / groupSize;
        var mins = new ushort[outLen * groups];
        var ranges = new ushort[outLen * groups];
        ranges.AsSpan().Fill(BitConverter.HalfToUInt16Bits((Half)0.5f));
        var sums = new float[outLen];
        var norms = new float[outLen];
        Base11PairsActivations.RowStats(pairs, mins, ranges, inLen, groupSize, sums, norms);
        var x = new byte[inLen];
        rng.NextBytes(x);
        var y = new float[outLen];
        var q = new byte[outLen];
        var scratch = new byte[Base11PairsActivations.ScratchBytes(inLen, groupSize)];
        Base11PairsActivations.Linear(pairs, mins, ranges, default, sums, x, 0.1f, 3, groupSize, true, scratch, default, y, default, 0f, 0, path);
        Base11PairsActivations.Linear(pairs, mins, ranges, default, sums, x, 0.1f, 3, groupSize, true, scratch, default, default, q, 0.2f, 0, path);
        Assert.AreEqual(0L, Allocations.SteadyState(() =>
        {
            for (var i = 0; i < 10; i++)
            {
                Base11PairsActivations.Linear(pairs, mins, ranges, default, sums, x, 0.1f, 3, groupSize, true, scratch, default, y, default, 0f, 0, path);
                Base11PairsActivations.Linear(pairs, mins, ranges, default, sums, x, 0.1f, 3, groupSize, true, scratch, default, default, q, 0.2f, 0, path);
            }
        }), path.ToString());
    }

    [TestMethod]
    public void ScratchAndRowBytes()
    {
        Assert.AreEqual(4 * 112, Base11PairsActivations.RowBytes(1024, 256));
        Assert.AreEqual(3.625, 8.0 * (Base11PairsActivations.RowBytes(1024, 256) + (4 * 4)) / 1024);
        Assert.IsTrue(Base11PairsActivations.InPlace(1024, 256));
        Assert.AreEqual(16, Base11PairsActivations.ScratchBytes(1024, 256));
        Assert.IsFalse(Base11PairsActivations.InPlace(784, 256));
        Assert.AreEqual((3 * 256) + 128 + 16, Base11PairsActivations.ScratchBytes(784, 256));
        Assert.AreEqual(Base11PairsFormat.RowBytes(784, 256), Base11PairsActivations.RowBytes(784, 256));
    }

    /// <summary>Random indices [rows][cols] and their pairs bytes.</summary>
    private static (int[] Digits, byte[] Pairs) RandomPairs(Random rng, int rows, int cols, int groupSize)
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

        return (digits, pairs);
    }
}
