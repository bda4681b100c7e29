using System;
using System.Collections.Generic;

namespace CodeGenChunk.Formats;

/// <summary>
/// Sizes of the weight formats (<c>f32</c>, <c>f16</c>, <c>int8</c>, <c>int4</c>, <c>base11</c>, <c>ternary</c>,
/// <c>int1</c>) as stored by their packers: the packed weights of a row including block padding, plus the row's
/// metadata (float32 scales, or binary16 min and range for base11). Used by <c>cgc inspect</c> and the documentation
/// (docs/formats.md). Format names are matched exactly (lower case).
/// </summary>
public static class WeightFormats
{
    /// <summary>float32, row-major, no metadata.</summary>
    public const string F32 = "f32";

    /// <summary>binary16 (<see cref="HalfFormat"/>).</summary>
    public const string F16 = "f16";

    /// <summary>int8 with a float32 scale per group (<see cref="Int8GroupQuantizer"/>).</summary>
    public const string Int8 = "int8";

    /// <summary>int4 with a float32 scale per group (<see cref="Int4BlockFormat"/>).</summary>
    public const string Int4 = "int4";

    /// <summary>Seed 004 base-11 with binary16 min and range per group (<see cref="Base11Format"/>).</summary>
    public const string Base11 = "base11";

    /// <summary>Ternary with a float32 scale per group (<see cref="TernaryBlockFormat"/>).</summary>
    public const string Ternary = "ternary";

    /// <summary>Sign bit with a float32 scale per group (<see cref="Int1BlockFormat"/>).</summary>
    public const string Int1 = "int1";

    private static readonly string[] names = { F32, F16, Int8, Int4, Base11, Ternary, Int1 };

    /// <summary>All format names, widest first.</summary>
    public static IReadOnlyList<string> Names => names;

    /// <summary>Whether the format has groups (and therefore a <c>groupSize</c>).</summary>
    /// <exception cref="ArgumentException">Unknown format.</exception>
    public static bool IsGrouped(string format) => Check(format) != F32 && format != F16;

    /// <summary>
    /// The default group size of a grouped format (int8 64, int4 64, base11 256, ternary 320, int1 128); 0 for f32 and f16.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown format.</exception>
    public static int DefaultGroupSize(string format) => Check(format) switch
    {
        Int8 => 64,
        Int4 => 64,
        Base11 => 256,
        Ternary => 320,
        Int1 => 128,
        _ => 0,
    };

    /// <summary>The group size must be a multiple of this (the block size; 1 when unconstrained, 0 for f32/f16).</summary>
    /// <exception cref="ArgumentException">Unknown format.</exception>
    public static int GroupSizeMultiple(string format) => Check(format) switch
    {
        Int4 => Int4BlockFormat.BlockElements,
        Ternary => TernaryBlockFormat.BlockElements,
        Int1 => Int1BlockFormat.BlockElements,
        Int8 or Base11 => 1,
        _ => 0,
    };

    /// <summary>Packed weight bytes of one row of <paramref name="cols"/> weights, block padding included.</summary>
    /// <param name="format">Format name.</param>
    /// <param name="cols">Weights per row.</param>
    /// <param name="groupSize">Group size of a grouped format (ignored for f32 and f16).</param>
    /// <exception cref="ArgumentException">Unknown format, or a group size the format does not accept.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cols"/> is negative or <paramref name="groupSize"/> is not positive.</exception>
    public static long WeightBytesPerRow(string format, int cols, int groupSize)
    {
        GroupsPerRow(format, cols, groupSize);
        return Check(format) switch
        {
            F32 => 4L * cols,
            F16 => 2L * cols,
            Int8 => cols,
            Int4 => Int4BlockFormat.RowBytes(cols),
            Base11 => Base11Format.RowBytes(cols, groupSize),
            Ternary => TernaryBlockFormat.RowBytes(cols),
            _ => Int1BlockFormat.RowBytes(cols),
        };
    }

    /// <summary>Metadata bytes of one row: 4 per group (a float32 scale, or binary16 min + range for base11); 0 for f32/f16.</summary>
    /// <exception cref="ArgumentException">Unknown format, or a group size the format does not accept.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cols"/> is negative or <paramref name="groupSize"/> is not positive.</exception>
    public static long MetadataBytesPerRow(string format, int cols, int groupSize) => 4L * GroupsPerRow(format, cols, groupSize);

    /// <summary>
    /// Stored bits per weight of a row of <paramref name="cols"/> weights, including block padding and metadata:
    /// <c>8 * (WeightBytesPerRow + MetadataBytesPerRow) / cols</c>. For example base11 with 1024 columns and groups of
    /// 256 is 3.75, int4 with groups of 64 is 4.5, ternary with groups of 320 is 1.75.
    /// </summary>
    /// <param name="format">Format name.</param>
    /// <param name="cols">Weights per row; positive.</param>
    /// <param name="groupSize">Group size of a grouped format (ignored for f32 and f16).</param>
    /// <exception cref="ArgumentException">Unknown format, or a group size the format does not accept.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="cols"/> is not positive or <paramref name="groupSize"/> is not positive.</exception>
    public static double BitsPerWeight(string format, int cols, int groupSize)
    {
        if (cols <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(cols), cols, "The number of columns must be positive.");
        }

        long bytes = WeightBytesPerRow(format, cols, groupSize) + MetadataBytesPerRow(format, cols, groupSize);
        return 8.0 * bytes / cols;
    }

    private static int GroupsPerRow(string format, int cols, int groupSize)
    {
        int multiple = GroupSizeMultiple(format);
        if (multiple == 0)
        {
            FormatArguments.CheckCols(cols);
            return 0;
        }

        return FormatArguments.GroupsPerRow(cols, groupSize, multiple, format);
    }

    private static string Check(string format)
    {
        if (format is null)
        {
            throw new ArgumentNullException(nameof(format));
        }

        if (Array.IndexOf(names, format) < 0)
        {
            throw new ArgumentException(
                "Unknown weight format '" + format + "'; expected one of " + string.Join(", ", names) + ".",
                nameof(format));
        }

        return format;
    }

    /// <summary>
    /// The weights as a layer in <paramref name="format"/> computes with them: packed with the
    /// format's packer and decoded with its scalar reference decoder (row-major [rows][cols]).
    /// The plain reference forward passes of tests and samples use it to separate kernel error
    /// from quantization error.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown format, a group size the format does not accept, or weights it cannot encode.</exception>
    public static float[] RoundTrip(string format, ReadOnlySpan<float> weights, int rows, int cols, int groupSize)
    {
        var output = new float[weights.Length];
        var groups = IsGrouped(format) ? (cols + groupSize - 1) / groupSize : 0;
        switch (Check(format))
        {
            case F32:
                weights.CopyTo(output);
                break;
            case F16:
            {
                var packed = new byte[rows * HalfFormat.RowBytes(cols)];
                HalfFormat.Quantize(weights, rows, cols, packed);
                HalfFormat.Dequantize(packed, rows, cols, output);
                break;
            }

            case Int8:
            {
                var q = new sbyte[weights.Length];
                var scales = new float[rows * groups];
                Int8GroupQuantizer.Quantize(weights, rows, cols, groupSize, q, scales);
                Int8GroupQuantizer.Dequantize(q, scales, rows, cols, groupSize, output);
                break;
            }

            case Int4:
            {
                var packed = new byte[rows * Int4BlockFormat.RowBytes(cols)];
                var scales = new float[rows * groups];
                Int4BlockFormat.Quantize(weights, rows, cols, groupSize, packed, scales);
                Int4BlockFormat.Dequantize(packed, scales, rows, cols, groupSize, output);
                break;
            }

            case Ternary:
            {
                var packed = new byte[rows * TernaryBlockFormat.RowBytes(cols)];
                var scales = new float[rows * groups];
                TernaryBlockFormat.Quantize(weights, rows, cols, groupSize, packed, scales);
                TernaryBlockFormat.Dequantize(packed, scales, rows, cols, groupSize, output);
                break;
            }

            case Int1:
            {
                var packed = new byte[rows * Int1BlockFormat.RowBytes(cols)];
                var scales = new float[rows * groups];
                Int1BlockFormat.Quantize(weights, rows, cols, groupSize, packed, scales);
                Int1BlockFormat.Dequantize(packed, scales, rows, cols, groupSize, output);
                break;
            }

            default:
            {
                var packed = new byte[rows * Base11Format.RowBytes(cols, groupSize)];
                var min = new ushort[rows * groups];
                var range = new ushort[rows * groups];
                Base11Format.Quantize(weights, rows, cols, groupSize, packed, min, range);
                Base11Format.Dequantize(packed, min, range, rows, cols, groupSize, output);
                break;
            }
        }

        return output;
    }
}
