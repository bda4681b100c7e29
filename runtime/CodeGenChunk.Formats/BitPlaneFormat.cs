using System;

namespace CodeGenChunk.Formats;

/// <summary>
/// int8 codes stored as eight bit-planes, so that a kernel reading only the first <c>q</c> planes computes with
/// <c>q</c>-bit weights and reads <c>q/8</c> of the code bytes (docs/formats.md, "bitplanes"). The codes and
/// scales are exactly those of <see cref="Int8GroupQuantizer"/> (same group size, same rounding).
/// <para>
/// Layout of a <c>[rows][cols]</c> matrix: plane after plane, most significant (the two's-complement sign bit,
/// weight −128) first; each plane <c>rows · RowBytes(cols)</c> bytes, row after row. A row of a plane is
/// <c>ceil(cols / 128)</c> blocks of 16 bytes; in block <c>b</c>, <b>bit <c>i</c> (LSB first) of byte <c>j</c> is
/// column <c>128·b + 16·i + j</c></b> (the int1 block layout: bit <c>i</c> of the 16 bytes holds 16 consecutive
/// columns). Padding columns are code 0 (all bits 0). Scales float32 <c>[rows][ceil(cols / groupSize)]</c>.
/// </para>
/// <para>
/// Decoding with the first <c>q</c> planes (1 ≤ q ≤ 8): the truncated code <c>t = c − (c mod 2^(8−q))</c>
/// (floor towards −∞, the bits below plane q cleared) is reconstructed at the middle of the range it stands for,
/// <c>ĉ = t + (2^(8−q) − 1) / 2</c>, so <c>|c − ĉ| ≤ (2^(8−q) − 1) / 2</c> codes; the weight is <c>ĉ · scale</c>.
/// For q = 8 the offset is 0 and <c>ĉ = c</c>: the int8 weight exactly.
/// </para>
/// </summary>
public static class BitPlaneFormat
{
    /// <summary>Format name of bit-plane storage (a storage of the int8 codes, not a manifest format).</summary>
    public const string Name = "bitplanes";

    /// <summary>Planes stored: the eight bits of the int8 code.</summary>
    public const int Planes = 8;

    /// <summary>Columns per 16-byte block of one plane.</summary>
    public const int BlockColumns = 128;

    /// <summary>Bytes of a block.</summary>
    public const int BlockBytes = 16;

    /// <summary>Columns of one bit position within a block (16 consecutive columns): the unit the kernels compute with.</summary>
    public const int UnitColumns = 16;

    /// <summary>Group sizes must be multiples of this (whole 16-column units).</summary>
    public const int GroupSizeMultiple = UnitColumns;

    /// <summary>Bytes of one row of one plane: <c>16 · ceil(cols / 128)</c>.</summary>
    public static int RowBytes(int cols)
    {
        if (cols < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(cols), cols, "The number of columns must not be negative.");
        }

        return BlockBytes * ((cols + BlockColumns - 1) / BlockColumns);
    }

    /// <summary>Columns a row covers with its padding (<c>128 · ceil(cols / 128)</c>): the length of the zero-padded input the kernels read.</summary>
    public static int PaddedColumns(int cols) => 8 * RowBytes(cols);

    /// <summary>Bytes of one plane of a <c>[rows][cols]</c> matrix.</summary>
    public static long PlaneBytes(int rows, int cols) => (long)rows * RowBytes(cols);

    /// <summary>The reconstruction offset added to a code truncated to <paramref name="planes"/> planes: <c>(2^(8−q) − 1) / 2</c>.</summary>
    public static float MidpointOffset(int planes)
    {
        CheckPlanes(planes);
        return ((1 << (Planes - planes)) - 1) * 0.5f;
    }

    /// <summary>The value of code <paramref name="code"/> read from its first <paramref name="planes"/> planes (before the scale).</summary>
    public static float Reconstruct(sbyte code, int planes)
    {
        CheckPlanes(planes);
        var drop = Planes - planes;
        var truncated = (code >> drop) << drop; // arithmetic shift: floor towards −∞
        return truncated + MidpointOffset(planes);
    }

    /// <summary>
    /// Stores row-major int8 codes <c>[rows][cols]</c> as the eight planes (<c>8 · rows · RowBytes(cols)</c> bytes,
    /// see the class summary). Codes of −128 are accepted (the quantizer never produces them).
    /// </summary>
    public static void Pack(ReadOnlySpan<sbyte> codes, int rows, int cols, Span<byte> planes)
    {
        var rowBytes = RowBytes(cols);
        var planeBytes = (long)rows * rowBytes;
        if (codes.Length != (long)rows * cols)
        {
            throw new ArgumentException("Expected " + ((long)rows * cols).ToString(System.Globalization.CultureInfo.InvariantCulture) + " codes.", nameof(codes));
        }

        if (planes.Length != Planes * planeBytes)
        {
            throw new ArgumentException("Expected " + (Planes * planeBytes).ToString(System.Globalization.CultureInfo.InvariantCulture) + " bytes of planes.", nameof(planes));
        }

        planes.Clear();
        for (var r = 0; r < rows; r++)
        {
            for (var col = 0; col < cols; col++)
            {
                var code = (byte)codes[(r * cols) + col];
                var block = col / BlockColumns;
                var within = col % BlockColumns;
                var bit = within / UnitColumns;
                var index = (r * rowBytes) + (block * BlockBytes) + (within % UnitColumns);
                for (var p = 0; p < Planes; p++)
                {
                    if (((code >> (7 - p)) & 1) != 0)
                    {
                        planes[(int)((p * planeBytes) + index)] |= (byte)(1 << bit);
                    }
                }
            }
        }
    }

    /// <summary>
    /// The reference decoder: the weights <c>[rows][cols]</c> as a kernel reading the first <paramref name="planes"/>
    /// planes computes with them, <c>Reconstruct(c, q) · scale</c> (float32, product rounded once).
    /// </summary>
    public static void Dequantize(ReadOnlySpan<byte> planeBytes, ReadOnlySpan<float> scales, int rows, int cols, int groupSize, int planes, Span<float> output)
    {
        CheckPlanes(planes);
        var rowBytes = RowBytes(cols);
        var plane = (long)rows * rowBytes;
        var groups = Int8GroupQuantizer.GroupsPerRow(cols, groupSize);
        if (planeBytes.Length < planes * plane || scales.Length != rows * groups || output.Length != rows * cols)
        {
            throw new ArgumentException("Spans do not match a [" + rows.ToString(System.Globalization.CultureInfo.InvariantCulture) + "][" + cols.ToString(System.Globalization.CultureInfo.InvariantCulture) + "] matrix.");
        }

        var offset = MidpointOffset(planes);
        for (var r = 0; r < rows; r++)
        {
            for (var col = 0; col < cols; col++)
            {
                var block = col / BlockColumns;
                var within = col % BlockColumns;
                var bit = within / UnitColumns;
                var index = (r * rowBytes) + (block * BlockBytes) + (within % UnitColumns);
                var t = 0;
                for (var p = 0; p < planes; p++)
                {
                    if (((planeBytes[(int)((p * plane) + index)] >> bit) & 1) != 0)
                    {
                        t += p == 0 ? -128 : 1 << (7 - p);
                    }
                }

                output[(r * cols) + col] = (t + offset) * scales[(r * groups) + (col / groupSize)];
            }
        }
    }

    private static void CheckPlanes(int planes)
    {
        if (planes < 1 || planes > Planes)
        {
            throw new ArgumentOutOfRangeException(nameof(planes), planes, "Between 1 and 8 planes.");
        }
    }
}
