using System;
using CodeGenChunk.Formats;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>
/// The chunk files embedded in this assembly (Fixtures/*.cgcw) and the deterministic data they hold.
/// EmbeddedFixtureTests checks that ChunkFileWriter still produces them byte for byte.
/// </summary>
internal static class TestFixtures
{
    public const string TinyResourceName = "CodeGenChunk.Runtime.Tests.Fixtures.tiny.cgcw";
    public const string TinyFileName = "tiny.cgcw";
    public const ulong TinyLayoutHash = 0x0123_4567_89AB_CDEFUL;
    public static readonly int[] TinyLengths = [10, 100, 0, 1];
    public static readonly string[] TinyNames = ["embed.weight", "blocks.0.l0.weight", "empty", "blocks.0.l0.bias"];

    public const string LargeResourceName = "CodeGenChunk.Runtime.Tests.Fixtures.large.cgcw";
    public const string LargeFileName = "large.cgcw";
    public const ulong LargeLayoutHash = 0xFEDC_BA98_7654_3210UL;
    public static readonly int[] LargeLengths = [262_144, 262_000, 262_144, 262_100];

    /// <summary>Entry i, byte j = (j * 31 + i * 7 + 1) mod 256: deterministic, and compresses well in git.</summary>
    public static ReadOnlyMemory<byte>[] PatternEntries(int[] lengths)
    {
        var entries = new ReadOnlyMemory<byte>[lengths.Length];
        for (int i = 0; i < lengths.Length; i++)
        {
            byte[] data = new byte[lengths[i]];
            for (int j = 0; j < data.Length; j++)
            {
                data[j] = (byte)((j * 31) + (i * 7) + 1);
            }

            entries[i] = data;
        }

        return entries;
    }

    public static byte[] TinyBytes() => ChunkFileWriter.ToArray(TinyLayoutHash, PatternEntries(TinyLengths));

    public static byte[] LargeBytes() => ChunkFileWriter.ToArray(LargeLayoutHash, PatternEntries(LargeLengths));

    public static long FileLength(int[] lengths)
    {
        long[] asLong = Array.ConvertAll(lengths, x => (long)x);
        _ = ChunkFileLayout.ComputeOffsets(asLong, out long fileLength);
        return fileLength;
    }
}
