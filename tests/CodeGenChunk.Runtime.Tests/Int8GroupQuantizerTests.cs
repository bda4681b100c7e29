using System;
using CodeGenChunk.Formats;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

[TestClass]
public sealed class Int8GroupQuantizerTests
{
    [TestMethod]
    [DataRow(0, 8, 0)]
    [DataRow(1, 8, 1)]
    [DataRow(8, 8, 1)]
    [DataRow(9, 8, 2)]
    [DataRow(1024, 144, 8)]
    [DataRow(37, 1, 37)]
    public void GroupsPerRow_IsCeiling(int cols, int groupSize, int expected)
    {
        Assert.AreEqual(expected, Int8GroupQuantizer.GroupsPerRow(cols, groupSize));
    }

    [TestMethod]
    [DataRow(5, 37, 8)]
    [DataRow(3, 64, 64)]
    [DataRow(4, 100, 7)]
    [DataRow(2, 3, 16)]
    public void RoundTrip_ErrorIsAtMostHalfAScale(int rows, int cols, int groupSize)
    {
        float[] weights = RandomWeights(rows * cols, seed: rows * 1000 + cols);
        int groups = Int8GroupQuantizer.GroupsPerRow(cols, groupSize);
        sbyte[] q = new sbyte[rows * cols];
        float[] scales = new float[rows * groups];
        float[] decoded = new float[rows * cols];

        Int8GroupQuantizer.Quantize(weights, rows, cols, groupSize, q, scales);
        Int8GroupQuantizer.Dequantize(q, scales, rows, cols, groupSize, decoded);

        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                int i = (r * cols) + c;
                float scale = scales[(r * groups) + (c / groupSize)];
                Assert.IsGreaterThan(0f, scale);
                Assert.IsInRange(-127, 127, (int)q[i]);
                // Half a step, plus float32 rounding of w / scale and q * scale (|q| <= 127).
                float bound = (scale / 2) + (scale * 1e-4f);
                Assert.IsLessThanOrEqualTo(bound, MathF.Abs(weights[i] - decoded[i]), "element " + i);
                Assert.AreEqual(Int8GroupQuantizer.Dequantize(q[i], scale), decoded[i]);
            }
        }

        // The largest magnitude of each group maps to ±127 and the scale is maxAbs / 127.
        for (int r = 0; r < rows; r++)
        {
            for (int g = 0; g < groups; g++)
            {
                int start = (r * cols) + (g * groupSize);
                int length = Math.Min(groupSize, cols - (g * groupSize));
                float maxAbs = 0;
                int maxAt = start;
                for (int i = start; i < start + length; i++)
                {
                    if (MathF.Abs(weights[i]) > maxAbs)
                    {
                        maxAbs = MathF.Abs(weights[i]);
                        maxAt = i;
                    }
                }

                Assert.AreEqual(maxAbs / 127f, scales[(r * groups) + g]);
                Assert.AreEqual(127, Math.Abs((int)q[maxAt]));
            }
        }
    }

    [TestMethod]
    public void KnownValues_RoundHalfToEven()
    {
        // maxAbs 127 -> scale exactly 1, so q = round(w).
        float[] w = [127f, 2.5f, 3.5f, -2.5f, -0.5f, 0.5f, 1.5f, -126.6f, 0.49f];
        sbyte[] q = new sbyte[w.Length];
        float[] scales = new float[1];
        Int8GroupQuantizer.Quantize(w, 1, w.Length, 16, q, scales);
        Assert.AreEqual(1f, scales[0]);
        CollectionAssert.AreEqual(new sbyte[] { 127, 2, 4, -2, 0, 0, 2, -127, 0 }, q);
    }

    [TestMethod]
    public void AllZeroGroup_HasScaleZero_AndDecodesToZero()
    {
        // Row 0: group 0 zeros (with a negative zero), group 1 not. Row 1: all zeros.
        float[] w = [0f, -0f, 0f, 0f, 1f, -2f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f];
        sbyte[] q = new sbyte[16];
        q.AsSpan().Fill(99);
        float[] scales = new float[4];
        Int8GroupQuantizer.Quantize(w, 2, 8, 4, q, scales);
        CollectionAssert.AreEqual(new float[] { 0f, 2f / 127f, 0f, 0f }, scales);
        CollectionAssert.AreEqual(new sbyte[] { 0, 0, 0, 0, 64, -127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, q);

        float[] decoded = new float[16];
        Int8GroupQuantizer.Dequantize(q, scales, 2, 8, 4, decoded);
        Assert.AreEqual(0f, decoded[0]);
        Assert.AreEqual(0f, decoded[15]);
    }

    [TestMethod]
    public void LastGroupOfARow_IsShorter_AndHasItsOwnScale()
    {
        // cols 10, groupSize 4: groups [0,4) [4,8) [8,10).
        float[] w = new float[20];
        for (int i = 0; i < 20; i++)
        {
            w[i] = 1f;
        }

        w[9] = -50f;        // row 0, last group
        w[10] = 100f;       // row 1, first group: must not leak into row 0's last group
        sbyte[] q = new sbyte[20];
        float[] scales = new float[6];
        Int8GroupQuantizer.Quantize(w, 2, 10, 4, q, scales);

        Assert.AreEqual(3, Int8GroupQuantizer.GroupsPerRow(10, 4));
        Assert.AreEqual(1f / 127f, scales[0]);
        Assert.AreEqual(1f / 127f, scales[1]);
        Assert.AreEqual(50f / 127f, scales[2]);
        Assert.AreEqual(100f / 127f, scales[3]);
        Assert.AreEqual(1f / 127f, scales[5]);
        Assert.AreEqual((sbyte)-127, q[9]);
        Assert.AreEqual((sbyte)3, q[8]); // 1 / (50/127) = 2.54 -> 3
        Assert.AreEqual((sbyte)127, q[10]);
    }

    [TestMethod]
    [DataRow(13, float.NaN, "NaN")]
    [DataRow(0, float.PositiveInfinity, "+Infinity")]
    [DataRow(29, float.NegativeInfinity, "-Infinity")]
    public void NonFiniteWeight_IsRejected_NamingTheIndex(int index, float value, string what)
    {
        float[] w = RandomWeights(30, 5);
        w[index] = value;
        sbyte[] q = new sbyte[30];
        float[] scales = new float[3 * 5];
        ArgumentException e = Assert.ThrowsExactly<ArgumentException>(() => Int8GroupQuantizer.Quantize(w, 3, 10, 2, q, scales));
        Assert.AreEqual("weights", e.ParamName);
        Assert.Contains("weights[" + index + "] (row " + (index / 10) + ", column " + (index % 10) + ") is " + what, e.Message);
        CollectionAssert.AreEqual(new sbyte[30], q, "nothing is written before the input is checked");
    }

    [TestMethod]
    public void SameInput_GivesIdenticalOutput()
    {
        float[] w = RandomWeights(7 * 33, 42);
        sbyte[] q1 = new sbyte[w.Length];
        sbyte[] q2 = new sbyte[w.Length];
        float[] s1 = new float[7 * 5];
        float[] s2 = new float[7 * 5];
        Int8GroupQuantizer.Quantize(w, 7, 33, 7, q1, s1);
        Int8GroupQuantizer.Quantize((float[])w.Clone(), 7, 33, 7, q2, s2);
        CollectionAssert.AreEqual(q1, q2);
        CollectionAssert.AreEqual(s1, s2);
    }

    [TestMethod]
    public void RoundingFormulas_OfBothTargetFrameworks_Agree()
    {
        // netstandard2.0 rounds with (float)Math.Round((double)v, ToEven), net10.0 with MathF.Round(v, ToEven).
        var random = new Random(3);
        for (int i = 0; i < 200_000; i++)
        {
            float v = i < 1000 ? (i - 500) / 2f : (float)((random.NextDouble() * 300) - 150);
            float ns20 = (float)Math.Round((double)v, MidpointRounding.ToEven);
            Assert.AreEqual(MathF.Round(v, MidpointRounding.ToEven), ns20, "v = " + v.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [TestMethod]
    public void WrongLengths_AreRejected()
    {
        float[] w = new float[12];
        Assert.ThrowsExactly<ArgumentException>(() => Int8GroupQuantizer.Quantize(w, 3, 4, 2, new sbyte[11], new float[6]));
        Assert.ThrowsExactly<ArgumentException>(() => Int8GroupQuantizer.Quantize(w, 3, 4, 2, new sbyte[12], new float[5]));
        Assert.ThrowsExactly<ArgumentException>(() => Int8GroupQuantizer.Quantize(w, 3, 5, 2, new sbyte[15], new float[9]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Int8GroupQuantizer.Quantize(w, 3, 4, 0, new sbyte[12], new float[6]));
        Assert.ThrowsExactly<ArgumentException>(() => Int8GroupQuantizer.Dequantize(new sbyte[12], new float[6], 3, 4, 2, new float[13]));
    }

    private static float[] RandomWeights(int count, int seed)
    {
        var random = new Random(seed);
        float[] w = new float[count];
        for (int i = 0; i < count; i++)
        {
            // Mixed magnitudes, so groups have very different scales.
            w[i] = (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-3, 3)));
        }

        return w;
    }
}
