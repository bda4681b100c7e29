using System;
using CodeGenChunk.Runtime.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static CodeGenChunk.Runtime.Tests.Int8ActivationKernelTests;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>
/// The residual stream in u8 codes (docs/activations.md): <see cref="Int8Activations.LinearResidual"/> on every
/// dot-product path and <see cref="Int8Activations.LayerNormCodes"/> on its scalar and Vector128 twins, against plain
/// double-precision implementations of the documented arithmetic, and against each other.
/// </summary>
[TestClass]
public sealed class Int8ResidualChainTests
{
    [TestMethod]
    [DataRow(1024, 64, 64)]
    [DataRow(192, 47, 64)] // AVX-VNNI: five pairs of row blocks read as two streams, an odd row block and three tail rows
    [DataRow(1024, 16, 1024)] // one group per row (a per-row scale): AVX-VNNI reads two row blocks row after row
    [DataRow(96, 47, 128)] // the same for a row of 96 inputs (a last 32), an odd row block and three tail rows
    [DataRow(130, 23, 48)]
    [DataRow(90, 90, 40)]
    [DataRow(37, 6, 100)]
    public void ResidualEpilogue_EveryPath_MatchesReference(int inLen, int outLen, int groupSize)
    {
        var rng = new Random((inLen * 7) + outLen);
        var (rowMajor, scales, bias) = RandomLayer(rng, inLen, outLen, groupSize);
        var packed = RowBlocked(rowMajor, outLen, inLen, groupSize);
        var (sums, _) = Stats(packed, scales, inLen, outLen, groupSize);
        var x = new byte[inLen];
        rng.NextBytes(x);
        var rq = new byte[outLen];
        rng.NextBytes(rq);
        const float rScale = 0.013f;
        const int rZero = 131;
        var rf = new float[outLen];
        for (var o = 0; o < outLen; o++)
        {
            rf[o] = (float)(rng.NextDouble() - 0.5);
        }

        var rp = new byte[Int8Activations.PlaneBytes(outLen)];
        rng.NextBytes(rp);
        foreach (var (codes, plane) in new[] { (false, false), (true, false), (true, true) })
        {
            foreach (var relu in new[] { false, true })
            {
                // codes with a refinement plane: scale · (q − zero + (v + 1/2) / 4 − 1/2), v the 2-bit value of row o
                var r = new float[outLen];
                for (var o = 0; o < outLen; o++)
                {
                    var bits = (rp[o / 4] >> (2 * (o % 4))) & 3;
                    r[o] = codes ? (float)((double)rScale * (rq[o] - rZero + (plane ? ((bits + 0.5) / 4) - 0.5 : 0))) : rf[o];
                }

                var v = Reference(rowMajor, scales, bias, x, 0.02f, 9, inLen, outLen, groupSize, relu, null);
                double t1 = 0, t2 = 0;
                float lo = 0, hi = 0;
                for (var o = 0; o < outLen; o++)
                {
                    double s = (double)v[o] + r[o];
                    t1 += s;
                    t2 += s * s;
                    lo = Math.Min(lo, v[o]);
                    hi = Math.Max(hi, v[o]);
                }

                // the output codes at 80% of its range: the largest values clip
                Int8Activations.RangeParams(lo * 0.8f, hi * 0.8f, out var yScale, out var yZero);
                var expectedClips = 0;
                var expectedCodes = new byte[outLen];
                for (var o = 0; o < outLen; o++)
                {
                    expectedCodes[o] = Int8Activations.CodeOf(v[o], 1f / yScale, yZero, ref expectedClips);
                }

                foreach (var path in Paths)
                {
                    if (!Int8Activations.IsSupported(path))
                    {
                        continue;
                    }

                    var what = $"{path} codes {codes} plane {plane} relu {relu}";
                    var y = new float[outLen];
                    Int8Activations.LinearResidual(packed, scales, bias, sums, x, 0.02f, 9, groupSize, relu, codes ? default : rf, codes ? rq : default, plane ? rp : default, rScale, rZero, y, default, 0f, 0, out _, out _, path);
                    for (var o = 0; o < outLen; o++)
                    {
                        Assert.AreEqual(v[o] + r[o], y[o], 1e-4 * (1 + Math.Abs(v[o]) + Math.Abs(r[o])), $"{what} row {o}");
                    }

                    var q = new byte[outLen];
                    var clips = Int8Activations.LinearResidual(packed, scales, bias, sums, x, 0.02f, 9, groupSize, relu, codes ? default : rf, codes ? rq : default, plane ? rp : default, rScale, rZero, default, q, yScale, yZero, out var m1, out var m2, path);
                    Assert.AreEqual(expectedClips, clips, 1, what);
                    Assert.AreEqual(t1, m1, 1e-4 * (1 + Math.Abs(t2)), what);
                    Assert.AreEqual(t2, m2, 1e-4 * (1 + t2), what);
                    for (var o = 0; o < outLen; o++)
                    {
                        Assert.AreEqual(expectedCodes[o], q[o], 1.0, $"{what} code {o}");
                    }
                }

                Assert.IsTrue(expectedClips > 0, "the 80% range clips");
            }
        }
    }

    [TestMethod]
    [DataRow(1024)]
    [DataRow(90)]
    [DataRow(7)]
    public void LayerNormCodes_ScalarAndVector128_MatchReference(int n)
    {
        var rng = new Random(n);
        var x = new byte[n];
        var rq = new byte[n];
        rng.NextBytes(x);
        rng.NextBytes(rq);
        var rf = new float[n];
        var gamma = new float[n];
        var beta = new float[n];
        for (var i = 0; i < n; i++)
        {
            rf[i] = (float)(rng.NextDouble() * 3 - 1);
            gamma[i] = (float)(0.5 + rng.NextDouble());
            beta[i] = (float)(rng.NextDouble() - 0.5) * 0.2f;
        }

        const float xScale = 0.011f, rScale = 0.02f;
        const int xZero = 17, rZero = 140;
        foreach (var codes in new[] { false, true })
        {
            // the exact moments of the unrounded sum: here the dequantized sum itself, plus a small offset the
            // normalisation must use as given (it does not recompute them from the codes)
            var s = new double[n];
            double t1 = 0, t2 = 0;
            for (var i = 0; i < n; i++)
            {
                s[i] = (codes ? (double)rScale * (rq[i] - rZero) : rf[i]) + ((double)xScale * (x[i] - xZero));
                t1 += s[i] + 0.001;
                t2 += (s[i] + 0.001) * (s[i] + 0.001);
            }

            var mean = t1 / n;
            var inv = 1 / Math.Sqrt(Math.Max((t2 / n) - (mean * mean), 0) + 1e-5);
            var y = new double[n];
            float lo = 0, hi = 0;
            for (var i = 0; i < n; i++)
            {
                y[i] = ((s[i] - mean) * inv * gamma[i]) + beta[i];
                lo = Math.Min(lo, (float)y[i]);
                hi = Math.Max(hi, (float)y[i]);
            }

            Int8Activations.RangeParams(lo, hi, out var es, out var ez);
            var scalar = new byte[n];
            var vector = new byte[n];
            var scalarPlane = new byte[Int8Activations.PlaneBytes(n)];
            var vectorPlane = new byte[Int8Activations.PlaneBytes(n)];
            Int8Activations.LayerNormCodes(codes ? default : rf, codes ? rq : default, default, rScale, rZero, x, xScale, xZero, t1, t2, gamma, beta, 1e-5f, scalar, scalarPlane, Int8DotPath.Scalar, out var ss, out var sz);
            Int8Activations.LayerNormCodes(codes ? default : rf, codes ? rq : default, default, rScale, rZero, x, xScale, xZero, t1, t2, gamma, beta, 1e-5f, vector, vectorPlane, Int8DotPath.Vector128, out var vs, out var vz);
            Assert.AreEqual(es, ss, 1e-5 * es, "scale");
            Assert.AreEqual(ez, sz, 1, "zero point");
            Assert.AreEqual(ss, vs, "the twins find the same range");
            Assert.AreEqual(sz, vz);
            var flips = 0;
            for (var i = 0; i < n; i++)
            {
                var expected = Math.Clamp(Math.Round(y[i] / es, MidpointRounding.ToEven) + ez, 0, 255);
                Assert.AreEqual(expected, scalar[i], 1.0, $"codes {codes} scalar {i}");
                Assert.AreEqual(scalar[i], vector[i], 1.0, $"codes {codes} vector {i}");
                flips += scalar[i] != vector[i] ? 1 : 0;

                // codes and plane together: within an eighth of a step (plus float rounding) of y
                foreach (var (c, p) in new[] { (scalar, scalarPlane), (vector, vectorPlane) })
                {
                    var v = (p[i / 4] >> (2 * (i % 4))) & 3;
                    var refined = es * (c[i] - ez + ((v + 0.5) / 4) - 0.5);
                    Assert.AreEqual(y[i], refined, (es / 8) + (1e-4 * es) + (1e-5 * Math.Abs(y[i])), $"codes {codes} refined {i}");
                }
            }

            Assert.IsLessThanOrEqualTo(1 + (n / 100), flips, "scalar and Vector128 differ only at rounding boundaries");

            // the codes span the whole range: the exact range puts the extremes at 0 and 255 (or the zero point)
            Assert.IsTrue(Array.IndexOf(scalar, (byte)255) >= 0 || hi <= 0, "the largest value has code 255");

            // in place over the residual codes (element by element)
            if (codes)
            {
                var inPlace = (byte[])rq.Clone();
                Int8Activations.LayerNormCodes(default, inPlace, default, rScale, rZero, x, xScale, xZero, t1, t2, gamma, beta, 1e-5f, inPlace, default, Int8DotPath.Vector128, out _, out _);
                CollectionAssert.AreEqual(vector, inPlace);

                // with planes, in place: each path reads its residual's plane before it writes its own
                var rp = new byte[Int8Activations.PlaneBytes(n)];
                rng.NextBytes(rp);
                foreach (var path in new[] { Int8DotPath.Scalar, Int8DotPath.Vector128 })
                {
                    var apartCodes = new byte[n];
                    var apartPlane = new byte[rp.Length];
                    Int8Activations.LayerNormCodes(default, rq, rp, rScale, rZero, x, xScale, xZero, t1, t2, gamma, beta, 1e-5f, apartCodes, apartPlane, path, out _, out _);
                    var codesInPlace = (byte[])rq.Clone();
                    var planeInPlace = (byte[])rp.Clone();
                    Int8Activations.LayerNormCodes(default, codesInPlace, planeInPlace, rScale, rZero, x, xScale, xZero, t1, t2, gamma, beta, 1e-5f, codesInPlace, planeInPlace, path, out _, out _);
                    CollectionAssert.AreEqual(apartCodes, codesInPlace, path.ToString());
                    if (n % 4 != 0)
                    {
                        // the last byte's bits past the end are not values (in place they keep what was there)
                        var mask = (byte)((1 << (2 * (n % 4))) - 1);
                        apartPlane[^1] &= mask;
                        planeInPlace[^1] &= mask;
                    }

                    CollectionAssert.AreEqual(apartPlane, planeInPlace, path.ToString());
                }
            }
        }
    }

    [TestMethod]
    public void ResidualChain_ZeroAllocations()
    {
        var rng = new Random(3);
        const int n = 512, groupSize = 64;
        var (rowMajor, scales, bias) = RandomLayer(rng, n, n, groupSize);
        var packed = RowBlocked(rowMajor, n, n, groupSize);
        var (sums, norms) = Stats(packed, scales, n, n, groupSize);
        var x = new byte[n];
        var r = new byte[n];
        var q = new byte[n];
        var y = new float[n];
        var plane = new byte[Int8Activations.PlaneBytes(n)];
        var gamma = new float[n];
        gamma.AsSpan().Fill(1f);
        rng.NextBytes(x);
        rng.NextBytes(r);
        var path = Int8Activations.Resolve(KernelPath.Auto);
        void Once()
        {
            Int8Activations.PredictParams(x, 0.01f, 3, sums, norms, bias, 3f, false, out var ys, out var yz);
            Int8Activations.LinearResidual(packed, scales, bias, sums, x, 0.01f, 3, groupSize, false, default, r, plane, 0.02f, 128, default, q, ys, yz, out var m1, out var m2, path);
            Int8Activations.LayerNormCodes(default, r, plane, 0.02f, 128, q, ys, yz, m1, m2, gamma, bias, 1e-5f, x, plane, path, out _, out _);
            Int8Activations.LinearResidual(packed, scales, bias, sums, x, 0.01f, 3, groupSize, false, default, r, plane, 0.02f, 128, y, default, 0f, 0, out _, out _, path);
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
}
