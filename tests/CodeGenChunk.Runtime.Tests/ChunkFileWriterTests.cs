using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Hashing;
using CodeGenChunk.Formats;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

[TestClass]
public sealed class ChunkFileWriterTests
{
    private const ulong Hash = 0xA5A5_0000_1234_5678UL;

    [TestMethod]
    public void Header_HasEveryFieldAtItsOffset()
    {
        ReadOnlyMemory<byte>[] entries = TestData.RandomEntries(1, 100, 3, 0, 200);
        byte[] file = ChunkFileWriter.ToArray(Hash, entries);
        ReadOnlySpan<byte> s = file;

        CollectionAssert.AreEqual(new byte[] { 0x43, 0x47, 0x43, 0x57 }, file[0..4]);
        Assert.AreEqual((ushort)1, BinaryPrimitives.ReadUInt16LittleEndian(s[4..]));
        Assert.AreEqual((ushort)64, BinaryPrimitives.ReadUInt16LittleEndian(s[6..]));
        Assert.AreEqual(Hash, BinaryPrimitives.ReadUInt64LittleEndian(s[8..]));
        Assert.AreEqual(4u, BinaryPrimitives.ReadUInt32LittleEndian(s[16..]));
        Assert.AreEqual(64u, BinaryPrimitives.ReadUInt32LittleEndian(s[20..]));
        Assert.AreEqual(192UL, BinaryPrimitives.ReadUInt64LittleEndian(s[24..]));
        Assert.AreEqual((ulong)file.Length, BinaryPrimitives.ReadUInt64LittleEndian(s[32..]));
        Assert.AreEqual(XxHash3.HashToUInt64(s[64..(64 + (4 * 32))]), BinaryPrimitives.ReadUInt64LittleEndian(s[40..]));
        Assert.AreEqual(XxHash3.HashToUInt64(s[..48]), BinaryPrimitives.ReadUInt64LittleEndian(s[48..]));
        Assert.AreEqual(0UL, BinaryPrimitives.ReadUInt64LittleEndian(s[56..]));

        ChunkFileHeader header = ChunkFileHeader.Read(file);
        Assert.AreEqual(ChunkFileLayout.Magic, header.Magic);
        Assert.AreEqual(Hash, header.LayoutHash);
        Assert.AreEqual(4u, header.EntryCount);
        Assert.AreEqual((ulong)file.Length, header.FileLength);
    }

    [TestMethod]
    public void EntryOffsets_EqualComputeOffsets_AndTableRecordsMatchTheData()
    {
        ReadOnlyMemory<byte>[] entries = TestData.RandomEntries(2, 1, 64, 65, 0, 0, 127, 128, 4096, 5);
        byte[] file = ChunkFileWriter.ToArray(Hash, entries);
        long[] offsets = ChunkFileLayout.ComputeOffsets(TestData.Lengths(entries), out long fileLength);

        Assert.AreEqual(fileLength, (long)file.Length);
        for (int i = 0; i < entries.Length; i++)
        {
            ReadOnlySpan<byte> record = file.AsSpan(64 + (32 * i), 32);
            Assert.AreEqual((ulong)offsets[i], BinaryPrimitives.ReadUInt64LittleEndian(record));
            Assert.AreEqual((ulong)entries[i].Length, BinaryPrimitives.ReadUInt64LittleEndian(record[8..]));
            Assert.AreEqual(XxHash3.HashToUInt64(entries[i].Span), BinaryPrimitives.ReadUInt64LittleEndian(record[16..]));
            Assert.AreEqual(0UL, BinaryPrimitives.ReadUInt64LittleEndian(record[24..]));
            Assert.AreEqual((offsets[i], (long)entries[i].Length), ChunkFileValidator.GetEntry(file, i));
        }
    }

    [TestMethod]
    public void PaddingIsZero()
    {
        ReadOnlyMemory<byte>[] entries = [new byte[] { 0xFF }, new byte[] { 0xFF, 0xFF, 0xFF }];
        byte[] file = ChunkFileWriter.ToArray(Hash, entries);
        long[] offsets = ChunkFileLayout.ComputeOffsets(TestData.Lengths(entries), out _);
        int nonZero = 0;
        for (int i = (int)ChunkFileLayout.DataOffset(2); i < file.Length; i++)
        {
            bool inEntry = (i == offsets[0]) || (i >= offsets[1] && i < offsets[1] + 3);
            Assert.AreEqual(inEntry ? (byte)0xFF : (byte)0, file[i], "byte " + i);
            nonZero += file[i] != 0 ? 1 : 0;
        }

        Assert.AreEqual(4, nonZero);
    }

    [TestMethod]
    public void WritingTwice_GivesIdenticalBytes_AndStreamEqualsArray()
    {
        ReadOnlyMemory<byte>[] entries = TestData.RandomEntries(3, 1000, 17, 0, 64, 300);
        byte[] first = ChunkFileWriter.ToArray(Hash, entries);
        byte[] second = ChunkFileWriter.ToArray(Hash, TestData.RandomEntries(3, 1000, 17, 0, 64, 300));
        CollectionAssert.AreEqual(first, second);

        using var stream = new MemoryStream();
        stream.WriteByte(0xEE); // written from the current position
        ChunkFileWriter.Write(stream, Hash, entries);
        CollectionAssert.AreEqual(first, stream.ToArray()[1..]);
    }

    [TestMethod]
    public void Write_AcceptsEntriesThatAreNotArrays()
    {
        // Slices of a larger array: the writer must honour the segment offsets.
        byte[] big = new byte[300];
        new Random(9).NextBytes(big);
        ReadOnlyMemory<byte>[] slices = [big.AsMemory(7, 100), big.AsMemory(150, 3)];
        ReadOnlyMemory<byte>[] copies = [big[7..107], big[150..153]];
        using var stream = new MemoryStream();
        ChunkFileWriter.Write(stream, Hash, slices);
        CollectionAssert.AreEqual(ChunkFileWriter.ToArray(Hash, copies), stream.ToArray());
    }

    [TestMethod]
    public void DifferentInput_GivesDifferentBytes()
    {
        ReadOnlyMemory<byte>[] entries = TestData.RandomEntries(4, 10, 20);
        byte[] a = ChunkFileWriter.ToArray(Hash, entries);
        byte[] b = ChunkFileWriter.ToArray(Hash + 1, entries);
        CollectionAssert.AreNotEqual(a, b);
    }

    [TestMethod]
    public void RoundTrip_ValidateThenGetEntry_ReturnsTheSameBytes()
    {
        ReadOnlyMemory<byte>[] entries = TestData.RandomEntries(5, 0, 1, 63, 64, 65, 1000, 0, 333);
        byte[] file = ChunkFileWriter.ToArray(Hash, entries);
        ChunkFileValidator.Validate(file, "roundtrip.cgcw", Hash, file.Length, entries.Length);
        for (int i = 0; i < entries.Length; i++)
        {
            (long offset, long length) = ChunkFileValidator.GetEntry(file, i);
            Assert.AreEqual(0L, offset % 64);
            CollectionAssert.AreEqual(entries[i].ToArray(), file.AsSpan((int)offset, (int)length).ToArray(), "entry " + i);
        }
    }

    [TestMethod]
    public void RoundTrip_NoEntries()
    {
        byte[] file = ChunkFileWriter.ToArray(Hash, Array.Empty<ReadOnlyMemory<byte>>());
        Assert.HasCount(64, file);
        ChunkFileValidator.Validate(file, "empty.cgcw", Hash, 64, 0);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ChunkFileValidator.GetEntry(file, 0));
    }

    [TestMethod]
    public void GetEntry_RejectsIndexOutsideTheTable()
    {
        byte[] file = TestFixtures.TinyBytes();
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ChunkFileValidator.GetEntry(file, -1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ChunkFileValidator.GetEntry(file, TestFixtures.TinyLengths.Length));
        Assert.ThrowsExactly<ArgumentException>(() => ChunkFileValidator.GetEntry(file.AsSpan(0, 100), 3));
    }
}
