using System;
using CodeGenChunk.Formats;
using CodeGenChunk.Runtime.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>Bit-plane storage of int8 codes (docs/formats.md "bitplanes") and its kernel against the reference decoder.</summary>
[TestClass]
public sealed class BitPlaneTests
{
    [TestMethod]
    [DataRow(0, 0)]
    [DataRow(1, 16)]
    [DataRow(128, 16)]
    [DataRow(129, 32)]
    [DataRow(784, 112)]
    [DataRow(1024, 128)]
    public void Plane_rows_are_whole_16_byte_blocks(int cols, int expected)
    {
        Assert.AreEqual(expected, BitPlaneFormat.RowBytes(cols));
    }

    [TestMethod]
    public void Every_code_reconstructs_within_half_the_dropped_range()
    {
        for (var c = -128; c <= 127; c++)
        {
            Assert.AreEqual(c, BitPlaneFormat.Reconstruct((sbyte)c, 8));
            for (var q = 1; q <= 8; q++)
            {
                var bound = ((1 << (8 - q)) - 1) / 2.0;
                Assert.IsLessThanOrEqualTo(bound, Math.Abs(c - BitPlaneFormat.Reconstruct((sbyte)c, q)), $"code {c}, {q} planes");
            }
        }
    }

    [TestMethod]
    public void Eight_planes_decode_to_the_int8_weights_and_fewer_to_reconstructed_codes()
    {
        const int rows = 7, cols = 300, g = 32;
        var w = Random(rows * cols, 1);
        var codes = new sbyte[rows * cols];
        var scales = new float[rows * Int8GroupQuantizer.GroupsPerRow(cols, g)];
        Int8GroupQuantizer.Quantize(w, rows, cols, g, codes, scales);
        var planes = new byte[8 * BitPlaneFormat.PlaneBytes(rows, cols)];
        BitPlaneFormat.Pack(codes, rows, cols, planes);
        var int8 = new float[rows * cols];
        Int8GroupQuantizer.Dequantize(codes, scales, rows, cols, g, int8);
        var decoded = new float[rows * cols];
        for (var q = 1; q <= 8; q++)
        {
            BitPlaneFormat.Dequantize(planes, scales, rows, cols, g, q, decoded);
            for (var i = 0; i < decoded.Length; i++)
            {
                var expected = BitPlaneFormat.Reconstruct(codes[i], q) * scales[((i / cols) * ((cols + g - 1) / g)) + ((i % cols) / g)];
                Assert.AreEqual(expected, decoded[i], $"{q} planes, weight {i}");
                if (q == 8)
                {
                    Assert.AreEqual(int8[i], decoded[i], $"weight {i}");
                }
            }

            // Only the first q planes are read: the others may hold anything.
            var truncated = (byte[])planes.Clone();
            truncated.AsSpan((int)(q * BitPlaneFormat.PlaneBytes(rows, cols))).Fill(0xA5);
            var again = new float[rows * cols];
            BitPlaneFormat.Dequantize(truncated, scales, rows, cols, g, q, again);
            CollectionAssert.AreEqual(decoded, again);
        }
    }

    [TestMethod]
    [DataRow(KernelPath.Vector256)]
    [DataRow(KernelPath.Vector128)]
    [DataRow(KernelPath.Scalar)]
    public void Kernel_matches_the_reference_decoder_for_every_plane_count(KernelPath requested)
    {
        var path = KernelPaths.Resolve(requested);
        foreach (var (rows, cols, g) in new[] { (5, 96, 32), (9, 300, 64), (4, 1024, 64), (3, 17, 16) })
        {
            var w = Random(rows * cols, rows + cols);
            var codes = new sbyte[rows * cols];
            var groups = Int8GroupQuantizer.GroupsPerRow(cols, g);
            var scales = new float[rows * groups];
            Int8GroupQuantizer.Quantize(w, rows, cols, g, codes, scales);
            var planeBytes = (int)(8 * BitPlaneFormat.PlaneBytes(rows, cols));
            var bias = Random(rows, 99);

            // weights: [planes][scales][bias], poisoned after the planes a run may read.
            var x = Random(cols, 7);
            var padded = new float[BitPlaneFormat.PaddedColumns(cols)];
            var sums = new float[groups];
            BitPlanes.Prepare(x, g, padded, sums);
            for (var q = 1; q <= 8; q++)
            {
                var file = new byte[planeBytes + (4 * scales.Length) + (4 * rows)];
                BitPlaneFormat.Pack(codes, rows, cols, file.AsSpan(0, planeBytes));
                file.AsSpan((int)(q * BitPlaneFormat.PlaneBytes(rows, cols)), planeBytes - (int)(q * BitPlaneFormat.PlaneBytes(rows, cols))).Fill(0xFF);
                Buffer.BlockCopy(scales, 0, file, planeBytes, 4 * scales.Length);
                Buffer.BlockCopy(bias, 0, file, planeBytes + (4 * scales.Length), 4 * rows);
                var y = new float[rows];
                BitPlanes.Rows(ref file[0], 0, planeBytes, planeBytes + (4 * scales.Length), true, cols, g, q, padded, sums, false, default, y, path);

                var planes = new byte[planeBytes];
                BitPlaneFormat.Pack(codes, rows, cols, planes);
                var decoded = new float[rows * cols];
                BitPlaneFormat.Dequantize(planes, scales, rows, cols, g, q, decoded);
                for (var r = 0; r < rows; r++)
                {
                    double expected = bias[r];
                    double magnitude = Math.Abs(bias[r]);
                    for (var k = 0; k < cols; k++)
                    {
                        expected += (double)decoded[(r * cols) + k] * x[k];
                        magnitude += Math.Abs((double)decoded[(r * cols) + k] * x[k]);
                    }

                    Assert.AreEqual(expected, y[r], 1e-5 * (1 + magnitude), $"{rows}x{cols} g{g}, {q} planes, row {r}, {path}");
                }
            }
        }
    }

    private static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (var i = 0; i < n; i++)
        {
            v[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        return v;
    }
}
