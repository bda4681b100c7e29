using System;

namespace CodeGenChunk.Formats;

/// <summary>
/// Symmetric int4 weights with one float32 scale per group of <c>groupSize</c> consecutive inputs of a row (the last
/// group of a row is shorter when <c>cols % groupSize != 0</c>): <c>scale = maxAbs / 7</c>,
/// <c>q = clamp(roundToEven(w / scale), -7, 7)</c> in float32 (<c>scale = 0</c>, <c>q = 0</c> for a group of zeros),
/// stored as the nibble <c>q + 8</c>; decoding is <c>w ≈ (nibble - 8) * scale</c>.
/// <para>
/// Layout: each row is <c>ceil(cols / 32)</c> blocks of 32 elements in 16 bytes; byte <c>j</c> of a block holds element
/// <c>j</c> of the block in its low nibble and element <c>16 + j</c> in its high nibble. A row's last partial block is
/// padded with nibble 8 (q = 0). Rows are <see cref="RowBytes"/> apart. Scales are float32
/// <c>[rows][ceil(cols / groupSize)]</c>; <c>groupSize</c> is a multiple of 32 so groups never split a block.
/// </para>
/// Results are identical on every target framework.
/// </summary>
public static class Int4BlockFormat
{
    /// <summary>Elements per block.</summary>
    public const int BlockElements = 32;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 16;

    /// <summary>The largest magnitude of a quantized value; nibble 0 (q = -8) is never produced.</summary>
    public const int MaxMagnitude = 7;

    /// <summary>The nibble of q = 0, also used for padding.</summary>
    public const int ZeroNibble = 8;

    private const byte PaddingByte = 0x88;

    private static readonly float[] decodeTable =
    {
        -8f, -7f, -6f, -5f, -4f, -3f, -2f, -1f, 0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f,
    };

    /// <summary>The 16 decoded values of a nibble before scaling: <c>DecodeTable[n] = n - 8</c>.</summary>
    public static ReadOnlySpan<float> DecodeTable => decodeTable;

    /// <summary>Packed bytes per row: <c>ceil(cols / 32) * 16</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cols"/> is negative.</exception>
    public static int RowBytes(int cols)
    {
        FormatArguments.CheckCols(cols);
        return (int)((((long)cols + BlockElements - 1) / BlockElements) * BlockBytes);
    }

    /// <summary>Number of groups (and scales) per row: <c>ceil(cols / groupSize)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cols"/> is negative or <paramref name="groupSize"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="groupSize"/> is not a multiple of 32.</exception>
    public static int GroupsPerRow(int cols, int groupSize) =>
        FormatArguments.GroupsPerRow(cols, groupSize, BlockElements, "int4");

    /// <summary>Quantizes and packs a row-major <c>[rows][cols]</c> weight matrix.</summary>
    /// <param name="weights">Row-major <c>[rows][cols]</c> float weights; all finite.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="cols">Number of columns (inputs) per row.</param>
    /// <param name="groupSize">Number of consecutive inputs of a row sharing one scale; a multiple of 32.</param>
    /// <param name="packed">Receives <c>rows * RowBytes(cols)</c> bytes.</param>
    /// <param name="scales">Receives row-major <c>[rows][GroupsPerRow(cols, groupSize)]</c> scales.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, <paramref name="groupSize"/> is not a multiple of
    /// 32, or a weight is NaN or infinite (the message names its index).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or <paramref name="groupSize"/> is not positive.</exception>
    public static void Quantize(ReadOnlySpan<float> weights, int rows, int cols, int groupSize, Span<byte> packed, Span<float> scales)
    {
        int groupsPerRow = FormatArguments.CheckShape(rows, cols, groupSize, BlockElements, "int4", out int count, out int scaleCount);
        int rowBytes = RowBytes(cols);
        FormatArguments.CheckLength(weights.Length, count, nameof(weights));
        FormatArguments.CheckLength(packed.Length, FormatArguments.Total(rows, rowBytes), nameof(packed));
        FormatArguments.CheckLength(scales.Length, scaleCount, nameof(scales));

        // Reject bad input before writing anything.
        FormatArguments.CheckFinite(weights, cols);

        // Every nibble starts as 8 (q = 0): padding and all-zero groups need no further work.
        packed.Fill(PaddingByte);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = weights.Slice(r * cols, cols);
            Span<byte> packedRow = packed.Slice(r * rowBytes, rowBytes);
            for (int g = 0; g < groupsPerRow; g++)
            {
                int groupStart = g * groupSize;
                int groupEnd = Math.Min(groupStart + groupSize, cols);

                float maxAbs = 0f;
                for (int c = groupStart; c < groupEnd; c++)
                {
                    float a = Math.Abs(row[c]);
                    if (a > maxAbs)
                    {
                        maxAbs = a;
                    }
                }

                float scale = maxAbs / MaxMagnitude;
                scales[(r * groupsPerRow) + g] = scale;
                if (scale == 0f)
                {
                    // All zeros (or so tiny that the scale underflows): decodes to zero.
                    continue;
                }

                for (int c = groupStart; c < groupEnd; c++)
                {
                    float rounded = FormatArguments.RoundToEven((float)(row[c] / scale));
                    if (rounded > MaxMagnitude)
                    {
                        rounded = MaxMagnitude;
                    }
                    else if (rounded < -MaxMagnitude)
                    {
                        rounded = -MaxMagnitude;
                    }

                    int nibble = (int)rounded + ZeroNibble;
                    int e = c % BlockElements;
                    int index = ((c / BlockElements) * BlockBytes) + (e % BlockBytes);
                    packedRow[index] = e < BlockBytes
                        ? (byte)((packedRow[index] & 0xF0) | nibble)
                        : (byte)((packedRow[index] & 0x0F) | (nibble << 4));
                }
            }
        }
    }

    /// <summary>Decodes one value: <c>DecodeTable[nibble] * scale</c> in float32.</summary>
    public static float Dequantize(int nibble, float scale) => decodeTable[nibble & 0xF] * scale;

    /// <summary>
    /// The reference decoder: <c>output[r][c] = (nibble(r, c) - 8) * scales[r][c / groupSize]</c>. Only the
    /// <paramref name="cols"/> real elements of a row are written; padding nibbles are never read.
    /// </summary>
    /// <param name="packed">The <c>rows * RowBytes(cols)</c> packed bytes.</param>
    /// <param name="scales">Row-major <c>[rows][GroupsPerRow(cols, groupSize)]</c> scales.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="cols">Number of columns per row.</param>
    /// <param name="groupSize">Number of consecutive inputs of a row sharing one scale; a multiple of 32.</param>
    /// <param name="output">Receives row-major <c>[rows][cols]</c> floats.</param>
    /// <exception cref="ArgumentException">A span has the wrong length or <paramref name="groupSize"/> is not a multiple of 32.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or <paramref name="groupSize"/> is not positive.</exception>
    public static void Dequantize(ReadOnlySpan<byte> packed, ReadOnlySpan<float> scales, int rows, int cols, int groupSize, Span<float> output)
    {
        int groupsPerRow = FormatArguments.CheckShape(rows, cols, groupSize, BlockElements, "int4", out int count, out int scaleCount);
        int rowBytes = RowBytes(cols);
        FormatArguments.CheckLength(packed.Length, FormatArguments.Total(rows, rowBytes), nameof(packed));
        FormatArguments.CheckLength(scales.Length, scaleCount, nameof(scales));
        FormatArguments.CheckLength(output.Length, count, nameof(output));

        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<byte> packedRow = packed.Slice(r * rowBytes, rowBytes);
            for (int c = 0; c < cols; c++)
            {
                int e = c % BlockElements;
                byte b = packedRow[((c / BlockElements) * BlockBytes) + (e % BlockBytes)];
                int nibble = e < BlockBytes ? b & 0xF : b >> 4;
                output[(r * cols) + c] = Dequantize(nibble, scales[(r * groupsPerRow) + (c / groupSize)]);
            }
        }
    }
}
