using System;
using System.Buffers.Binary;
using System.IO.Hashing;
using CodeGenChunk.Formats;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

[TestClass]
public sealed class ChunkFileValidatorTests
{
    // The tiny fixture: 448 bytes; table [64,192); entries 0:[192,202) 1:[256,356) 2:[384,384) 3:[384,385).
    private static readonly long TinyLength = TestFixtures.FileLength(TestFixtures.TinyLengths);

    [TestMethod]
    public void TinyFixture_IsValid()
    {
        Assert.AreEqual(448L, TinyLength);
        ChunkFileValidator.Validate(TestFixtures.TinyBytes(), "tiny.cgcw", TestFixtures.TinyLayoutHash, TinyLength, 4, true, TestFixtures.TinyNames);
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    [DataRow(4)]
    [DataRow(47)]
    [DataRow(63)]
    public void Truncated_InsideTheHeader_IsTooShort(int cut)
    {
        byte[] file = TestFixtures.TinyBytes()[..cut];
        WeightFileException e = TestData.ExpectTinyProblem(file, WeightFileProblem.TooShort);
        Assert.Contains("too short: " + cut + " bytes", e.Message);
    }

    [TestMethod]
    [DataRow(64)]
    [DataRow(100)]
    [DataRow(191)]
    [DataRow(192)]
    [DataRow(201)]
    [DataRow(300)]
    [DataRow(385)]
    [DataRow(447)]
    public void Truncated_InsideTheTableOrData_IsLengthMismatch(int cut)
    {
        byte[] file = TestFixtures.TinyBytes()[..cut];
        WeightFileException e = TestData.ExpectTinyProblem(file, WeightFileProblem.LengthMismatch);
        Assert.Contains("truncated: " + cut + " bytes, the layout needs 448", e.Message);
    }

    [TestMethod]
    public void Truncated_MessageHasTheNumbersWithThousandsSeparators()
    {
        // One entry: data at 128, 3968 bytes -> a 4096-byte file.
        byte[] file = ChunkFileWriter.ToArray(7, TestData.RandomEntries(11, 3968));
        Assert.HasCount(4096, file);
        WeightFileException e = Assert.ThrowsExactly<WeightFileException>(() => ChunkFileValidator.Validate(file.AsSpan(0, 1000), "model.cgcw", 7, 4096, 1));
        TestData.AssertProblem(e, WeightFileProblem.LengthMismatch, "model.cgcw");
        Assert.AreEqual("Weights file 'model.cgcw': truncated: 1,000 bytes, the layout needs 4,096 — the file is incomplete; rebuild or copy it again", e.Message);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(63)]
    [DataRow(64)]
    [DataRow(5000)]
    public void Extended_IsLengthMismatch(int extra)
    {
        byte[] file = new byte[448 + extra];
        TestFixtures.TinyBytes().CopyTo(file, 0);
        WeightFileException e = TestData.ExpectTinyProblem(file, WeightFileProblem.LengthMismatch);
        Assert.Contains("extended: " + (448 + extra).ToString("N0", System.Globalization.CultureInfo.InvariantCulture) + " bytes", e.Message);
    }

    [TestMethod]
    public void WrongExpectedLength_IsLengthMismatch_WithBothNumbers()
    {
        byte[] file = TestFixtures.TinyBytes();
        WeightFileException e = Assert.ThrowsExactly<WeightFileException>(() =>
            ChunkFileValidator.Validate(file, "tiny.cgcw", TestFixtures.TinyLayoutHash, 1_048_640, 4));
        TestData.AssertProblem(e, WeightFileProblem.LengthMismatch, "tiny.cgcw");
        Assert.Contains("448", e.Message);
        Assert.Contains("1,048,640", e.Message);
    }

    [TestMethod]
    public void WrongLayoutHash_IsLayoutMismatch_WithBothHashes()
    {
        byte[] file = TestFixtures.TinyBytes();
        WeightFileException e = Assert.ThrowsExactly<WeightFileException>(() =>
            ChunkFileValidator.Validate(file, "tiny.cgcw", 0xDEAD_BEEFUL, TinyLength, 4));
        TestData.AssertProblem(e, WeightFileProblem.LayoutMismatch, "tiny.cgcw");
        Assert.AreEqual(
            "Weights file 'tiny.cgcw': layout hash 0x0123456789ABCDEF does not match the model's 0x00000000DEADBEEF: the file was packed for a different manifest; repack it",
            e.Message);
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(3)]
    [DataRow(5)]
    [DataRow(1000)]
    public void WrongEntryCount_IsEntryCountMismatch(int expected)
    {
        byte[] file = TestFixtures.TinyBytes();
        WeightFileException e = Assert.ThrowsExactly<WeightFileException>(() =>
            ChunkFileValidator.Validate(file, "tiny.cgcw", TestFixtures.TinyLayoutHash, TinyLength, expected));
        TestData.AssertProblem(e, WeightFileProblem.EntryCountMismatch, "tiny.cgcw");
        Assert.Contains("holds 4 entries", e.Message);
    }

    [TestMethod]
    public void EveryBitOfTheHeader_Flipped_IsDetected()
    {
        for (int bit = 0; bit < 64 * 8; bit++)
        {
            byte[] file = TestFixtures.TinyBytes();
            file[bit / 8] ^= (byte)(1 << (bit % 8));
            int b = bit / 8;
            WeightFileProblem expected = b < 4 ? WeightFileProblem.BadMagic
                : b < 6 ? WeightFileProblem.UnsupportedVersion
                : WeightFileProblem.HeaderCorrupt;
            TestData.ExpectTinyProblem(file, expected);
        }
    }

    [TestMethod]
    public void EveryBitOfTheTable_Flipped_IsTableCorrupt()
    {
        for (int bit = 64 * 8; bit < 192 * 8; bit++)
        {
            byte[] file = TestFixtures.TinyBytes();
            file[bit / 8] ^= (byte)(1 << (bit % 8));
            WeightFileException e = TestData.ExpectTinyProblem(file, WeightFileProblem.TableCorrupt);
            Assert.Contains("entry table checksum mismatch", e.Message);
        }
    }

    [TestMethod]
    public void EveryBitOfTheDataAndPadding_Flipped_IsChecksumMismatch_NamingTheEntry()
    {
        long[] offsets = ChunkFileLayout.ComputeOffsets(Array.ConvertAll(TestFixtures.TinyLengths, x => (long)x), out _);
        for (int bit = 192 * 8; bit < 448 * 8; bit++)
        {
            byte[] file = TestFixtures.TinyBytes();
            int position = bit / 8;
            file[position] ^= (byte)(1 << (bit % 8));
            WeightFileException e = TestData.ExpectTinyProblem(file, WeightFileProblem.ChecksumMismatch);

            int entry = -1;
            for (int i = 0; i < offsets.Length; i++)
            {
                if (position >= offsets[i] && position < offsets[i] + TestFixtures.TinyLengths[i])
                {
                    entry = i;
                }
            }

            if (entry >= 0)
            {
                Assert.Contains("checksum mismatch in entry " + entry + " ('" + TestFixtures.TinyNames[entry] + "'): the data is corrupt", e.Message);
            }
            else
            {
                Assert.Contains("padding byte at offset " + position + " ", e.Message);
            }
        }
    }

    [TestMethod]
    public void ChecksumMismatch_WithoutNames_NamesTheIndex()
    {
        byte[] file = TestFixtures.TinyBytes();
        file[256 + 50] ^= 0x10;
        WeightFileException e = Assert.ThrowsExactly<WeightFileException>(() =>
            ChunkFileValidator.Validate(file, "tiny.cgcw", TestFixtures.TinyLayoutHash, TinyLength, 4));
        TestData.AssertProblem(e, WeightFileProblem.ChecksumMismatch, "tiny.cgcw");
        Assert.Contains("checksum mismatch in entry 1: the data is corrupt", e.Message);
    }

    [TestMethod]
    public void VerifyChecksumsFalse_SkipsTheData_ButNotTheTable()
    {
        byte[] file = TestFixtures.TinyBytes();
        file[200] ^= 0x01;
        ChunkFileValidator.Validate(file, "tiny.cgcw", TestFixtures.TinyLayoutHash, TinyLength, 4, verifyChecksums: false);
        Assert.ThrowsExactly<WeightFileException>(() =>
            ChunkFileValidator.Validate(file, "tiny.cgcw", TestFixtures.TinyLayoutHash, TinyLength, 4, verifyChecksums: true));

        file[100] ^= 0x01;
        WeightFileException e = Assert.ThrowsExactly<WeightFileException>(() =>
            ChunkFileValidator.Validate(file, "tiny.cgcw", TestFixtures.TinyLayoutHash, TinyLength, 4, verifyChecksums: false));
        Assert.AreEqual(WeightFileProblem.TableCorrupt, e.Problem);
    }

    [TestMethod]
    [DataRow(1, 257UL, "not a multiple of 64")]
    [DataRow(1, 192UL, "before 202 where the previous entry ends")]
    [DataRow(0, 128UL, "before 192 where the entry table ends")]
    [DataRow(3, 448UL, "ends past the end of the file")]
    [DataRow(3, 0xFFFF_FFFF_FFFF_FFC0UL, "ends past the end of the file")]
    public void ResealedTable_WithBadOffset_IsEntryOutOfBounds(int entry, ulong offset, string text)
    {
        byte[] file = TestFixtures.TinyBytes();
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(64 + (32 * entry)), offset);
        Reseal(file);
        WeightFileException e = TestData.ExpectTinyProblem(file, WeightFileProblem.EntryOutOfBounds);
        Assert.Contains("entry " + entry + " ('" + TestFixtures.TinyNames[entry] + "')", e.Message);
        Assert.Contains(text, e.Message);
    }

    [TestMethod]
    [DataRow(65UL)]
    [DataRow(0x7FFF_FFFF_FFFF_FFFFUL)]
    [DataRow(ulong.MaxValue)]
    public void ResealedTable_WithHugeLength_IsEntryOutOfBounds(ulong length)
    {
        byte[] file = TestFixtures.TinyBytes();
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(64 + (32 * 3) + 8), length);
        Reseal(file);
        TestData.ExpectTinyProblem(file, WeightFileProblem.EntryOutOfBounds);
    }

    [TestMethod]
    public void ResealedTable_WithReservedField_IsTableCorrupt()
    {
        byte[] file = TestFixtures.TinyBytes();
        file[64 + 32 + 24] = 1;
        Reseal(file);
        TestData.ExpectTinyProblem(file, WeightFileProblem.TableCorrupt);
    }

    [TestMethod]
    [DataRow(4, (ulong)2, 2, WeightFileProblem.UnsupportedVersion)]
    [DataRow(6, (ulong)32, 2, WeightFileProblem.HeaderCorrupt)]
    [DataRow(20, (ulong)32, 4, WeightFileProblem.HeaderCorrupt)]
    [DataRow(24, (ulong)256, 8, WeightFileProblem.HeaderCorrupt)]
    [DataRow(32, ulong.MaxValue, 8, WeightFileProblem.LengthMismatch)]
    [DataRow(32, (ulong)384, 8, WeightFileProblem.LengthMismatch)]
    [DataRow(16, (ulong)uint.MaxValue, 4, WeightFileProblem.EntryCountMismatch)]
    [DataRow(56, (ulong)1, 8, WeightFileProblem.HeaderCorrupt)]
    public void ResealedHeader_WithImpossibleField_IsRejected(int offset, ulong value, int size, WeightFileProblem problem)
    {
        byte[] file = TestFixtures.TinyBytes();
        Span<byte> field = file.AsSpan(offset, size);
        switch (size)
        {
            case 2: BinaryPrimitives.WriteUInt16LittleEndian(field, (ushort)value); break;
            case 4: BinaryPrimitives.WriteUInt32LittleEndian(field, (uint)value); break;
            default: BinaryPrimitives.WriteUInt64LittleEndian(field, value); break;
        }

        Reseal(file);
        TestData.ExpectTinyProblem(file, problem);
    }

    [TestMethod]
    public void RandomGarbage_OfManyLengths_OnlyEverThrowsWeightFileException()
    {
        var random = new Random(20240601);
        int[] lengths = new int[201 + 5];
        for (int i = 0; i <= 200; i++)
        {
            lengths[i] = i;
        }

        lengths[201] = 448;
        lengths[202] = 1000;
        lengths[203] = 4096;
        lengths[204] = 65_536;
        lengths[205] = 1_000_003;
        foreach (int length in lengths)
        {
            for (int trial = 0; trial < (length > 4096 ? 2 : 8); trial++)
            {
                byte[] garbage = new byte[length];
                random.NextBytes(garbage);
                if (trial % 2 == 1 && length >= 8)
                {
                    // Get past the magic and version checks.
                    BinaryPrimitives.WriteUInt32LittleEndian(garbage, ChunkFileLayout.Magic);
                    BinaryPrimitives.WriteUInt16LittleEndian(garbage.AsSpan(4), 1);
                }

                if (trial % 4 == 3 && length >= 64)
                {
                    // Get past the header checksum too.
                    Reseal(garbage);
                }

                Assert.IsNotNull(TestData.ValidateAnything(garbage, 0, length, 4), "garbage of " + length + " bytes was accepted");
            }
        }
    }

    [TestMethod]
    public void ResealedRandomMutations_OnlyEverThrowWeightFileException()
    {
        // Mutate header fields and table records, then fix both checksums so the deeper checks run on nonsense.
        var random = new Random(77);
        int accepted = 0;
        for (int trial = 0; trial < 5000; trial++)
        {
            byte[] file = TestFixtures.TinyBytes();
            int mutations = random.Next(1, 4);
            for (int m = 0; m < mutations; m++)
            {
                int position = random.Next(2) == 0 ? random.Next(8, 48) : random.Next(64, 192);
                file[position] = random.Next(3) == 0 ? (byte)0xFF : (byte)random.Next(256);
            }

            Reseal(file);
            if (TestData.ValidateAnything(file, TestFixtures.TinyLayoutHash, TinyLength, 4) is null)
            {
                accepted++;
                for (int i = 0; i < 4; i++)
                {
                    (long offset, long length) = ChunkFileValidator.GetEntry(file, i);
                    Assert.IsLessThanOrEqualTo((long)file.Length, offset + length);
                }
            }
        }

        Assert.IsLessThan(5000, accepted);
    }

    [TestMethod]
    public void BadMagic_SaysWhatWasFound()
    {
        byte[] file = TestFixtures.TinyBytes();
        file[0] = (byte)'P';
        file[1] = (byte)'K';
        WeightFileException e = TestData.ExpectTinyProblem(file, WeightFileProblem.BadMagic);
        Assert.Contains("0x50 0x4B 0x43 0x57", e.Message);
    }

    [TestMethod]
    public void Arguments_AreChecked()
    {
        byte[] file = TestFixtures.TinyBytes();
        Assert.ThrowsExactly<ArgumentNullException>(() => ChunkFileValidator.Validate(file, null!, 0, 448, 4));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ChunkFileValidator.Validate(file, "x", 0, -1, 4));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ChunkFileValidator.Validate(file, "x", 0, 448, -1));
    }

    /// <summary>Recomputes the table checksum (when the table fits) and the header checksum.</summary>
    private static void Reseal(byte[] file)
    {
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(16));
        long tableEnd = 64 + (32L * count);
        if (tableEnd <= file.Length)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(40), XxHash3.HashToUInt64(file.AsSpan(64, (int)(tableEnd - 64))));
        }

        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(48), XxHash3.HashToUInt64(file.AsSpan(0, 48)));
    }
}
