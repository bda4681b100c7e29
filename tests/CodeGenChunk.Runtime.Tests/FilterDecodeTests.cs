using System;
using CodeGenChunk.Formats;
using CodeGenChunk.Runtime.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>
/// FilterDecode reads a block of rows of a row-major packed matrix placed inside a larger buffer (as in a weights file)
/// and gives exactly the reference decoder's floats for those rows.
/// </summary>
[TestClass]
public sealed class FilterDecodeTests
{
    private const int Rows = 7;
    private const int Cols = 75; // a conv filter of 3 channels x 5 x 5: shorter last groups, partial blocks
    private const long Prefix = 40; // the matrix does not start at the beginning of the file

    [TestMethod]
    [DataRow("f16", 0)]
    [DataRow("int8", 16)]
    [DataRow("int4", 32)]
    [DataRow("ternary", 80)]
    [DataRow("int1", 128)]
    [DataRow("base11", 9)]
    public void A_block_of_rows_decodes_as_the_reference_decoder_does(string format, int groupSize)
    {
        var rng = new Random(format.Length * 31 + groupSize);
        var w = new float[Rows * Cols];
        for (var i = 0; i < w.Length; i++)
        {
            w[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        var expected = WeightFormats.RoundTrip(format, w, Rows, Cols, groupSize);
        var groups = groupSize > 0 ? (Cols + groupSize - 1) / groupSize : 0;
        byte[] values;
        byte[] meta1 = Array.Empty<byte>();
        byte[] meta2 = Array.Empty<byte>();
        switch (format)
        {
            case "f16":
                values = new byte[Rows * HalfFormat.RowBytes(Cols)];
                HalfFormat.Quantize(w, Rows, Cols, values);
                break;
            case "int8":
            {
                var q = new sbyte[Rows * Cols];
                var s = new float[Rows * groups];
                Int8GroupQuantizer.Quantize(w, Rows, Cols, groupSize, q, s);
                values = (byte[])(Array)q;
                meta1 = Bytes(s);
                break;
            }

            case "base11":
            {
                values = new byte[Rows * Base11Format.RowBytes(Cols, groupSize)];
                var min = new ushort[Rows * groups];
                var range = new ushort[Rows * groups];
                Base11Format.Quantize(w, Rows, Cols, groupSize, values, min, range);
                meta1 = Bytes(min);
                meta2 = Bytes(range);
                break;
            }

            default:
            {
                values = new byte[Rows * WeightFormats.WeightBytesPerRow(format, Cols, groupSize)];
                var s = new float[Rows * groups];
                if (format == "int4")
                {
                    Int4BlockFormat.Quantize(w, Rows, Cols, groupSize, values, s);
                }
                else if (format == "ternary")
                {
                    TernaryBlockFormat.Quantize(w, Rows, Cols, groupSize, values, s);
                }
                else
                {
                    Int1BlockFormat.Quantize(w, Rows, Cols, groupSize, values, s);
                }

                meta1 = Bytes(s);
                break;
            }
        }

        // A "file": prefix, values, first metadata, second metadata.
        var file = new byte[Prefix + values.Length + meta1.Length + meta2.Length];
        values.CopyTo(file, Prefix);
        meta1.CopyTo(file, Prefix + values.Length);
        meta2.CopyTo(file, Prefix + values.Length + meta1.Length);
        long v = Prefix, m1 = Prefix + values.Length, m2 = m1 + meta1.Length;

        foreach (var (first, count) in new[] { (0, 3), (3, 3), (6, 1) })
        {
            var decoded = new float[4 * Cols]; // larger than needed: only count rows are written
            decoded.AsSpan().Fill(float.NaN);
            ref var w0 = ref file[0];
            switch (format)
            {
                case "f16": FilterDecode.HalfRows(ref w0, v, first, count, Cols, decoded); break;
                case "int8": FilterDecode.Int8Rows(ref w0, v, m1, first, count, Cols, groupSize, decoded); break;
                case "int4": FilterDecode.Int4Rows(ref w0, v, m1, first, count, Cols, groupSize, decoded); break;
                case "ternary": FilterDecode.TernaryRows(ref w0, v, m1, first, count, Cols, groupSize, decoded); break;
                case "int1": FilterDecode.Int1Rows(ref w0, v, m1, first, count, Cols, groupSize, decoded); break;
                default: FilterDecode.Base11Rows(ref w0, v, m1, m2, first, count, Cols, groupSize, decoded); break;
            }

            CollectionAssert.AreEqual(expected.AsSpan(first * Cols, count * Cols).ToArray(), decoded.AsSpan(0, count * Cols).ToArray(), $"{format}: rows {first}..{first + count - 1}");
            Assert.IsTrue(float.IsNaN(decoded[count * Cols]), "nothing is written past the block");
        }
    }

    private static byte[] Bytes<T>(T[] values)
        where T : struct => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
