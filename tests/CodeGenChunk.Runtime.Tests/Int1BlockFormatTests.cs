using System;
using CodeGenChunk.Formats;
using CsCheck;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>
/// Int1 has no "half a step" bound: the real contract is that every decoded value is exactly +s (w ≥ 0, -0 included)
/// or -s (w &lt; 0) with s the mean |w| of the group, so the error of an element is ||w| - s|.
/// </summary>
[TestClass]
public sealed class Int1BlockFormatTests
{
    [TestMethod]
    [DataRow(0, 0)]
    [DataRow(1, 16)]
    [DataRow(128, 16)]
    [DataRow(129, 32)]
    [DataRow(1024, 128)]
    public void RowBytes_IsWholeBlocks(int cols, int expected)
    {
        Assert.AreEqual(expected, Int1BlockFormat.RowBytes(cols));
    }

    [TestMethod]
    public void GroupSize_MustBeAPositiveMultipleOf128()
    {
        Assert.AreEqual(8, Int1BlockFormat.GroupsPerRow(1024, 128));
        ArgumentException e = Assert.ThrowsExactly<ArgumentException>(() => Int1BlockFormat.GroupsPerRow(1024, 64));
        Assert.AreEqual("groupSize", e.ParamName);
        Assert.ThrowsExactly<ArgumentException>(() => Int1BlockFormat.Dequantize(new byte[16], new float[2], 1, 128, 96, new float[128]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Int1BlockFormat.GroupsPerRow(128, 0));
    }

    [TestMethod]
    public void Layout_BitIOfByteJIsElement16iPlusJ_PaddingIsBit1()
    {
        // One row of 150 = block 0 (128) + 22 real elements of block 1; negative where c % 3 == 0 or c % 7 == 0.
        const int cols = 150;
        float[] w = new float[cols];
        for (int c = 0; c < cols; c++)
        {
            w[c] = c % 3 == 0 || c % 7 == 0 ? -1f : 1f;
        }

        byte[] packed = new byte[Int1BlockFormat.RowBytes(cols)];
        float[] scales = new float[2];
        Int1BlockFormat.Quantize(w, 1, cols, 128, packed, scales);
        Assert.AreEqual(32, packed.Length);
        CollectionAssert.AreEqual(new float[] { 1f, 1f }, scales);
        for (int c = 0; c < 256; c++)
        {
            int block = c / 128;
            int e = c % 128;
            int bit = (packed[(block * 16) + (e % 16)] >> (e / 16)) & 1;
            Assert.AreEqual(c >= cols || w[c] >= 0 ? 1 : 0, bit, "element " + c);
        }
    }

    [TestMethod]
    public void RoundTrip_DecodesToExactlyPlusMinusTheGroupMeanAbs()
    {
        FormatTestData.Cases(Int1BlockFormat.BlockElements, 2, 300).Sample(c =>
        {
            byte[] packed = new byte[c.Rows * Int1BlockFormat.RowBytes(c.Cols)];
            float[] scales = new float[c.Rows * c.Groups];
            float[] decoded = new float[c.Weights.Length];
            Int1BlockFormat.Quantize(c.Weights, c.Rows, c.Cols, c.GroupSize, packed, scales);
            Int1BlockFormat.Dequantize(packed, scales, c.Rows, c.Cols, c.GroupSize, decoded);
            for (int r = 0; r < c.Rows; r++)
            {
                for (int g = 0; g < c.Groups; g++)
                {
                    int start = (r * c.Cols) + (g * c.GroupSize);
                    int n = c.GroupLength(g);
                    double sum = 0;
                    for (int k = 0; k < n; k++)
                    {
                        sum += Math.Abs(c.Weights[start + k]);
                    }

                    float s = scales[(r * c.Groups) + g];
                    Assert.AreEqual((float)(sum / n), s, "the scale is the group's mean |w|");
                    for (int k = 0; k < n; k++)
                    {
                        float w = c.Weights[start + k];
                        Assert.AreEqual(w >= 0 ? s : -s, decoded[start + k]);
                    }
                }
            }
        });
    }

    [TestMethod]
    public void ConstantGroups_DecodeExactly_ZeroGroupsToZero_AndMinusZeroIsPositive()
    {
        // cols 384, group 128: [all 0.3] [all ±0] [all -5].
        float[] w = new float[384];
        for (int c = 0; c < 128; c++)
        {
            w[c] = 0.3f;
            w[128 + c] = c % 2 == 0 ? 0f : -0f;
            w[256 + c] = -5f;
        }

        byte[] packed = new byte[48];
        float[] scales = new float[3];
        Int1BlockFormat.Quantize(w, 1, 384, 128, packed, scales);
        CollectionAssert.AreEqual(new float[] { 0.3f, 0f, 5f }, scales);
        for (int j = 0; j < 16; j++)
        {
            Assert.AreEqual((byte)0xFF, packed[j]);
            Assert.AreEqual((byte)0xFF, packed[16 + j], "-0 >= 0: bit 1");
            Assert.AreEqual((byte)0x00, packed[32 + j]);
        }

        float[] decoded = new float[384];
        Int1BlockFormat.Dequantize(packed, scales, 1, 384, 128, decoded);
        for (int c = 0; c < 128; c++)
        {
            Assert.AreEqual(0.3f, decoded[c]);
            Assert.AreEqual(0u, FormatTestData.Bits(decoded[128 + c]));
            Assert.AreEqual(-5f, decoded[256 + c]);
        }
    }

    [TestMethod]
    public void DenormalInputs_AreQuantized()
    {
        float[] w = new float[128];
        for (int c = 0; c < 128; c++)
        {
            w[c] = (c - 64) * 1e-41f;
        }

        byte[] packed = new byte[16];
        float[] scales = new float[1];
        Int1BlockFormat.Quantize(w, 1, 128, 128, packed, scales);
        Assert.IsTrue(float.IsSubnormal(scales[0]));
        float[] decoded = new float[128];
        Int1BlockFormat.Dequantize(packed, scales, 1, 128, 128, decoded);
        Assert.AreEqual(-scales[0], decoded[0]);
        Assert.AreEqual(scales[0], decoded[64]);
        Assert.AreEqual(scales[0], decoded[127]);
    }

    [TestMethod]
    public void LastGroupOfARow_IsShorter_AndHasItsOwnScale()
    {
        // cols 300, group 256: groups [0,256) [256,300).
        const int cols = 300;
        float[] w = new float[2 * cols];
        w.AsSpan().Fill(1f);
        w[299] = -45f;  // row 0, last group (44 elements): mean (43 + 45) / 44 = 2
        w[300] = 257f;  // row 1, first group: mean (255 + 257) / 256 = 2
        byte[] packed = new byte[2 * Int1BlockFormat.RowBytes(cols)];
        float[] scales = new float[4];
        Int1BlockFormat.Quantize(w, 2, cols, 256, packed, scales);
        CollectionAssert.AreEqual(new float[] { 1f, 2f, 2f, 1f }, scales);
        Assert.AreEqual(2 * 48, packed.Length);

        // Row 0 element 299 = block 2, element 43 = bit 2 of byte 32 + 11; the rest of that block is padding (1).
        Assert.AreEqual((byte)0xFB, packed[43]);
    }

    [TestMethod]
    [DataRow(13, float.NaN, "NaN")]
    [DataRow(0, float.PositiveInfinity, "+Infinity")]
    [DataRow(259, float.NegativeInfinity, "-Infinity")]
    public void NonFiniteWeight_IsRejected_NamingTheIndex(int index, float value, string what)
    {
        float[] w = FormatTestData.MixedWeights(260, 5);
        w[index] = value;
        byte[] packed = new byte[2 * Int1BlockFormat.RowBytes(130)];
        float[] scales = new float[2 * 2];
        ArgumentException e = Assert.ThrowsExactly<ArgumentException>(() => Int1BlockFormat.Quantize(w, 2, 130, 128, packed, scales));
        FormatTestData.NamesIndex(e, index, 130);
        Assert.Contains(" is " + what, e.Message);
        CollectionAssert.AreEqual(new byte[64], packed, "nothing is written before the input is checked");
    }

    [TestMethod]
    public void WrongLengths_AreRejected()
    {
        float[] w = new float[3 * 130];
        Assert.ThrowsExactly<ArgumentException>(() => Int1BlockFormat.Quantize(w, 3, 130, 128, new byte[95], new float[6]));
        Assert.ThrowsExactly<ArgumentException>(() => Int1BlockFormat.Quantize(w, 3, 130, 128, new byte[96], new float[5]));
        Assert.ThrowsExactly<ArgumentException>(() => Int1BlockFormat.Dequantize(new byte[96], new float[6], 3, 130, 128, new float[389]));
        Int1BlockFormat.Quantize(w, 3, 130, 128, new byte[96], new float[6]);
    }
}
