using System;
using System.Buffers.Binary;

namespace CodeGenChunk.Formats;

/// <summary>
/// IEEE 754 binary16 ("f16") weights: row-major <c>[rows][cols]</c>, two little-endian bytes per weight, no metadata.
/// <see cref="FromSingle"/> rounds to nearest, ties to even (subnormals and ±0 included, so <c>-0</c> packs to
/// <c>0x8000</c>); a weight whose magnitude exceeds <see cref="MaxValue"/> after rounding (|w| ≥ 65520) is an error, not
/// saturated to infinity. <see cref="ToSingle"/> is exact. Results are identical on every target framework and equal
/// <c>(Half)f</c> / <c>(float)h</c> of .NET for every finite input.
/// </summary>
public static class HalfFormat
{
    /// <summary>Bytes per weight.</summary>
    public const int BytesPerElement = 2;

    /// <summary>The largest finite binary16 value.</summary>
    public const float MaxValue = 65504f;

    // Float32 bit patterns.
    private const uint Float32Infinity = 0x7F800000u;
    private const uint Float32Overflow = 0x477FF000u;  // 65520: halfway between 65504 and 65536, rounds to infinity
    private const uint Float32MinNormalHalf = 0x38800000u;  // 2^-14

    /// <summary>Packed bytes per row: <c>2 * cols</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cols"/> is negative or too large.</exception>
    public static int RowBytes(int cols)
    {
        FormatArguments.CheckCols(cols);
        if (cols > int.MaxValue / BytesPerElement)
        {
            throw new ArgumentOutOfRangeException(nameof(cols), cols, "The packed row is larger than int.MaxValue bytes.");
        }

        return cols * BytesPerElement;
    }

    /// <summary>Rounds a float to the nearest binary16 (ties to even) and returns its bits.</summary>
    /// <exception cref="ArgumentException"><paramref name="value"/> is NaN, infinite, or rounds to a magnitude above 65504.</exception>
    public static ushort FromSingle(float value)
    {
        if (!TryFromSingle(value, out ushort bits))
        {
            throw new ArgumentException(
                "The value " + FormatArguments.R(value) + " " + Problem(value) + ".",
                nameof(value));
        }

        return bits;
    }

    /// <summary>The exact float value of binary16 bits (NaN payloads are kept and made quiet).</summary>
    public static float ToSingle(ushort bits)
    {
        uint sign = (uint)(bits & 0x8000) << 16;
        uint exponent = (uint)(bits >> 10) & 0x1F;
        uint mantissa = (uint)bits & 0x3FF;
        if (exponent == 0x1F)
        {
            return FormatArguments.BitsToSingle(sign | Float32Infinity | (mantissa << 13) | (mantissa != 0 ? 0x00400000u : 0u));
        }

        if (exponent == 0)
        {
            if (mantissa == 0)
            {
                return FormatArguments.BitsToSingle(sign);
            }

            // Subnormal: mantissa * 2^-24, normalised for float32.
            exponent = 113;
            while ((mantissa & 0x400) == 0)
            {
                mantissa <<= 1;
                exponent--;
            }

            mantissa &= 0x3FF;
            return FormatArguments.BitsToSingle(sign | (exponent << 23) | (mantissa << 13));
        }

        return FormatArguments.BitsToSingle(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    /// <summary>Packs a row-major <c>[rows][cols]</c> matrix as little-endian binary16.</summary>
    /// <param name="weights">Row-major <c>[rows][cols]</c> float weights; all finite, |w| &lt; 65520.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="cols">Number of columns per row.</param>
    /// <param name="packed">Receives <c>rows * RowBytes(cols)</c> bytes.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or a weight is NaN, infinite or too large for
    /// binary16 (the message names its index).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static void Quantize(ReadOnlySpan<float> weights, int rows, int cols, Span<byte> packed)
    {
        int count = CheckShape(rows, cols);
        FormatArguments.CheckLength(weights.Length, count, nameof(weights));
        FormatArguments.CheckLength(packed.Length, count * BytesPerElement, nameof(packed));

        // Reject bad input before writing anything.
        for (int i = 0; i < count; i++)
        {
            if (!TryFromSingle(weights[i], out _))
            {
                throw new ArgumentException(
                    FormatArguments.Where(i, cols) + " = " + FormatArguments.R(weights[i]) + " " + Problem(weights[i]) + ".",
                    nameof(weights));
            }
        }

        for (int i = 0; i < count; i++)
        {
            TryFromSingle(weights[i], out ushort bits);
            BinaryPrimitives.WriteUInt16LittleEndian(packed.Slice(i * BytesPerElement), bits);
        }
    }

    /// <summary>The reference decoder: <c>output[i] = ToSingle(packed[2i] | packed[2i+1] &lt;&lt; 8)</c>.</summary>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static void Dequantize(ReadOnlySpan<byte> packed, int rows, int cols, Span<float> output)
    {
        int count = CheckShape(rows, cols);
        FormatArguments.CheckLength(packed.Length, count * BytesPerElement, nameof(packed));
        FormatArguments.CheckLength(output.Length, count, nameof(output));
        for (int i = 0; i < count; i++)
        {
            output[i] = ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(packed.Slice(i * BytesPerElement)));
        }
    }

    /// <summary>IEEE conversion to binary16 with round-to-nearest-even; false for NaN, infinity and overflow.</summary>
    internal static bool TryFromSingle(float value, out ushort half)
    {
        uint bits = FormatArguments.SingleToBits(value);
        uint sign = (bits >> 16) & 0x8000;
        uint abs = bits & 0x7FFFFFFF;
        if (abs >= Float32Overflow)
        {
            // NaN, infinity, or |value| >= 65520, which rounds to infinity.
            half = 0;
            return false;
        }

        uint result;
        if (abs >= Float32MinNormalHalf)
        {
            // Normal binary16: rebias the exponent, keep the top 10 mantissa bits, round the other 13 bits.
            // A carry out of the mantissa correctly increments the exponent (never to infinity: see the overflow check).
            result = (((abs >> 23) - 112) << 10) | ((abs & 0x7FFFFF) >> 13);
            uint rest = abs & 0x1FFF;
            if (rest > 0x1000 || (rest == 0x1000 && (result & 1) != 0))
            {
                result++;
            }
        }
        else
        {
            // Subnormal binary16 (or zero): the value in units of 2^-24 is m * 2^(e - 126).
            int e = (int)(abs >> 23);
            if (e < 102)
            {
                // |value| < 2^-25 (float32 subnormals included): rounds to zero.
                result = 0;
            }
            else
            {
                uint m = (abs & 0x7FFFFF) | 0x800000;
                int shift = 126 - e;  // 14..24
                result = m >> shift;
                uint rest = m & ((1u << shift) - 1);
                uint halfway = 1u << (shift - 1);
                if (rest > halfway || (rest == halfway && (result & 1) != 0))
                {
                    result++;  // may carry into the smallest normal, which is the right answer
                }
            }
        }

        half = (ushort)(sign | result);
        return true;
    }

    private static string Problem(float value) =>
        float.IsNaN(value) ? "is NaN; only finite weights can be packed"
        : float.IsInfinity(value) ? "is infinite; only finite weights can be packed"
        : "is outside the binary16 range (|w| must round to at most 65504; values are not saturated)";

    private static int CheckShape(int rows, int cols)
    {
        if (rows < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "The number of rows must not be negative.");
        }

        int rowBytes = RowBytes(cols);
        FormatArguments.Total(rows, rowBytes);
        return rows * cols;
    }
}
