using System;
using System.Globalization;

namespace CodeGenChunk.Formats;

/// <summary>
/// Symmetric int8 quantization with one float32 scale per group of <c>groupSize</c> consecutive inputs of a row
/// (the last group of a row is shorter when <c>cols % groupSize != 0</c>): <c>scale = maxAbs / 127</c>,
/// <c>q = clamp(roundToEven(w / scale), -127, 127)</c> in float32; <c>scale = 0</c> and <c>q = 0</c> for a group of
/// zeros. Decoding is <c>w ≈ q * scale</c>. Results are identical on every target framework.
/// </summary>
public static class Int8GroupQuantizer
{
    /// <summary>The largest magnitude of a quantized value; -128 is never produced.</summary>
    public const int MaxMagnitude = 127;

    /// <summary>Number of groups (and scales) per row: <c>ceil(cols / groupSize)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cols"/> is negative or <paramref name="groupSize"/> is not positive.</exception>
    public static int GroupsPerRow(int cols, int groupSize)
    {
        if (cols < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(cols), cols, "The number of columns must not be negative.");
        }

        if (groupSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize, "The group size must be positive.");
        }

        return (int)(((long)cols + groupSize - 1) / groupSize);
    }

    /// <summary>Quantizes a row-major <c>[rows][cols]</c> weight matrix.</summary>
    /// <param name="weights">Row-major <c>[rows][cols]</c> float weights; all finite.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="cols">Number of columns (inputs) per row.</param>
    /// <param name="groupSize">Number of consecutive inputs of a row sharing one scale.</param>
    /// <param name="q">Receives row-major <c>[rows][cols]</c> quantized values.</param>
    /// <param name="scales">Receives row-major <c>[rows][GroupsPerRow(cols, groupSize)]</c> scales.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or a weight is NaN or infinite (the message names its index).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or <paramref name="groupSize"/> is not positive.</exception>
    public static void Quantize(ReadOnlySpan<float> weights, int rows, int cols, int groupSize, Span<sbyte> q, Span<float> scales)
    {
        int groupsPerRow = CheckShape(rows, cols, groupSize, out int count, out int scaleCount);
        CheckLength(weights.Length, count, nameof(weights));
        CheckLength(q.Length, count, nameof(q));
        CheckLength(scales.Length, scaleCount, nameof(scales));

        // Reject bad input before writing anything.
        for (int i = 0; i < count; i++)
        {
            float w = weights[i];
            if (float.IsNaN(w) || float.IsInfinity(w))
            {
                string what = float.IsNaN(w) ? "NaN" : w > 0 ? "+Infinity" : "-Infinity";
                throw new ArgumentException(
                    "weights[" + I(i) + "] (row " + I(i / cols) + ", column " + I(i % cols) + ") is " + what
                    + "; only finite weights can be quantized.",
                    nameof(weights));
            }
        }

        for (int r = 0; r < rows; r++)
        {
            int rowStart = r * cols;
            for (int g = 0; g < groupsPerRow; g++)
            {
                int groupStart = g * groupSize;
                int length = Math.Min(groupSize, cols - groupStart);
                ReadOnlySpan<float> w = weights.Slice(rowStart + groupStart, length);
                Span<sbyte> qg = q.Slice(rowStart + groupStart, length);

                float maxAbs = 0f;
                for (int i = 0; i < w.Length; i++)
                {
                    float a = Math.Abs(w[i]);
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
                    qg.Clear();
                    continue;
                }

                for (int i = 0; i < w.Length; i++)
                {
                    float v = (float)(w[i] / scale);
                    float rounded = RoundToEven(v);
                    if (rounded > MaxMagnitude)
                    {
                        rounded = MaxMagnitude;
                    }
                    else if (rounded < -MaxMagnitude)
                    {
                        rounded = -MaxMagnitude;
                    }

                    qg[i] = (sbyte)rounded;
                }
            }
        }
    }

    /// <summary>Decodes one value: <c>q * scale</c> in float32.</summary>
    public static float Dequantize(sbyte q, float scale) => q * scale;

    /// <summary>The reference decoder: <c>output[r][c] = q[r][c] * scales[r][c / groupSize]</c>.</summary>
    /// <param name="q">Row-major <c>[rows][cols]</c> quantized values.</param>
    /// <param name="scales">Row-major <c>[rows][GroupsPerRow(cols, groupSize)]</c> scales.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="cols">Number of columns per row.</param>
    /// <param name="groupSize">Number of consecutive inputs of a row sharing one scale.</param>
    /// <param name="output">Receives row-major <c>[rows][cols]</c> floats.</param>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or <paramref name="groupSize"/> is not positive.</exception>
    public static void Dequantize(ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, int rows, int cols, int groupSize, Span<float> output)
    {
        int groupsPerRow = CheckShape(rows, cols, groupSize, out int count, out int scaleCount);
        CheckLength(q.Length, count, nameof(q));
        CheckLength(scales.Length, scaleCount, nameof(scales));
        CheckLength(output.Length, count, nameof(output));

        for (int r = 0; r < rows; r++)
        {
            int rowStart = r * cols;
            int scaleStart = r * groupsPerRow;
            for (int c = 0; c < cols; c++)
            {
                output[rowStart + c] = Dequantize(q[rowStart + c], scales[scaleStart + (c / groupSize)]);
            }
        }
    }

    private static float RoundToEven(float value)
    {
#if NETSTANDARD2_0
        // Exact: a float widens to double without loss and the rounded integer narrows back without loss.
        return (float)Math.Round((double)value, MidpointRounding.ToEven);
#else
        return MathF.Round(value, MidpointRounding.ToEven);
#endif
    }

    private static int CheckShape(int rows, int cols, int groupSize, out int count, out int scaleCount)
    {
        if (rows < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "The number of rows must not be negative.");
        }

        int groupsPerRow = GroupsPerRow(cols, groupSize);
        long n = (long)rows * cols;
        long s = (long)rows * groupsPerRow;
        if (n > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "rows * cols is larger than int.MaxValue.");
        }

        count = (int)n;
        scaleCount = (int)s;
        return groupsPerRow;
    }

    private static void CheckLength(int actual, int expected, string name)
    {
        if (actual != expected)
        {
            throw new ArgumentException("Expected length " + I(expected) + ", got " + I(actual) + ".", name);
        }
    }

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);
}
