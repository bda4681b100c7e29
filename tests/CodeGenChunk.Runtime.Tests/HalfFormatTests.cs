using System;
using System.Buffers.Binary;
using CodeGenChunk.Formats;
using CsCheck;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

[TestClass]
public sealed class HalfFormatTests
{
    [TestMethod]
    public void ToSingle_OfAll65536Halves_EqualsDotNetHalf_AndFiniteValuesRoundTrip()
    {
        for (int i = 0; i <= ushort.MaxValue; i++)
        {
            ushort h = (ushort)i;
            Half dotnet = BitConverter.UInt16BitsToHalf(h);
            float f = HalfFormat.ToSingle(h);
            Assert.AreEqual(FormatTestData.Bits((float)dotnet), FormatTestData.Bits(f), "0x" + i.ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
            if (Half.IsFinite(dotnet))
            {
                Assert.AreEqual(h, HalfFormat.FromSingle(f), "round trip of 0x" + i.ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                Assert.ThrowsExactly<ArgumentException>(() => HalfFormat.FromSingle(f));
            }
        }
    }

    [TestMethod]
    public void FromSingle_OfEveryMidpointBetweenAdjacentHalves_RoundsToEvenLikeDotNet()
    {
        // Every tie of binary16, exactly representable in float32: subnormal, normal, and across exponent boundaries.
        for (int i = 0; i < 0x7BFF; i++)
        {
            float lo = HalfFormat.ToSingle((ushort)i);
            float hi = HalfFormat.ToSingle((ushort)(i + 1));
            float mid = (lo + hi) / 2;
            foreach (float v in new[] { mid, -mid, MathF.BitIncrement(mid), MathF.BitDecrement(mid) })
            {
                Assert.AreEqual(BitConverter.HalfToUInt16Bits((Half)v), HalfFormat.FromSingle(v), FormatTestData.R(v));
            }

            Assert.AreEqual((ushort)((i & 1) == 0 ? i : i + 1), HalfFormat.FromSingle(mid), "tie goes to the even mantissa");
        }
    }

    [TestMethod]
    public void FromSingle_OfRandomFloatBits_EqualsDotNetHalf_OrRejectsOverflow()
    {
        Gen.UInt.Sample(
            bits =>
            {
                float f = BitConverter.UInt32BitsToSingle(bits);
                Half expected = (Half)f;
                if (Half.IsFinite(expected))
                {
                    Assert.AreEqual(BitConverter.HalfToUInt16Bits(expected), HalfFormat.FromSingle(f));
                }
                else
                {
                    ArgumentException e = Assert.ThrowsExactly<ArgumentException>(() => HalfFormat.FromSingle(f));
                    Assert.AreEqual("value", e.ParamName);
                }
            },
            iter: 200_000);
    }

    [TestMethod]
    public void FromSingle_OfRandomValuesInRange_EqualsDotNetHalf()
    {
        // Ordinary, small (subnormal half) and tiny (float32 subnormal) magnitudes.
        Gen.OneOf(Gen.Float[-65519f, 65519f], Gen.Float[-1e-4f, 1e-4f], Gen.Float[-1e-7f, 1e-7f], Gen.Float[-1e-38f, 1e-38f]).Sample(
            f => Assert.AreEqual(BitConverter.HalfToUInt16Bits((Half)f), HalfFormat.FromSingle(f), FormatTestData.R(f)),
            iter: 200_000);
    }

    [TestMethod]
    [DataRow(0f, (ushort)0x0000)]
    [DataRow(-0f, (ushort)0x8000)]
    [DataRow(1f, (ushort)0x3C00)]
    [DataRow(-2f, (ushort)0xC000)]
    [DataRow(65504f, (ushort)0x7BFF)]
    [DataRow(-65504f, (ushort)0xFBFF)]
    [DataRow(65519.996f, (ushort)0x7BFF)]  // the largest float below the overflow threshold 65520
    [DataRow(6.1035156e-05f, (ushort)0x0400)]  // 2^-14, smallest normal
    [DataRow(6.0975552e-05f, (ushort)0x03FF)]  // largest subnormal
    [DataRow(5.9604645e-08f, (ushort)0x0001)]  // 2^-24, smallest subnormal
    [DataRow(2.9802322e-08f, (ushort)0x0000)]  // 2^-25: tie between 0 and 2^-24 goes to 0 (even)
    [DataRow(-2.9802322e-08f, (ushort)0x8000)]
    [DataRow(2.9802326e-08f, (ushort)0x0001)]  // just above 2^-25
    [DataRow(8.940697e-08f, (ushort)0x0002)]   // 1.5 * 2^-24: tie goes to 2 (even)
    [DataRow(1e-45f, (ushort)0x0000)]          // float32 subnormal
    [DataRow(-1e-45f, (ushort)0x8000)]
    [DataRow(1.00048828125f, (ushort)0x3C00)]  // 1 + 2^-11: tie goes to 1 (even)
    [DataRow(1.00146484375f, (ushort)0x3C02)]  // 1 + 3 * 2^-11: tie goes to 1 + 2^-9 (even)
    [DataRow(2047.9999f, (ushort)0x6800)]      // carry into the exponent: 2048
    [DataRow(1e-5f, (ushort)0x00A8)]
    public void FromSingle_EdgeValues(float value, ushort expected)
    {
        Assert.AreEqual(expected, HalfFormat.FromSingle(value));
        Assert.AreEqual(expected, BitConverter.HalfToUInt16Bits((Half)value), "agrees with System.Half");
    }

    [TestMethod]
    [DataRow(65520f)]
    [DataRow(-65520f)]
    [DataRow(70000f)]
    [DataRow(float.MaxValue)]
    [DataRow(float.PositiveInfinity)]
    [DataRow(float.NegativeInfinity)]
    [DataRow(float.NaN)]
    public void FromSingle_OutOfRange_IsAnError_NotSaturated(float value)
    {
        ArgumentException e = Assert.ThrowsExactly<ArgumentException>(() => HalfFormat.FromSingle(value));
        Assert.AreEqual("value", e.ParamName);
    }

    [TestMethod]
    public void Quantize_WritesLittleEndianRowMajor_AndDequantizeIsExact()
    {
        float[] w = [1f, -2f, 0.1f, -0f, 65504f, 5.9604645e-08f];
        byte[] packed = new byte[3 * HalfFormat.RowBytes(2)];
        Assert.AreEqual(12, packed.Length);
        HalfFormat.Quantize(w, 3, 2, packed);
        CollectionAssert.AreEqual(new byte[] { 0x00, 0x3C, 0x00, 0xC0, 0x66, 0x2E, 0x00, 0x80, 0xFF, 0x7B, 0x01, 0x00 }, packed);

        float[] decoded = new float[6];
        HalfFormat.Dequantize(packed, 3, 2, decoded);
        for (int i = 0; i < w.Length; i++)
        {
            Assert.AreEqual(FormatTestData.Bits((float)(Half)w[i]), FormatTestData.Bits(decoded[i]), "element " + i);
        }
    }

    [TestMethod]
    public void RoundTrip_ErrorIsAtMostHalfAnUlpOfBinary16()
    {
        FormatTestData.Cases(1, 1, 64).Sample(c =>
        {
            byte[] packed = new byte[c.Rows * HalfFormat.RowBytes(c.Cols)];
            float[] decoded = new float[c.Weights.Length];
            HalfFormat.Quantize(c.Weights, c.Rows, c.Cols, packed);
            HalfFormat.Dequantize(packed, c.Rows, c.Cols, decoded);
            for (int i = 0; i < decoded.Length; i++)
            {
                float w = c.Weights[i];
                Assert.AreEqual(BitConverter.HalfToUInt16Bits((Half)w), BinaryPrimitives.ReadUInt16LittleEndian(packed.AsSpan(2 * i)));

                // Half an ulp: 2^(e - 11) for a normal half of exponent e, 2^-25 in the subnormal range.
                float a = MathF.Abs(w);
                float halfUlp = a < 6.1035156e-05f ? 2.9802322e-08f : MathF.ScaleB(1f, MathF.ILogB(a) - 11);
                Assert.IsLessThanOrEqualTo(halfUlp, MathF.Abs(w - decoded[i]), FormatTestData.R(w));
                Assert.AreEqual(w < 0 || FormatTestData.Bits(w) == 0x80000000u, (FormatTestData.Bits(decoded[i]) >> 31) == 1, "the sign is kept");
            }
        });
    }

    [TestMethod]
    [DataRow(7, float.NaN, "NaN")]
    [DataRow(0, float.PositiveInfinity, "infinite")]
    [DataRow(11, float.NegativeInfinity, "infinite")]
    [DataRow(4, 65520f, "outside the binary16 range")]
    [DataRow(9, -1e6f, "outside the binary16 range")]
    public void Quantize_RejectsNonFiniteAndOverflow_NamingTheIndex(int index, float value, string what)
    {
        float[] w = FormatTestData.MixedWeights(12, 1);
        w[index] = value;
        byte[] packed = new byte[24];
        ArgumentException e = Assert.ThrowsExactly<ArgumentException>(() => HalfFormat.Quantize(w, 3, 4, packed));
        FormatTestData.NamesIndex(e, index, 4);
        Assert.Contains(what, e.Message);
        CollectionAssert.AreEqual(new byte[24], packed, "nothing is written before the input is checked");
    }

    [TestMethod]
    public void WrongLengths_AreRejected()
    {
        Assert.ThrowsExactly<ArgumentException>(() => HalfFormat.Quantize(new float[6], 2, 3, new byte[11]));
        Assert.ThrowsExactly<ArgumentException>(() => HalfFormat.Quantize(new float[5], 2, 3, new byte[12]));
        Assert.ThrowsExactly<ArgumentException>(() => HalfFormat.Dequantize(new byte[12], 2, 3, new float[7]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => HalfFormat.RowBytes(-1));
        Assert.AreEqual(2048, HalfFormat.RowBytes(1024));
    }
}
