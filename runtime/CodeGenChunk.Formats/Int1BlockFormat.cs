using System;

namespace CodeGenChunk.Formats;

/// <summary>
/// One-bit weights: sign × one float32 scale per group of <c>groupSize</c> consecutive inputs of a row (the last group
/// of a row is shorter when <c>cols % groupSize != 0</c>). The bit is 1 for <c>w ≥ 0</c> (so also for -0) and decodes to
/// <c>+scale</c>, 0 for <c>w &lt; 0</c> and decodes to <c>-scale</c>; <c>scale = (Σ|w|) / n</c> over the group's n real
/// elements, summed in float64 in column order and rounded once to float32.
/// <para>
/// Layout: each row is <c>ceil(cols / 128)</c> blocks of 128 elements in 16 bytes; bit <c>i</c> (LSB first) of byte
/// <c>j</c> of a block is element <c>16·i + j</c> of the block, so bit-plane <c>i</c> of the 16 bytes holds 16
/// consecutive elements. A row's last partial block is padded with bit 1, which decodes to <c>+scale</c>, not 0: a
/// decoder must emit only the <c>cols</c> real elements (the generated kernels multiply the padding by zero inputs).
/// Rows are <see cref="RowBytes"/> apart. Scales are float32 <c>[rows][ceil(cols / groupSize)]</c>; <c>groupSize</c>
/// is a multiple of 128 so groups never split a block.
/// </para>
/// Results are identical on every target framework.
/// </summary>
public static class Int1BlockFormat
{
    /// <summary>Elements per block.</summary>
    public const int BlockElements = 128;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 16;

    /// <summary>Packed bytes per row: <c>ceil(cols / 128) * 16</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cols"/> is negative.</exception>
    public static int RowBytes(int cols)
    {
        FormatArguments.CheckCols(cols);
        return (int)((((long)cols + BlockElements - 1) / BlockElements) * BlockBytes);
    }

    /// <summary>Number of groups (and scales) per row: <c>ceil(cols / groupSize)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cols"/> is negative or <paramref name="groupSize"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="groupSize"/> is not a multiple of 128.</exception>
    public static int GroupsPerRow(int cols, int groupSize) =>
        FormatArguments.GroupsPerRow(cols, groupSize, BlockElements, "int1");

    /// <summary>Quantizes and packs a row-major <c>[rows][cols]</c> weight matrix.</summary>
    /// <param name="weights">Row-major <c>[rows][cols]</c> float weights; all finite.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="cols">Number of columns (inputs) per row.</param>
    /// <param name="groupSize">Number of consecutive inputs of a row sharing one scale; a multiple of 128.</param>
    /// <param name="packed">Receives <c>rows * RowBytes(cols)</c> bytes.</param>
    /// <param name="scales">Receives row-major <c>[rows][GroupsPerRow(cols, groupSize)]</c> scales.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, <paramref name="groupSize"/> is not a multiple of
    /// 128, or a weight is NaN or infinite (the message names its index).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or <paramref name="groupSize"/> is not positive.</exception>
    public static void Quantize(ReadOnlySpan<float> weights, int rows, int cols, int groupSize, Span<byte> packed, Span<float> scales)
    {
        int groupsPerRow = FormatArguments.CheckShape(rows, cols, groupSize, BlockElements, "int1", out int count, out int scaleCount);
        int rowBytes = RowBytes(cols);
        FormatArguments.CheckLength(weights.Length, count, nameof(weights));
        FormatArguments.CheckLength(packed.Length, FormatArguments.Total(rows, rowBytes), nameof(packed));
        FormatArguments.CheckLength(scales.Length, scaleCount, nameof(scales));

        // Reject bad input before writing anything.
        FormatArguments.CheckFinite(weights, cols);

        // Every bit starts as 1 (the padding value); negative weights clear theirs.
        packed.Fill(0xFF);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = weights.Slice(r * cols, cols);
            Span<byte> packedRow = packed.Slice(r * rowBytes, rowBytes);
            for (int g = 0; g < groupsPerRow; g++)
            {
                int groupStart = g * groupSize;
                int groupEnd = Math.Min(groupStart + groupSize, cols);

                double sumAbs = 0;
                for (int c = groupStart; c < groupEnd; c++)
                {
                    float w = row[c];
                    sumAbs += Math.Abs(w);
                    if (w < 0)
                    {
                        int e = c % BlockElements;
                        int index = ((c / BlockElements) * BlockBytes) + (e % BlockBytes);
                        packedRow[index] = (byte)(packedRow[index] & ~(1 << (e / BlockBytes)));
                    }
                }

                scales[(r * groupsPerRow) + g] = (float)(sumAbs / (groupEnd - groupStart));
            }
        }
    }

    /// <summary>
    /// The reference decoder: <c>output[r][c] = bit(r, c) == 1 ? +scale : -scale</c> with
    /// <c>scale = scales[r][c / groupSize]</c>. Only the <paramref name="cols"/> real elements of a row are written; the
    /// padding bits (which would decode to <c>+scale</c>) are never read.
    /// </summary>
    /// <param name="packed">The <c>rows * RowBytes(cols)</c> packed bytes.</param>
    /// <param name="scales">Row-major <c>[rows][GroupsPerRow(cols, groupSize)]</c> scales.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="cols">Number of columns per row.</param>
    /// <param name="groupSize">Number of consecutive inputs of a row sharing one scale; a multiple of 128.</param>
    /// <param name="output">Receives row-major <c>[rows][cols]</c> floats.</param>
    /// <exception cref="ArgumentException">A span has the wrong length or <paramref name="groupSize"/> is not a multiple of 128.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or <paramref name="groupSize"/> is not positive.</exception>
    public static void Dequantize(ReadOnlySpan<byte> packed, ReadOnlySpan<float> scales, int rows, int cols, int groupSize, Span<float> output)
    {
        int groupsPerRow = FormatArguments.CheckShape(rows, cols, groupSize, BlockElements, "int1", out int count, out int scaleCount);
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
                int bit = (packedRow[((c / BlockElements) * BlockBytes) + (e % BlockBytes)] >> (e / BlockBytes)) & 1;
                float scale = scales[(r * groupsPerRow) + (c / groupSize)];
                output[(r * cols) + c] = bit != 0 ? scale : -scale;
            }
        }
    }
}
