using System;
using CodeGenChunk.Formats;
using CsCheck;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

[TestClass]
public sealed class Int4BlockFormatTests
{
    [TestMethod]
    [DataRow(0, 0)]
    [DataRow(1, 16)]
    [DataRow(32, 16)]
    [DataRow(33, 32)]
    [DataRow(1024, 512)]
    [DataRow(1000, 512)]
    public void RowBytes_IsWholeBlocks(int cols, int expected)
    {
        Assert.AreEqual(expected, Int4BlockFormat.RowBytes(cols));
    }

    [TestMethod]
    public void GroupSize_MustBeAPositiveMultipleOf32()
    {
        Assert.AreEqual(3, Int4BlockFormat.GroupsPerRow(150, 64));
        ArgumentException e = Assert.ThrowsExactly<ArgumentException>(() => Int4BlockFormat.GroupsPerRow(128, 48));
        Assert.AreEqual("groupSize", e.ParamName);
        Assert.ThrowsExactly<ArgumentException>(() => Int4BlockFormat.Quantize(new float[64], 1, 64, 16, new byte[32], new float[4]));
        Assert.ThrowsExactly<ArgumentException>(() => Int4BlockFormat.Dequantize(new byte[32], new float[4], 1, 64, 16, new float[64]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Int4BlockFormat.GroupsPerRow(128, 0));
    }

    [TestMethod]
    public void DecodeTable_IsNibbleMinus8()
    {
        Assert.AreEqual(16, Int4BlockFormat.DecodeTable.Length);
        for (int n = 0; n < 16; n++)
        {
            Assert.AreEqual(n - 8f, Int4BlockFormat.DecodeTable[n]);
        }
    }

    [TestMethod]
    public void Layout_LowNibbleIsElementJ_HighNibbleIsElement16PlusJ_PaddingIs8()
    {
        // One row of 40: scale = 7 / 7 = 1, so q = round(w). Element c gets q = (c % 15) - 7.
        const int cols = 40;
        float[] w = new float[cols];
        for (int c = 0; c < cols; c++)
        {
            w[c] = (c % 15) - 7;
        }

        byte[] packed = new byte[Int4BlockFormat.RowBytes(cols)];
        float[] scales = new float[1];
        Int4BlockFormat.Quantize(w, 1, cols, 64, packed, scales);
        Assert.AreEqual(32, packed.Length);
        Assert.AreEqual(1f, scales[0]);
        for (int c = 0; c < 64; c++)
        {
            int block = c / 32;
            int e = c % 32;
            byte b = packed[(block * 16) + (e % 16)];
            int nibble = e < 16 ? b & 0xF : b >> 4;
            Assert.AreEqual(c < cols ? (int)w[c] + 8 : 8, nibble, "element " + c);
        }
    }

    [TestMethod]
    public void KnownValues_RoundHalfToEven_AndClampTo7()
    {
        // maxAbs 7 -> scale exactly 1.
        float[] w = [7f, 2.5f, 3.5f, -2.5f, -0.5f, 0.5f, 1.5f, -6.6f, 0.49f, -7f];
        byte[] packed = new byte[16];
        float[] scales = new float[1];
        Int4BlockFormat.Quantize(w, 1, w.Length, 32, packed, scales);
        float[] decoded = new float[w.Length];
        Int4BlockFormat.Dequantize(packed, scales, 1, w.Length, 32, decoded);
        CollectionAssert.AreEqual(new float[] { 7, 2, 4, -2, 0, 0, 2, -7, 0, -7 }, decoded);
        Assert.AreEqual(0x8F, packed[0] & 0xFF, "7 -> nibble 15, padding element 16 -> 8");
    }

    [TestMethod]
    public void RoundTrip_ErrorIsAtMostHalfAScale()
    {
        FormatTestData.Cases(Int4BlockFormat.BlockElements, 3, 200).Sample(c =>
        {
            byte[] packed = new byte[c.Rows * Int4BlockFormat.RowBytes(c.Cols)];
            float[] scales = new float[c.Rows * c.Groups];
            float[] decoded = new float[c.Weights.Length];
            Int4BlockFormat.Quantize(c.Weights, c.Rows, c.Cols, c.GroupSize, packed, scales);
            Int4BlockFormat.Dequantize(packed, scales, c.Rows, c.Cols, c.GroupSize, decoded);

            for (int r = 0; r < c.Rows; r++)
            {
                for (int g = 0; g < c.Groups; g++)
                {
                    float maxAbs = 0;
                    for (int k = 0; k < c.GroupLength(g); k++)
                    {
                        maxAbs = MathF.Max(maxAbs, MathF.Abs(c.Weights[(r * c.Cols) + (g * c.GroupSize) + k]));
                    }

                    float scale = scales[(r * c.Groups) + g];
                    Assert.AreEqual(maxAbs / 7f, scale);
                    for (int k = 0; k < c.GroupLength(g); k++)
                    {
                        int i = (r * c.Cols) + (g * c.GroupSize) + k;

                        // Half a step, plus float32 rounding of w / scale and q * scale (|q| <= 7), plus the smallest
                        // subnormal when the scale itself is subnormal or underflowed to 0.
                        float bound = (scale / 2) + (scale * 1e-5f) + float.Epsilon + (scale == 0 ? maxAbs : 0);
                        Assert.IsLessThanOrEqualTo(bound, MathF.Abs(c.Weights[i] - decoded[i]), "element " + i);
                        float q = decoded[i] == 0 ? 0 : MathF.Round(decoded[i] / scale);
                        Assert.IsInRange(-7f, 7f, q);
                    }
                }
            }
        });
    }

    [TestMethod]
    public void ConstantGroups_AndZeroGroups()
    {
        // cols 96, group 32: [all 0.3] [all 0 with -0] [all -5].
        float[] w = new float[96];
        for (int c = 0; c < 32; c++)
        {
            w[c] = 0.3f;
            w[32 + c] = c % 2 == 0 ? 0f : -0f;
            w[64 + c] = -5f;
        }

        byte[] packed = new byte[48];
        float[] scales = new float[3];
        Int4BlockFormat.Quantize(w, 1, 96, 32, packed, scales);
        Assert.AreEqual(0.3f / 7f, scales[0]);
        Assert.AreEqual(0f, scales[1]);
        Assert.AreEqual(5f / 7f, scales[2]);
        for (int j = 0; j < 16; j++)
        {
            Assert.AreEqual((byte)0xFF, packed[j], "q = +7");
            Assert.AreEqual((byte)0x88, packed[16 + j], "q = 0, also for -0");
            Assert.AreEqual((byte)0x11, packed[32 + j], "q = -7");
        }

        float[] decoded = new float[96];
        Int4BlockFormat.Dequantize(packed, scales, 1, 96, 32, decoded);
        for (int c = 0; c < 32; c++)
        {
            Assert.AreEqual(7 * (0.3f / 7f), decoded[c]);
            Assert.AreEqual(0u, FormatTestData.Bits(decoded[32 + c]), "zeros decode to +0");
            Assert.AreEqual(7 * (-5f / 7f), decoded[64 + c]);
        }
    }

    [TestMethod]
    public void DenormalInputs_AreQuantizedWithASubnormalScale()
    {
        float[] w = new float[32];
        for (int c = 0; c < 32; c++)
        {
            w[c] = (c - 16) * 1e-40f;
        }

        byte[] packed = new byte[16];
        float[] scales = new float[1];
        Int4BlockFormat.Quantize(w, 1, 32, 32, packed, scales);
        Assert.IsTrue(float.IsSubnormal(scales[0]));
        float[] decoded = new float[32];
        Int4BlockFormat.Dequantize(packed, scales, 1, 32, 32, decoded);
        for (int c = 0; c < 32; c++)
        {
            Assert.IsLessThanOrEqualTo((scales[0] / 2) + (2 * float.Epsilon), MathF.Abs(w[c] - decoded[c]));
        }

        // A group whose maxAbs / 7 underflows to 0 decodes to zero.
        float[] tiny = new float[32];
        tiny[3] = float.Epsilon;
        Int4BlockFormat.Quantize(tiny, 1, 32, 32, packed, scales);
        Assert.AreEqual(0f, scales[0]);
        Assert.AreEqual((byte)0x88, packed[3]);
    }

    [TestMethod]
    public void LastGroupOfARow_IsShorter_AndHasItsOwnScale()
    {
        // cols 100, group 64: groups [0,64) [64,100); 4 blocks per row (the last one 4 elements long).
        const int cols = 100;
        float[] w = new float[2 * cols];
        w.AsSpan().Fill(1f);
        w[99] = -14f;   // row 0, last group
        w[100] = 70f;   // row 1, first group: must not leak into row 0's last group
        byte[] packed = new byte[2 * Int4BlockFormat.RowBytes(cols)];
        float[] scales = new float[4];
        Int4BlockFormat.Quantize(w, 2, cols, 64, packed, scales);
        CollectionAssert.AreEqual(new float[] { 1f / 7f, 2f, 70f / 7f, 1f / 7f }, scales);

        // Row 0, element 99 = block 3, element 3 -> low nibble of byte 48 + 3: q = -7.
        Assert.AreEqual(1, packed[51] & 0xF);
        Assert.AreEqual(8, packed[51] >> 4, "element 115 is padding");
        Assert.AreEqual(64, packed.Length / 2);
    }

    [TestMethod]
    [DataRow(13, float.NaN, "NaN")]
    [DataRow(0, float.PositiveInfinity, "+Infinity")]
    [DataRow(99, float.NegativeInfinity, "-Infinity")]
    public void NonFiniteWeight_IsRejected_NamingTheIndex(int index, float value, string what)
    {
        float[] w = FormatTestData.MixedWeights(100, 5);
        w[index] = value;
        byte[] packed = new byte[2 * 32];
        float[] scales = new float[2 * 2];
        ArgumentException e = Assert.ThrowsExactly<ArgumentException>(() => Int4BlockFormat.Quantize(w, 2, 50, 32, packed, scales));
        FormatTestData.NamesIndex(e, index, 50);
        Assert.Contains(" is " + what, e.Message);
        CollectionAssert.AreEqual(new byte[64], packed, "nothing is written before the input is checked");
    }

    [TestMethod]
    public void WrongLengths_AreRejected()
    {
        float[] w = new float[3 * 40];
        Assert.ThrowsExactly<ArgumentException>(() => Int4BlockFormat.Quantize(w, 3, 40, 32, new byte[95], new float[6]));
        Assert.ThrowsExactly<ArgumentException>(() => Int4BlockFormat.Quantize(w, 3, 40, 32, new byte[96], new float[5]));
        Assert.ThrowsExactly<ArgumentException>(() => Int4BlockFormat.Dequantize(new byte[96], new float[6], 3, 40, 32, new float[119]));
        Int4BlockFormat.Quantize(w, 3, 40, 32, new byte[96], new float[6]);
    }
}
