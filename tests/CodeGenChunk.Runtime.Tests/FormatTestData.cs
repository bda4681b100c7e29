using System;
using System.Globalization;
using CsCheck;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>A row-major <c>[Rows][Cols]</c> weight matrix quantized with groups of <c>GroupSize</c> inputs.</summary>
internal sealed record WeightCase(int Rows, int Cols, int GroupSize, float[] Weights)
{
    public int Groups => (Cols + GroupSize - 1) / GroupSize;

    public int GroupLength(int g) => Math.Min(GroupSize, Cols - (g * GroupSize));

    public override string ToString() =>
        "rows " + Rows + ", cols " + Cols + ", groupSize " + GroupSize + ", weights [" + string.Join(", ", Array.ConvertAll(Weights, FormatTestData.R)) + "]";
}

/// <summary>Inputs and assertions shared by the weight-format tests.</summary>
internal static class FormatTestData
{
    /// <summary>Weight values: mostly ordinary, with zeros of both signs, float32 subnormals and ties.</summary>
    public static readonly Gen<float> Values = Gen.Frequency(
        (12, Gen.Float[-4f, 4f]),
        (2, Gen.Float[-1e-3f, 1e-3f]),
        (1, Gen.Float[-1e-38f, 1e-38f]),
        (1, Gen.OneOfConst(0f, -0f, 1f, -1f, 0.5f, 3.5f, float.Epsilon, -float.Epsilon)));

    /// <summary>Random matrices whose group size is a multiple of <paramref name="groupMultiple"/>; a third have a shorter last group.</summary>
    public static Gen<WeightCase> Cases(int groupMultiple, int maxMultiples, int maxCols) =>
        Gen.Select(Gen.Int[1, 4], Gen.Int[1, maxCols], Gen.Int[1, maxMultiples])
            .SelectMany((rows, cols, m) => Values.Array[rows * cols].Select(w => new WeightCase(rows, cols, m * groupMultiple, w)));

    /// <summary>Mixed magnitudes (so groups have very different scales), with exact zeros.</summary>
    public static float[] MixedWeights(int count, int seed)
    {
        var random = new Random(seed);
        float[] w = new float[count];
        for (int i = 0; i < count; i++)
        {
            w[i] = random.Next(16) == 0 ? 0f : (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-3, 3)));
        }

        return w;
    }

    public static uint Bits(float value) => BitConverter.SingleToUInt32Bits(value);

    public static string R(float value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Compares floats by their bit patterns (so -0 differs from +0 and NaNs compare).</summary>
    public static void AreBitIdentical(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, what + ": length");
        for (int i = 0; i < expected.Length; i++)
        {
            if (Bits(expected[i]) != Bits(actual[i]))
            {
                Assert.Fail(what + "[" + i + "]: expected " + R(expected[i]) + " (0x" + Bits(expected[i]).ToString("X8", CultureInfo.InvariantCulture)
                    + "), got " + R(actual[i]) + " (0x" + Bits(actual[i]).ToString("X8", CultureInfo.InvariantCulture) + ")");
            }
        }
    }

    /// <summary>Compares bytes, naming the first difference.</summary>
    public static void AreIdentical<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, string what)
        where T : IEquatable<T>
    {
        Assert.AreEqual(expected.Length, actual.Length, what + ": length");
        for (int i = 0; i < expected.Length; i++)
        {
            if (!expected[i].Equals(actual[i]))
            {
                Assert.Fail(what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i]);
            }
        }
    }

    /// <summary>Asserts the message names <c>weights[index] (row r, column c)</c> and that ParamName is "weights".</summary>
    public static void NamesIndex(ArgumentException e, int index, int cols)
    {
        Assert.AreEqual("weights", e.ParamName);
        Assert.Contains("weights[" + index + "] (row " + (index / cols) + ", column " + (index % cols) + ")", e.Message);
    }
}
