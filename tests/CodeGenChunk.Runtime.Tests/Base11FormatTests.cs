using System;
using System.Buffers.Binary;
using CodeGenChunk.Formats;
using CsCheck;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

[TestClass]
public sealed class Base11FormatTests
{
    [TestMethod]
    public void Codebook_IsTorchLinspaceInFloat32_WithoutFma()
    {
        // ATen's scalar linspace: step = (end - start) / (steps - 1); start + step * i for i < steps / 2, else
        // end - step * (steps - 1 - i), every operation rounded to float32.
        float step = 2f / 10f;
        for (int i = 0; i < 11; i++)
        {
            float expected = i < 5 ? -1f + (float)(step * i) : 1f - (float)(step * (10 - i));
            Assert.AreEqual(FormatTestData.Bits(expected), FormatTestData.Bits(Base11Format.Codebook[i]), "codebook[" + i + "]");
        }

        Assert.AreEqual(0u, FormatTestData.Bits(Base11Format.Codebook[5]), "index 5 is exactly +0");
        for (int i = 0; i < 11; i++)
        {
            Assert.AreEqual(-Base11Format.Codebook[i], Base11Format.Codebook[10 - i], "symmetric");
        }
    }

    [TestMethod]
    public void HalfPlusOneTable_IsCodebookPlusOneOverTwo_InFloat32()
    {
        Assert.AreEqual(11, Base11Format.HalfPlusOneTable.Length);
        for (int k = 0; k < 11; k++)
        {
            float expected = (Base11Format.Codebook[k] + 1f) / 2f;
            Assert.AreEqual(FormatTestData.Bits(expected), FormatTestData.Bits(Base11Format.HalfPlusOneTable[k]));
        }

        Assert.AreEqual(0f, Base11Format.HalfPlusOneTable[0]);
        Assert.AreEqual(0.5f, Base11Format.HalfPlusOneTable[5]);
        Assert.AreEqual(1f, Base11Format.HalfPlusOneTable[10]);
    }

    [TestMethod]
    [DataRow(0, 0)]
    [DataRow(1, 4)]
    [DataRow(9, 4)]
    [DataRow(10, 8)]
    [DataRow(44, 20)]
    [DataRow(128, 60)]
    [DataRow(144, 64)]
    [DataRow(256, 116)]
    public void PackBytes_IsFourPerNineIndices(int groupLength, int expected)
    {
        Assert.AreEqual(expected, Base11Format.PackBytes(groupLength));
    }

    [TestMethod]
    [DataRow(1024, 256, 464)]
    [DataRow(512, 128, 240)]
    [DataRow(288, 144, 128)]
    [DataRow(300, 128, 140)]  // 60 + 60 + PackBytes(44) = 20
    [DataRow(50, 128, 24)]    // shorter than one group: one group of 50
    [DataRow(0, 64, 0)]
    public void RowBytes_KeepsTheShorterLastGroup(int cols, int groupSize, int expected)
    {
        Assert.AreEqual(expected, Base11Format.RowBytes(cols, groupSize));
    }

    [TestMethod]
    public void Packing_IsNineIndicesPerLittleEndianUInt32_DigitIAtPlace11PowI_PaddedWithIndex0()
    {
        // min -1, max 1 (exact in fp16): range 2, so weight = codebook[k] maps to index k. Group of 11: 2 words.
        float[] w = Base11Format.Codebook.ToArray();
        byte[] packed = new byte[Base11Format.RowBytes(11, 16)];
        ushort[] min = new ushort[1];
        ushort[] range = new ushort[1];
        Base11Format.Quantize(w, 1, 11, 16, packed, min, range);
        Assert.AreEqual(8, packed.Length);
        Assert.AreEqual((ushort)0xBC00, min[0]);
        Assert.AreEqual((ushort)0x4000, range[0]);

        uint first = 0;
        uint place = 1;
        for (int i = 0; i < 9; i++)
        {
            first += (uint)i * place;
            place *= 11;
        }

        Assert.AreEqual(first, BinaryPrimitives.ReadUInt32LittleEndian(packed));
        Assert.AreEqual(9u + (10u * 11u), BinaryPrimitives.ReadUInt32LittleEndian(packed.AsSpan(4)), "indices 9, 10, then seven padding zeros");

        float[] decoded = new float[11];
        Base11Format.Dequantize(packed, min, range, 1, 11, 16, decoded);
        for (int k = 0; k < 11; k++)
        {
            Assert.AreEqual(Base11Format.Dequantize(k, -1f, 2f), decoded[k]);
            Assert.AreEqual(k, Base11Format.NearestIndex(w[k], -1f, 2f));
        }
    }

    [TestMethod]
    public void NearestIndex_TakesTheFirstOfEqualDistances()
    {
        // min 0, range 1: w = 0.05 -> centered = -0.9, exactly halfway between -1 and -0.8 in real numbers; in float32
        // the distances decide, and on a true tie the lower index wins.
        for (int k = 0; k < 10; k++)
        {
            float mid = ((Base11Format.Codebook[k] + Base11Format.Codebook[k + 1]) / 2f + 1f) / 2f;
            int index = Base11Format.NearestIndex(mid, 0f, 1f);
            Assert.IsTrue(index == k || index == k + 1);
            float centered = (mid * 2f) - 1f;
            float dLow = MathF.Abs(centered - Base11Format.Codebook[k]);
            float dHigh = MathF.Abs(centered - Base11Format.Codebook[k + 1]);
            Assert.AreEqual(dHigh < dLow ? k + 1 : k, index);
        }
    }

    [TestMethod]
    public void RoundTrip_ErrorIsAtMostRangeOver20_PlusFp16RoundingOfMinAndMax()
    {
        FormatTestData.Cases(1, 40, 120).Sample(c =>
        {
            byte[] packed = new byte[c.Rows * Base11Format.RowBytes(c.Cols, c.GroupSize)];
            ushort[] min = new ushort[c.Rows * c.Groups];
            ushort[] range = new ushort[c.Rows * c.Groups];
            float[] decoded = new float[c.Weights.Length];
            Base11Format.Quantize(c.Weights, c.Rows, c.Cols, c.GroupSize, packed, min, range);
            Base11Format.Dequantize(packed, min, range, c.Rows, c.Cols, c.GroupSize, decoded);

            for (int r = 0; r < c.Rows; r++)
            {
                for (int g = 0; g < c.Groups; g++)
                {
                    int start = (r * c.Cols) + (g * c.GroupSize);
                    int n = c.GroupLength(g);
                    float mn = float.PositiveInfinity;
                    float mx = float.NegativeInfinity;
                    for (int k = 0; k < n; k++)
                    {
                        mn = MathF.Min(mn, c.Weights[start + k]);
                        mx = MathF.Max(mx, c.Weights[start + k]);
                    }

                    // Metadata agrees with System.Half: fp16 min/max first, then fp16(max - min) clamped to fp16(1e-5).
                    Half minH = (Half)mn;
                    Half maxH = (Half)mx;
                    Half rangeH = (Half)((float)maxH - (float)minH);
                    if (rangeH < (Half)1e-5f)
                    {
                        rangeH = (Half)1e-5f;
                    }

                    int gi = (r * c.Groups) + g;
                    if (mn != 0)
                    {
                        Assert.AreEqual(BitConverter.HalfToUInt16Bits(minH), min[gi], "min");
                    }

                    Assert.AreEqual(BitConverter.HalfToUInt16Bits(rangeH), range[gi], "range");

                    float minF = (float)minH;
                    float maxF = (float)maxH;
                    float rangeF = (float)rangeH;
                    float bound = (rangeF / 20) + MathF.Abs(mn - minF) + MathF.Abs(mx - maxF) + MathF.Abs(rangeF - (maxF - minF))
                        + (1e-6f * (MathF.Abs(minF) + rangeF)) + (2 * float.Epsilon);
                    for (int k = 0; k < n; k++)
                    {
                        int i = start + k;
                        Assert.IsLessThanOrEqualTo(bound, MathF.Abs(c.Weights[i] - decoded[i]), "element " + i);
                    }
                }
            }
        });
    }

    [TestMethod]
    public void ConstantGroups_GetTheMinimumRange()
    {
        // cols 27, group 9: [all 0.125] [all 0.1] [all ±0].
        float[] w = new float[27];
        for (int c = 0; c < 9; c++)
        {
            w[c] = 0.125f;
            w[9 + c] = 0.1f;
            w[18 + c] = c % 2 == 0 ? 0f : -0f;
        }

        byte[] packed = new byte[12];
        ushort[] min = new ushort[3];
        ushort[] range = new ushort[3];
        Base11Format.Quantize(w, 1, 27, 9, packed, min, range);
        CollectionAssert.AreEqual(new ushort[] { Base11Format.MinRangeHalf, Base11Format.MinRangeHalf, Base11Format.MinRangeHalf }, range);
        Assert.AreEqual(BitConverter.HalfToUInt16Bits((Half)0.125f), min[0]);
        Assert.AreEqual(BitConverter.HalfToUInt16Bits((Half)0.1f), min[1]);
        Assert.AreEqual((ushort)0, min[2], "the first of equal minima (+0) decides the sign");

        float[] decoded = new float[27];
        Base11Format.Dequantize(packed, min, range, 1, 27, 9, decoded);
        float minRange = HalfFormat.ToSingle(Base11Format.MinRangeHalf);
        float tenth = HalfFormat.ToSingle(min[1]);
        for (int c = 0; c < 9; c++)
        {
            Assert.AreEqual(0.125f, decoded[c], "an fp16-exact constant decodes exactly (index 0)");

            // 0.1 is 2.4e-5 above fp16(0.1) = 0.0999755859375, more than the range: index 10, min + range.
            Assert.AreEqual(tenth + minRange, decoded[9 + c]);
            Assert.AreEqual(0u, FormatTestData.Bits(decoded[18 + c]), "zeros decode to +0");
        }

        Assert.AreEqual(0u, BinaryPrimitives.ReadUInt32LittleEndian(packed), "all index 0");
        Assert.AreEqual(Base11Format.MaxWord, BinaryPrimitives.ReadUInt32LittleEndian(packed.AsSpan(4)), "all index 10");

        // A group whose first minimum is -0 stores fp16 -0 (0x8000) and still decodes to +0.
        float[] negativeZeroFirst = [-0f, 0f, 0.5f];
        Base11Format.Quantize(negativeZeroFirst, 1, 3, 3, packed.AsSpan(0, 4), min.AsSpan(0, 1), range.AsSpan(0, 1));
        Assert.AreEqual((ushort)0x8000, min[0]);
        Base11Format.Dequantize(packed.AsSpan(0, 4), min.AsSpan(0, 1), range.AsSpan(0, 1), 1, 3, 3, decoded.AsSpan(0, 3));
        Assert.AreEqual(0u, FormatTestData.Bits(decoded[0]));
        Assert.AreEqual(0.5f, decoded[2]);
    }

    [TestMethod]
    public void DenormalInputs_CollapseToTheMinimumRange()
    {
        float[] w = new float[18];
        for (int c = 0; c < 18; c++)
        {
            w[c] = (c - 9) * 1e-39f;
        }

        byte[] packed = new byte[4];
        ushort[] min = new ushort[1];
        ushort[] range = new ushort[1];
        Base11Format.Quantize(w.AsSpan(0, 9), 1, 9, 9, packed, min, range);
        Assert.AreEqual((ushort)0x8000, min[0], "fp16(-9e-39) = -0");
        Assert.AreEqual(Base11Format.MinRangeHalf, range[0]);
        float[] decoded = new float[9];
        Base11Format.Dequantize(packed, min, range, 1, 9, 9, decoded);
        for (int c = 0; c < 9; c++)
        {
            Assert.AreEqual(0f, decoded[c]);
        }

        // Half subnormals are representable: min = -2^-24 * 3, max = 2^-24 * 5.
        float[] small = [-1.7881393e-07f, 2.9802322e-07f, 0f, 5.9604645e-08f];
        Base11Format.Quantize(small, 1, 4, 4, packed, min, range);
        Assert.AreEqual((ushort)0x8003, min[0]);
        Assert.AreEqual(Base11Format.MinRangeHalf, range[0], "8 * 2^-24 < fp16(1e-5)");
    }

    [TestMethod]
    public void ShorterLastGroup_IsKept_AndTheWholeGroupsMatchTheSeedLayout()
    {
        // cols 300, group 128: the seed keeps only 2 groups (256 columns) per row; we add a third group of 44.
        const int rows = 3;
        const int cols = 300;
        const int groupSize = 128;
        float[] w = FormatTestData.MixedWeights(rows * cols, 11);
        for (int c = 256; c < cols; c++)
        {
            w[c] = ((c - 256) * 0.1f) - 2f;  // row 0's last group: min -2 ...
        }

        w[299] = 7f;  // ... and max 7, so range 9 and both decode exactly
        int rowBytes = Base11Format.RowBytes(cols, groupSize);
        Assert.AreEqual(140, rowBytes);
        byte[] packed = new byte[rows * rowBytes];
        ushort[] min = new ushort[rows * 3];
        ushort[] range = new ushort[rows * 3];
        Base11Format.Quantize(w, rows, cols, groupSize, packed, min, range);

        // The seed's result: the first 256 columns of every row, quantized on their own.
        float[] seedWeights = new float[rows * 256];
        for (int r = 0; r < rows; r++)
        {
            w.AsSpan(r * cols, 256).CopyTo(seedWeights.AsSpan(r * 256));
        }

        byte[] seedPacked = new byte[rows * 120];
        ushort[] seedMin = new ushort[rows * 2];
        ushort[] seedRange = new ushort[rows * 2];
        Base11Format.Quantize(seedWeights, rows, 256, groupSize, seedPacked, seedMin, seedRange);
        for (int r = 0; r < rows; r++)
        {
            FormatTestData.AreIdentical<byte>(seedPacked.AsSpan(r * 120, 120), packed.AsSpan(r * rowBytes, 120), "row " + r + " whole groups");
            FormatTestData.AreIdentical<ushort>(seedMin.AsSpan(r * 2, 2), min.AsSpan(r * 3, 2), "row " + r + " min");
            FormatTestData.AreIdentical<ushort>(seedRange.AsSpan(r * 2, 2), range.AsSpan(r * 3, 2), "row " + r + " range");
        }

        // The last group (44 elements, 5 words = 20 bytes) has its own min and range and round-trips.
        Assert.AreEqual(BitConverter.HalfToUInt16Bits((Half)(-2f)), min[2]);
        Assert.AreEqual(BitConverter.HalfToUInt16Bits((Half)9f), range[2]);
        float[] decoded = new float[rows * cols];
        Base11Format.Dequantize(packed, min, range, rows, cols, groupSize, decoded);
        Assert.AreEqual(-2f, decoded[256]);
        Assert.AreEqual(7f, decoded[299]);
        for (int c = 256; c < cols; c++)
        {
            Assert.IsLessThanOrEqualTo((9f / 20) + 1e-5f, MathF.Abs(w[c] - decoded[c]));
        }

        // The last word of the last group holds 44 - 36 = 8 indices and one padding 0 (digit 8).
        uint lastWord = BinaryPrimitives.ReadUInt32LittleEndian(packed.AsSpan(rowBytes - 4));
        Assert.IsLessThan(214358881u, lastWord, "digit 8 (place 11^8) is padding");

        // A row shorter than one group is one short group (the seed raises).
        float[] shortRow = FormatTestData.MixedWeights(50, 3);
        byte[] shortPacked = new byte[Base11Format.RowBytes(50, 128)];
        Base11Format.Quantize(shortRow, 1, 50, 128, shortPacked, new ushort[1], new ushort[1]);
        Assert.AreEqual(24, shortPacked.Length);
    }

    [TestMethod]
    [DataRow(13, float.NaN, "is NaN")]
    [DataRow(0, float.PositiveInfinity, "is +Infinity")]
    [DataRow(59, float.NegativeInfinity, "is -Infinity")]
    [DataRow(21, 70000f, "maximum and overflows binary16")]
    [DataRow(33, -65520f, "minimum and overflows binary16")]
    public void BadWeights_AreRejected_NamingTheIndex(int index, float value, string what)
    {
        float[] w = FormatTestData.MixedWeights(60, 5);
        w[index] = value;
        byte[] packed = new byte[2 * Base11Format.RowBytes(30, 16)];
        ushort[] min = new ushort[4];
        ushort[] range = new ushort[4];
        ArgumentException e = Assert.ThrowsExactly<ArgumentException>(() => Base11Format.Quantize(w, 2, 30, 16, packed, min, range));
        FormatTestData.NamesIndex(e, index, 30);
        Assert.Contains(what, e.Message);
        CollectionAssert.AreEqual(new byte[packed.Length], packed, "nothing is written before the input is checked");
        CollectionAssert.AreEqual(new ushort[4], min);
    }

    [TestMethod]
    public void RangeOverflow_IsRejected_NamingTheGroup()
    {
        float[] w = FormatTestData.MixedWeights(40, 5);
        w[25] = 40000f;
        w[30] = -40000f;
        ArgumentException e = Assert.ThrowsExactly<ArgumentException>(
            () => Base11Format.Quantize(w, 2, 20, 16, new byte[2 * Base11Format.RowBytes(20, 16)], new ushort[4], new ushort[4]));
        Assert.AreEqual("weights", e.ParamName);
        Assert.Contains("Row 1, group 0 (columns 0..15)", e.Message);
        Assert.Contains("overflows binary16", e.Message);
    }

    [TestMethod]
    public void Dequantize_RejectsWordsThatAreNotNineBase11Digits()
    {
        byte[] packed = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(packed.AsSpan(4), Base11Format.MaxWord + 1);
        ArgumentException e = Assert.ThrowsExactly<ArgumentException>(
            () => Base11Format.Dequantize(packed, new ushort[1], new ushort[1], 1, 18, 18, new float[18]));
        Assert.Contains("packed[4]", e.Message);
    }

    [TestMethod]
    public void Dequantize_OfOneValue_RoundsTheProductThenTheSum()
    {
        Gen.Select(Gen.Int[0, 10], Gen.Float[-4f, 4f], Gen.Float[0f, 8f]).Sample((k, min, range) =>
        {
            float product = Base11Format.HalfPlusOneTable[k] * range;
            Assert.AreEqual(FormatTestData.Bits(product + min), FormatTestData.Bits(Base11Format.Dequantize(k, min, range)));
        });
    }

    [TestMethod]
    public void WrongLengths_AreRejected()
    {
        float[] w = new float[3 * 20];
        int rowBytes = Base11Format.RowBytes(20, 16);
        Assert.AreEqual(12, rowBytes);
        Assert.ThrowsExactly<ArgumentException>(() => Base11Format.Quantize(w, 3, 20, 16, new byte[35], new ushort[6], new ushort[6]));
        Assert.ThrowsExactly<ArgumentException>(() => Base11Format.Quantize(w, 3, 20, 16, new byte[36], new ushort[5], new ushort[6]));
        Assert.ThrowsExactly<ArgumentException>(() => Base11Format.Quantize(w, 3, 20, 16, new byte[36], new ushort[6], new ushort[7]));
        Assert.ThrowsExactly<ArgumentException>(() => Base11Format.Dequantize(new byte[36], new ushort[6], new ushort[6], 3, 20, 16, new float[59]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Base11Format.RowBytes(20, 0));
        Base11Format.Quantize(w, 3, 20, 16, new byte[36], new ushort[6], new ushort[6]);
    }
}
