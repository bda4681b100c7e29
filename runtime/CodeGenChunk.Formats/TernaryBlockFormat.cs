using System;
using System.Globalization;

namespace CodeGenChunk.Formats;

/// <summary>
/// Ternary weights {-1, 0, +1} × one float32 scale per group of <c>groupSize</c> consecutive inputs of a row (the last
/// group of a row is shorter when <c>cols % groupSize != 0</c>). Per group of n real elements, in float64:
/// <c>Δ = 0.7 * (Σ|w|) / n</c>; <c>q = sign(w)</c> where <c>|w| &gt; Δ</c>, else 0; the scale
/// <c>α = (Σ_{q≠0} |w|) / count(q≠0)</c> rounded once to float32 (0 when no element is selected). The sums run in
/// column order. Decoding is exactly <c>q * α</c> ∈ {-α, 0, +α}.
/// <para>
/// Layout: each row is <c>ceil(cols / 80)</c> blocks of 80 elements in 16 bytes. With the trit <c>t = q + 1</c> ∈
/// {0, 1, 2}, byte <c>j</c> of a block is <c>Σ_{i=0..4} t(16·i + j) · 3^i</c> (at most 242), so base-3 digit <c>i</c> of
/// the 16 bytes holds 16 consecutive elements <c>16·i .. 16·i + 15</c>. A row's last partial block is padded with
/// t = 1 (q = 0). Rows are <see cref="RowBytes"/> apart. Scales are float32 <c>[rows][ceil(cols / groupSize)]</c>;
/// <c>groupSize</c> is a multiple of 80 so groups never split a block.
/// </para>
/// Results are identical on every target framework.
/// </summary>
public static class TernaryBlockFormat
{
    /// <summary>Elements per block.</summary>
    public const int BlockElements = 80;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 16;

    /// <summary>Trits per byte.</summary>
    public const int TritsPerByte = 5;

    /// <summary>The largest valid packed byte (all five trits 2).</summary>
    public const int MaxByte = 242;

    /// <summary>The fraction of the group's mean |w| below which a weight becomes 0.</summary>
    public const double ThresholdFactor = 0.7;

    private static readonly int[] powersOfThree = { 1, 3, 9, 27, 81 };

    /// <summary>Packed bytes per row: <c>ceil(cols / 80) * 16</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cols"/> is negative.</exception>
    public static int RowBytes(int cols)
    {
        FormatArguments.CheckCols(cols);
        return (int)((((long)cols + BlockElements - 1) / BlockElements) * BlockBytes);
    }

    /// <summary>Number of groups (and scales) per row: <c>ceil(cols / groupSize)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cols"/> is negative or <paramref name="groupSize"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="groupSize"/> is not a multiple of 80.</exception>
    public static int GroupsPerRow(int cols, int groupSize) =>
        FormatArguments.GroupsPerRow(cols, groupSize, BlockElements, "ternary");

    /// <summary>Quantizes and packs a row-major <c>[rows][cols]</c> weight matrix.</summary>
    /// <param name="weights">Row-major <c>[rows][cols]</c> float weights; all finite.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="cols">Number of columns (inputs) per row.</param>
    /// <param name="groupSize">Number of consecutive inputs of a row sharing one scale; a multiple of 80.</param>
    /// <param name="packed">Receives <c>rows * RowBytes(cols)</c> bytes.</param>
    /// <param name="scales">Receives row-major <c>[rows][GroupsPerRow(cols, groupSize)]</c> scales α.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, <paramref name="groupSize"/> is not a multiple of
    /// 80, or a weight is NaN or infinite (the message names its index).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or <paramref name="groupSize"/> is not positive.</exception>
    public static void Quantize(ReadOnlySpan<float> weights, int rows, int cols, int groupSize, Span<byte> packed, Span<float> scales)
    {
        int groupsPerRow = FormatArguments.CheckShape(rows, cols, groupSize, BlockElements, "ternary", out int count, out int scaleCount);
        int rowBytes = RowBytes(cols);
        FormatArguments.CheckLength(weights.Length, count, nameof(weights));
        FormatArguments.CheckLength(packed.Length, FormatArguments.Total(rows, rowBytes), nameof(packed));
        FormatArguments.CheckLength(scales.Length, scaleCount, nameof(scales));

        // Reject bad input before writing anything.
        FormatArguments.CheckFinite(weights, cols);

        packed.Clear();
        int paddedCols = (rowBytes / BlockBytes) * BlockElements;
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
                    sumAbs += Math.Abs(row[c]);
                }

                double threshold = ThresholdFactor * sumAbs / (groupEnd - groupStart);
                double selectedSum = 0;
                int selected = 0;
                for (int c = groupStart; c < groupEnd; c++)
                {
                    float w = row[c];
                    double a = Math.Abs(w);
                    int t = 1;
                    if (a > threshold)
                    {
                        t = w > 0 ? 2 : 0;
                        selectedSum += a;
                        selected++;
                    }

                    AddTrit(packedRow, c, t);
                }

                scales[(r * groupsPerRow) + g] = selected == 0 ? 0f : (float)(selectedSum / selected);
            }

            // Padding of the last block: t = 1 (q = 0).
            for (int c = cols; c < paddedCols; c++)
            {
                AddTrit(packedRow, c, 1);
            }
        }
    }

    /// <summary>
    /// The reference decoder: <c>output[r][c] = (t(r, c) - 1) * scales[r][c / groupSize]</c>. Only the
    /// <paramref name="cols"/> real elements of a row are written; padding trits are never read.
    /// </summary>
    /// <param name="packed">The <c>rows * RowBytes(cols)</c> packed bytes.</param>
    /// <param name="scales">Row-major <c>[rows][GroupsPerRow(cols, groupSize)]</c> scales α.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="cols">Number of columns per row.</param>
    /// <param name="groupSize">Number of consecutive inputs of a row sharing one scale; a multiple of 80.</param>
    /// <param name="output">Receives row-major <c>[rows][cols]</c> floats.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, <paramref name="groupSize"/> is not a multiple of
    /// 80, or a packed byte is larger than 242 (not five trits).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or <paramref name="groupSize"/> is not positive.</exception>
    public static void Dequantize(ReadOnlySpan<byte> packed, ReadOnlySpan<float> scales, int rows, int cols, int groupSize, Span<float> output)
    {
        int groupsPerRow = FormatArguments.CheckShape(rows, cols, groupSize, BlockElements, "ternary", out int count, out int scaleCount);
        int rowBytes = RowBytes(cols);
        FormatArguments.CheckLength(packed.Length, FormatArguments.Total(rows, rowBytes), nameof(packed));
        FormatArguments.CheckLength(scales.Length, scaleCount, nameof(scales));
        FormatArguments.CheckLength(output.Length, count, nameof(output));

        for (int i = 0; i < packed.Length; i++)
        {
            if (packed[i] > MaxByte)
            {
                throw new ArgumentException(
                    "packed[" + FormatArguments.I(i) + "] = " + packed[i].ToString(CultureInfo.InvariantCulture)
                    + " is not five base-3 digits (at most " + FormatArguments.I(MaxByte) + ").",
                    nameof(packed));
            }
        }

        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<byte> packedRow = packed.Slice(r * rowBytes, rowBytes);
            for (int c = 0; c < cols; c++)
            {
                int e = c % BlockElements;
                int b = packedRow[((c / BlockElements) * BlockBytes) + (e % BlockBytes)];
                int t = (b / powersOfThree[e / BlockBytes]) % 3;
                float scale = scales[(r * groupsPerRow) + (c / groupSize)];
                output[(r * cols) + c] = t == 1 ? 0f : t == 2 ? scale : -scale;
            }
        }
    }

    private static void AddTrit(Span<byte> packedRow, int c, int t)
    {
        int e = c % BlockElements;
        int index = ((c / BlockElements) * BlockBytes) + (e % BlockBytes);
        packedRow[index] = (byte)(packedRow[index] + (t * powersOfThree[e / BlockBytes]));
    }
}
