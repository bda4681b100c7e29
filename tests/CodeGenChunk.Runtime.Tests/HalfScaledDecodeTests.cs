using System;
using System.Runtime.InteropServices;
using CodeGenChunk.Runtime.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>
/// The f16 kernels' decode: weights as w · 2^-112 (bits moved, not rebiased) against an input multiplied by 2^112
/// (PackedDecode.HalfScaled*, HalfInputScale). Every product must be the real product w · x, as with the exact widening.
/// </summary>
[TestClass]
public sealed class HalfScaledDecodeTests
{
    /// <summary>Every finite binary16, through each vector width, times 2^112 is (double) Half's value exactly.</summary>
    [TestMethod]
    public void HalfScaled_OfEveryFiniteHalf_IsTheHalfTimes2PowMinus112_OnEveryWidth()
    {
        var bytes = new byte[32];
        var halves = MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan());
        var checkedCount = 0;
        for (var start = 0; start < 65536; start += 16)
        {
            for (var j = 0; j < 16; j++)
            {
                halves[j] = (ushort)(start + j);
            }

            var v512 = PackedDecode.HalfScaledV512(ref bytes[0]);
            var w256 = PackedDecode.HalfScaledW256(ref bytes[0]);
            var l16 = PackedDecode.HalfScaledL16(ref bytes[0]);
            for (var j = 0; j < 16; j++)
            {
                var h = BitConverter.UInt16BitsToHalf(halves[j]);
                if (!Half.IsFinite(h))
                {
                    continue;
                }

                var expected = (double)(float)h * Math.Pow(2, -112);
                Assert.AreEqual(expected, (double)v512[j], 0, $"V512 half 0x{halves[j]:X4}");
                Assert.AreEqual(expected, (double)(j < 8 ? w256.A[j] : w256.B[j - 8]), 0, $"W256 half 0x{halves[j]:X4}");
                var quarter = (j / 4) switch { 0 => l16.A, 1 => l16.B, 2 => l16.C, _ => l16.D };
                Assert.AreEqual(expected, (double)quarter[j % 4], 0, $"L16 half 0x{halves[j]:X4}");
                checkedCount++;
            }
        }

        Assert.AreEqual(63488, checkedCount, "finite halves: 65536 minus 2 x 1024 Inf/NaN patterns");
    }

    [TestMethod]
    [DataRow(0f, 0)]
    [DataRow(1f, 0)]
    [DataRow(32767.99f, 0)]
    [DataRow(32768f, 1)]
    [DataRow(65504f, 1)]
    [DataRow(65536f, 2)]
    [DataRow(1e30f, 85)]
    [DataRow(float.MaxValue, 113)]
    public void HalfInputScale_KeepsTheScaledInputFinite_AndNeverScalesDown(float largest, int e)
    {
        var x = new float[37];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = (i % 3 - 1) * 0.25f;
        }

        x[29] = -largest;
        var scale = PackedDecode.HalfInputScale(ref x[0], x.Length, out var post);
        var expectedE = Math.Min(e, 112);
        Assert.AreEqual(Math.Pow(2, 112 - expectedE), (double)scale, 0);
        Assert.AreEqual(Math.Pow(2, expectedE), (double)post, 0);
        Assert.IsTrue(float.IsFinite(largest * scale), "max |x| times the input factor stays finite");
        Assert.IsTrue(scale >= 1f, "no input is scaled down, so none underflows");
    }

    /// <summary>A 1 x 40 dot product the way the kernel computes it equals the exact widening's, large inputs included.</summary>
    [TestMethod]
    [DataRow(1f)]
    [DataRow(1e6f)]
    [DataRow(3e37f)]
    public void ScaledDot_EqualsTheExactDot(float magnitude)
    {
        var rng = new Random(7);
        var w = new Half[48];
        var x = new float[48];
        for (var i = 0; i < w.Length; i++)
        {
            w[i] = (Half)(float)((rng.NextDouble() * 2 - 1) * (i % 5 == 0 ? 1e-6 : 2));
            x[i] = (float)((rng.NextDouble() * 2 - 1) * magnitude);
        }

        var bytes = MemoryMarshal.AsBytes(w.AsSpan()).ToArray();
        var scale = PackedDecode.HalfInputScale(ref x[0], x.Length, out var post);
        var sum = 0.0;
        var exact = 0.0;
        for (var block = 0; block < 3; block++)
        {
            var v = PackedDecode.HalfScaledV512(ref bytes[block * 32]);
            for (var j = 0; j < 16; j++)
            {
                sum += (double)v[j] * (double)(x[(block * 16) + j] * scale);
                exact += (double)(float)w[(block * 16) + j] * x[(block * 16) + j];
            }
        }

        Assert.AreEqual(exact, sum * post, Math.Abs(exact) * 1e-12 + 1e-300);
    }
}
