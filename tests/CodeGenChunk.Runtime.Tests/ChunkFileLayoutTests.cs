using System;
using CodeGenChunk.Formats;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

[TestClass]
public sealed class ChunkFileLayoutTests
{
    [TestMethod]
    public void Magic_IsCGCW_ReadLittleEndian()
    {
        byte[] bytes = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes, ChunkFileLayout.Magic);
        CollectionAssert.AreEqual("CGCW"u8.ToArray(), bytes);
    }

    [TestMethod]
    [DataRow(0L, 0L)]
    [DataRow(1L, 64L)]
    [DataRow(63L, 64L)]
    [DataRow(64L, 64L)]
    [DataRow(65L, 128L)]
    [DataRow(1_000_001L, 1_000_064L)]
    public void AlignUp_RoundsToNextMultipleOf64(long value, long expected)
    {
        Assert.AreEqual(expected, ChunkFileLayout.AlignUp(value));
    }

    [TestMethod]
    public void AlignUp_RejectsNegativeAndOverflow()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ChunkFileLayout.AlignUp(-1));
        Assert.ThrowsExactly<OverflowException>(() => ChunkFileLayout.AlignUp(long.MaxValue));
    }

    [TestMethod]
    public void ComputeOffsets_NoEntries_FileIsJustTheHeader()
    {
        long[] offsets = ChunkFileLayout.ComputeOffsets(Array.Empty<long>(), out long fileLength);
        Assert.IsEmpty(offsets);
        Assert.AreEqual(64L, fileLength);
        Assert.AreEqual(64L, ChunkFileLayout.DataOffset(0));
    }

    [TestMethod]
    public void ComputeOffsets_KnownLayout()
    {
        long[] offsets = ChunkFileLayout.ComputeOffsets([10, 64, 0, 65], out long fileLength);
        // Four entries: 64 + 128 = 192.
        CollectionAssert.AreEqual(new long[] { 192, 256, 320, 320 }, offsets);
        Assert.AreEqual(448L, fileLength);
    }

    [TestMethod]
    public void ComputeOffsets_AlignedMonotonicAndCoverTheData()
    {
        var random = new Random(12345);
        for (int trial = 0; trial < 200; trial++)
        {
            int n = random.Next(0, 40);
            long[] lengths = new long[n];
            for (int i = 0; i < n; i++)
            {
                lengths[i] = random.Next(0, 3) == 0 ? random.Next(0, 4) : random.Next(0, 5000);
            }

            long[] offsets = ChunkFileLayout.ComputeOffsets(lengths, out long fileLength);
            Assert.HasCount(n, offsets);
            long dataOffset = ChunkFileLayout.AlignUp(64 + (32L * n));
            long previousEnd = dataOffset;
            for (int i = 0; i < n; i++)
            {
                Assert.AreEqual(0L, offsets[i] % 64, "entry " + i + " is not aligned");
                Assert.IsGreaterThanOrEqualTo(previousEnd, offsets[i], "entry " + i + " overlaps");
                Assert.AreEqual(ChunkFileLayout.AlignUp(previousEnd), offsets[i], "entry " + i + " is not packed");
                previousEnd = offsets[i] + lengths[i];
            }

            Assert.AreEqual(n == 0 ? dataOffset : ChunkFileLayout.AlignUp(previousEnd), fileLength);
            Assert.AreEqual(0L, fileLength % 64);
        }
    }

    [TestMethod]
    public void ComputeOffsets_RejectsNegativeLength()
    {
        ArgumentOutOfRangeException e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ChunkFileLayout.ComputeOffsets([1, -5], out _));
        Assert.Contains("Entry 1", e.Message);
    }
}
