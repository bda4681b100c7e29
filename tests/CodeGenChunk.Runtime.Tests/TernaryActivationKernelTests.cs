using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics.X86;
using CodeGenChunk.Formats;
using CodeGenChunk.Runtime.Kernels;
using CsCheck;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>
/// The ternary-weight integer-activation kernel (TernaryActivations, docs/activations.md "ternary weights"): every path's exact
/// int32 group sums against a plain reference over the format's decoder (random trits, all 243 byte values, shapes with partial
/// blocks, short groups and tail rows, a property test), the linear layer end to end against a float reference (bias, ReLU,
/// residual, float and u8 code output), the row statistics, the longest group, no allocations.
/// </summary>
[TestClass]
public sealed class TernaryActivationKernelTests
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
    [DataRow(1024, 12, 320)] // BigNet: whole blocks (codes read in place), a short last group of 64
    [DataRow(1024, 9, 80)] // one block per group, a tail row
    [DataRow(1000, 7, 160)] // a partial last block (codes copied and padded)
    [DataRow(700, 5, 640)] // rows not a multiple of 4
    [DataRow(37, 4, 80)] // one partial block
    [DataRow(2000, 13, 320)]
    [DataRow(1985, 6, 1040)] // groups of 13 blocks: two int16 chunks per group (12 + 1)
    [DataRow(6400, 5, 6400)] // one long group of 80 blocks
    public void GroupDots_EveryPath_IsTheExactIntegerSum(int inLen, int rows, int groupSize)
    {
        var rng = new Random(inLen + rows + groupSize);
        var q = RandomTrits(rng, rows, inLen);
        var packed = Pack(q, rows, inLen);
        var x = new byte[inLen];
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

            AssertGroupDots(packed, q, x, rows, groupSize, $"fill {fill}");
        }
    }

    [TestMethod]
    public void GroupDots_AllByteValues_EveryPath()
    {
        // every byte 0..242 in every position of the blocks of 4 + 1 rows (the 64-byte row-block step and the 16-byte tail
        // step), decoded by TernaryBlockFormat's own decoder as the reference
        const int rows = 5, inLen = 80 * 61, groupSize = 320;
        var rowBytes = TernaryBlockFormat.RowBytes(inLen);
        var rowMajor = new byte[rows * rowBytes];
        for (var i = 0; i < rowMajor.Length; i++)
        {
            rowMajor[i] = (byte)((i * 7) % 243);
        }

        var groups = (inLen + groupSize - 1) / groupSize;
        var ones = new float[rows * groups];
        ones.AsSpan().Fill(1f);
        var decoded = new float[rows * inLen];
        TernaryBlockFormat.Dequantize(rowMajor, ones, rows, inLen, groupSize, decoded);
        var q = new sbyte[rows * inLen];
        var seen = new bool[243];
        for (var i = 0; i < q.Length; i++)
        {
            q[i] = (sbyte)decoded[i];
        }

        foreach (var b in rowMajor)
        {
            seen[b] = true;
        }

        Assert.IsTrue(Array.TrueForAll(seen, s => s), "every byte value 0..242 occurs");
        var packed = Int4ActivationKernelTests.RowBlocked(rowMajor, rows, rowBytes);
        CollectionAssert.AreEqual(packed, Pack(q, rows, inLen), "the test's packer writes the format's bytes");
        var rng = new Random(243);
        var x = new byte[inLen];
        rng.NextBytes(x);
        AssertGroupDots(packed, q, x, rows, groupSize, "all bytes");
        x.AsSpan().Fill(255);
        AssertGroupDots(packed, q, x, rows, groupSize, "all bytes, codes 255");
    }

    [TestMethod]
    public void GroupDots_Property_EveryPathEqualsReference()
    {
        var shapes = Gen.Select(Gen.Int[1, 900], Gen.Int[1, 11], Gen.Int[1, 9], Gen.Int[0, int.MaxValue]);
        shapes.Sample(
            (inLen, rows, blocksPerGroup, seed) =>
            {
                var rng = new Random(seed);
                var q = RandomTrits(rng, rows, inLen);
                var x = new byte[inLen];
                rng.NextBytes(x);
                AssertGroupDots(Pack(q, rows, inLen), q, x, rows, 80 * blocksPerGroup, $"in {inLen} rows {rows} group {80 * blocksPerGroup} seed {seed}");
            },
            iter: 200);
    }

    [TestMethod]
    [DataRow(1024, 64, 320)]
    [DataRow(784, 10, 320)]
    [DataRow(1000, 13, 160)]
    [DataRow(100, 7, 80)]
    [DataRow(37, 3, 640)]
    public void Linear_EveryPath_MatchesFloatReference(int inLen, int outLen, int groupSize)
    {
        var rng = new Random((inLen * 31) + outLen);
        var q = RandomTrits(rng, outLen, inLen);
        var packed = Pack(q, outLen, inLen);
        var (scales, bias) = RandomScales(rng, inLen, outLen, groupSize);
        var x = new byte[inLen];
        rng.NextBytes(x);
        var residual = new float[outLen];
        for (var i = 0; i < outLen; i++)
        {
            residual[i] = (float)(rng.NextDouble() - 0.5);
        }

        var (sums, _) = Stats(packed, scales, inLen, outLen, groupSize);
        var scratch = new byte[TernaryActivations.ScratchBytes(inLen, groupSize)];
        foreach (var zero in new[] { 0, 37, 128, 255 })
        {
            foreach (var relu in new[] { false, true })
            {
                foreach (var withResidual in new[] { false, true })
                {
                    var res = withResidual ? residual : null;
                    var expected = Reference(q, scales, bias, x, 0.02f, zero, inLen, outLen, groupSize, relu, res, out var magnitude);
                    foreach (var path in Paths())
                    {
                        var y = new float[outLen];
                        scratch.AsSpan().Fill(0xA5);
                        var clipped = TernaryActivations.Linear(packed, scales, bias, sums, x, 0.02f, zero, groupSize, relu, scratch, res, y, default, 0f, 0, path);
                        Assert.AreEqual(0, clipped);
                        for (var o = 0; o < outLen; o++)
                        {
                            // exact group sums scaled and summed in float: relative 1e-5 of the terms' magnitude
                            var tolerance = 1e-5 * (1 + Math.Abs(expected[o]) + magnitude[o]);
                            Assert.AreEqual(expected[o], y[o], tolerance, $"{path} zero {zero} relu {relu} residual {withResidual} row {o}");
                        }
                    }
                }
            }
        }
    }

    [TestMethod]
    public void Linear_RequantizedOutputCodes_AndClipCount()
    {
        var rng = new Random(5);
        const int inLen = 400, outLen = 23, groupSize = 160;
        var q = RandomTrits(rng, outLen, inLen);
        var packed = Pack(q, outLen, inLen);
        var (scales, bias) = RandomScales(rng, inLen, outLen, groupSize);
        var x = new byte[inLen];
        rng.NextBytes(x);
        var expected = Reference(q, scales, bias, x, 0.05f, 10, inLen, outLen, groupSize, true, null, out _);
        var (sums, _) = Stats(packed, scales, inLen, outLen, groupSize);
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

        Assert.IsGreaterThan(0, expectedClips);
        var scratch = new byte[TernaryActivations.ScratchBytes(inLen, groupSize)];
        foreach (var path in Paths())
        {
            var codes = new byte[outLen];
            var clips = TernaryActivations.Linear(packed, scales, bias, sums, x, 0.05f, 10, groupSize, true, scratch, default, default, codes, yScale, 0, path);
            Assert.AreEqual(expectedClips, clips, path.ToString());
            for (var o = 0; o < outLen; o++)
            {
                Assert.AreEqual(expectedCodes[o], codes[o], 1.0, $"{path} row {o}");
            }
        }
    }

    [TestMethod]
    public void Linear_LongestGroup_NoOverflow()
    {
        // the longest group int32 holds (8,421,440 inputs of code 255 times q = ±1), then a short group; 4 + 1 rows
        Assert.AreEqual(8421440, TernaryActivations.MaxInt32GroupLength);
        var groupSize = TernaryActivations.MaxInt32GroupLength;
        var inLen = groupSize + 100;
        const int outLen = 5;
        var x = new byte[inLen];
        x.AsSpan().Fill(255);
        var scales = new float[outLen * 2];
        scales.AsSpan().Fill(1f);
        var scratch = new byte[TernaryActivations.ScratchBytes(inLen, groupSize)];
        foreach (var weight in new sbyte[] { -1, 1 })
        {
            var q = new sbyte[outLen * inLen];
            q.AsSpan().Fill(weight);
            var packed = Pack(q, outLen, inLen);
            var dots = new int[outLen * 2];
            foreach (var path in Paths())
            {
                TernaryActivations.GroupDots(packed, x, outLen, groupSize, scratch, dots, path);
                for (var o = 0; o < outLen; o++)
                {
                    Assert.AreEqual(weight * 255 * groupSize, dots[o * 2], $"{path} weight {weight} row {o}");
                    Assert.AreEqual(weight * 255 * 100, dots[(o * 2) + 1], $"{path} weight {weight} row {o}, short group");
                }
            }
        }
    }

    [TestMethod]
    public void RowStats_MatchDequantizedFormat()
    {
        // weights quantized by the format itself: the row statistics are those of TernaryBlockFormat's reference decoder
        var rng = new Random(11);
        const int inLen = 1000, outLen = 10, groupSize = 320;
        var w = new float[inLen * outLen];
        for (var i = 0; i < w.Length; i++)
        {
            w[i] = (float)(rng.NextDouble() - 0.5);
        }

        var rowMajor = new byte[outLen * TernaryBlockFormat.RowBytes(inLen)];
        var scales = new float[outLen * TernaryBlockFormat.GroupsPerRow(inLen, groupSize)];
        TernaryBlockFormat.Quantize(w, outLen, inLen, groupSize, rowMajor, scales);
        var decoded = new float[w.Length];
        TernaryBlockFormat.Dequantize(rowMajor, scales, outLen, inLen, groupSize, decoded);
        var (sums, norms) = Stats(Int4ActivationKernelTests.RowBlocked(rowMajor, outLen, TernaryBlockFormat.RowBytes(inLen)), scales, inLen, outLen, groupSize);
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
    public void Linear_ZeroAllocations()
    {
        var rng = new Random(3);
        const int inLen = 1000, outLen = 512, groupSize = 320;
        var q = RandomTrits(rng, outLen, inLen);
        var packed = Pack(q, outLen, inLen);
        var (scales, bias) = RandomScales(rng, inLen, outLen, groupSize);
        var (sums, norms) = Stats(packed, scales, inLen, outLen, groupSize);
        var xf = new float[inLen];
        var x = new byte[inLen];
        var codes = new byte[outLen];
        var y = new float[outLen];
        var scratch = new byte[TernaryActivations.ScratchBytes(inLen, groupSize)];
        var paths = new List<KernelPath>(Paths()).ToArray();
        void Once()
        {
            Int8Activations.DynamicParams(xf, out var s, out var z);
            Int8Activations.Quantize(xf, s, z, x);
            Int8Activations.PredictParams(x, s, z, sums, norms, bias, 3f, true, out var ys, out var yz);
            foreach (var path in paths)
            {
                TernaryActivations.Linear(packed, scales, bias, sums, x, s, z, groupSize, true, scratch, default, default, codes, ys, yz, path);
                TernaryActivations.Linear(packed, scales, bias, sums, x, s, z, groupSize, true, scratch, default, y, default, 0f, 0, path);
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
    }

    // ---------------------------------------------------------------- helpers

    private static void AssertGroupDots(byte[] packed, sbyte[] q, byte[] x, int rows, int groupSize, string what)
    {
        var inLen = x.Length;
        var groups = (inLen + groupSize - 1) / groupSize;
        var expected = new int[rows * groups];
        for (var r = 0; r < rows; r++)
        {
            for (var i = 0; i < inLen; i++)
            {
                expected[(r * groups) + (i / groupSize)] += q[(r * inLen) + i] * x[i];
            }
        }

        var scratch = new byte[TernaryActivations.ScratchBytes(inLen, groupSize)];
        foreach (var path in Paths())
        {
            var dots = new int[rows * groups];
            scratch.AsSpan().Fill(0xA5);
            TernaryActivations.GroupDots(packed, x, rows, groupSize, scratch, dots, path);
            CollectionAssert.AreEqual(expected, dots, $"{path}, {what}");
        }
    }

    /// <summary>Random q in −1..1, [rows][cols].</summary>
    internal static sbyte[] RandomTrits(Random rng, int rows, int cols)
    {
        var q = new sbyte[rows * cols];
        for (var i = 0; i < q.Length; i++)
        {
            q[i] = (sbyte)rng.Next(-1, 2);
        }

        return q;
    }

    private static (float[] Scales, float[] Bias) RandomScales(Random rng, int inLen, int outLen, int groupSize)
    {
        var groups = (inLen + groupSize - 1) / groupSize;
        var scales = new float[outLen * groups];
        for (var i = 0; i < scales.Length; i++)
        {
            scales[i] = (float)(0.01 + (rng.NextDouble() * 0.1));
        }

        var bias = new float[outLen];
        for (var i = 0; i < outLen; i++)
        {
            bias[i] = (float)(rng.NextDouble() - 0.5);
        }

        return (scales, bias);
    }

    /// <summary>q [rows][cols] in the ternary format's layout (byte j of a block = Σ_i (q(16i + j) + 1) · 3^i, padding q = 0), row-blocked as the packer does.</summary>
    internal static byte[] Pack(sbyte[] q, int rows, int cols)
    {
        var rowBytes = TernaryBlockFormat.RowBytes(cols);
        var rowMajor = new byte[rows * rowBytes];
        for (var r = 0; r < rows; r++)
        {
            for (var b = 0; b < rowBytes / 16; b++)
            {
                for (var j = 0; j < 16; j++)
                {
                    int v = 0, p = 1;
                    for (var i = 0; i < 5; i++)
                    {
                        var c = (b * 80) + (16 * i) + j;
                        v += (c < cols ? q[(r * cols) + c] + 1 : 1) * p;
                        p *= 3;
                    }

                    rowMajor[(r * rowBytes) + (b * 16) + j] = (byte)v;
                }
            }
        }

        return Int4ActivationKernelTests.RowBlocked(rowMajor, rows, rowBytes);
    }

    private static (float[] Sums, float[] Norms) Stats(byte[] packed, float[] scales, int inLen, int outLen, int groupSize)
    {
        var sums = new float[outLen];
        var norms = new float[outLen];
        TernaryActivations.RowStats(packed, scales, inLen, groupSize, sums, norms);
        return (sums, norms);
    }

    /// <summary>Exact integer group sums, scaled in double; <paramref name="magnitude"/>: Σ |scaled term| of each row (and the zero point's).</summary>
    private static float[] Reference(sbyte[] q, float[] scales, float[] bias, byte[] x, float xScale, int zero, int inLen, int outLen, int groupSize, bool relu, float[]? residual, out double[] magnitude)
    {
        var groups = (inLen + groupSize - 1) / groupSize;
        var y = new float[outLen];
        magnitude = new double[outLen];
        for (var o = 0; o < outLen; o++)
        {
            double acc = 0;
            for (var g = 0; g < groups; g++)
            {
                long s = 0, sx = 0, sz = 0;
                for (var i = g * groupSize; i < Math.Min(inLen, (g + 1) * groupSize); i++)
                {
                    s += (long)(x[i] - zero) * q[(o * inLen) + i];
                    sx += (long)x[i] * q[(o * inLen) + i];
                    sz += (long)zero * q[(o * inLen) + i];
                }

                acc += (double)scales[(o * groups) + g] * s;
                magnitude[o] += xScale * scales[(o * groups) + g] * (Math.Abs(sx) + Math.Abs(sz));
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
