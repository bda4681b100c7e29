using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Hashing;
#if NETSTANDARD2_0
using System.Buffers;
using System.Runtime.InteropServices;
#endif

namespace CodeGenChunk.Formats;

/// <summary>
/// Writes chunk files (<c>.cgcw</c>, see <see cref="ChunkFileLayout"/>). The output is a pure function of the
/// layout hash and the entries' bytes: identical input gives byte-identical files.
/// </summary>
public static class ChunkFileWriter
{
#if NETSTANDARD2_0
    private const int CopyBufferSize = 81920;
#endif

    private static readonly byte[] Zeros = new byte[ChunkFileLayout.Alignment];

    /// <summary>Writes a chunk file holding <paramref name="entries"/> (in order) to <paramref name="destination"/>.</summary>
    /// <param name="destination">A writable stream; written sequentially from its current position.</param>
    /// <param name="layoutHash">Identifies the layout the file is packed for; stored in the header.</param>
    /// <param name="entries">The bytes of each entry, in file order.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static void Write(Stream destination, ulong layoutHash, IReadOnlyList<ReadOnlyMemory<byte>> entries)
    {
        if (destination is null)
        {
            throw new ArgumentNullException(nameof(destination));
        }

        byte[] prefix = BuildHeaderAndTable(layoutHash, entries, out long[] offsets, out long fileLength);
        destination.Write(prefix, 0, prefix.Length);
        long position = prefix.Length;
        for (int i = 0; i < entries.Count; i++)
        {
            WriteZeros(destination, offsets[i] - position);
            ReadOnlyMemory<byte> entry = entries[i];
            WriteBytes(destination, entry);
            position = offsets[i] + entry.Length;
        }

        WriteZeros(destination, fileLength - position);
    }

    /// <summary>Returns the chunk file holding <paramref name="entries"/> (in order) as a byte array.</summary>
    /// <param name="layoutHash">Identifies the layout the file is packed for; stored in the header.</param>
    /// <param name="entries">The bytes of each entry, in file order.</param>
    /// <exception cref="ArgumentNullException"><paramref name="entries"/> is null.</exception>
    /// <exception cref="ArgumentException">The file would not fit in a byte array.</exception>
    public static byte[] ToArray(ulong layoutHash, IReadOnlyList<ReadOnlyMemory<byte>> entries)
    {
        byte[] prefix = BuildHeaderAndTable(layoutHash, entries, out long[] offsets, out long fileLength);
        if (fileLength > int.MaxValue)
        {
            throw new ArgumentException("The chunk file would be larger than 2 GB; use Write with a stream.", nameof(entries));
        }

        byte[] file = new byte[fileLength];
        prefix.CopyTo(file, 0);
        for (int i = 0; i < entries.Count; i++)
        {
            entries[i].Span.CopyTo(file.AsSpan((int)offsets[i]));
        }

        return file;
    }

    /// <summary>Header and entry table, followed by zero padding up to the data offset.</summary>
    private static byte[] BuildHeaderAndTable(ulong layoutHash, IReadOnlyList<ReadOnlyMemory<byte>> entries, out long[] offsets, out long fileLength)
    {
        if (entries is null)
        {
            throw new ArgumentNullException(nameof(entries));
        }

        int count = entries.Count;
        long[] lengths = new long[count];
        for (int i = 0; i < count; i++)
        {
            lengths[i] = entries[i].Length;
        }

        offsets = ChunkFileLayout.ComputeOffsets(lengths, out fileLength);
        long dataOffset = ChunkFileLayout.DataOffset(count);
        if (dataOffset > int.MaxValue)
        {
            throw new ArgumentException("Too many entries.", nameof(entries));
        }

        byte[] prefix = new byte[dataOffset];
        Span<byte> table = prefix.AsSpan(ChunkFileLayout.HeaderSize, ChunkFileLayout.EntrySize * count);
        for (int i = 0; i < count; i++)
        {
            Span<byte> record = table.Slice(ChunkFileLayout.EntrySize * i, ChunkFileLayout.EntrySize);
            BinaryPrimitives.WriteUInt64LittleEndian(record.Slice(ChunkFileLayout.EntryOffsetOffset), (ulong)offsets[i]);
            BinaryPrimitives.WriteUInt64LittleEndian(record.Slice(ChunkFileLayout.EntryLengthOffset), (ulong)lengths[i]);
            BinaryPrimitives.WriteUInt64LittleEndian(record.Slice(ChunkFileLayout.EntryChecksumOffset), XxHash3.HashToUInt64(entries[i].Span));
            BinaryPrimitives.WriteUInt64LittleEndian(record.Slice(ChunkFileLayout.EntryReservedOffset), 0UL);
        }

        var header = new ChunkFileHeader(
            ChunkFileLayout.Magic,
            ChunkFileLayout.FormatVersion,
            ChunkFileLayout.HeaderSize,
            layoutHash,
            (uint)count,
            ChunkFileLayout.Alignment,
            (ulong)dataOffset,
            (ulong)fileLength,
            XxHash3.HashToUInt64(table),
            headerChecksum: 0,
            reserved: 0);
        header.Write(prefix);
        ulong headerChecksum = XxHash3.HashToUInt64(prefix.AsSpan(0, ChunkFileLayout.HeaderChecksummedSize));
        BinaryPrimitives.WriteUInt64LittleEndian(prefix.AsSpan(ChunkFileLayout.HeaderChecksumOffset), headerChecksum);
        return prefix;
    }

    private static void WriteZeros(Stream destination, long count)
    {
        while (count > 0)
        {
            int n = (int)Math.Min(count, Zeros.Length);
            destination.Write(Zeros, 0, n);
            count -= n;
        }
    }

    private static void WriteBytes(Stream destination, ReadOnlyMemory<byte> bytes)
    {
#if NETSTANDARD2_0
        if (MemoryMarshal.TryGetArray(bytes, out ArraySegment<byte> segment) && segment.Array is not null)
        {
            destination.Write(segment.Array, segment.Offset, segment.Count);
            return;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Min(bytes.Length, CopyBufferSize));
        try
        {
            ReadOnlySpan<byte> remaining = bytes.Span;
            while (!remaining.IsEmpty)
            {
                int n = Math.Min(remaining.Length, buffer.Length);
                remaining.Slice(0, n).CopyTo(buffer);
                destination.Write(buffer, 0, n);
                remaining = remaining.Slice(n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
#else
        destination.Write(bytes.Span);
#endif
    }
}
