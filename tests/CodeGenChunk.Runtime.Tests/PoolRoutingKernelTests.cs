using System;
using System.Linq;
using CodeGenChunk.Formats;
using CodeGenChunk.Runtime.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>
/// Pool routing (docs/routing.md, "Pool routing"): <see cref="PoolRouting.Conv2dMaxPool"/> against a plain reference
/// written here from the page (dense conv with bounds checks, the proxy from its own tap choice, top-k by a stable
/// sort); with topK = the window it is the dense conv → ReLU → max pool; the proxy's tap choice; no allocations.
/// </summary>
[TestClass]
public sealed class PoolRoutingKernelTests
{
    [TestMethod]
    [DataRow(8, 14, 14, 16, 5, 5, 1, 1, 2, 2, 2, 2, 3, 3, 2, 16, true, true, DisplayName = "Pool routing mnist-8 conv2, k=2, taps 16")]
    [DataRow(8, 14, 14, 16, 5, 5, 1, 1, 2, 2, 2, 2, 3, 3, 1, 25, true, true, DisplayName = "Pool routing mnist-8 conv2, k=1, taps 25")]
    [DataRow(3, 11, 9, 5, 3, 2, 1, 1, 1, 0, 2, 1, 2, 2, 3, 4, false, true, DisplayName = "Pool routing odd shape, kw 2 (scalar dots), no ReLU, k=3/4")]
    [DataRow(2, 13, 12, 3, 3, 4, 2, 1, 0, 1, 1, 2, 2, 3, 2, 24, true, false, DisplayName = "Pool routing stride 2x1, 2x3 pool, no bias, every tap")]
    [DataRow(4, 10, 10, 6, 5, 5, 1, 1, 2, 2, 2, 2, 4, 4, 5, 1, true, true, DisplayName = "Pool routing 4x4 pool, one tap")]
    public void Routed_MatchesReference(int inC, int h, int w, int outC, int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr, int poolH, int poolW, int topK, int taps, bool relu, bool withBias)
    {
        var rng = new Random((inC * 977) + (h * 31) + (outC * 7) + topK + taps);
        var filter = inC * kh * kw;
        var filters = Enumerable.Range(0, outC * filter).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
        var bias = withBias ? Enumerable.Range(0, outC).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray() : Array.Empty<float>();
        var x = Enumerable.Range(0, inC * h * w).Select(_ => (float)rng.NextDouble()).ToArray();
        var proxy = PoolTapsFormat.Build(filters, outC, filter, taps);

        var expected = Reference(filters, bias, x, inC, h, w, outC, kh, kw, sh, sw, pt, pl, pb, pr, poolH, poolW, topK, taps, relu, out var outH, out var outW);
        var y = Run(filters, bias, proxy, x, inC, h, w, outC, kh, kw, sh, sw, pt, pl, pb, pr, poolH, poolW, topK, taps, relu);
        Assert.HasCount(outC * outH * outW, expected);
        AssertClose(expected, y);

        // every position of the window: the dense conv -> relu -> pool, whatever the proxy
        var dense = Reference(filters, bias, x, inC, h, w, outC, kh, kw, sh, sw, pt, pl, pb, pr, poolH, poolW, poolH * poolW, taps, relu, out _, out _);
        var all = Run(filters, bias, proxy, x, inC, h, w, outC, kh, kw, sh, sw, pt, pl, pb, pr, poolH, poolW, poolH * poolW, taps, relu);
        AssertClose(DensePool(filters, bias, x, inC, h, w, outC, kh, kw, sh, sw, pt, pl, pb, pr, poolH, poolW, relu), all);
        AssertClose(dense, all);
    }

    [TestMethod]
    public void Routed_LosesOnlyWhereTheProxyMissesTheMaximum()
    {
        // a routed output is one of the window's exact values, so it never exceeds the dense pool's
        var rng = new Random(5);
        int inC = 8, h = 14, w = 14, outC = 16, filter = 200;
        var filters = Enumerable.Range(0, outC * filter).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
        var bias = Enumerable.Range(0, outC).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var x = Enumerable.Range(0, inC * h * w).Select(_ => (float)rng.NextDouble()).ToArray();
        var routed = Run(filters, bias, PoolTapsFormat.Build(filters, outC, filter, 16), x, inC, h, w, outC, 5, 5, 1, 1, 2, 2, 2, 2, 3, 3, 2, 16, true);
        var dense = DensePool(filters, bias, x, inC, h, w, outC, 5, 5, 1, 1, 2, 2, 2, 2, 3, 3, true);
        for (var i = 0; i < dense.Length; i++)
        {
            Assert.IsLessThanOrEqualTo(dense[i] + 1e-4f, routed[i], "output " + i);
        }
    }

    [TestMethod]
    public void ProxyTaps_LargestMagnitudeFirst_TiesToTheLowerIndex_StoredInIndexOrder()
    {
        float[] filters = [0.5f, -2f, 1f, -1f, 2f, 0.25f, /* channel 1 */ 3f, 3f, -3f, 1f, 0f, 0f];
        var proxy = PoolTapsFormat.Build(filters, 2, 6, 3);
        // channel 0: |w| 2 (index 1), 2 (index 4), then 1 (index 2, before index 3)
        CollectionAssert.AreEqual(new[] { -2f, 1f, 2f, 1f, 2f, 4f, 3f, 3f, -3f, 0f, 1f, 2f }, proxy);
    }

    [TestMethod]
    public void Selection_TiesGoToTheLowerPositions()
    {
        // a 1x1 filter over two channels; the one-tap proxy reads channel 0, constant, so every position of a window ties;
        // channel 1 holds each position's index, so the output shows which positions were computed: the first k
        int h = 6, w = 6;
        var x = new float[2 * h * w];
        for (var y = 0; y < h; y++)
        {
            for (var xx = 0; xx < w; xx++)
            {
                x[(y * w) + xx] = 1f;
                x[(h * w) + (y * w) + xx] = ((y % 3) * 3) + (xx % 3);
            }
        }

        float[] filters = [1f, 0.5f];
        var proxy = PoolTapsFormat.Build(filters, 1, 2, 1);
        for (var k = 1; k <= 9; k++)
        {
            var expected = 1f + (0.5f * (k - 1)); // positions 0..k-1: the largest index among them is k-1
            var y = Run(filters, Array.Empty<float>(), proxy, x, 2, h, w, 1, 1, 1, 1, 1, 0, 0, 0, 0, 3, 3, k, 1, false);
            CollectionAssert.AreEqual(new[] { expected, expected, expected, expected }, y, "k = " + k);
        }

        // a larger proxy wins over the tie: position 5 of window (1, 1) ranks first
        x[(4 * w) + 5] = 2f;
        var routed = Run(filters, Array.Empty<float>(), proxy, x, 2, h, w, 1, 1, 1, 1, 1, 0, 0, 0, 0, 3, 3, 1, 1, false);
        CollectionAssert.AreEqual(new[] { 1f, 1f, 1f, 2f + 2.5f }, routed);
    }

    [TestMethod]
    public void Run_AllocatesNothing()
    {
        var rng = new Random(3);
        int inC = 8, h = 14, w = 14, outC = 16, filter = 200;
        var filters = Enumerable.Range(0, outC * filter).Select(_ => (float)((rng.NextDouble() * 2) - 1)).ToArray();
        var bias = new float[outC];
        var x = Enumerable.Range(0, inC * h * w).Select(_ => (float)rng.NextDouble()).ToArray();
        var proxy = PoolTapsFormat.Build(filters, outC, filter, 16);
        var temp = new float[PoolRouting.TempFloats(inC, h, w, outC, 2, 2, 2, 2, 16)];
        var y = new float[outC * 16];
        PoolRouting.Conv2dMaxPool(filters, bias, proxy, x, temp, y, inC, h, w, outC, 5, 5, 1, 1, 2, 2, 2, 2, 3, 3, 2, 16, true);
        Assert.AreEqual(0L, Allocations.SteadyState(() =>
        {
            for (var i = 0; i < 20; i++)
            {
                PoolRouting.Conv2dMaxPool(filters, bias, proxy, x, temp, y, inC, h, w, outC, 5, 5, 1, 1, 2, 2, 2, 2, 3, 3, 2, 16, true);
            }
        }));
    }

    [TestMethod]
    public void Macs_CountProxyAtEveryReadPositionAndTopKExactOutputs()
    {
        // mnist-8's conv2 at k = 2, 16 taps: 16 x 144 x 16 + 16 x 16 x 2 x 200
        Assert.AreEqual(36_864L + 102_400L, PoolRouting.Macs(8, 16, 5, 5, 4, 4, 3, 3, 2, 16));
    }

    [TestMethod]
    public void ShortSpans_Throw()
    {
        var temp = new float[PoolRouting.TempFloats(1, 6, 6, 1, 0, 0, 0, 0, 1) - 1];
        Assert.ThrowsExactly<ArgumentException>(() => PoolRouting.Conv2dMaxPool([1f], default, [1f, 0f], new float[36], temp, new float[4], 1, 6, 6, 1, 1, 1, 1, 1, 0, 0, 0, 0, 3, 3, 1, 1, false));
    }

    private static float[] Run(float[] filters, float[] bias, float[] proxy, float[] x, int inC, int h, int w, int outC, int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr, int poolH, int poolW, int topK, int taps, bool relu)
    {
        var convH = ((h + pt + pb - kh) / sh) + 1;
        var convW = ((w + pl + pr - kw) / sw) + 1;
        var y = new float[outC * (convH / poolH) * (convW / poolW)];
        var temp = new float[PoolRouting.TempFloats(inC, h, w, outC, pt, pl, pb, pr, taps)];
        Array.Fill(temp, float.NaN); // the kernel must not rely on a cleared scratch
        PoolRouting.Conv2dMaxPool(filters, bias, proxy, x, temp, y, inC, h, w, outC, kh, kw, sh, sw, pt, pl, pb, pr, poolH, poolW, topK, taps, relu);
        return y;
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.HasCount(expected.Length, actual);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], actual[i], 1e-4f * (1 + Math.Abs(expected[i])), "output " + i);
        }
    }

    /// <summary>The conv output at (o, cy, cx) with bounds checks (padding reads zero), in double.</summary>
    private static double Conv(float[] filters, float[] x, int inC, int h, int w, int kh, int kw, int sh, int sw, int pt, int pl, int o, int cy, int cx)
    {
        double s = 0;
        for (var c = 0; c < inC; c++)
        {
            for (var ky = 0; ky < kh; ky++)
            {
                for (var kx = 0; kx < kw; kx++)
                {
                    var iy = (cy * sh) + ky - pt;
                    var ix = (cx * sw) + kx - pl;
                    if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                    {
                        s += (double)filters[(((o * inC) + c) * kh * kw) + (ky * kw) + kx] * x[(c * h * w) + (iy * w) + ix];
                    }
                }
            }
        }

        return s;
    }

    /// <summary>Dense conv + bias, ReLU, then the max pool, as three separate passes.</summary>
    private static float[] DensePool(float[] filters, float[] bias, float[] x, int inC, int h, int w, int outC, int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr, int poolH, int poolW, bool relu)
    {
        var convH = ((h + pt + pb - kh) / sh) + 1;
        var convW = ((w + pl + pr - kw) / sw) + 1;
        var conv = new double[outC, convH, convW];
        for (var o = 0; o < outC; o++)
        {
            for (var cy = 0; cy < convH; cy++)
            {
                for (var cx = 0; cx < convW; cx++)
                {
                    var v = Conv(filters, x, inC, h, w, kh, kw, sh, sw, pt, pl, o, cy, cx) + (bias.Length > 0 ? bias[o] : 0);
                    conv[o, cy, cx] = relu ? Math.Max(0, v) : v;
                }
            }
        }

        int outH = convH / poolH, outW = convW / poolW;
        var y = new float[outC * outH * outW];
        for (var o = 0; o < outC; o++)
        {
            for (var oy = 0; oy < outH; oy++)
            {
                for (var ox = 0; ox < outW; ox++)
                {
                    var m = double.NegativeInfinity;
                    for (var dy = 0; dy < poolH; dy++)
                    {
                        for (var dx = 0; dx < poolW; dx++)
                        {
                            m = Math.Max(m, conv[o, (oy * poolH) + dy, (ox * poolW) + dx]);
                        }
                    }

                    y[(o * outH * outW) + (oy * outW) + ox] = (float)m;
                }
            }
        }

        return y;
    }

    /// <summary>
    /// The routed step as docs/routing.md states it: per channel the taps of largest |w| (ties to the lower index), the
    /// proxy summed in float in ascending tap order at each position of a window, the k best positions by a stable sort
    /// (ties to the lower position), the exact conv there, pooled = act(max + bias).
    /// </summary>
    private static float[] Reference(float[] filters, float[] bias, float[] x, int inC, int h, int w, int outC, int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr, int poolH, int poolW, int topK, int taps, bool relu, out int outH, out int outW)
    {
        var filter = inC * kh * kw;
        var convH = ((h + pt + pb - kh) / sh) + 1;
        var convW = ((w + pl + pr - kw) / sw) + 1;
        outH = convH / poolH;
        outW = convW / poolW;
        var y = new float[outC * outH * outW];
        for (var o = 0; o < outC; o++)
        {
            var chosen = Enumerable.Range(0, filter)
                .OrderByDescending(t => Math.Abs(filters[(o * filter) + t])).ThenBy(t => t)
                .Take(taps).OrderBy(t => t).ToArray();
            float Input(int cy, int cx, int t)
            {
                var c = t / (kh * kw);
                var ky = (t % (kh * kw)) / kw;
                var kx = t % kw;
                var iy = (cy * sh) + ky - pt;
                var ix = (cx * sw) + kx - pl;
                return iy >= 0 && iy < h && ix >= 0 && ix < w ? x[(c * h * w) + (iy * w) + ix] : 0f;
            }

            for (var oy = 0; oy < outH; oy++)
            {
                for (var ox = 0; ox < outW; ox++)
                {
                    var positions = new (int Cy, int Cx, float Score, int Index)[poolH * poolW];
                    for (var dy = 0; dy < poolH; dy++)
                    {
                        for (var dx = 0; dx < poolW; dx++)
                        {
                            int cy = (oy * poolH) + dy, cx = (ox * poolW) + dx;
                            var s = 0f;
                            foreach (var t in chosen)
                            {
                                s += filters[(o * filter) + t] * Input(cy, cx, t);
                            }

                            positions[(dy * poolW) + dx] = (cy, cx, s, (dy * poolW) + dx);
                        }
                    }

                    var best = positions.OrderByDescending(p => p.Score).ThenBy(p => p.Index).Take(topK)
                        .Max(p => Conv(filters, x, inC, h, w, kh, kw, sh, sw, pt, pl, o, p.Cy, p.Cx));
                    var v = best + (bias.Length > 0 ? bias[o] : 0);
                    y[(o * outH * outW) + (oy * outW) + ox] = (float)(relu ? Math.Max(0, v) : v);
                }
            }
        }

        return y;
    }
}
