using System;
using CodeGenChunk.Runtime.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>The integer-activation kernel (docs/activations.md): every dot-product path against a scalar reference in exact integers.</summary>
[TestClass]
public sealed class Int8ActivationKernelTests
{
    public static readonly Int8DotPath[] Paths = { Int8DotPath.Scalar, Int8DotPath.Vector128, Int8DotPath.ArmDp, Int8DotPath.AvxVnni };

    [TestMethod]
    [DataRow(784, 10, 64)]
    [DataRow(784, 512, 64)]
    [DataRow(100, 13, 32)]
    [DataRow(1024, 64, 64)]
    [DataRow(192, 47, 64)] // AVX-VNNI: five pairs of row blocks read as two streams, an odd row block and three tail rows
    [DataRow(1024, 16, 1024)] // one group per row (a per-row scale): AVX-VNNI reads two row blocks row after row
    [DataRow(96, 47, 128)] // the same for a row of 96 inputs (a last 32), an odd row block and three tail rows
    [DataRow(37, 6, 100)]
    [DataRow(130, 5, 48)]
    public void Activation_EveryPath_MatchesExactReference_OnRandomData(int inLen, int outLen, int groupSize)
    {
        var rng = new Random((inLen * 31) + outLen);
        var (rowMajor, scales, bias) = RandomLayer(rng, inLen, outLen, groupSize);
        var packed = RowBlocked(rowMajor, outLen, inLen, groupSize);
        var x = new byte[inLen];
        rng.NextBytes(x);
        var residual = new float[outLen];
        for (var i = 0; i < outLen; i++)
        {
            residual[i] = (float)rng.NextDouble();
        }

        foreach (var zero in new[] { 0, 37, 128, 255 })
        {
            foreach (var relu in new[] { false, true })
            {
                var expected = Reference(rowMajor, scales, bias, x, 0.02f, zero, inLen, outLen, groupSize, relu, residual);
                var (sums, _) = Stats(packed, scales, inLen, outLen, groupSize);
                foreach (var path in Paths)
                {
                    if (!Int8Activations.IsSupported(path))
                    {
                        continue;
                    }

                    var y = new float[outLen];
                    Int8Activations.Linear(packed, scales, bias, sums, x, 0.02f, zero, groupSize, relu, residual, y, default, 0f, 0, path);
                    for (var o = 0; o < outLen; o++)
                    {
                        Assert.AreEqual(expected[o], y[o], 1e-4 * (1 + Math.Abs(expected[o])), $"{path} zero {zero} relu {relu} row {o}");
                    }
                }
            }
        }
    }

    [TestMethod]
    public void Activation_Extremes_LongestGroup_NoOverflow()
    {
        // the longest group int32 holds: 66,311 inputs of code 255 times weight ±127
        var groupSize = Int8Activations.MaxInt32GroupLength;
        Assert.AreEqual(66311, groupSize);
        var inLen = groupSize + 1000;
        const int outLen = 5;
        foreach (var (code, weight, zero) in new[] { (255, 127, 0), (255, -127, 0), (0, 127, 255), (0, -127, 255), (255, 127, 255), (128, -127, 0) })
        {
            var rowMajor = new sbyte[outLen * inLen];
            rowMajor.AsSpan().Fill((sbyte)weight);
            var scales = new float[outLen * 2];
            scales.AsSpan().Fill(1f);
            var packed = RowBlocked(rowMajor, outLen, inLen, groupSize);
            var x = new byte[inLen];
            x.AsSpan().Fill((byte)code);
            var (sums, _) = Stats(packed, scales, inLen, outLen, groupSize);
            double exact = (double)(code - zero) * weight * inLen;
            foreach (var path in Paths)
            {
                if (!Int8Activations.IsSupported(path))
                {
                    continue;
                }

                var y = new float[outLen];
                Int8Activations.Linear(packed, scales, default, sums, x, 1f, zero, groupSize, false, default, y, default, 0f, 0, path);
                foreach (var v in y)
                {
                    // the int32 group sums are exact; the zero point's correction zero · S_o is applied in float once per
                    // row, so the tolerance is float rounding of the terms (a wrapped int32 would be off by 2^32)
                    var terms = ((double)code + zero) * 127 * inLen;
                    Assert.AreEqual(exact, v, (terms * 1e-6) + 1e-3, $"{path} code {code} weight {weight} zero {zero}");
                }
            }
        }
    }

    [TestMethod]
    public void Activation_Requantized_OutputCodesAndClipCount()
    {
        var rng = new Random(5);
        const int inLen = 200, outLen = 23, groupSize = 64;
        var (rowMajor, scales, bias) = RandomLayer(rng, inLen, outLen, groupSize);
        var packed = RowBlocked(rowMajor, outLen, inLen, groupSize);
        var x = new byte[inLen];
        rng.NextBytes(x);
        var expected = Reference(rowMajor, scales, bias, x, 0.05f, 10, inLen, outLen, groupSize, true, null);
        var (sums, _) = Stats(packed, scales, inLen, outLen, groupSize);
        var max = 0f;
        foreach (var v in expected)
        {
            max = Math.Max(max, v);
        }

        // a range of half the largest output: the outputs above it clip to 255
        var yScale = max / 2 / 255;
        var inv = 1f / yScale;
        var expectedClips = 0;
        var expectedCodes = new byte[outLen];
        for (var o = 0; o < outLen; o++)
        {
            expectedCodes[o] = Int8Activations.CodeOf(expected[o], inv, 0, ref expectedClips);
        }

        Assert.IsTrue(expectedClips > 0);
        foreach (var path in Paths)
        {
            if (!Int8Activations.IsSupported(path))
            {
                continue;
            }

            var q = new byte[outLen];
            var clips = Int8Activations.Linear(packed, scales, bias, sums, x, 0.05f, 10, groupSize, true, default, default, q, yScale, 0, path);
            Assert.AreEqual(expectedClips, clips, path.ToString());
            for (var o = 0; o < outLen; o++)
            {
                Assert.AreEqual(expectedCodes[o], q[o], 1.0, $"{path} row {o}");
            }
        }
    }

    [TestMethod]
    public void Activation_Quantize_RoundsClipsAndCounts()
    {
        var x = new float[37];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = (i - 10) * 0.37f;
        }

        Int8Activations.DynamicParams(x, out var scale, out var zero);
        Assert.AreEqual((x[^1] - x[0]) / 255f, scale, 1e-6);
        Assert.AreEqual((int)MathF.Round(-x[0] / scale), zero);
        var q = new byte[x.Length];
        Assert.AreEqual(0, Int8Activations.Quantize(x, scale, zero, q));
        for (var i = 0; i < x.Length; i++)
        {
            Assert.AreEqual(x[i], scale * (q[i] - zero), scale * 0.5001, $"value {i}");
        }

        // a range half as wide clips the values outside it, vector and scalar parts alike
        var clipped = Int8Activations.Quantize(x, scale / 2, zero, q);
        var expected = 0;
        foreach (var v in x)
        {
            var c = MathF.Round(v / (scale / 2)) + zero;
            expected += c < 0 || c > 255 ? 1 : 0;
        }

        Assert.AreEqual(expected, clipped);
        Assert.IsTrue(clipped > 0);
    }

    [TestMethod]
    public void Activation_CodeMoments_MatchLoop()
    {
        var rng = new Random(9);
        foreach (var n in new[] { 1, 15, 16, 100, 5000, 9000 })
        {
            var x = new byte[n];
            rng.NextBytes(x);
            long s1 = 0, s2 = 0;
            foreach (var v in x)
            {
                s1 += v;
                s2 += v * v;
            }

            Int8Activations.CodeMoments(x, out var a, out var b);
            Assert.AreEqual(s1, a);
            Assert.AreEqual(s2, b);
        }
    }

    [TestMethod]
    public void Activation_ZeroAllocations()
    {
        var rng = new Random(3);
        const int inLen = 512, outLen = 512, groupSize = 64;
        var (rowMajor, scales, bias) = RandomLayer(rng, inLen, outLen, groupSize);
        var packed = RowBlocked(rowMajor, outLen, inLen, groupSize);
        var (sums, norms) = Stats(packed, scales, inLen, outLen, groupSize);
        var xf = new float[inLen];
        var x = new byte[inLen];
        var q = new byte[outLen];
        var y = new float[outLen];
        void Once()
        {
            Int8Activations.DynamicParams(xf, out var s, out var z);
            Int8Activations.Quantize(xf, s, z, x);
            Int8Activations.PredictParams(x, s, z, sums, norms, bias, 3f, true, out var ys, out var yz);
            Int8Activations.Linear(packed, scales, bias, sums, x, s, z, groupSize, true, default, default, q, ys, yz, Int8Activations.Resolve(KernelPath.Auto));
            Int8Activations.Linear(packed, scales, bias, sums, x, s, z, groupSize, true, default, y, default, 0f, 0, Int8Activations.Resolve(KernelPath.Auto));
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

    internal static (sbyte[] RowMajor, float[] Scales, float[] Bias) RandomLayer(Random rng, int inLen, int outLen, int groupSize)
    {
        var groups = (inLen + groupSize - 1) / groupSize;
        var w = new sbyte[inLen * outLen];
        for (var i = 0; i < w.Length; i++)
        {
            w[i] = (sbyte)rng.Next(-127, 128);
        }

        var scales = new float[outLen * groups];
        for (var i = 0; i < scales.Length; i++)
        {
            scales[i] = (float)(0.001 + (rng.NextDouble() * 0.01));
        }

        var bias = new float[outLen];
        for (var i = 0; i < outLen; i++)
        {
            bias[i] = (float)(rng.NextDouble() - 0.5);
        }

        return (w, scales, bias);
    }

    /// <summary>The packer's row-blocked order (WeightPacker.RowBlocked): blocks of 4 rows, group by group, the rows' slices side by side.</summary>
    internal static sbyte[] RowBlocked(sbyte[] rowMajor, int rows, int cols, int groupSize)
    {
        var result = new sbyte[rowMajor.Length];
        var written = 0;
        for (var first = 0; first < rows;)
        {
            var block = rows - first >= 4 ? 4 : 1;
            for (var start = 0; start < cols; start += groupSize)
            {
                var length = Math.Min(groupSize, cols - start);
                for (var r = 0; r < block; r++)
                {
                    rowMajor.AsSpan(((first + r) * cols) + start, length).CopyTo(result.AsSpan(written));
                    written += length;
                }
            }

            first += block;
        }

        return result;
    }

    internal static (float[] Sums, float[] Norms) Stats(sbyte[] packed, float[] scales, int inLen, int outLen, int groupSize)
    {
        var sums = new float[outLen];
        var norms = new float[outLen];
        Int8Activations.RowStats(packed, scales, inLen, groupSize, sums, norms);
        return (sums, norms);
    }

    /// <summary>Exact integer group sums, scaled in double.</summary>
    internal static float[] Reference(sbyte[] w, float[] scales, float[] bias, byte[] x, float xScale, int zero, int inLen, int outLen, int groupSize, bool relu, float[]? residual)
    {
        var groups = (inLen + groupSize - 1) / groupSize;
        var y = new float[outLen];
        for (var o = 0; o < outLen; o++)
        {
            double acc = 0;
            for (var g = 0; g < groups; g++)
            {
                long s = 0;
                for (var i = g * groupSize; i < Math.Min(inLen, (g + 1) * groupSize); i++)
                {
                    s += (long)(x[i] - zero) * w[(o * inLen) + i];
                }

                acc += (double)scales[(o * groups) + g] * s;
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
