using System;
using System.Collections.Generic;

namespace CodeGenChunk.Formats;

/// <summary>
/// The byte layout of a chunk file (<c>.cgcw</c>), format version 1: a 64-byte header, a table of
/// 32-byte entries, then each entry's data at a 64-aligned offset. <see cref="ComputeOffsets"/> is the
/// one place where entry placement is decided; the writer and the layout planner both call it.
/// </summary>
/// <remarks>
/// <code>
/// offset size  field
/// 0      4     magic "CGCW"
/// 4      2     u16 format version = 1
/// 6      2     u16 header size = 64
/// 8      8     u64 layout hash
/// 16     4     u32 entry count
/// 20     4     u32 alignment = 64
/// 24     8     u64 data offset
/// 32     8     u64 file length
/// 40     8     u64 table checksum (XxHash3 of the entry table)
/// 48     8     u64 header checksum (XxHash3 of header bytes [0,48))
/// 56     8     reserved, zero
/// 64     32*n  entry table: u64 offset, u64 length, u64 checksum, u64 reserved zero
/// </code>
/// All integers are little-endian.
/// </remarks>
public static class ChunkFileLayout
{
    /// <summary>Size of the header in bytes.</summary>
    public const int HeaderSize = 64;

    /// <summary>Size of one entry-table record in bytes.</summary>
    public const int EntrySize = 32;

    /// <summary>Alignment of every entry's data, and of the file length, in bytes.</summary>
    public const int Alignment = 64;

    /// <summary>The format version this library writes and reads.</summary>
    public const ushort FormatVersion = 1;

    /// <summary>The magic "CGCW" (bytes 0x43 0x47 0x43 0x57) read as a little-endian u32.</summary>
    public const uint Magic = 0x57434743u;

    /// <summary>Number of header bytes covered by the header checksum: [0, 48).</summary>
    public const int HeaderChecksummedSize = 48;

    // Field offsets inside the header.
    internal const int MagicOffset = 0;
    internal const int VersionOffset = 4;
    internal const int HeaderSizeOffset = 6;
    internal const int LayoutHashOffset = 8;
    internal const int EntryCountOffset = 16;
    internal const int AlignmentOffset = 20;
    internal const int DataOffsetOffset = 24;
    internal const int FileLengthOffset = 32;
    internal const int TableChecksumOffset = 40;
    internal const int HeaderChecksumOffset = 48;
    internal const int ReservedOffset = 56;

    // Field offsets inside an entry record.
    internal const int EntryOffsetOffset = 0;
    internal const int EntryLengthOffset = 8;
    internal const int EntryChecksumOffset = 16;
    internal const int EntryReservedOffset = 24;

    /// <summary>Rounds <paramref name="value"/> up to the next multiple of <see cref="Alignment"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is negative.</exception>
    /// <exception cref="OverflowException">The result does not fit in a <see cref="long"/>.</exception>
    public static long AlignUp(long value)
    {
        if (value < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "The value must not be negative.");
        }

        return checked(value + (Alignment - 1)) & ~(long)(Alignment - 1);
    }

    /// <summary>Offset of entry 0's data in a file of <paramref name="entryCount"/> entries: the end of the entry table, aligned.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="entryCount"/> is negative.</exception>
    public static long DataOffset(long entryCount)
    {
        if (entryCount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(entryCount), entryCount, "The entry count must not be negative.");
        }

        return AlignUp(checked(HeaderSize + (EntrySize * entryCount)));
    }

    /// <summary>
    /// Places entries of the given lengths: entry 0 starts at <see cref="DataOffset"/>, each next entry at the
    /// aligned end of the previous one. The file ends at the aligned end of the last entry (at the data offset
    /// when there are no entries).
    /// </summary>
    /// <param name="entryLengths">Length in bytes of each entry, in file order.</param>
    /// <param name="fileLength">Total length of the file in bytes.</param>
    /// <returns>The offset (from the start of the file) of each entry's data.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="entryLengths"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A length is negative.</exception>
    /// <exception cref="OverflowException">The file would be longer than <see cref="long.MaxValue"/>.</exception>
    public static long[] ComputeOffsets(IReadOnlyList<long> entryLengths, out long fileLength)
    {
        if (entryLengths is null)
        {
            throw new ArgumentNullException(nameof(entryLengths));
        }

        int count = entryLengths.Count;
        long[] offsets = new long[count];
        long position = DataOffset(count);
        for (int i = 0; i < count; i++)
        {
            long length = entryLengths[i];
            if (length < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(entryLengths), length, "Entry " + i.ToString(System.Globalization.CultureInfo.InvariantCulture) + " has a negative length.");
            }

            offsets[i] = position;
            position = AlignUp(checked(position + length));
        }

        fileLength = position;
        return offsets;
    }
}
