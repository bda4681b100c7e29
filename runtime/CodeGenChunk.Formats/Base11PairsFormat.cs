using System;

namespace CodeGenChunk.Formats;

/// <summary>
/// The "pairs" kernel layout of base11 weights (docs/formats.md, "base11 pairs"): the same quantization as
/// <see cref="Base11Format"/> — the same binary16 min and range per (row, group) and the same index 0..10 of every
/// weight — arranged for integer kernels instead of nine indices per uint32. Each group is cut into blocks of
/// <see cref="BlockWeights"/> = 128 weights; in a block with indices <c>d[0..127]</c>, code
/// <c>c_j = d[j] + 11 · d[64 + j]</c> (j = 0..63, at most 120: seven bits) and the 64 codes form a little-endian bit
/// stream of <see cref="BlockBytes"/> = 56 bytes, code j at bits 7j..7j+6 (so every 7 bytes hold 8 whole codes).
/// <para>
/// A group whose length n is not a multiple of 128 ends in a short block of the same 56 bytes, its indices from n on
/// padded with 0 (digit 0 times any activation adds 0 to Σ d · q; the float decoder never reads them): a group takes
/// <c>ceil(n / 128) · 56</c> bytes. Layout: bytes <c>[row][group][PackBytes(groupLength)]</c>, min and range binary16
/// <c>[row][group]</c> as in <see cref="Base11Format"/>. Bits per weight with whole blocks:
/// <c>3.5 + 32 / groupSize</c> (3.625 for groups of 256), against the word layout's <c>32 / 9 + 32 / groupSize</c>.
/// </para>
/// </summary>
public static class Base11PairsFormat
{
    /// <summary>Weights per block: 64 codes of two indices.</summary>
    public const int BlockWeights = 128;

    /// <summary>Codes per block.</summary>
    public const int BlockCodes = 64;

    /// <summary>Bytes per block: 64 codes of 7 bits.</summary>
    public const int BlockBytes = 56;

    /// <summary>Bits per code.</summary>
    public const int CodeBits = 7;

    /// <summary>Bytes of one group of <paramref name="groupLength"/> weights: <c>ceil(groupLength / 128) · 56</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="groupLength"/> is negative.</exception>
    public static int PackBytes(int groupLength)
    {
        if (groupLength < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(groupLength), groupLength, "The group length must not be negative.");
        }

        return (int)((((long)groupLength + BlockWeights - 1) / BlockWeights) * BlockBytes);
    }

    /// <summary>Bytes of one row: whole groups, then the shorter last group.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cols"/> is negative or <paramref name="groupSize"/> is not positive.</exception>
    public static int RowBytes(int cols, int groupSize)
    {
        Base11Format.GroupsPerRow(cols, groupSize);
        long bytes = ((long)(cols / groupSize) * PackBytes(groupSize)) + PackBytes(cols % groupSize);
        if (bytes > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(cols), cols, "The packed row is larger than int.MaxValue bytes.");
        }

        return (int)bytes;
    }

    /// <summary>Quantizes as <see cref="Base11Format.Quantize"/> (same min, range and indices) and writes the pairs layout.</summary>
    /// <param name="weights">Row-major <c>[rows][cols]</c> float weights.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="cols">Number of columns per row.</param>
    /// <param name="groupSize">Inputs per group.</param>
    /// <param name="packed">Receives <c>rows · RowBytes(cols, groupSize)</c> bytes.</param>
    /// <param name="minHalf">Receives the binary16 minima <c>[rows][groups]</c>.</param>
    /// <param name="rangeHalf">Receives the binary16 ranges <c>[rows][groups]</c>.</param>
    public static void Quantize(ReadOnlySpan<float> weights, int rows, int cols, int groupSize, Span<byte> packed, Span<ushort> minHalf, Span<ushort> rangeHalf)
    {
        var words = new byte[(long)rows * Base11Format.RowBytes(cols, groupSize)];
        Base11Format.Quantize(weights, rows, cols, groupSize, words, minHalf, rangeHalf);
        FromWords(words, rows, cols, groupSize, packed);
    }

    /// <summary>Rearranges <see cref="Base11Format"/>'s packed words (nine indices per uint32) into the pairs layout.</summary>
    /// <exception cref="ArgumentException">A span has the wrong length or a word is not nine base-11 digits.</exception>
    public static void FromWords(ReadOnlySpan<byte> words, int rows, int cols, int groupSize, Span<byte> packed)
    {
        int groups = Base11Format.GroupsPerRow(cols, groupSize);
        int wordRow = Base11Format.RowBytes(cols, groupSize);
        int pairRow = RowBytes(cols, groupSize);
        FormatArguments.CheckLength(words.Length, FormatArguments.Total(rows, wordRow), nameof(words));
        FormatArguments.CheckLength(packed.Length, FormatArguments.Total(rows, pairRow), nameof(packed));
        var digits = new byte[Math.Max(groupSize, 1)];
        for (int r = 0; r < rows; r++)
        {
            for (int g = 0; g < groups; g++)
            {
                int length = Math.Min(groupSize, cols - (g * groupSize));
                var source = words.Slice((r * wordRow) + (g * Base11Format.PackBytes(groupSize)), Base11Format.PackBytes(length));
                for (int p = 0; p * Base11Format.IndicesPerWord < length; p++)
                {
                    uint word = (uint)(source[4 * p] | (source[(4 * p) + 1] << 8) | (source[(4 * p) + 2] << 16) | (source[(4 * p) + 3] << 24));
                    if (word > Base11Format.MaxWord)
                    {
                        throw new ArgumentException("The packed uint32 of row " + FormatArguments.I(r) + ", group " + FormatArguments.I(g) + ", word " + FormatArguments.I(p) + " is not nine base-11 digits.", nameof(words));
                    }

                    for (int i = 0; i < Base11Format.IndicesPerWord; i++, word /= Base11Format.CodebookSize)
                    {
                        int k = (p * Base11Format.IndicesPerWord) + i;
                        if (k < length)
                        {
                            digits[k] = (byte)(word % Base11Format.CodebookSize);
                        }
                    }
                }

                PackGroup(digits.AsSpan(0, length), packed.Slice((r * pairRow) + (g * PackBytes(groupSize)), PackBytes(length)));
            }
        }
    }

    /// <summary>Writes the pairs bytes of one group's indices (each 0..10): <c>PackBytes(digits.Length)</c> bytes.</summary>
    /// <exception cref="ArgumentException">An index is larger than 10 or <paramref name="destination"/> has the wrong length.</exception>
    public static void PackGroup(ReadOnlySpan<byte> digits, Span<byte> destination)
    {
        FormatArguments.CheckLength(destination.Length, PackBytes(digits.Length), nameof(destination));
        destination.Clear();
        for (int b = 0; b * BlockWeights < digits.Length; b++)
        {
            var block = destination.Slice(b * BlockBytes, BlockBytes);
            for (int j = 0; j < BlockCodes; j++)
            {
                int lo = At(digits, (b * BlockWeights) + j);
                int hi = At(digits, (b * BlockWeights) + BlockCodes + j);
                int code = lo + (Base11Format.CodebookSize * hi);
                int bit = CodeBits * j;
                int pair = code << (bit & 7);
                block[bit >> 3] |= (byte)pair;
                if ((bit & 7) > 1)
                {
                    block[(bit >> 3) + 1] |= (byte)(pair >> 8);
                }
            }
        }
    }

    /// <summary>Index <paramref name="i"/> (0..10) of a group's pairs bytes.</summary>
    public static int Index(ReadOnlySpan<byte> group, int i)
    {
        int code = Code(group.Slice((i / BlockWeights) * BlockBytes, BlockBytes), i % BlockCodes);
        return (i % BlockWeights) < BlockCodes ? code % Base11Format.CodebookSize : code / Base11Format.CodebookSize;
    }

    /// <summary>Code <paramref name="j"/> (0..63) of one 56-byte block.</summary>
    public static int Code(ReadOnlySpan<byte> block, int j)
    {
        int bit = CodeBits * j;
        int at = bit >> 3;
        int v = block[at] | (at + 1 < BlockBytes ? block[at + 1] << 8 : 0);
        return (v >> (bit & 7)) & 0x7F;
    }

    /// <summary>The reference decoder: <c>HalfPlusOneTable[index] · range + min</c> for every real weight, as <see cref="Base11Format.Dequantize(ReadOnlySpan{byte}, ReadOnlySpan{ushort}, ReadOnlySpan{ushort}, int, int, int, Span{float})"/>.</summary>
    public static void Dequantize(ReadOnlySpan<byte> packed, ReadOnlySpan<ushort> minHalf, ReadOnlySpan<ushort> rangeHalf, int rows, int cols, int groupSize, Span<float> output)
    {
        int groups = FormatArguments.CheckShape(rows, cols, groupSize, 1, "base11", out int count, out int groupCount);
        int rowBytes = RowBytes(cols, groupSize);
        FormatArguments.CheckLength(packed.Length, FormatArguments.Total(rows, rowBytes), nameof(packed));
        FormatArguments.CheckLength(minHalf.Length, groupCount, nameof(minHalf));
        FormatArguments.CheckLength(rangeHalf.Length, groupCount, nameof(rangeHalf));
        FormatArguments.CheckLength(output.Length, count, nameof(output));
        for (int r = 0; r < rows; r++)
        {
            for (int g = 0; g < groups; g++)
            {
                float min = HalfFormat.ToSingle(minHalf[(r * groups) + g]);
                float range = HalfFormat.ToSingle(rangeHalf[(r * groups) + g]);
                int length = Math.Min(groupSize, cols - (g * groupSize));
                var group = packed.Slice((r * rowBytes) + (g * PackBytes(groupSize)), PackBytes(length));
                for (int i = 0; i < length; i++)
                {
                    int code = Code(group.Slice((i / BlockWeights) * BlockBytes, BlockBytes), i % BlockCodes);
                    int index = (i % BlockWeights) < BlockCodes ? code % Base11Format.CodebookSize : code / Base11Format.CodebookSize;
                    if (code >= Base11Format.CodebookSize * Base11Format.CodebookSize)
                    {
                        throw new ArgumentException("A code of row " + FormatArguments.I(r) + ", group " + FormatArguments.I(g) + " is larger than 120.", nameof(packed));
                    }

                    output[(r * cols) + (g * groupSize) + i] = Base11Format.Dequantize(index, min, range);
                }
            }
        }
    }

    private static int At(ReadOnlySpan<byte> digits, int i)
    {
        if (i >= digits.Length)
        {
            return 0;
        }

        int d = digits[i];
        if (d >= Base11Format.CodebookSize)
        {
            throw new ArgumentException("Index " + FormatArguments.I(i) + " is " + FormatArguments.I(d) + ", not 0..10.", nameof(digits));
        }

        return d;
    }
}
