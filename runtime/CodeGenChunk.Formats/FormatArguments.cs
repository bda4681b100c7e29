using System;
using System.Globalization;
#if NETSTANDARD2_0
using System.Runtime.InteropServices;
#endif

namespace CodeGenChunk.Formats;

/// <summary>
/// Argument checks and float helpers shared by the block weight formats (<see cref="HalfFormat"/>,
/// <see cref="Int4BlockFormat"/>, <see cref="TernaryBlockFormat"/>, <see cref="Int1BlockFormat"/>,
/// <see cref="Base11Format"/>). Every helper gives identical results on every target framework.
/// </summary>
internal static class FormatArguments
{
    /// <summary>Validates a <c>[rows][cols]</c> shape with groups of <paramref name="groupSize"/> inputs that must be a
    /// multiple of <paramref name="groupMultiple"/>; returns <c>ceil(cols / groupSize)</c>.</summary>
    internal static int CheckShape(int rows, int cols, int groupSize, int groupMultiple, string format, out int count, out int groupCount)
    {
        if (rows < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "The number of rows must not be negative.");
        }

        int groupsPerRow = GroupsPerRow(cols, groupSize, groupMultiple, format);
        long n = (long)rows * cols;
        if (n > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "rows * cols is larger than int.MaxValue.");
        }

        count = (int)n;
        groupCount = rows * groupsPerRow;
        return groupsPerRow;
    }

    /// <summary><c>ceil(cols / groupSize)</c> after validating both.</summary>
    internal static int GroupsPerRow(int cols, int groupSize, int groupMultiple, string format)
    {
        CheckCols(cols);
        if (groupSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize, "The group size must be positive.");
        }

        if (groupSize % groupMultiple != 0)
        {
            throw new ArgumentException(
                "The " + format + " group size must be a multiple of " + I(groupMultiple) + " (one block); got " + I(groupSize) + ".",
                nameof(groupSize));
        }

        return (int)(((long)cols + groupSize - 1) / groupSize);
    }

    internal static void CheckCols(int cols)
    {
        if (cols < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(cols), cols, "The number of columns must not be negative.");
        }
    }

    /// <summary><c>rows * rowBytes</c>, or an exception when it does not fit an <see cref="int"/>.</summary>
    internal static int Total(int rows, int rowBytes)
    {
        long n = (long)rows * rowBytes;
        if (n > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "The packed size is larger than int.MaxValue bytes.");
        }

        return (int)n;
    }

    internal static void CheckLength(int actual, int expected, string name)
    {
        if (actual != expected)
        {
            throw new ArgumentException("Expected length " + I(expected) + ", got " + I(actual) + ".", name);
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first NaN or infinite weight.</summary>
    internal static void CheckFinite(ReadOnlySpan<float> weights, int cols)
    {
        for (int i = 0; i < weights.Length; i++)
        {
            float w = weights[i];
            if (float.IsNaN(w) || float.IsInfinity(w))
            {
                string what = float.IsNaN(w) ? "NaN" : w > 0 ? "+Infinity" : "-Infinity";
                throw new ArgumentException(
                    Where(i, cols) + " is " + what + "; only finite weights can be quantized.",
                    "weights");
            }
        }
    }

    /// <summary><c>weights[i] (row r, column c)</c>.</summary>
    internal static string Where(int index, int cols) =>
        "weights[" + I(index) + "] (row " + I(index / cols) + ", column " + I(index % cols) + ")";

    internal static float RoundToEven(float value)
    {
#if NETSTANDARD2_0
        // Exact: a float widens to double without loss and the rounded integer narrows back without loss.
        return (float)Math.Round((double)value, MidpointRounding.ToEven);
#else
        return MathF.Round(value, MidpointRounding.ToEven);
#endif
    }

    internal static uint SingleToBits(float value)
    {
#if NETSTANDARD2_0
        var u = default(SingleUnion);
        u.Single = value;
        return u.Bits;
#else
        return BitConverter.SingleToUInt32Bits(value);
#endif
    }

    internal static float BitsToSingle(uint bits)
    {
#if NETSTANDARD2_0
        var u = default(SingleUnion);
        u.Bits = bits;
        return u.Single;
#else
        return BitConverter.UInt32BitsToSingle(bits);
#endif
    }

    internal static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    internal static string R(float value) => value.ToString("R", CultureInfo.InvariantCulture);

#if NETSTANDARD2_0
    [StructLayout(LayoutKind.Explicit)]
    private struct SingleUnion
    {
        [FieldOffset(0)]
        public float Single;

        [FieldOffset(0)]
        public uint Bits;
    }
#endif
}
