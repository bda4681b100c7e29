using System;
using CodeGenChunk.Formats;
using CsCheck;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>
/// Ternary has no "half a step" bound: the real contract is that every decoded value is exactly -α, 0 or +α, that an
/// element is 0 exactly when |w| ≤ Δ = 0.7 · mean|w| (so its error is |w| ≤ Δ), that the others keep their sign (error
/// ||w| - α|), and that α is the mean |w| of the selected elements.
/// </summary>
[TestClass]
public sealed class TernaryBlockFormatTests
{
    [TestMethod]
    [DataRow(0, 0)]
    [DataRow(1, 16)]
    [DataRow(80, 16)]
    [DataRow(81, 32)]
    [DataRow(1024, 208)]
    public void RowBytes_IsWholeBlocks(int cols, int expected)
    {
        Assert.AreEqual(expected, TernaryBlockFormat.RowBytes(cols));
    }

    [TestMethod]
    public void GroupSize_MustBeAPositiveMultipleOf80()
    {
        Assert.AreEqual(4, TernaryBlockFormat.GroupsPerRow(1024, 320));
        ArgumentException e = Assert.ThrowsExactly<ArgumentException>(() => TernaryBlockFormat.GroupsPerRow(1024, 64));
        Assert.AreEqual("groupSize", e.ParamName);
        Assert.ThrowsExactly<ArgumentException>(() => TernaryBlockFormat.Quantize(new float[80], 1, 80, 40, new byte[16], new float[2]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => TernaryBlockFormat.GroupsPerRow(80, -80));
    }

    [TestMethod]
    public void Layout_ByteJIsTheBase3NumberOfElements16iPlusJ_PaddingIsTrit1()
    {
        // One row of 100 = block 0 (80) + 20 real elements of block 1. Group 160 covers the row.
        // Pattern: t = c % 3 with |w| = 1 (so mean |w| = 2/3, Δ = 0.467, and every nonzero is selected).
        const int cols = 100;
        float[] w = new float[cols];
        for (int c = 0; c < cols; c++)
        {
            w[c] = (c % 3) - 1;
        }

        byte[] packed = new byte[TernaryBlockFormat.RowBytes(cols)];
        float[] scales = new float[1];
        TernaryBlockFormat.Quantize(w, 1, cols, 160, packed, scales);
        Assert.AreEqual(32, packed.Length);
        Assert.AreEqual(1f, scales[0]);
        for (int block = 0; block < 2; block++)
        {
            for (int j = 0; j < 16; j++)
            {
                int expected = 0;
                int place = 1;
                for (int i = 0; i < 5; i++)
                {
                    int c = (block * 80) + (16 * i) + j;
                    expected += (c < cols ? c % 3 : 1) * place;
                    place *= 3;
                }

                Assert.AreEqual(expected, packed[(block * 16) + j], "block " + block + ", byte " + j);
            }
        }

        // One element (-2: t = 0) and padding: every other trit is 1, so bytes are 1 + 3 + 9 + 27 + 81 = 121.
        byte[] empty = new byte[TernaryBlockFormat.RowBytes(1)];
        TernaryBlockFormat.Quantize([-2f], 1, 1, 80, empty, new float[1]);
        CollectionAssert.AreEqual(new byte[] { 120, 121, 121, 121, 121, 121, 121, 121, 121, 121, 121, 121, 121, 121, 121, 121 }, empty);
    }

    [TestMethod]
    public void RoundTrip_DecodesToExactlyPlusMinusAlphaOrZero_WithAlphaTheMeanOfTheSelected()
    {
        FormatTestData.Cases(TernaryBlockFormat.BlockElements, 2, 400).Sample(c =>
        {
            byte[] packed = new byte[c.Rows * TernaryBlockFormat.RowBytes(c.Cols)];
            float[] scales = new float[c.Rows * c.Groups];
            float[] decoded = new float[c.Weights.Length];
            TernaryBlockFormat.Quantize(c.Weights, c.Rows, c.Cols, c.GroupSize, packed, scales);
            TernaryBlockFormat.Dequantize(packed, scales, c.Rows, c.Cols, c.GroupSize, decoded);
            foreach (byte b in packed)
            {
                Assert.IsLessThanOrEqualTo(242, (int)b);
            }

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

                    double delta = 0.7 * sum / n;
                    double selectedSum = 0;
                    int selected = 0;
                    float alpha = scales[(r * c.Groups) + g];
                    for (int k = 0; k < n; k++)
                    {
                        float w = c.Weights[start + k];
                        float d = decoded[start + k];
                        if (Math.Abs(w) > delta)
                        {
                            selectedSum += Math.Abs(w);
                            selected++;
                            Assert.AreEqual(w > 0 ? alpha : -alpha, d, "selected element keeps its sign");
                        }
                        else
                        {
                            Assert.AreEqual(0u, FormatTestData.Bits(d), "element at most Δ decodes to +0");
                            Assert.IsLessThanOrEqualTo(delta, Math.Abs((double)w - d));
                        }
                    }

                    Assert.AreEqual(selected == 0 ? 0f : (float)(selectedSum / selected), alpha, "α is the mean |w| of the selected elements");
                }
            }
        });
    }

    [TestMethod]
    public void ConstantGroups_DecodeExactly_AndZeroGroupsToZero()
    {
        // cols 240, group 80: [all 0.3] [all ±0] [all -5].
        float[] w = new float[240];
        for (int c = 0; c < 80; c++)
        {
            w[c] = 0.3f;
            w[80 + c] = c % 2 == 0 ? 0f : -0f;
            w[160 + c] = -5f;
        }

        byte[] packed = new byte[48];
        float[] scales = new float[3];
        TernaryBlockFormat.Quantize(w, 1, 240, 80, packed, scales);
        CollectionAssert.AreEqual(new float[] { 0.3f, 0f, 5f }, scales);
        for (int j = 0; j < 16; j++)
        {
            Assert.AreEqual((byte)242, packed[j]);
            Assert.AreEqual((byte)121, packed[16 + j]);
            Assert.AreEqual((byte)0, packed[32 + j]);
        }

        float[] decoded = new float[240];
        TernaryBlockFormat.Dequantize(packed, scales, 1, 240, 80, decoded);
        for (int c = 0; c < 80; c++)
        {
            Assert.AreEqual(0.3f, decoded[c]);
            Assert.AreEqual(0u, FormatTestData.Bits(decoded[80 + c]));
            Assert.AreEqual(-5f, decoded[160 + c]);
        }
    }

    [TestMethod]
    public void DenormalInputs_AreQuantized()
    {
        float[] w = new float[80];
        for (int c = 0; c < 80; c++)
        {
            w[c] = (c - 40) * 1e-41f;
        }

        byte[] packed = new byte[16];
        float[] scales = new float[1];
        TernaryBlockFormat.Quantize(w, 1, 80, 80, packed, scales);
        Assert.IsTrue(float.IsSubnormal(scales[0]));
        float[] decoded = new float[80];
        TernaryBlockFormat.Dequantize(packed, scales, 1, 80, 80, decoded);
        Assert.AreEqual(0f, decoded[40]);
        Assert.AreEqual(scales[0], decoded[79]);
        Assert.AreEqual(-scales[0], decoded[0]);
    }

    [TestMethod]
    public void LastGroupOfARow_IsShorter_AndHasItsOwnScale()
    {
        // cols 200, group 160: groups [0,160) [160,200).
        const int cols = 200;
        float[] w = new float[2 * cols];
        w.AsSpan().Fill(1f);
        w[199] = -9f;   // row 0, last group (40 elements): mean 48/40 = 1.2, Δ = 0.84: all selected, α = 48 / 40
        w[200] = 70f;   // row 1, first group
        byte[] packed = new byte[2 * TernaryBlockFormat.RowBytes(cols)];
        float[] scales = new float[4];
        TernaryBlockFormat.Quantize(w, 2, cols, 160, packed, scales);
        Assert.AreEqual(1f, scales[0]);
        Assert.AreEqual((float)(48.0 / 40), scales[1]);
        Assert.AreEqual(70f, scales[2], "Δ = 0.7 * 229 / 160 = 1.0: only the 70 is selected");
        Assert.AreEqual(1f, scales[3]);
        Assert.AreEqual(96, packed.Length);
    }

    [TestMethod]
    [DataRow(13, float.NaN, "NaN")]
    [DataRow(0, float.PositiveInfinity, "+Infinity")]
    [DataRow(199, float.NegativeInfinity, "-Infinity")]
    public void NonFiniteWeight_IsRejected_NamingTheIndex(int index, float value, string what)
    {
        float[] w = FormatTestData.MixedWeights(200, 5);
        w[index] = value;
        byte[] packed = new byte[2 * 32];
        float[] scales = new float[2];
        ArgumentException e = Assert.ThrowsExactly<ArgumentException>(() => TernaryBlockFormat.Quantize(w, 2, 100, 160, packed, scales));
        FormatTestData.NamesIndex(e, index, 100);
        Assert.Contains(" is " + what, e.Message);
        CollectionAssert.AreEqual(new byte[64], packed, "nothing is written before the input is checked");
    }

    [TestMethod]
    public void Dequantize_RejectsBytesThatAreNotFiveTrits()
    {
        byte[] packed = new byte[16];
        packed[5] = 243;
        ArgumentException e = Assert.ThrowsExactly<ArgumentException>(() => TernaryBlockFormat.Dequantize(packed, new float[1], 1, 80, 80, new float[80]));
        Assert.Contains("packed[5] = 243", e.Message);
    }

    [TestMethod]
    public void WrongLengths_AreRejected()
    {
        float[] w = new float[3 * 90];
        Assert.ThrowsExactly<ArgumentException>(() => TernaryBlockFormat.Quantize(w, 3, 90, 80, new byte[95], new float[6]));
        Assert.ThrowsExactly<ArgumentException>(() => TernaryBlockFormat.Quantize(w, 3, 90, 80, new byte[96], new float[5]));
        Assert.ThrowsExactly<ArgumentException>(() => TernaryBlockFormat.Dequantize(new byte[96], new float[6], 3, 90, 80, new float[269]));
        TernaryBlockFormat.Quantize(w, 3, 90, 80, new byte[96], new float[6]);
    }
}
