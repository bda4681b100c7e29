using System;
using CodeGenChunk.Formats;
using CodeGenChunk.Runtime.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>
/// The int4-weight integer-activation kernel (docs/activations.md, "int4 weights"): every dot-product path against exact
/// integer group sums over the int4 format's nibbles, the extremes, requantized codes, row statistics, no allocations.
/// </summary>
[TestClass]
public sealed class Int4ActivationKernelTests
{
    [TestMethod]
    [DataRow(784, 10, 64)]
    [DataRow(784, 512, 64)]
    [DataRow(100, 13, 32)]
    [DataRow(1024, 64, 64)]
    [DataRow(37, 6, 64)]
    [DataRow(130, 5, 96)]
    [DataRow(1024, 9, 1024)]
    [DataRow(20, 7, 32)]
    [DataRow(8256, 5, 32)] // 258 groups: more than Int4Activations.MaxStackGroups, AVX-VNNI subtracts 8 from every nibble instead
    public void Int4Activation_EveryPath_MatchesExactReference_OnRandomData(int inLen, int outLen, int groupSize)
    {
        var rng = new Random((inLen * 31) + outLen);
        var (q, scales, bias) = RandomLayer(rng, inLen, outLen, groupSize);
        var packed = Pack(q, outLen, inLen);
        var x = new byte[inLen];
        rng.NextBytes(x);
        var residual = new float[outLen];
        for (var i = 0; i < outLen; i++)
        {
            residual[i] = (float)rng.NextDouble();
        }

        var (sums, _) = Stats(packed, scales, inLen, outLen, groupSize);
        foreach (var zero in new[] { 0, 37, 128, 255 })
        {
            foreach (var relu in new[] { false, true })
            {
                var expected = Reference(q, scales, bias, x, 0.02f, zero, inLen, outLen, groupSize, relu, residual, out var magnitude);
                float[]? scalar = null;
                foreach (var path in Int8ActivationKernelTests.Paths)
                {
                    if (!Int8Activations.IsSupported(path))
                    {
                        continue;
                    }

                    var y = new float[outLen];
                    Int4Activations.Linear(packed, scales, bias, sums, x, 0.02f, zero, groupSize, relu, residual, y, default, 0f, 0, path);
                    scalar ??= y;
                    for (var o = 0; o < outLen; o++)
                    {
                        // float sums of the scaled group sums: relative 1e-4, plus float rounding of the terms (2,050 groups)
                        var tolerance = (1e-4 * (1 + Math.Abs(expected[o]))) + (1e-6 * magnitude[o]);
                        Assert.AreEqual(expected[o], y[o], tolerance, $"{path} zero {zero} relu {relu} row {o}");
                        Assert.AreEqual(scalar[o], y[o], 2 * tolerance, $"{path} against scalar, zero {zero} relu {relu} row {o}");
                    }
                }
            }
        }
    }

    /// <summary>The kernel paths generated code passes: Vector512 runs the AVX-512BW row blocks where the layer fits them.</summary>
    private static readonly KernelPath[] KernelPathsToTest = { KernelPath.Vector512, KernelPath.Vector256, KernelPath.Vector128, KernelPath.Scalar };

    [TestMethod]
    [DataRow(1024, 64, 64)] // 16 groups: four quads of scales
    [DataRow(1024, 9, 128)] // two pairs of blocks per group, a single tail row
    [DataRow(320, 14, 64)] // 5 groups: one quad and one group on its own, two tail rows
    [DataRow(448, 8, 64)] // 7 groups: one quad and three on their own
    [DataRow(192, 4, 192)] // one group of three pairs
    [DataRow(16384, 4, 64)] // 256 groups: the most the 512-bit path takes
    [DataRow(16448, 4, 64)] // 257 groups: the row blocks run the resolved dot path instead
    [DataRow(1000, 8, 64)] // a partial group: not for the 512-bit path
    [DataRow(96, 8, 32)] // groups of 32: not for the 512-bit path
    public void Int4Activation_KernelPaths_MatchExactReference(int inLen, int outLen, int groupSize)
    {
        var rng = new Random((inLen * 7) + outLen);
        var (q, scales, bias) = RandomLayer(rng, inLen, outLen, groupSize);
        var packed = Pack(q, outLen, inLen);
        var x = new byte[inLen];
        rng.NextBytes(x);
        var (sums, _) = Stats(packed, scales, inLen, outLen, groupSize);
        Assert.AreEqual(groupSize % 64 == 0 && inLen % groupSize == 0 && inLen / groupSize <= Int4Activations.MaxStackGroups, Int4Activations.Wide512Fits(inLen, groupSize));
        foreach (var zero in new[] { 0, 200 })
        {
            var expected = Reference(q, scales, bias, x, 0.02f, zero, inLen, outLen, groupSize, true, null, out var magnitude);
            var reference = new float[outLen];
            Int4Activations.Linear(packed, scales, bias, sums, x, 0.02f, zero, groupSize, true, default, reference, default, 0f, 0, Int8DotPath.Scalar);
            foreach (var path in KernelPathsToTest)
            {
                var y = new float[outLen];
                Int4Activations.Linear(packed, scales, bias, sums, x, 0.02f, zero, groupSize, true, default, y, default, 0f, 0, path);
                var codes = new byte[outLen];
                var expectedCodes = new byte[outLen];
                var clipped = Int4Activations.Linear(packed, scales, bias, sums, x, 0.02f, zero, groupSize, true, default, default, codes, 0.01f, 0, path);
                var expectedClipped = Int4Activations.Linear(packed, scales, bias, sums, x, 0.02f, zero, groupSize, true, default, default, expectedCodes, 0.01f, 0, Int8DotPath.Scalar);
                for (var o = 0; o < outLen; o++)
                {
                    var tolerance = (1e-4 * (1 + Math.Abs(expected[o]))) + (1e-6 * magnitude[o]);
                    Assert.AreEqual(expected[o], y[o], tolerance, $"{path} zero {zero} row {o}");
                    Assert.AreEqual(reference[o], y[o], 2 * tolerance, $"{path} against the scalar path, zero {zero} row {o}");
                    Assert.AreEqual(expectedCodes[o], codes[o], 1, $"{path} requantized code, zero {zero} row {o}");
                }

                Assert.AreEqual(expectedClipped, clipped, Math.Max(1, outLen / 8), $"{path} clip count, zero {zero}");
            }
        }
    }

    [TestMethod]
    public void Int4Activation_Vector512_SameGroupSums_AsAvxVnni()
    {
        // the 512-bit path and AVX-VNNI sum the same exact int32 group sums: with one group per row and scale 1 both are
        // the exact integer dot product, so their floats agree to the last bit
        if (!Int4Activations.Wide512Supported || !AvxVnniSupported())
        {
            Assert.Inconclusive("needs AVX-512BW and AVX-VNNI");
        }

        var rng = new Random(11);
        const int inLen = 256, outLen = 16, groupSize = 256;
        var packed = new byte[outLen * Int4Activations.RowBytes(inLen)];
        rng.NextBytes(packed);
        var scales = new float[outLen];
        scales.AsSpan().Fill(1f);
        var sums = new float[outLen];
        Int4Activations.RowStats(packed, scales, inLen, groupSize, sums, new float[outLen]);
        var x = new byte[inLen];
        rng.NextBytes(x);
        var wide = new float[outLen];
        var vnni = new float[outLen];
        Int4Activations.Linear(packed, scales, default, sums, x, 1f, 0, groupSize, false, default, wide, default, 0f, 0, KernelPath.Vector512);
        Int4Activations.Linear(packed, scales, default, sums, x, 1f, 0, groupSize, false, default, vnni, default, 0f, 0, Int8DotPath.AvxVnni);
        CollectionAssert.AreEqual(vnni, wide);
    }

    private static bool AvxVnniSupported() => Int8Activations.IsSupported(Int8DotPath.AvxVnni);

    [TestMethod]
    public void Int4Activation_Extremes_LongestGroup_NoOverflow()
    {
        // the longest int4 group (a multiple of 32) int32 holds: 1,052,672 inputs of code 255 times nibble 0 (−8), and a
        // partial block and a short group after it
        Assert.AreEqual(1052688, Int4Activations.MaxInt32GroupLength);
        var groupSize = Int4Activations.MaxInt32GroupLength / 32 * 32;
        var inLen = groupSize + 1000 + 7;
        const int outLen = 5;
        var groups = 2;
        foreach (var (code, weight, zero) in new[] { (255, -8, 0), (255, 7, 0), (0, -8, 255), (0, 7, 255), (255, -8, 255), (128, -8, 0) })
        {
            var q = new sbyte[outLen * inLen];
            q.AsSpan().Fill((sbyte)weight);
            var scales = new float[outLen * groups];
            scales.AsSpan().Fill(1f);
            var packed = Pack(q, outLen, inLen);
            var x = new byte[inLen];
            x.AsSpan().Fill((byte)code);
            var (sums, _) = Stats(packed, scales, inLen, outLen, groupSize);
            Assert.AreEqual((double)weight * inLen, sums[0], 1e-6 * 8 * inLen);
            double exact = (double)(code - zero) * weight * inLen;
            foreach (var path in Int8ActivationKernelTests.Paths)
            {
                if (!Int8Activations.IsSupported(path))
                {
                    continue;
                }

                var y = new float[outLen];
                Int4Activations.Linear(packed, scales, default, sums, x, 1f, zero, groupSize, false, default, y, default, 0f, 0, path);
                foreach (var v in y)
                {
                    // exact int32 group sums; the zero point's correction in float once per row: a wrapped int32 would be 2^32 off
                    var terms = ((double)code + zero) * 8 * inLen;
                    Assert.AreEqual(exact, v, (terms * 1e-6) + 1e-3, $"{path} code {code} weight {weight} zero {zero}");
                }
            }
        }
    }

    [TestMethod]
    public void Int4Activation_Requantized_OutputCodesAndClipCount()
    {
        var rng = new Random(5);
        const int inLen = 200, outLen = 23, groupSize = 64;
        var (q, scales, bias) = RandomLayer(rng, inLen, outLen, groupSize);
        var packed = Pack(q, outLen, inLen);
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

        Assert.IsTrue(expectedClips > 0);
        foreach (var path in Int8ActivationKernelTests.Paths)
        {
            if (!Int8Activations.IsSupported(path))
            {
                continue;
            }

            var codes = new byte[outLen];
            var clips = Int4Activations.Linear(packed, scales, bias, sums, x, 0.05f, 10, groupSize, true, default, default, codes, yScale, 0, path);
            Assert.AreEqual(expectedClips, clips, path.ToString());
            for (var o = 0; o < outLen; o++)
            {
                Assert.AreEqual(expectedCodes[o], codes[o], 1.0, $"{path} row {o}");
            }
        }
    }

    [TestMethod]
    public void Int4Activation_RowStats_MatchDequantizedFormat()
    {
        // weights quantized by the format itself: the row statistics are those of Int4BlockFormat's reference decoder
        var rng = new Random(11);
        const int inLen = 150, outLen = 10, groupSize = 64;
        var w = new float[inLen * outLen];
        for (var i = 0; i < w.Length; i++)
        {
            w[i] = (float)(rng.NextDouble() - 0.5);
        }

        var rowMajor = new byte[outLen * Int4BlockFormat.RowBytes(inLen)];
        var scales = new float[outLen * Int4BlockFormat.GroupsPerRow(inLen, groupSize)];
        Int4BlockFormat.Quantize(w, outLen, inLen, groupSize, rowMajor, scales);
        var decoded = new float[w.Length];
        Int4BlockFormat.Dequantize(rowMajor, scales, outLen, inLen, groupSize, decoded);
        var (sums, norms) = Stats(RowBlocked(rowMajor, outLen, Int4BlockFormat.RowBytes(inLen)), scales, inLen, outLen, groupSize);
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
    public void Int4Activation_ZeroAllocations()
    {
        var rng = new Random(3);
        const int inLen = 512, outLen = 512, groupSize = 64;
        var (q, scales, bias) = RandomLayer(rng, inLen, outLen, groupSize);
        var packed = Pack(q, outLen, inLen);
        var (sums, norms) = Stats(packed, scales, inLen, outLen, groupSize);
        var xf = new float[inLen];
        var x = new byte[inLen];
        var codes = new byte[outLen];
        var y = new float[outLen];
        void Once()
        {
            Int8Activations.DynamicParams(xf, out var s, out var z);
            Int8Activations.Quantize(xf, s, z, x);
            Int8Activations.PredictParams(x, s, z, sums, norms, bias, 3f, true, out var ys, out var yz);
            Int4Activations.Linear(packed, scales, bias, sums, x, s, z, groupSize, true, default, default, codes, ys, yz, Int8Activations.Resolve(KernelPath.Auto));
            Int4Activations.Linear(packed, scales, bias, sums, x, s, z, groupSize, true, default, y, default, 0f, 0, Int8Activations.Resolve(KernelPath.Auto));
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

    /// <summary>Random int4 codes −8..7 (nibble 0 included, which the quantizer never writes but a file may hold).</summary>
    internal static (sbyte[] Q, float[] Scales, float[] Bias) RandomLayer(Random rng, int inLen, int outLen, int groupSize)
    {
        var groups = (inLen + groupSize - 1) / groupSize;
        var q = new sbyte[inLen * outLen];
        for (var i = 0; i < q.Length; i++)
        {
            q[i] = (sbyte)rng.Next(-8, 8);
        }

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

        return (q, scales, bias);
    }

    /// <summary>Codes [rows][cols] in the int4 format's layout (nibble q + 8, padding 8), then row-blocked as the packer does.</summary>
    internal static byte[] Pack(sbyte[] q, int rows, int cols)
    {
        var rowBytes = Int4BlockFormat.RowBytes(cols);
        var rowMajor = new byte[rows * rowBytes];
        rowMajor.AsSpan().Fill(0x88);
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < cols; c++)
            {
                var nibble = q[(r * cols) + c] + 8;
                var e = c % 32;
                var index = (r * rowBytes) + ((c / 32) * 16) + (e % 16);
                rowMajor[index] = e < 16 ? (byte)((rowMajor[index] & 0xF0) | nibble) : (byte)((rowMajor[index] & 0x0F) | (nibble << 4));
            }
        }

        return RowBlocked(rowMajor, rows, rowBytes);
    }

    /// <summary>The packer's row-blocked order for block formats (WeightPacker.RowBlocked with 16-byte slices).</summary>
    internal static byte[] RowBlocked(byte[] rowMajor, int rows, int rowBytes)
    {
        var result = new byte[rowMajor.Length];
        var written = 0;
        for (var first = 0; first < rows;)
        {
            var block = rows - first >= 4 ? 4 : 1;
            for (var start = 0; start < rowBytes; start += 16)
            {
                for (var r = 0; r < block; r++)
                {
                    rowMajor.AsSpan(((first + r) * rowBytes) + start, 16).CopyTo(result.AsSpan(written));
                    written += 16;
                }
            }

            first += block;
        }

        return result;
    }

    internal static (float[] Sums, float[] Norms) Stats(byte[] packed, float[] scales, int inLen, int outLen, int groupSize)
    {
        var sums = new float[outLen];
        var norms = new float[outLen];
        Int4Activations.RowStats(packed, scales, inLen, groupSize, sums, norms);
        return (sums, norms);
    }

    /// <summary>Exact integer group sums, scaled in double; <paramref name="magnitude"/>: Σ |scaled group sum| of each row (and the zero point's term).</summary>
    internal static float[] Reference(sbyte[] q, float[] scales, float[] bias, byte[] x, float xScale, int zero, int inLen, int outLen, int groupSize, bool relu, float[]? residual, out double[] magnitude)
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
