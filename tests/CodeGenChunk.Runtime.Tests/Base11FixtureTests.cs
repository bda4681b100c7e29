using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.Json;
using CodeGenChunk.Formats;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>
/// Golden fixtures of seed 004 (Fixtures/base11, copied from shared/fixtures/base11, produced with PyTorch): the
/// packed bytes, fp16 min and range must be byte-identical and the dequantized floats bit-identical.
/// </summary>
[TestClass]
public sealed class Base11FixtureTests
{
    private const string Prefix = "CodeGenChunk.Runtime.Tests.Fixtures.base11.";

    [TestMethod]
    public void CasesJson_CodebookIsBitIdenticalWithBase11FormatCodebook()
    {
        using JsonDocument cases = JsonDocument.Parse(Resource("cases.json"));
        JsonElement codebook = cases.RootElement.GetProperty("codebook");
        Assert.AreEqual(Base11Format.CodebookSize, codebook.GetArrayLength());
        for (int k = 0; k < Base11Format.CodebookSize; k++)
        {
            float expected = (float)codebook[k].GetDouble();
            Assert.AreEqual((double)expected, codebook[k].GetDouble(), "the JSON value is a float32");
            Assert.AreEqual(FormatTestData.Bits(expected), FormatTestData.Bits(Base11Format.Codebook[k]), "codebook[" + k + "]");
        }
    }

    [TestMethod]
    public void EveryCaseOfCasesJson_IsTested()
    {
        var tested = new HashSet<string> { "g128_16x512", "g256_8x1024", "g144_4x288_edges" };
        using JsonDocument cases = JsonDocument.Parse(Resource("cases.json"));
        foreach (JsonElement c in cases.RootElement.GetProperty("cases").EnumerateArray())
        {
            Assert.IsTrue(tested.Remove(c.GetProperty("name").GetString()!), c.GetProperty("name").GetString());
        }

        Assert.IsEmpty(tested);
    }

    [TestMethod]
    [DataRow("g128_16x512")]
    [DataRow("g256_8x1024")]
    [DataRow("g144_4x288_edges")]
    public void Quantize_IsByteIdentical_AndDequantize_IsBitIdentical(string name)
    {
        FixtureCase c = Load(name);
        int groups = Base11Format.GroupsPerRow(c.Cols, c.GroupSize);
        Assert.AreEqual(c.Groups, groups);
        Assert.AreEqual(c.PackedBytesPerGroup, Base11Format.PackBytes(c.GroupSize));
        Assert.AreEqual(c.Packed.Length, c.Rows * Base11Format.RowBytes(c.Cols, c.GroupSize), "packed size = RowBytes * rows");

        byte[] packed = new byte[c.Packed.Length];
        ushort[] min = new ushort[c.Rows * groups];
        ushort[] range = new ushort[c.Rows * groups];
        Base11Format.Quantize(c.Weights, c.Rows, c.Cols, c.GroupSize, packed, min, range);
        FormatTestData.AreIdentical<ushort>(c.Min, min, name + " min");
        FormatTestData.AreIdentical<ushort>(c.Range, range, name + " range");
        FormatTestData.AreIdentical<byte>(c.Packed, packed, name + " packed");

        float[] decoded = new float[c.Weights.Length];
        Base11Format.Dequantize(c.Packed, c.Min, c.Range, c.Rows, c.Cols, c.GroupSize, decoded);
        FormatTestData.AreBitIdentical(c.Dequant, decoded, name + " dequant");
    }

    [TestMethod]
    [DataRow("g128_16x512")]
    [DataRow("g256_8x1024")]
    [DataRow("g144_4x288_edges")]
    public void PairsLayout_DecodesToExactlyTheSeedsIndices(string name)
    {
        // the pairs layout rearranges the seed's indices: every index read back equals the word layout's, and the pairs
        // quantizer writes the same bytes as rearranging the golden words, with the golden min and range
        FixtureCase c = Load(name);
        int groups = Base11Format.GroupsPerRow(c.Cols, c.GroupSize);
        int wordRow = Base11Format.RowBytes(c.Cols, c.GroupSize);
        int pairRow = Base11PairsFormat.RowBytes(c.Cols, c.GroupSize);
        byte[] pairs = new byte[c.Rows * pairRow];
        Base11PairsFormat.FromWords(c.Packed, c.Rows, c.Cols, c.GroupSize, pairs);
        for (int r = 0; r < c.Rows; r++)
        {
            for (int g = 0; g < groups; g++)
            {
                int length = Math.Min(c.GroupSize, c.Cols - (g * c.GroupSize));
                ReadOnlySpan<byte> words = c.Packed.AsSpan((r * wordRow) + (g * Base11Format.PackBytes(c.GroupSize)));
                ReadOnlySpan<byte> group = pairs.AsSpan((r * pairRow) + (g * Base11PairsFormat.PackBytes(c.GroupSize)));
                for (int i = 0; i < length; i++)
                {
                    uint word = BitConverter.ToUInt32(words.Slice((i / 9) * 4, 4));
                    for (int k = 0; k < i % 9; k++)
                    {
                        word /= 11;
                    }

                    Assert.AreEqual((int)(word % 11), Base11PairsFormat.Index(group, i), name + " row " + r + " group " + g + " index " + i);
                }
            }
        }

        byte[] quantized = new byte[pairs.Length];
        ushort[] min = new ushort[c.Rows * groups];
        ushort[] range = new ushort[c.Rows * groups];
        Base11PairsFormat.Quantize(c.Weights, c.Rows, c.Cols, c.GroupSize, quantized, min, range);
        FormatTestData.AreIdentical<byte>(pairs, quantized, name + " pairs");
        FormatTestData.AreIdentical<ushort>(c.Min, min, name + " min");
        FormatTestData.AreIdentical<ushort>(c.Range, range, name + " range");

        float[] decoded = new float[c.Weights.Length];
        Base11PairsFormat.Dequantize(pairs, c.Min, c.Range, c.Rows, c.Cols, c.GroupSize, decoded);
        FormatTestData.AreBitIdentical(c.Dequant, decoded, name + " dequant");
        Assert.AreEqual(Base11PairsFormat.PackBytes(c.GroupSize) * groups, pairRow);
    }

    [TestMethod]
    public void EdgesFixture_HasAConstantGroup_WithTheMinimumRange()
    {
        // Row 0, group 0 of g144_4x288_edges is all 0.125: range = fp16(1e-5), decoded exactly 0.125.
        FixtureCase c = Load("g144_4x288_edges");
        Assert.AreEqual(Base11Format.MinRangeHalf, c.Range[0]);
        Assert.AreEqual(0.125f, c.Dequant[0]);
        Assert.AreEqual(0, c.Cols % c.GroupSize, "all fixtures use whole groups; Base11FormatTests covers a shorter last group");
    }

    private static FixtureCase Load(string name)
    {
        using JsonDocument cases = JsonDocument.Parse(Resource("cases.json"));
        foreach (JsonElement c in cases.RootElement.GetProperty("cases").EnumerateArray())
        {
            if (c.GetProperty("name").GetString() == name)
            {
                return new FixtureCase(
                    c.GetProperty("outFeatures").GetInt32(),
                    c.GetProperty("inFeatures").GetInt32(),
                    c.GetProperty("groupSize").GetInt32(),
                    c.GetProperty("groups").GetInt32(),
                    c.GetProperty("packedBytesPerGroup").GetInt32(),
                    LittleEndian<float>(Resource(name + ".weights.f32")),
                    Resource(name + ".packed.bin"),
                    LittleEndian<ushort>(Resource(name + ".min.f16")),
                    LittleEndian<ushort>(Resource(name + ".range.f16")),
                    LittleEndian<float>(Resource(name + ".dequant.f32")));
            }
        }

        throw new AssertFailedException("no case " + name + " in cases.json");
    }

    private static T[] LittleEndian<T>(byte[] bytes)
        where T : struct
    {
        Assert.IsTrue(BitConverter.IsLittleEndian);
        return MemoryMarshal.Cast<byte, T>(bytes).ToArray();
    }

    private static byte[] Resource(string name)
    {
        using Stream? stream = typeof(Base11FixtureTests).Assembly.GetManifestResourceStream(Prefix + name);
        Assert.IsNotNull(stream, "missing embedded fixture " + name);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private sealed record FixtureCase(
        int Rows, int Cols, int GroupSize, int Groups, int PackedBytesPerGroup, float[] Weights, byte[] Packed, ushort[] Min, ushort[] Range, float[] Dequant);
}
