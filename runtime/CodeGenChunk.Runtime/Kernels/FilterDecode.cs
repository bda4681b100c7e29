using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using CodeGenChunk.Formats;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>
/// Decodes a few consecutive rows of a row-major packed weight matrix (a conv2d filter bank
/// [outChannels, inChannels · kH · kW]) into floats with the formats' reference decoders (int8 with
/// a vectorised equivalent of its decoder), so a convolution runs its float inner loop over a small
/// block of filters at a time and never holds the layer expanded. <paramref name="weights"/> is the start of the verified weights file; the
/// offsets are the layout's constants.
/// </summary>
public static class FilterDecode
{
    /// <summary>binary16 rows: 2 bytes per weight.</summary>
    public static void HalfRows(ref byte weights, long valuesOffset, int firstRow, int rows, int cols, Span<float> destination)
    {
        var rowBytes = HalfFormat.RowBytes(cols);
        HalfFormat.Dequantize(Bytes(ref weights, valuesOffset + ((long)firstRow * rowBytes), rows * rowBytes), rows, cols, destination.Slice(0, rows * cols));
    }

    /// <summary>
    /// int8 rows: one signed byte per weight, one float scale per group. Decoded four weights at a time as
    /// <c>q · scale</c> (sign-extended, one float multiply): the reference decoder's arithmetic, so bit-identical.
    /// </summary>
    public static void Int8Rows(ref byte weights, long valuesOffset, long scalesOffset, int firstRow, int rows, int cols, int groupSize, Span<float> destination)
    {
        var groups = Int8GroupQuantizer.GroupsPerRow(cols, groupSize);
        if (rows < 0 || destination.Length < (long)rows * cols)
        {
            throw new ArgumentException("The destination holds fewer than rows * cols floats.", nameof(destination));
        }

        ref sbyte q = ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref weights, (nint)(valuesOffset + ((long)firstRow * cols))));
        ref float scales = ref Unsafe.As<byte, float>(ref Unsafe.Add(ref weights, (nint)(scalesOffset + (4L * firstRow * groups))));
        ref float d = ref MemoryMarshal.GetReference(destination);
        for (nint r = 0; r < rows; r++)
        {
            for (nint g = 0; g < groups; g++)
            {
                nint start = (r * cols) + (g * groupSize);
                nint length = Math.Min(groupSize, cols - (g * groupSize));
                var scale = Unsafe.Add(ref scales, (r * groups) + g);
                var vs = Vector128.Create(scale);
                nint i = 0;
                for (; i <= length - 4; i += 4)
                {
                    (SByteVectors.LoadV128(ref q, (nuint)(start + i)) * vs).StoreUnsafe(ref d, (nuint)(start + i));
                }

                for (; i < length; i++)
                {
                    Unsafe.Add(ref d, start + i) = Unsafe.Add(ref q, start + i) * scale;
                }
            }
        }
    }

    /// <summary>int4 rows: 16-byte blocks of 32 weights, one float scale per group.</summary>
    public static void Int4Rows(ref byte weights, long valuesOffset, long scalesOffset, int firstRow, int rows, int cols, int groupSize, Span<float> destination)
    {
        var rowBytes = Int4BlockFormat.RowBytes(cols);
        var groups = Int4BlockFormat.GroupsPerRow(cols, groupSize);
        Int4BlockFormat.Dequantize(
            Bytes(ref weights, valuesOffset + ((long)firstRow * rowBytes), rows * rowBytes),
            Floats(ref weights, scalesOffset + (4L * firstRow * groups), rows * groups),
            rows,
            cols,
            groupSize,
            destination.Slice(0, rows * cols));
    }

    /// <summary>Ternary rows: 16-byte blocks of 80 weights, one float scale per group.</summary>
    public static void TernaryRows(ref byte weights, long valuesOffset, long scalesOffset, int firstRow, int rows, int cols, int groupSize, Span<float> destination)
    {
        var rowBytes = TernaryBlockFormat.RowBytes(cols);
        var groups = TernaryBlockFormat.GroupsPerRow(cols, groupSize);
        TernaryBlockFormat.Dequantize(
            Bytes(ref weights, valuesOffset + ((long)firstRow * rowBytes), rows * rowBytes),
            Floats(ref weights, scalesOffset + (4L * firstRow * groups), rows * groups),
            rows,
            cols,
            groupSize,
            destination.Slice(0, rows * cols));
    }

    /// <summary>int1 rows: 16-byte blocks of 128 signs, one float scale per group.</summary>
    public static void Int1Rows(ref byte weights, long valuesOffset, long scalesOffset, int firstRow, int rows, int cols, int groupSize, Span<float> destination)
    {
        var rowBytes = Int1BlockFormat.RowBytes(cols);
        var groups = Int1BlockFormat.GroupsPerRow(cols, groupSize);
        Int1BlockFormat.Dequantize(
            Bytes(ref weights, valuesOffset + ((long)firstRow * rowBytes), rows * rowBytes),
            Floats(ref weights, scalesOffset + (4L * firstRow * groups), rows * groups),
            rows,
            cols,
            groupSize,
            destination.Slice(0, rows * cols));
    }

    /// <summary>base11 rows: words of nine 11-level indices, binary16 minimum and range per group.</summary>
    public static void Base11Rows(ref byte weights, long valuesOffset, long minOffset, long rangeOffset, int firstRow, int rows, int cols, int groupSize, Span<float> destination)
    {
        var rowBytes = Base11Format.RowBytes(cols, groupSize);
        var groups = Base11Format.GroupsPerRow(cols, groupSize);
        Base11Format.Dequantize(
            Bytes(ref weights, valuesOffset + ((long)firstRow * rowBytes), rows * rowBytes),
            Halves(ref weights, minOffset + (2L * firstRow * groups), rows * groups),
            Halves(ref weights, rangeOffset + (2L * firstRow * groups), rows * groups),
            rows,
            cols,
            groupSize,
            destination.Slice(0, rows * cols));
    }

    private static ReadOnlySpan<byte> Bytes(ref byte weights, long offset, int length) =>
        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref weights, (nint)offset), length);

    private static ReadOnlySpan<float> Floats(ref byte weights, long offset, int length) =>
        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<byte, float>(ref Unsafe.Add(ref weights, (nint)offset)), length);

    private static ReadOnlySpan<ushort> Halves(ref byte weights, long offset, int length) =>
        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<byte, ushort>(ref Unsafe.Add(ref weights, (nint)offset)), length);
}
