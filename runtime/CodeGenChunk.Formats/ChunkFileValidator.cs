using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO.Hashing;

namespace CodeGenChunk.Formats;

/// <summary>
/// Checks that bytes are a well-formed chunk file (see <see cref="ChunkFileLayout"/>) packed for the expected
/// layout. Whatever the bytes are, it reads nothing outside the span and fails only with
/// <see cref="WeightFileException"/>. Allocates nothing when the file is valid.
/// </summary>
public static class ChunkFileValidator
{
    /// <summary>
    /// Validates <paramref name="file"/>. Checks, in order: length at least the header (<see cref="WeightFileProblem.TooShort"/>);
    /// magic; version; header checksum and header fields (<see cref="WeightFileProblem.HeaderCorrupt"/>); the header's file
    /// length against the actual and the expected length (<see cref="WeightFileProblem.LengthMismatch"/>); layout hash;
    /// entry count; entry table checksum and fields (<see cref="WeightFileProblem.TableCorrupt"/>); every entry inside
    /// the file, aligned and not overlapping (<see cref="WeightFileProblem.EntryOutOfBounds"/>); then, when
    /// <paramref name="verifyChecksums"/> is set, every entry's checksum and the zero padding
    /// (<see cref="WeightFileProblem.ChecksumMismatch"/>).
    /// </summary>
    /// <param name="file">The whole file.</param>
    /// <param name="fileName">Path or resource name, used in messages.</param>
    /// <param name="expectedLayoutHash">The layout hash of the model.</param>
    /// <param name="expectedFileLength">The file length the model's layout needs.</param>
    /// <param name="expectedEntryCount">The number of entries the model's layout has.</param>
    /// <param name="verifyChecksums">Whether to hash every entry's data (the header and table are always verified).</param>
    /// <param name="entryNames">Optional entry names, used in messages.</param>
    /// <exception cref="WeightFileException">The file is not valid; <see cref="WeightFileException.Problem"/> says why.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="fileName"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An expectation is negative.</exception>
    public static void Validate(
        ReadOnlySpan<byte> file,
        string fileName,
        ulong expectedLayoutHash,
        long expectedFileLength,
        int expectedEntryCount,
        bool verifyChecksums = true,
        IReadOnlyList<string>? entryNames = null)
    {
        if (fileName is null)
        {
            throw new ArgumentNullException(nameof(fileName));
        }

        if (expectedFileLength < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(expectedFileLength), expectedFileLength, "The expected file length must not be negative.");
        }

        if (expectedEntryCount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(expectedEntryCount), expectedEntryCount, "The expected entry count must not be negative.");
        }

        CheckStructure(file, file.Length, fileName, expectedLayoutHash, expectedFileLength, expectedEntryCount, entryNames);
        if (verifyChecksums)
        {
            ReadOnlySpan<byte> table = file.Slice(ChunkFileLayout.HeaderSize, ChunkFileLayout.EntrySize * expectedEntryCount);
            CheckData(file, fileName, table, expectedEntryCount, entryNames);
        }
    }

    /// <summary>Reads <paramref name="destination"/>.Length bytes (or fewer at the end) at <paramref name="offset"/>; returns the count, 0 at the end.</summary>
    public delegate int ReadAt(long offset, Span<byte> destination);

    /// <summary>
    /// Validates a file that is read through <paramref name="read"/> rather than held in memory: the same checks, in the
    /// same order and with the same messages, as <see cref="Validate(ReadOnlySpan{byte}, string, ulong, long, int, bool, IReadOnlyList{string})"/>;
    /// the entries' checksums and the padding are computed block by block through <paramref name="buffer"/>, so memory
    /// use is the header, the entry table and the buffer.
    /// </summary>
    /// <param name="read">Reads bytes of the file at an offset.</param>
    /// <param name="actualLength">The file's length.</param>
    /// <param name="buffer">Working memory for the data checks (any length ≥ 1; 64 KiB reads well).</param>
    /// <param name="fileName">Path, used in messages.</param>
    /// <param name="expectedLayoutHash">The layout hash of the model.</param>
    /// <param name="expectedFileLength">The file length the model's layout needs.</param>
    /// <param name="expectedEntryCount">The number of entries the model's layout has.</param>
    /// <param name="entryNames">Optional entry names, used in messages.</param>
    /// <exception cref="WeightFileException">The file is not valid, or shrank while being read (<see cref="WeightFileProblem.ReadFailed"/>).</exception>
    public static void Validate(
        ReadAt read,
        long actualLength,
        Span<byte> buffer,
        string fileName,
        ulong expectedLayoutHash,
        long expectedFileLength,
        int expectedEntryCount,
        IReadOnlyList<string>? entryNames = null)
    {
        if (read is null)
        {
            throw new ArgumentNullException(nameof(read));
        }

        if (fileName is null)
        {
            throw new ArgumentNullException(nameof(fileName));
        }

        if (buffer.IsEmpty)
        {
            throw new ArgumentException("The buffer must not be empty.", nameof(buffer));
        }

        if (expectedEntryCount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(expectedEntryCount), expectedEntryCount, "The expected entry count must not be negative.");
        }

        long prefixLength = Math.Min(actualLength, Math.Max(ChunkFileLayout.DataOffset(expectedEntryCount), ChunkFileLayout.HeaderSize));
        byte[] prefix = new byte[prefixLength];
        ReadFully(read, 0, prefix, fileName, actualLength);
        CheckStructure(prefix, actualLength, fileName, expectedLayoutHash, expectedFileLength, expectedEntryCount, entryNames);

        ReadOnlySpan<byte> table = prefix.AsSpan(ChunkFileLayout.HeaderSize, ChunkFileLayout.EntrySize * expectedEntryCount);
        long paddingStart = ChunkFileLayout.HeaderSize + (ChunkFileLayout.EntrySize * (long)expectedEntryCount);
        var hash = new XxHash3();
        for (int i = 0; i < expectedEntryCount; i++)
        {
            ReadOnlySpan<byte> record = table.Slice(ChunkFileLayout.EntrySize * i, ChunkFileLayout.EntrySize);
            long offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(record.Slice(ChunkFileLayout.EntryOffsetOffset));
            long length = (long)BinaryPrimitives.ReadUInt64LittleEndian(record.Slice(ChunkFileLayout.EntryLengthOffset));
            ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(record.Slice(ChunkFileLayout.EntryChecksumOffset));
            CheckPadding(read, buffer, fileName, actualLength, paddingStart, offset, i - 1, entryNames);

            hash.Reset();
            for (long done = 0; done < length;)
            {
                Span<byte> block = buffer.Slice(0, (int)Math.Min(buffer.Length, length - done));
                ReadFully(read, offset + done, block, fileName, actualLength);
                hash.Append(block);
                done += block.Length;
            }

            ulong computed = hash.GetCurrentHashAsUInt64();
            if (computed != stored)
            {
                throw Fail(fileName, WeightFileProblem.ChecksumMismatch,
                    "checksum mismatch in entry " + EntryLabel(i, entryNames) + ": the data is corrupt (stored " + Hex(stored)
                    + ", computed " + Hex(computed) + "); rebuild or copy the file again");
            }

            paddingStart = offset + length;
        }

        CheckPadding(read, buffer, fileName, actualLength, paddingStart, actualLength, expectedEntryCount - 1, entryNames);
    }

    private static void ReadFully(ReadAt read, long offset, Span<byte> destination, string fileName, long actualLength)
    {
        int done = 0;
        while (done < destination.Length)
        {
            int n = read(offset + done, destination.Slice(done));
            if (n <= 0)
            {
                throw Fail(fileName, WeightFileProblem.ReadFailed,
                    "the file ended at " + N(offset + done) + " bytes while being verified, it was " + N(actualLength)
                    + " — is it being written? copy it again");
            }

            done += n;
        }
    }

    private static void CheckPadding(ReadAt read, Span<byte> buffer, string fileName, long actualLength, long start, long end, int previousEntry, IReadOnlyList<string>? entryNames)
    {
        for (long at = start; at < end;)
        {
            Span<byte> block = buffer.Slice(0, (int)Math.Min(buffer.Length, end - at));
            ReadFully(read, at, block, fileName, actualLength);
            int index = IndexOfNonZero(block);
            if (index >= 0)
            {
                throw Fail(fileName, WeightFileProblem.ChecksumMismatch,
                    "padding byte at offset " + N(at + index) + " after "
                    + (previousEntry < 0 ? "the entry table" : "entry " + EntryLabel(previousEntry, entryNames)) + " is " + Hex(block[index])
                    + ", not zero: the data is corrupt; rebuild or copy the file again");
            }

            at += block.Length;
        }
    }

    /// <summary>
    /// The checks of the header and the entry table. <paramref name="file"/> holds at least the header and, once the
    /// header is known good, the table; <paramref name="actualLength"/> is the length of the whole file.
    /// </summary>
    private static void CheckStructure(ReadOnlySpan<byte> file, long actualLength, string fileName, ulong expectedLayoutHash, long expectedFileLength, int expectedEntryCount, IReadOnlyList<string>? entryNames)
    {
        if (actualLength < ChunkFileLayout.HeaderSize)
        {
            throw Fail(fileName, WeightFileProblem.TooShort,
                "too short: " + N(actualLength) + " bytes, a weights file has a " + N(ChunkFileLayout.HeaderSize)
                + "-byte header and the model's layout needs " + N(expectedFileLength)
                + " bytes — the file is incomplete or not a weights file; rebuild or copy it again");
        }

        ChunkFileHeader header = ChunkFileHeader.Read(file);
        if (header.Magic != ChunkFileLayout.Magic)
        {
            throw Fail(fileName, WeightFileProblem.BadMagic,
                "bad magic: the file starts with bytes " + HexBytes(file.Slice(0, 4))
                + ", not \"CGCW\" (0x43 0x47 0x43 0x57) — it is not a CodeGenChunk weights file");
        }

        if (header.FormatVersion != ChunkFileLayout.FormatVersion)
        {
            throw Fail(fileName, WeightFileProblem.UnsupportedVersion,
                "unsupported format version " + N(header.FormatVersion) + ", this runtime reads version "
                + N(ChunkFileLayout.FormatVersion) + " — repack it with a matching cgc tool");
        }

        ulong headerChecksum = XxHash3.HashToUInt64(file.Slice(0, ChunkFileLayout.HeaderChecksummedSize));
        if (headerChecksum != header.HeaderChecksum)
        {
            throw Fail(fileName, WeightFileProblem.HeaderCorrupt,
                "header checksum mismatch: stored " + Hex(header.HeaderChecksum) + ", computed " + Hex(headerChecksum)
                + " — the header is corrupt; rebuild or copy the file again");
        }

        if (header.HeaderSize != ChunkFileLayout.HeaderSize || header.Alignment != ChunkFileLayout.Alignment || header.Reserved != 0)
        {
            throw Fail(fileName, WeightFileProblem.HeaderCorrupt,
                "header size " + N(header.HeaderSize) + ", alignment " + N(header.Alignment) + ", reserved " + Hex(header.Reserved)
                + " — expected " + N(ChunkFileLayout.HeaderSize) + ", " + N(ChunkFileLayout.Alignment)
                + " and zero; the header is corrupt; repack the file");
        }

        CheckLength(fileName, header.FileLength, actualLength, expectedFileLength);

        if (header.LayoutHash != expectedLayoutHash)
        {
            throw Fail(fileName, WeightFileProblem.LayoutMismatch,
                "layout hash " + Hex(header.LayoutHash) + " does not match the model's " + Hex(expectedLayoutHash)
                + ": the file was packed for a different manifest; repack it");
        }

        if (header.EntryCount != (uint)expectedEntryCount)
        {
            throw Fail(fileName, WeightFileProblem.EntryCountMismatch,
                "the file holds " + N(header.EntryCount) + " entries, the model's layout has " + N(expectedEntryCount)
                + ": the file was packed for a different manifest; repack it");
        }

        int entryCount = expectedEntryCount;
        long dataOffset = ChunkFileLayout.DataOffset(entryCount);
        if (header.DataOffset != (ulong)dataOffset)
        {
            throw Fail(fileName, WeightFileProblem.HeaderCorrupt,
                "data offset " + N(header.DataOffset) + " is not " + N(dataOffset) + ", the aligned end of a table of "
                + N(entryCount) + " entries — the header is corrupt; repack the file");
        }

        if (dataOffset > actualLength)
        {
            throw Fail(fileName, WeightFileProblem.TableCorrupt,
                "the entry table of " + N(entryCount) + " entries ends at " + N(dataOffset) + ", past the end of the file ("
                + N(actualLength) + " bytes) — the file is corrupt; repack it");
        }

        ReadOnlySpan<byte> table = file.Slice(ChunkFileLayout.HeaderSize, ChunkFileLayout.EntrySize * entryCount);
        ulong tableChecksum = XxHash3.HashToUInt64(table);
        if (tableChecksum != header.TableChecksum)
        {
            throw Fail(fileName, WeightFileProblem.TableCorrupt,
                "entry table checksum mismatch: stored " + Hex(header.TableChecksum) + ", computed " + Hex(tableChecksum)
                + " — the entry table is corrupt; rebuild or copy the file again");
        }

        CheckEntryBounds(actualLength, fileName, table, entryCount, dataOffset, entryNames);
    }

    /// <summary>
    /// Reads entry <paramref name="index"/> of the entry table of <paramref name="file"/>. The result always lies
    /// inside <paramref name="file"/>; call <see cref="Validate"/> first to know the file is sound.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not an entry of the file.</exception>
    /// <exception cref="ArgumentException">The header, the table record or the entry lies outside <paramref name="file"/>.</exception>
    public static (long Offset, long Length) GetEntry(ReadOnlySpan<byte> file, int index)
    {
        if (file.Length < ChunkFileLayout.HeaderSize)
        {
            throw new ArgumentException("The span is shorter than a chunk-file header (64 bytes).", nameof(file));
        }

        uint count = BinaryPrimitives.ReadUInt32LittleEndian(file.Slice(ChunkFileLayout.EntryCountOffset));
        if (index < 0 || (uint)index >= count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, "The file has " + N(count) + " entries.");
        }

        long recordOffset = ChunkFileLayout.HeaderSize + ((long)ChunkFileLayout.EntrySize * index);
        if (recordOffset + ChunkFileLayout.EntrySize > file.Length)
        {
            throw new ArgumentException("The entry table lies outside the span; validate the file first.", nameof(file));
        }

        ReadOnlySpan<byte> record = file.Slice((int)recordOffset, ChunkFileLayout.EntrySize);
        ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(record.Slice(ChunkFileLayout.EntryOffsetOffset));
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(record.Slice(ChunkFileLayout.EntryLengthOffset));
        ulong fileLength = (ulong)file.Length;
        if (offset > fileLength || length > fileLength - offset)
        {
            throw new ArgumentException("Entry " + N(index) + " lies outside the span; validate the file first.", nameof(file));
        }

        return ((long)offset, (long)length);
    }

    private static void CheckLength(string fileName, ulong headerLength, long actualLength, long expectedLength)
    {
        ulong actual = (ulong)actualLength;
        if (actual < headerLength)
        {
            throw Fail(fileName, WeightFileProblem.LengthMismatch,
                "truncated: " + N(actualLength) + " bytes, the layout needs " + N(headerLength)
                + " — the file is incomplete; rebuild or copy it again" + ExpectedSuffix(headerLength, expectedLength));
        }

        if (actual > headerLength)
        {
            throw Fail(fileName, WeightFileProblem.LengthMismatch,
                "extended: " + N(actualLength) + " bytes, the layout needs " + N(headerLength) + " — "
                + N(actual - headerLength) + " extra bytes at the end; rebuild or copy it again" + ExpectedSuffix(headerLength, expectedLength));
        }

        if (headerLength != (ulong)expectedLength)
        {
            throw Fail(fileName, WeightFileProblem.LengthMismatch,
                "the file is " + N(actualLength) + " bytes, the model's layout needs " + N(expectedLength)
                + ": the file was packed for a different manifest; repack it");
        }
    }

    private static string ExpectedSuffix(ulong headerLength, long expectedLength) =>
        headerLength == (ulong)expectedLength
            ? string.Empty
            : " (and the model's layout needs " + N(expectedLength) + " bytes: the file was packed for a different manifest)";

    private static void CheckEntryBounds(long actualLength, string fileName, ReadOnlySpan<byte> table, int entryCount, long dataOffset, IReadOnlyList<string>? entryNames)
    {
        ulong fileLength = (ulong)actualLength;
        ulong previousEnd = (ulong)dataOffset;
        for (int i = 0; i < entryCount; i++)
        {
            ReadOnlySpan<byte> record = table.Slice(ChunkFileLayout.EntrySize * i, ChunkFileLayout.EntrySize);
            ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(record.Slice(ChunkFileLayout.EntryOffsetOffset));
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(record.Slice(ChunkFileLayout.EntryLengthOffset));
            ulong reserved = BinaryPrimitives.ReadUInt64LittleEndian(record.Slice(ChunkFileLayout.EntryReservedOffset));
            if (reserved != 0)
            {
                throw Fail(fileName, WeightFileProblem.TableCorrupt,
                    "entry " + EntryLabel(i, entryNames) + " has a nonzero reserved field " + Hex(reserved)
                    + " — the entry table is corrupt; repack the file");
            }

            if (offset % ChunkFileLayout.Alignment != 0)
            {
                throw Fail(fileName, WeightFileProblem.EntryOutOfBounds,
                    "entry " + EntryLabel(i, entryNames) + " starts at offset " + N(offset) + ", not a multiple of "
                    + N(ChunkFileLayout.Alignment) + " — the entry table is corrupt; repack the file");
            }

            if (offset < previousEnd)
            {
                throw Fail(fileName, WeightFileProblem.EntryOutOfBounds,
                    "entry " + EntryLabel(i, entryNames) + " starts at offset " + N(offset) + ", before " + N(previousEnd)
                    + " where " + (i == 0 ? "the entry table ends" : "the previous entry ends")
                    + " — the entry table is corrupt; repack the file");
            }

            if (offset > fileLength || length > fileLength - offset)
            {
                throw Fail(fileName, WeightFileProblem.EntryOutOfBounds,
                    "entry " + EntryLabel(i, entryNames) + " at offset " + N(offset) + " with length " + N(length)
                    + " ends past the end of the file (" + N(fileLength) + " bytes) — the entry table is corrupt; repack the file");
            }

            previousEnd = offset + length;
        }
    }

    private static void CheckData(ReadOnlySpan<byte> file, string fileName, ReadOnlySpan<byte> table, int entryCount, IReadOnlyList<string>? entryNames)
    {
        int tableEnd = ChunkFileLayout.HeaderSize + (ChunkFileLayout.EntrySize * entryCount);
        int paddingStart = tableEnd;
        for (int i = 0; i < entryCount; i++)
        {
            ReadOnlySpan<byte> record = table.Slice(ChunkFileLayout.EntrySize * i, ChunkFileLayout.EntrySize);

            // In bounds and below int.MaxValue: checked by CheckEntryBounds against the span's length.
            int offset = (int)BinaryPrimitives.ReadUInt64LittleEndian(record.Slice(ChunkFileLayout.EntryOffsetOffset));
            int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(record.Slice(ChunkFileLayout.EntryLengthOffset));
            ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(record.Slice(ChunkFileLayout.EntryChecksumOffset));

            CheckPadding(file, fileName, paddingStart, offset, i - 1, entryNames);

            ulong computed = XxHash3.HashToUInt64(file.Slice(offset, length));
            if (computed != stored)
            {
                throw Fail(fileName, WeightFileProblem.ChecksumMismatch,
                    "checksum mismatch in entry " + EntryLabel(i, entryNames) + ": the data is corrupt (stored " + Hex(stored)
                    + ", computed " + Hex(computed) + "); rebuild or copy the file again");
            }

            paddingStart = offset + length;
        }

        CheckPadding(file, fileName, paddingStart, file.Length, entryCount - 1, entryNames);
    }

    /// <summary>Checks that the bytes [start, end) after entry <paramref name="previousEntry"/> (-1: after the table) are zero.</summary>
    private static void CheckPadding(ReadOnlySpan<byte> file, string fileName, int start, int end, int previousEntry, IReadOnlyList<string>? entryNames)
    {
        ReadOnlySpan<byte> padding = file.Slice(start, end - start);
        int index = IndexOfNonZero(padding);
        if (index >= 0)
        {
            throw Fail(fileName, WeightFileProblem.ChecksumMismatch,
                "padding byte at offset " + N(start + index) + " after "
                + (previousEntry < 0 ? "the entry table" : "entry " + EntryLabel(previousEntry, entryNames)) + " is " + Hex(padding[index])
                + ", not zero: the data is corrupt; rebuild or copy the file again");
        }
    }

    private static int IndexOfNonZero(ReadOnlySpan<byte> bytes)
    {
#if NETSTANDARD2_0
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != 0)
            {
                return i;
            }
        }

        return -1;
#else
        return bytes.IndexOfAnyExcept((byte)0);
#endif
    }

    private static WeightFileException Fail(string fileName, WeightFileProblem problem, string detail) =>
        new(fileName, problem, detail);

    private static string EntryLabel(int index, IReadOnlyList<string>? entryNames) =>
        entryNames is not null && index < entryNames.Count && entryNames[index] is not null
            ? N(index) + " ('" + entryNames[index] + "')"
            : N(index);

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string N(ulong value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Hex(ulong value) => "0x" + value.ToString("X16", CultureInfo.InvariantCulture);

    private static string Hex(byte value) => "0x" + value.ToString("X2", CultureInfo.InvariantCulture);

    private static string HexBytes(ReadOnlySpan<byte> bytes)
    {
        var parts = new string[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
        {
            parts[i] = Hex(bytes[i]);
        }

        return string.Join(" ", parts);
    }
}
