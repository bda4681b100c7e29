using System;
using CodeGenChunk.Formats;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

[TestClass]
public sealed class WeightFormatsTests
{
    [TestMethod]
    [DataRow("f32", 0, 32.0)]
    [DataRow("f16", 0, 16.0)]
    [DataRow("int8", 64, 8.5)]
    [DataRow("int4", 64, 4.5)]
    [DataRow("base11", 256, 3.75)]
    [DataRow("ternary", 320, 1.75)]
    [DataRow("int1", 128, 1.25)]
    public void BitsPerWeight_OfBigNet1024WideRows_AtTheDefaultGroupSizes(string format, int groupSize, double expected)
    {
        Assert.AreEqual(groupSize, WeightFormats.DefaultGroupSize(format));
        Assert.AreEqual(expected, WeightFormats.BitsPerWeight(format, 1024, groupSize), 1e-12);
    }

    [TestMethod]
    public void BitsPerWeight_IncludesPaddingAndMetadata()
    {
        // base11 with a shorter last group: 300 = 128 + 128 + 44 -> (60 + 60 + 20) bytes + 3 * 4 metadata bytes.
        Assert.AreEqual(8.0 * (140 + 12) / 300, WeightFormats.BitsPerWeight("base11", 300, 128), 1e-12);

        // int4 with 40 columns: two blocks (32 bytes) + one scale.
        Assert.AreEqual(8.0 * (32 + 4) / 40, WeightFormats.BitsPerWeight("int4", 40, 64), 1e-12);

        // ternary, 1 column: a whole block of 16 bytes + a scale.
        Assert.AreEqual(8.0 * 20, WeightFormats.BitsPerWeight("ternary", 1, 80), 1e-12);

        // int8, group 144 over 1024: 8 groups (the last one 16 long).
        Assert.AreEqual(8.0 * (1024 + 32) / 1024, WeightFormats.BitsPerWeight("int8", 1024, 144), 1e-12);

        // Asymptotically: 3.5 + 32/g for base11 (4 bytes per 9), 1.6 + 32/g for ternary.
        Assert.AreEqual(32.0 / 9 + (32.0 / 288), WeightFormats.BitsPerWeight("base11", 288 * 4, 288), 1e-12);
        Assert.AreEqual(1.6 + 0.1, WeightFormats.BitsPerWeight("ternary", 320 * 4, 320), 1e-12);
    }

    [TestMethod]
    public void WeightBytesPerRow_EqualsEachPackersRowBytes()
    {
        foreach (int cols in new[] { 1, 31, 32, 33, 100, 1000, 1024, 4097 })
        {
            Assert.AreEqual(4L * cols, WeightFormats.WeightBytesPerRow("f32", cols, 0));
            Assert.AreEqual(HalfFormat.RowBytes(cols), WeightFormats.WeightBytesPerRow("f16", cols, 0));
            Assert.AreEqual(cols, WeightFormats.WeightBytesPerRow("int8", cols, 64));
            Assert.AreEqual(Int4BlockFormat.RowBytes(cols), WeightFormats.WeightBytesPerRow("int4", cols, 64));
            Assert.AreEqual(Base11Format.RowBytes(cols, 144), WeightFormats.WeightBytesPerRow("base11", cols, 144));
            Assert.AreEqual(TernaryBlockFormat.RowBytes(cols), WeightFormats.WeightBytesPerRow("ternary", cols, 320));
            Assert.AreEqual(Int1BlockFormat.RowBytes(cols), WeightFormats.WeightBytesPerRow("int1", cols, 128));
            Assert.AreEqual(4L * Int8GroupQuantizer.GroupsPerRow(cols, 64), WeightFormats.MetadataBytesPerRow("int8", cols, 64));
            Assert.AreEqual(4L * Base11Format.GroupsPerRow(cols, 144), WeightFormats.MetadataBytesPerRow("base11", cols, 144));
            Assert.AreEqual(0L, WeightFormats.MetadataBytesPerRow("f16", cols, 0));
        }
    }

    [TestMethod]
    public void Names_AndGrouping()
    {
        CollectionAssert.AreEqual(new[] { "f32", "f16", "int8", "int4", "base11", "ternary", "int1" }, new System.Collections.Generic.List<string>(WeightFormats.Names));
        Assert.IsFalse(WeightFormats.IsGrouped("f32"));
        Assert.IsFalse(WeightFormats.IsGrouped("f16"));
        Assert.IsTrue(WeightFormats.IsGrouped("base11"));
        Assert.AreEqual(32, WeightFormats.GroupSizeMultiple("int4"));
        Assert.AreEqual(80, WeightFormats.GroupSizeMultiple("ternary"));
        Assert.AreEqual(128, WeightFormats.GroupSizeMultiple("int1"));
        Assert.AreEqual(1, WeightFormats.GroupSizeMultiple("base11"));
    }

    [TestMethod]
    public void BadArguments_AreRejected()
    {
        ArgumentException e = Assert.ThrowsExactly<ArgumentException>(() => WeightFormats.BitsPerWeight("int2", 1024, 64));
        Assert.Contains("int2", e.Message);
        Assert.ThrowsExactly<ArgumentException>(() => WeightFormats.BitsPerWeight("INT4", 1024, 64));
        Assert.ThrowsExactly<ArgumentException>(() => WeightFormats.BitsPerWeight("int4", 1024, 48));
        Assert.ThrowsExactly<ArgumentException>(() => WeightFormats.BitsPerWeight("ternary", 1024, 256));
        Assert.ThrowsExactly<ArgumentException>(() => WeightFormats.BitsPerWeight("int1", 1024, 64));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => WeightFormats.BitsPerWeight("int8", 1024, 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => WeightFormats.BitsPerWeight("f32", 0, 0));
        Assert.ThrowsExactly<ArgumentNullException>(() => WeightFormats.BitsPerWeight(null!, 1024, 0));
    }
}
