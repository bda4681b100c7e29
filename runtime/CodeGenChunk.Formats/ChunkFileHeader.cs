using System;
using System.Buffers.Binary;

namespace CodeGenChunk.Formats;

/// <summary>The fields of a chunk-file header, as stored (nothing is checked by <see cref="Read"/>).</summary>
public readonly struct ChunkFileHeader
{
    /// <summary>Creates a header from its fields.</summary>
    public ChunkFileHeader(
        uint magic,
        ushort formatVersion,
        ushort headerSize,
        ulong layoutHash,
        uint entryCount,
        uint alignment,
        ulong dataOffset,
        ulong fileLength,
        ulong tableChecksum,
        ulong headerChecksum,
        ulong reserved)
    {
        Magic = magic;
        FormatVersion = formatVersion;
        HeaderSize = headerSize;
        LayoutHash = layoutHash;
        EntryCount = entryCount;
        Alignment = alignment;
        DataOffset = dataOffset;
        FileLength = fileLength;
        TableChecksum = tableChecksum;
        HeaderChecksum = headerChecksum;
        Reserved = reserved;
    }

    /// <summary>Magic number; <see cref="ChunkFileLayout.Magic"/> in a valid file.</summary>
    public uint Magic { get; }

    /// <summary>Format version; <see cref="ChunkFileLayout.FormatVersion"/> in a valid file.</summary>
    public ushort FormatVersion { get; }

    /// <summary>Header size; <see cref="ChunkFileLayout.HeaderSize"/> in a valid file.</summary>
    public ushort HeaderSize { get; }

    /// <summary>Hash of the layout the file was packed for.</summary>
    public ulong LayoutHash { get; }

    /// <summary>Number of entries in the entry table.</summary>
    public uint EntryCount { get; }

    /// <summary>Alignment of entry data; <see cref="ChunkFileLayout.Alignment"/> in a valid file.</summary>
    public uint Alignment { get; }

    /// <summary>Offset of entry 0's data.</summary>
    public ulong DataOffset { get; }

    /// <summary>Total length of the file in bytes.</summary>
    public ulong FileLength { get; }

    /// <summary>XxHash3 (seed 0) of the entry table bytes.</summary>
    public ulong TableChecksum { get; }

    /// <summary>XxHash3 (seed 0) of header bytes [0, 48).</summary>
    public ulong HeaderChecksum { get; }

    /// <summary>Reserved; zero in a valid file.</summary>
    public ulong Reserved { get; }

    /// <summary>Reads the header fields from the first <see cref="ChunkFileLayout.HeaderSize"/> bytes of <paramref name="file"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="file"/> is shorter than the header.</exception>
    public static ChunkFileHeader Read(ReadOnlySpan<byte> file)
    {
        if (file.Length < ChunkFileLayout.HeaderSize)
        {
            throw new ArgumentException("The span is shorter than a chunk-file header (64 bytes).", nameof(file));
        }

        return new ChunkFileHeader(
            BinaryPrimitives.ReadUInt32LittleEndian(file.Slice(ChunkFileLayout.MagicOffset)),
            BinaryPrimitives.ReadUInt16LittleEndian(file.Slice(ChunkFileLayout.VersionOffset)),
            BinaryPrimitives.ReadUInt16LittleEndian(file.Slice(ChunkFileLayout.HeaderSizeOffset)),
            BinaryPrimitives.ReadUInt64LittleEndian(file.Slice(ChunkFileLayout.LayoutHashOffset)),
            BinaryPrimitives.ReadUInt32LittleEndian(file.Slice(ChunkFileLayout.EntryCountOffset)),
            BinaryPrimitives.ReadUInt32LittleEndian(file.Slice(ChunkFileLayout.AlignmentOffset)),
            BinaryPrimitives.ReadUInt64LittleEndian(file.Slice(ChunkFileLayout.DataOffsetOffset)),
            BinaryPrimitives.ReadUInt64LittleEndian(file.Slice(ChunkFileLayout.FileLengthOffset)),
            BinaryPrimitives.ReadUInt64LittleEndian(file.Slice(ChunkFileLayout.TableChecksumOffset)),
            BinaryPrimitives.ReadUInt64LittleEndian(file.Slice(ChunkFileLayout.HeaderChecksumOffset)),
            BinaryPrimitives.ReadUInt64LittleEndian(file.Slice(ChunkFileLayout.ReservedOffset)));
    }

    /// <summary>
    /// Writes the header into the first <see cref="ChunkFileLayout.HeaderSize"/> bytes of <paramref name="destination"/>
    /// exactly as stored (the checksum fields are written as given).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than the header.</exception>
    public void Write(Span<byte> destination)
    {
        if (destination.Length < ChunkFileLayout.HeaderSize)
        {
            throw new ArgumentException("The span is shorter than a chunk-file header (64 bytes).", nameof(destination));
        }

        BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(ChunkFileLayout.MagicOffset), Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination.Slice(ChunkFileLayout.VersionOffset), FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(destination.Slice(ChunkFileLayout.HeaderSizeOffset), HeaderSize);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(ChunkFileLayout.LayoutHashOffset), LayoutHash);
        BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(ChunkFileLayout.EntryCountOffset), EntryCount);
        BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(ChunkFileLayout.AlignmentOffset), Alignment);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(ChunkFileLayout.DataOffsetOffset), DataOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(ChunkFileLayout.FileLengthOffset), FileLength);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(ChunkFileLayout.TableChecksumOffset), TableChecksum);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(ChunkFileLayout.HeaderChecksumOffset), HeaderChecksum);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(ChunkFileLayout.ReservedOffset), Reserved);
    }
}
