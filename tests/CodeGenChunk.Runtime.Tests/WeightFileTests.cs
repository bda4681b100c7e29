using System;
using System.IO;
using CodeGenChunk.Formats;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

[TestClass]
public sealed unsafe class WeightFileTests
{
    private static readonly long TinyLength = TestFixtures.FileLength(TestFixtures.TinyLengths);

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void FromBytes_HoldsACopyInAlignedNativeMemory()
    {
        byte[] bytes = TestFixtures.TinyBytes();
        using WeightFile file = WeightFile.FromBytes(bytes, "tiny", TestFixtures.TinyLayoutHash, TinyLength, 4, TestFixtures.TinyNames);

        Assert.AreEqual("tiny", file.Name);
        Assert.AreEqual(448L, file.Length);
        Assert.AreEqual(TestFixtures.TinyLayoutHash, file.LayoutHash);
        Assert.AreEqual(4, file.EntryCount);
        Assert.IsFalse(file.IsMapped);
        Assert.AreEqual(0L, (long)(nint)file.Pointer % 64);
        CollectionAssert.AreEqual(bytes, file.Bytes.ToArray());

        bytes[200] ^= 0xFF; // a copy: the caller's array does not matter any more
        Assert.AreNotEqual(bytes[200], file.Bytes[200]);
        Assert.AreEqual(file.Bytes[0], file.Start);
    }

    [TestMethod]
    public void GetEntry_ReturnsEachEntrysBytes()
    {
        using WeightFile file = WeightFile.FromBytes(TestFixtures.TinyBytes(), "tiny", TestFixtures.TinyLayoutHash, TinyLength, 4);
        ReadOnlyMemory<byte>[] expected = TestFixtures.PatternEntries(TestFixtures.TinyLengths);
        for (int i = 0; i < expected.Length; i++)
        {
            CollectionAssert.AreEqual(expected[i].ToArray(), file.GetEntry(i).ToArray(), "entry " + i);
        }

        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => file.GetEntry(4));
    }

    [TestMethod]
    public void FromBytes_Invalid_Throws()
    {
        byte[] bytes = TestFixtures.TinyBytes();
        bytes[300] ^= 1;
        WeightFileException e = Assert.ThrowsExactly<WeightFileException>(() =>
            WeightFile.FromBytes(bytes, "tiny", TestFixtures.TinyLayoutHash, TinyLength, 4, TestFixtures.TinyNames));
        TestData.AssertProblem(e, WeightFileProblem.ChecksumMismatch, "tiny");
        Assert.Contains("entry 1 ('blocks.0.l0.weight')", e.Message);

        e = Assert.ThrowsExactly<WeightFileException>(() => WeightFile.FromBytes(ReadOnlySpan<byte>.Empty, "empty", 1, 64, 0));
        TestData.AssertProblem(e, WeightFileProblem.TooShort, "empty");
    }

    [TestMethod]
    public void Dispose_IsIdempotent_AndBytesThrowsAfterwards()
    {
        WeightFile file = WeightFile.FromBytes(TestFixtures.TinyBytes(), "tiny", TestFixtures.TinyLayoutHash, TinyLength, 4);
        Assert.IsFalse(file.IsDisposed);
        file.Dispose();
        file.Dispose();
        Assert.IsTrue(file.IsDisposed);
        Assert.ThrowsExactly<ObjectDisposedException>(() => file.Bytes.Length);
        Assert.ThrowsExactly<ObjectDisposedException>(() => file.GetEntry(0).Length);
        Assert.ThrowsExactly<ObjectDisposedException>(() => (nint)file.Pointer);
        Assert.AreEqual("tiny", file.Name);
    }

    [TestMethod]
    public void OpenFile_ReadsAndValidates()
    {
        string path = Path.Combine(TestContext.TestRunDirectory ?? Path.GetTempPath(), "open-" + Guid.NewGuid().ToString("N") + ".cgcw");
        byte[] bytes = TestFixtures.LargeBytes();
        File.WriteAllBytes(path, bytes);
        try
        {
            long length = TestFixtures.FileLength(TestFixtures.LargeLengths);
            using WeightFile file = WeightFile.OpenFile(path, TestFixtures.LargeLayoutHash, length, 4);
            Assert.AreEqual(Path.GetFullPath(path), file.Name);
            Assert.AreEqual(length, file.Length);
            Assert.IsFalse(file.IsMapped);
            Assert.AreEqual(0L, (long)(nint)file.Pointer % 64);
            Assert.IsTrue(file.Bytes.SequenceEqual(bytes));
            Assert.IsTrue(file.GetEntry(3).SequenceEqual(TestFixtures.PatternEntries(TestFixtures.LargeLengths)[3].Span));
            file.Dispose();
            Assert.ThrowsExactly<ObjectDisposedException>(() => file.Bytes.Length);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void OpenFile_Missing_IsNotFound_WithTheFullPath()
    {
        string relative = Path.Combine("no-such-dir-" + Guid.NewGuid().ToString("N"), "model.cgcw");
        string full = Path.GetFullPath(relative);
        WeightFileException e = Assert.ThrowsExactly<WeightFileException>(() => WeightFile.OpenFile(relative, 1, 64, 0));
        TestData.AssertProblem(e, WeightFileProblem.NotFound, full);
        Assert.Contains(full, e.Message);
    }

    [TestMethod]
    public void OpenFile_Truncated_IsLengthMismatch_WithThePath()
    {
        string path = Path.Combine(TestContext.TestRunDirectory ?? Path.GetTempPath(), "cut-" + Guid.NewGuid().ToString("N") + ".cgcw");
        File.WriteAllBytes(path, TestFixtures.TinyBytes()[..300]);
        try
        {
            WeightFileException e = Assert.ThrowsExactly<WeightFileException>(() => WeightFile.OpenFile(path, TestFixtures.TinyLayoutHash, TinyLength, 4));
            TestData.AssertProblem(e, WeightFileProblem.LengthMismatch, Path.GetFullPath(path));
            Assert.Contains("truncated: 300 bytes, the layout needs 448", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void OpenFile_Directory_IsNotFound()
    {
        string dir = TestContext.TestRunDirectory ?? Path.GetTempPath();
        WeightFileException e = Assert.ThrowsExactly<WeightFileException>(() => WeightFile.OpenFile(dir, 1, 64, 0));
        Assert.AreEqual(WeightFileProblem.NotFound, e.Problem);
    }

    [TestMethod]
    public void Arguments_AreChecked()
    {
        Assert.ThrowsExactly<ArgumentNullException>(() => WeightFile.OpenFile(null!, 1, 64, 0));
        Assert.ThrowsExactly<ArgumentException>(() => WeightFile.OpenFile(string.Empty, 1, 64, 0));
        Assert.ThrowsExactly<ArgumentNullException>(() => WeightFile.OpenEmbedded(null!, "x", 1, 64, 0));
        Assert.ThrowsExactly<ArgumentNullException>(() => WeightFile.FromBytes(TestFixtures.TinyBytes(), null!, 1, 448, 4));
    }
}
