using System;
using System.Buffers.Binary;
using System.Globalization;

namespace CodeGenChunk.Formats;

/// <summary>
/// The 3.5-bit base-11 format of seed 004, bit-exact with its PyTorch packing. Per (row, group) of <c>groupSize</c>
/// consecutive inputs: <c>minHalf = fp16(min w)</c>, <c>maxHalf = fp16(max w)</c> (both rounded to binary16 first),
/// <c>rangeHalf = max(fp16(maxHalf - minHalf), fp16(1e-5))</c>; every weight maps to the FIRST index k minimising
/// <c>|((w - min) / range) * 2 - 1 - Codebook[k]|</c>, each operation rounded to float32 with <c>min</c>/<c>range</c>
/// the binary16 values widened to float32; 9 indices form one little-endian uint32 <c>Σ index[9p + i] · 11^i</c>, a
/// group padded with index 0 to a multiple of 9. Decoding is <c>HalfPlusOneTable[k] * range + min</c>, two float32
/// roundings (no fused multiply-add).
/// <para>
/// Layout: packed bytes <c>[row][group][PackBytes(groupLength)]</c>, min and range binary16 <c>[row][group]</c> with
/// <c>ceil(cols / groupSize)</c> groups per row. Unlike the seed, which silently drops the remainder of a row whose
/// length is not a multiple of <c>groupSize</c>, the remainder is kept as a shorter last group with its own min, range
/// and <c>PackBytes(cols % groupSize)</c> bytes; a row shorter than one group is one short group (the seed raises).
/// Padding indices decode to <c>min</c>, not 0: a decoder must emit only the group's real elements.
/// </para>
/// Results are identical on every target framework.
/// </summary>
public static class Base11Format
{
    /// <summary>Number of codebook entries (index values 0..10).</summary>
    public const int CodebookSize = 11;

    /// <summary>Indices per packed uint32.</summary>
    public const int IndicesPerWord = 9;

    /// <summary>Bytes per packed uint32.</summary>
    public const int WordBytes = 4;

    /// <summary>The largest valid packed uint32, <c>11^9 - 1</c>.</summary>
    public const uint MaxWord = 2357947690u;

    /// <summary>The smallest range: <c>fp16(1e-5)</c> = 168 · 2^-24 ≈ 1.0013580322265625e-05 (a binary16 subnormal).</summary>
    public const ushort MinRangeHalf = 0x00A8;

    // torch.linspace(-1, 1, 11) as ATen's scalar kernel computes it in float32; index 5 is exactly 0.
    private static readonly float[] codebook =
    {
        -1.0f,
        -0.800000011920929f,
        -0.6000000238418579f,
        -0.3999999761581421f,
        -0.19999998807907104f,
        0.0f,
        0.19999998807907104f,
        0.3999999761581421f,
        0.6000000238418579f,
        0.800000011920929f,
        1.0f,
    };

    private static readonly float[] halfPlusOne = HalfPlusOne();

    private static readonly uint[] powersOfEleven =
    {
        1u, 11u, 121u, 1331u, 14641u, 161051u, 1771561u, 19487171u, 214358881u,
    };

    /// <summary>The 11 codebook values, <c>torch.linspace(-1, 1, 11)</c> in float32 (index 5 is exactly 0).</summary>
    public static ReadOnlySpan<float> Codebook => codebook;

    /// <summary><c>(Codebook[k] + 1) / 2</c> in float32: the decoded fraction of the range above min.</summary>
    public static ReadOnlySpan<float> HalfPlusOneTable => halfPlusOne;

    /// <summary>Number of groups (and min/range pairs) per row: <c>ceil(cols / groupSize)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cols"/> is negative or <paramref name="groupSize"/> is not positive.</exception>
    public static int GroupsPerRow(int cols, int groupSize) => FormatArguments.GroupsPerRow(cols, groupSize, 1, "base11");

    /// <summary>Packed bytes of one group of <paramref name="groupLength"/> weights: <c>ceil(groupLength / 9) * 4</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="groupLength"/> is negative.</exception>
    public static int PackBytes(int groupLength)
    {
        if (groupLength < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(groupLength), groupLength, "The group length must not be negative.");
        }

        return (int)((((long)groupLength + IndicesPerWord - 1) / IndicesPerWord) * WordBytes);
    }

    /// <summary>
    /// Packed bytes per row: <c>(cols / groupSize) * PackBytes(groupSize) + PackBytes(cols % groupSize)</c>
    /// (the shorter last group needs fewer bytes).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cols"/> is negative or <paramref name="groupSize"/> is not positive.</exception>
    public static int RowBytes(int cols, int groupSize)
    {
        GroupsPerRow(cols, groupSize);
        long bytes = ((long)(cols / groupSize) * PackBytes(groupSize)) + PackBytes(cols % groupSize);
        if (bytes > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(cols), cols, "The packed row is larger than int.MaxValue bytes.");
        }

        return (int)bytes;
    }

    /// <summary>Quantizes and packs a row-major <c>[rows][cols]</c> weight matrix.</summary>
    /// <param name="weights">Row-major <c>[rows][cols]</c> float weights; all finite, and every group's min, max and
    /// max - min representable in binary16.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="cols">Number of columns (inputs) per row.</param>
    /// <param name="groupSize">Number of consecutive inputs of a row sharing one min and range.</param>
    /// <param name="packed">Receives <c>rows * RowBytes(cols, groupSize)</c> bytes.</param>
    /// <param name="minHalf">Receives row-major <c>[rows][GroupsPerRow(cols, groupSize)]</c> binary16 minima.</param>
    /// <param name="rangeHalf">Receives row-major <c>[rows][GroupsPerRow(cols, groupSize)]</c> binary16 ranges.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, a weight is NaN or infinite, or a group's min, max
    /// or range overflows binary16 (the message names the index or the group).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or <paramref name="groupSize"/> is not positive.</exception>
    public static void Quantize(ReadOnlySpan<float> weights, int rows, int cols, int groupSize, Span<byte> packed, Span<ushort> minHalf, Span<ushort> rangeHalf)
    {
        int groupsPerRow = FormatArguments.CheckShape(rows, cols, groupSize, 1, "base11", out int count, out int groupCount);
        int rowBytes = RowBytes(cols, groupSize);
        FormatArguments.CheckLength(weights.Length, count, nameof(weights));
        FormatArguments.CheckLength(packed.Length, FormatArguments.Total(rows, rowBytes), nameof(packed));
        FormatArguments.CheckLength(minHalf.Length, groupCount, nameof(minHalf));
        FormatArguments.CheckLength(rangeHalf.Length, groupCount, nameof(rangeHalf));

        // Reject bad input before writing anything: non-finite weights, then groups whose metadata overflows binary16.
        FormatArguments.CheckFinite(weights, cols);
        for (int r = 0; r < rows; r++)
        {
            for (int g = 0; g < groupsPerRow; g++)
            {
                GroupMetadata(weights.Slice(r * cols, cols), r, g, cols, groupSize, out _, out _);
            }
        }

        int packStride = PackBytes(groupSize);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = weights.Slice(r * cols, cols);
            Span<byte> packedRow = packed.Slice(r * rowBytes, rowBytes);
            for (int g = 0; g < groupsPerRow; g++)
            {
                GroupMetadata(row, r, g, cols, groupSize, out ushort minBits, out ushort rangeBits);
                minHalf[(r * groupsPerRow) + g] = minBits;
                rangeHalf[(r * groupsPerRow) + g] = rangeBits;
                float min = HalfFormat.ToSingle(minBits);
                float range = HalfFormat.ToSingle(rangeBits);

                int groupStart = g * groupSize;
                int length = Math.Min(groupSize, cols - groupStart);
                ReadOnlySpan<float> group = row.Slice(groupStart, length);
                Span<byte> packedGroup = packedRow.Slice(g * packStride, PackBytes(length));
                for (int p = 0; p * IndicesPerWord < length; p++)
                {
                    uint word = 0;
                    for (int i = 0; i < IndicesPerWord; i++)
                    {
                        int k = (p * IndicesPerWord) + i;
                        if (k < length)
                        {
                            word += (uint)NearestIndex(group[k], min, range) * powersOfEleven[i];
                        }
                    }

                    BinaryPrimitives.WriteUInt32LittleEndian(packedGroup.Slice(p * WordBytes), word);
                }
            }
        }
    }

    /// <summary>
    /// The codebook index of one weight given its group's min and range (binary16 values widened to float32):
    /// the first k minimising <c>|((w - min) / range) * 2 - 1 - Codebook[k]|</c>, each operation in float32.
    /// </summary>
    public static int NearestIndex(float weight, float min, float range)
    {
        float normed = (float)((float)(weight - min) / range);
        float centered = (float)((float)(normed * 2f) - 1f);
        int best = 0;
        float bestDistance = Math.Abs((float)(centered - codebook[0]));
        for (int k = 1; k < CodebookSize; k++)
        {
            float distance = Math.Abs((float)(centered - codebook[k]));
            if (distance < bestDistance)
            {
                best = k;
                bestDistance = distance;
            }
        }

        return best;
    }

    /// <summary>Decodes one value: <c>HalfPlusOneTable[index] * range + min</c> with two float32 roundings.</summary>
    public static float Dequantize(int index, float min, float range) => (float)((float)(halfPlusOne[index] * range) + min);

    /// <summary>
    /// The reference decoder: for every real element of every group,
    /// <c>output = HalfPlusOneTable[index] * range + min</c> in float32. Padding indices are never decoded.
    /// </summary>
    /// <param name="packed">The <c>rows * RowBytes(cols, groupSize)</c> packed bytes.</param>
    /// <param name="minHalf">Row-major <c>[rows][GroupsPerRow(cols, groupSize)]</c> binary16 minima.</param>
    /// <param name="rangeHalf">Row-major <c>[rows][GroupsPerRow(cols, groupSize)]</c> binary16 ranges.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="cols">Number of columns per row.</param>
    /// <param name="groupSize">Number of consecutive inputs of a row sharing one min and range.</param>
    /// <param name="output">Receives row-major <c>[rows][cols]</c> floats.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or a packed uint32 is larger than
    /// <see cref="MaxWord"/> (not nine base-11 digits).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or <paramref name="groupSize"/> is not positive.</exception>
    public static void Dequantize(ReadOnlySpan<byte> packed, ReadOnlySpan<ushort> minHalf, ReadOnlySpan<ushort> rangeHalf, int rows, int cols, int groupSize, Span<float> output)
    {
        int groupsPerRow = FormatArguments.CheckShape(rows, cols, groupSize, 1, "base11", out int count, out int groupCount);
        int rowBytes = RowBytes(cols, groupSize);
        FormatArguments.CheckLength(packed.Length, FormatArguments.Total(rows, rowBytes), nameof(packed));
        FormatArguments.CheckLength(minHalf.Length, groupCount, nameof(minHalf));
        FormatArguments.CheckLength(rangeHalf.Length, groupCount, nameof(rangeHalf));
        FormatArguments.CheckLength(output.Length, count, nameof(output));

        for (int offset = 0; offset < packed.Length; offset += WordBytes)
        {
            uint word = BinaryPrimitives.ReadUInt32LittleEndian(packed.Slice(offset));
            if (word > MaxWord)
            {
                throw new ArgumentException(
                    "The uint32 at packed[" + FormatArguments.I(offset) + "] = " + word.ToString(CultureInfo.InvariantCulture)
                    + " is not nine base-11 digits (at most " + MaxWord.ToString(CultureInfo.InvariantCulture) + ").",
                    nameof(packed));
            }
        }

        int packStride = PackBytes(groupSize);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<byte> packedRow = packed.Slice(r * rowBytes, rowBytes);
            Span<float> outputRow = output.Slice(r * cols, cols);
            for (int g = 0; g < groupsPerRow; g++)
            {
                float min = HalfFormat.ToSingle(minHalf[(r * groupsPerRow) + g]);
                float range = HalfFormat.ToSingle(rangeHalf[(r * groupsPerRow) + g]);
                int groupStart = g * groupSize;
                int length = Math.Min(groupSize, cols - groupStart);
                ReadOnlySpan<byte> packedGroup = packedRow.Slice(g * packStride, PackBytes(length));
                for (int p = 0; p * IndicesPerWord < length; p++)
                {
                    uint word = BinaryPrimitives.ReadUInt32LittleEndian(packedGroup.Slice(p * WordBytes));
                    for (int i = 0; i < IndicesPerWord; i++)
                    {
                        int k = (p * IndicesPerWord) + i;
                        if (k < length)
                        {
                            outputRow[groupStart + k] = Dequantize((int)(word % CodebookSize), min, range);
                        }

                        word /= CodebookSize;
                    }
                }
            }
        }
    }

    /// <summary>fp16 min and range of group <paramref name="g"/> of a row; throws when binary16 overflows.</summary>
    private static void GroupMetadata(ReadOnlySpan<float> row, int r, int g, int cols, int groupSize, out ushort minBits, out ushort rangeBits)
    {
        int groupStart = g * groupSize;
        int groupEnd = Math.Min(groupStart + groupSize, cols);
        int minAt = groupStart;
        int maxAt = groupStart;
        for (int c = groupStart + 1; c < groupEnd; c++)
        {
            // Strict comparisons: the first of equal extremes wins (this decides the sign of a zero min or max).
            if (row[c] < row[minAt])
            {
                minAt = c;
            }

            if (row[c] > row[maxAt])
            {
                maxAt = c;
            }
        }

        int index = (r * cols) + minAt;
        if (!HalfFormat.TryFromSingle(row[minAt], out minBits))
        {
            throw Overflow(index, cols, row[minAt], "minimum");
        }

        if (!HalfFormat.TryFromSingle(row[maxAt], out ushort maxBits))
        {
            throw Overflow((r * cols) + maxAt, cols, row[maxAt], "maximum");
        }

        float difference = (float)(HalfFormat.ToSingle(maxBits) - HalfFormat.ToSingle(minBits));
        if (!HalfFormat.TryFromSingle(difference, out rangeBits))
        {
            throw new ArgumentException(
                "Row " + FormatArguments.I(r) + ", group " + FormatArguments.I(g) + " (columns " + FormatArguments.I(groupStart)
                + ".." + FormatArguments.I(groupEnd - 1) + "): the range max - min = " + FormatArguments.R(difference)
                + " overflows binary16 (at most 65504; values are not saturated).",
                "weights");
        }

        // Both operands are non-negative binary16 values, so their bit patterns order like their values.
        if (rangeBits < MinRangeHalf)
        {
            rangeBits = MinRangeHalf;
        }
    }

    private static ArgumentException Overflow(int index, int cols, float value, string what) =>
        new ArgumentException(
            FormatArguments.Where(index, cols) + " = " + FormatArguments.R(value) + " is its group's " + what
            + " and overflows binary16 (|w| must round to at most 65504; values are not saturated).",
            "weights");

    private static float[] HalfPlusOne()
    {
        float[] table = new float[CodebookSize];
        for (int k = 0; k < CodebookSize; k++)
        {
            table[k] = (float)((float)(codebook[k] + 1f) / 2f);
        }

        return table;
    }
}
