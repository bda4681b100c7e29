using System;
using System.IO;
using System.Reflection;
using System.Runtime.CompilerServices;
using CodeGenChunk.Formats;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

[TestClass]
public sealed class EmbeddedWeightFileTests
{
    private static readonly Assembly TestAssembly = typeof(EmbeddedWeightFileTests).Assembly;

    [TestMethod]
    [DataRow(TestFixtures.TinyResourceName, TestFixtures.TinyFileName)]
    [DataRow(TestFixtures.LargeResourceName, TestFixtures.LargeFileName)]
    public void EmbeddedFixture_EqualsWhatTheWriterProducesToday(string resourceName, string fileName)
    {
        byte[] expected = fileName == TestFixtures.TinyFileName ? TestFixtures.TinyBytes() : TestFixtures.LargeBytes();
        byte[] embedded;
        using (Stream stream = TestAssembly.GetManifestResourceStream(resourceName)!)
        {
            Assert.IsNotNull(stream);
            embedded = new byte[stream.Length];
            stream.ReadExactly(embedded);
        }

        if (!expected.AsSpan().SequenceEqual(embedded) && Environment.GetEnvironmentVariable("CGC_UPDATE_FIXTURES") == "1")
        {
            File.WriteAllBytes(Path.Combine(FixtureDirectory(), fileName), expected);
            Assert.Inconclusive("Rewrote Fixtures/" + fileName + "; rebuild and run the tests again.");
        }

        CollectionAssert.AreEqual(expected, embedded, "Fixtures/" + fileName + " is stale: run the tests with CGC_UPDATE_FIXTURES=1 to rewrite it.");
    }

    [TestMethod]
    public void OpenEmbedded_MapsTheResourceInPlace()
    {
        long length = TestFixtures.FileLength(TestFixtures.TinyLengths);
        using WeightFile file = WeightFile.OpenEmbedded(TestAssembly, TestFixtures.TinyResourceName, TestFixtures.TinyLayoutHash, length, 4, TestFixtures.TinyNames);
        Assert.IsTrue(file.IsMapped);
        Assert.AreEqual(TestFixtures.TinyResourceName, file.Name);
        Assert.AreEqual(length, file.Length);
        CollectionAssert.AreEqual(TestFixtures.TinyBytes(), file.Bytes.ToArray());
        CollectionAssert.AreEqual(TestFixtures.PatternEntries(TestFixtures.TinyLengths)[1].ToArray(), file.GetEntry(1).ToArray());

        // The bytes are the resource in the loaded image: the same address every time it is opened.
        using WeightFile again = WeightFile.OpenEmbedded(TestAssembly, TestFixtures.TinyResourceName, TestFixtures.TinyLayoutHash, length, 4);
        Assert.IsTrue(Unsafe.AreSame(in file.Start, in again.Start));
    }

    [TestMethod]
    public void OpenEmbedded_OfOneMegabyte_AllocatesAlmostNothing()
    {
        long length = TestFixtures.FileLength(TestFixtures.LargeLengths);
        Assert.IsGreaterThan(1_000_000L, length);

        // Warm up: first-call costs (type loading, resource lookup caches) are not per-open costs.
        using (WeightFile.OpenEmbedded(TestAssembly, TestFixtures.LargeResourceName, TestFixtures.LargeLayoutHash, length, 4))
        {
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        WeightFile file = WeightFile.OpenEmbedded(TestAssembly, TestFixtures.LargeResourceName, TestFixtures.LargeLayoutHash, length, 4);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        try
        {
            Assert.IsTrue(file.IsMapped);
            Assert.AreEqual(length, (long)file.Bytes.Length);
            Assert.IsLessThan(1024L, allocated, "OpenEmbedded allocated " + allocated + " bytes");
        }
        finally
        {
            file.Dispose();
        }

        // Reading entries allocates nothing.
        using WeightFile reopened = WeightFile.OpenEmbedded(TestAssembly, TestFixtures.LargeResourceName, TestFixtures.LargeLayoutHash, length, 4);
        before = GC.GetAllocatedBytesForCurrentThread();
        int sum = 0;
        for (int i = 0; i < 4; i++)
        {
            sum += reopened.GetEntry(i).Length + reopened.Bytes[i];
        }

        Assert.AreEqual(0L, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.AreNotEqual(0, sum);
    }

    [TestMethod]
    public void OpenEmbedded_Missing_IsNotFound_ListingTheResources()
    {
        WeightFileException e = Assert.ThrowsExactly<WeightFileException>(() =>
            WeightFile.OpenEmbedded(TestAssembly, "Nope.cgcw", 1, 64, 0));
        TestData.AssertProblem(e, WeightFileProblem.NotFound, "Nope.cgcw");
        Assert.Contains("CodeGenChunk.Runtime.Tests", e.Message);
        Assert.Contains(TestFixtures.TinyResourceName, e.Message);
        Assert.Contains(TestFixtures.LargeResourceName, e.Message);
    }

    [TestMethod]
    public void OpenEmbedded_WrongLayout_IsRejected()
    {
        long length = TestFixtures.FileLength(TestFixtures.TinyLengths);
        WeightFileException e = Assert.ThrowsExactly<WeightFileException>(() =>
            WeightFile.OpenEmbedded(TestAssembly, TestFixtures.TinyResourceName, TestFixtures.LargeLayoutHash, length, 4));
        TestData.AssertProblem(e, WeightFileProblem.LayoutMismatch, TestFixtures.TinyResourceName);
    }

    private static string FixtureDirectory([CallerFilePath] string sourceFile = "") =>
        Path.Combine(Path.GetDirectoryName(sourceFile)!, "Fixtures");
}
