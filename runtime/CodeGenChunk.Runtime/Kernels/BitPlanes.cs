using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using CodeGenChunk.Formats;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>
/// The kernel of bit-plane chunks (<see cref="BitPlaneFormat"/>, docs/formats.md "bitplanes"): the rows of one
/// chunk computed from the first <c>q</c> of its eight planes, <c>y_r = Σ_g scale_rg · (Σ_j t_q[j]·x[j] + m_q·Σ_{j∈g} x[j]) + b_r</c>
/// with <c>t_q</c> the code truncated to q planes and <c>m_q = (2^(8−q) − 1)/2</c>. Per 16 columns the truncated codes
/// are put together from the q plane bytes (bit i of 16 bytes, shifted into bit 7−p and OR-ed: two's complement needs
/// no sign handling), widened to floats and multiplied with x. Only planes 0..q−1 and the scales are read.
/// Vector256, Vector128 and scalar paths; no allocation.
/// </summary>
public static class BitPlanes
{
    /// <summary>
    /// Once per layer and input: <paramref name="x"/> copied into <paramref name="padded"/> (zeros up to
    /// <see cref="BitPlaneFormat.PaddedColumns"/>), and the sum of x over each group (the midpoint term).
    /// </summary>
    public static void Prepare(ReadOnlySpan<float> x, int groupSize, Span<float> padded, Span<float> groupSums)
    {
        x.CopyTo(padded);
        padded.Slice(x.Length).Clear();
        for (int g = 0, start = 0; start < x.Length; g++, start += groupSize)
        {
            groupSums[g] = TensorPrimitives.Sum(x.Slice(start, Math.Min(groupSize, x.Length - start)));
        }
    }

    /// <summary>
    /// A chunk's normalised runtime-activity score (docs/routing.md): its activity over the layer's largest for this
    /// input, 0 when that is not positive. The generated code compares it with the policy's thresholds.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Normalised(float activity, float max) => max > 0f ? activity / max : 0f;

    /// <summary>The largest activity (NaN ignored), the denominator of the normalised score.</summary>
    public static float Max(ReadOnlySpan<float> activity)
    {
        var max = 0f;
        foreach (var a in activity)
        {
            if (a > max)
            {
                max = a;
            }
        }

        return max;
    }

    /// <summary>
    /// Computes <paramref name="y"/> (one chunk's rows) from the first <paramref name="planes"/> planes at
    /// <paramref name="planeOffset"/> (plane stride <c>rows · RowBytes(cols)</c>) and the float32 scales at
    /// <paramref name="scaleOffset"/>, then + bias (at <paramref name="biasOffset"/> when <paramref name="hasBias"/>),
    /// ReLU, + residual.
    /// </summary>
    public static void Rows(
        ref byte w,
        long planeOffset,
        long scaleOffset,
        long biasOffset,
        bool hasBias,
        int cols,
        int groupSize,
        int planes,
        ReadOnlySpan<float> xPadded,
        ReadOnlySpan<float> groupSums,
        bool relu,
        ReadOnlySpan<float> residual,
        Span<float> y,
        KernelPath path)
    {
        var rows = y.Length;
        var rowBytes = BitPlaneFormat.RowBytes(cols);
        var planeStride = (nint)((long)rows * rowBytes);
        var groups = (cols + groupSize - 1) / groupSize;
        var units = (cols + BitPlaneFormat.UnitColumns - 1) / BitPlaneFormat.UnitColumns;
        var unitsPerGroup = groupSize / BitPlaneFormat.UnitColumns;
        var mid = BitPlaneFormat.MidpointOffset(planes);
        if (xPadded.Length < units * BitPlaneFormat.UnitColumns || groupSums.Length < groups)
        {
            throw new ArgumentException("The padded input or the group sums are too short.", nameof(xPadded));
        }

        ref float x = ref MemoryMarshal.GetReference(xPadded);
        ref float gs = ref MemoryMarshal.GetReference(groupSums);
        ref float sc = ref Unsafe.As<byte, float>(ref Unsafe.Add(ref w, (nint)scaleOffset));
        Span<Vector128<byte>> bits = stackalloc Vector128<byte>[BitPlaneFormat.Planes];
        var wide = path <= KernelPath.Vector256 && Vector256.IsHardwareAccelerated;
        var simd = path <= KernelPath.Vector128 && Vector128.IsHardwareAccelerated;
        for (var r = 0; r < rows; r++)
        {
            ref byte row = ref Unsafe.Add(ref w, (nint)(planeOffset + ((long)r * rowBytes)));
            ref float rowScales = ref Unsafe.Add(ref sc, r * groups);
            float total;
            if (wide)
            {
                total = Row256(ref row, planeStride, planes, units, unitsPerGroup, mid, ref x, ref gs, ref rowScales, bits);
            }
            else if (simd)
            {
                total = Row128(ref row, planeStride, planes, units, unitsPerGroup, mid, ref x, ref gs, ref rowScales, bits);
            }
            else
            {
                total = RowScalar(ref row, planeStride, planes, units, unitsPerGroup, mid, ref x, ref gs, ref rowScales);
            }

            if (hasBias)
            {
                total += Unsafe.As<byte, float>(ref Unsafe.Add(ref w, (nint)(biasOffset + (4L * r))));
            }

            if (relu)
            {
                total = MathF.Max(total, 0f);
            }

            if (!residual.IsEmpty)
            {
                total += residual[r];
            }

            y[r] = total;
        }
    }

    /// <summary>
    /// The truncated codes of the 16 columns at bit <paramref name="i"/> of the loaded plane blocks, most significant
    /// plane first (<c>c = 2c + bit</c>: a byte add and a subtract of the compare's all-ones mask; x86 has no byte
    /// shifts), then shifted into the top q bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<sbyte> Codes(Span<Vector128<byte>> bits, int planes, int i)
    {
        var select = Vector128.Create((byte)(1 << i));
        var c = Vector128<byte>.Zero;
        for (var p = 0; p < planes; p++)
        {
            c = c + c - Vector128.Equals(bits[p] & select, select);
        }

        var drop = BitPlaneFormat.Planes - planes;
        return (Vector128.ShiftLeft(c.AsUInt16(), drop).AsByte() & Vector128.Create((byte)(0xFF << drop))).AsSByte();
    }

    /// <summary>
    /// Vector256: each plane's 16-byte block is put in both halves of a 256-bit vector, so one compare reads the bits of
    /// two bit positions (32 consecutive columns) at a time; the codes are put together most significant plane first,
    /// Horner style (<c>c = 2c + bit</c>: a byte add and a subtract of the compare's all-ones mask), then shifted into
    /// the top q bits.
    /// </summary>
    private static float Row256(ref byte row, nint planeStride, int planes, int units, int unitsPerGroup, float mid, ref float x, ref float gs, ref float scales, Span<Vector128<byte>> bits)
    {
        // Two partial sums per group (the two halves of 16 columns: independent multiply-add chains), scaled into one
        // vector per row; the midpoint terms go to a scalar. One horizontal sum per row.
        var total = 0f;
        var sum = Vector256<float>.Zero;
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        var g = 0;
        var inGroup = 0;
        var drop = BitPlaneFormat.Planes - planes;
        var keep = Vector256.Create((byte)(0xFF << drop));
        for (var u = 0; u < units; u += 2)
        {
            var i = u & 7;
            ref byte block = ref Unsafe.Add(ref row, (u >> 3) * BitPlaneFormat.BlockBytes);

            // Bytes 0..15 select bit i (columns 16i..16i+15), bytes 16..31 bit i + 1 (the next 16 columns).
            var select = Vector256.Create(Vector128.Create((byte)(1 << i)), Vector128.Create((byte)(2 << i)));
            var c = Vector256<byte>.Zero;
            for (var p = 0; p < planes; p++)
            {
                var b = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, p * planeStride));
                c = c + c - Vector256.Equals(Vector256.Create(b, b) & select, select);
            }

            var codes = (Vector256.ShiftLeft(c.AsUInt16(), drop).AsByte() & keep).AsSByte();
            for (var half = 0; half < 2 && u + half < units; half++)
            {
                var s16 = half == 0 ? Vector256.WidenLower(codes) : Vector256.WidenUpper(codes);
                ref float xu = ref Unsafe.Add(ref x, (u + half) * BitPlaneFormat.UnitColumns);
                acc0 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(Vector256.WidenLower(s16)), Vector256.LoadUnsafe(ref xu), acc0);
                acc1 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(Vector256.WidenUpper(s16)), Vector256.LoadUnsafe(ref xu, 8), acc1);
                if (++inGroup == unitsPerGroup || u + half == units - 1)
                {
                    var scale = Unsafe.Add(ref scales, g);
                    sum = Vector256.MultiplyAddEstimate(acc0 + acc1, Vector256.Create(scale), sum);
                    total += mid * Unsafe.Add(ref gs, g) * scale;
                    acc0 = Vector256<float>.Zero;
                    acc1 = Vector256<float>.Zero;
                    inGroup = 0;
                    g++;
                }
            }
        }

        return Vector256.Sum(sum) + total;
    }

    private static float Row128(ref byte row, nint planeStride, int planes, int units, int unitsPerGroup, float mid, ref float x, ref float gs, ref float scales, Span<Vector128<byte>> bits)
    {
        var total = 0f;
        var sum = Vector128<float>.Zero;
        var acc0 = Vector128<float>.Zero;
        var acc1 = Vector128<float>.Zero;
        var g = 0;
        var inGroup = 0;
        for (var u = 0; u < units; u++)
        {
            var i = u & 7;
            if (i == 0)
            {
                ref byte block = ref Unsafe.Add(ref row, (u >> 3) * BitPlaneFormat.BlockBytes);
                for (var p = 0; p < planes; p++)
                {
                    bits[p] = Vector128.LoadUnsafe(ref Unsafe.Add(ref block, p * planeStride));
                }
            }

            var c = Codes(bits, planes, i);
            var lo = Vector128.WidenLower(c);
            var hi = Vector128.WidenUpper(c);
            ref float xu = ref Unsafe.Add(ref x, u * BitPlaneFormat.UnitColumns);
            acc0 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(Vector128.WidenLower(lo)), Vector128.LoadUnsafe(ref xu), acc0);
            acc1 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(Vector128.WidenUpper(lo)), Vector128.LoadUnsafe(ref xu, 4), acc1);
            acc0 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(Vector128.WidenLower(hi)), Vector128.LoadUnsafe(ref xu, 8), acc0);
            acc1 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(Vector128.WidenUpper(hi)), Vector128.LoadUnsafe(ref xu, 12), acc1);
            if (++inGroup == unitsPerGroup || u == units - 1)
            {
                var scale = Unsafe.Add(ref scales, g);
                sum = Vector128.MultiplyAddEstimate(acc0 + acc1, Vector128.Create(scale), sum);
                total += mid * Unsafe.Add(ref gs, g) * scale;
                acc0 = Vector128<float>.Zero;
                acc1 = Vector128<float>.Zero;
                inGroup = 0;
                g++;
            }
        }

        return Vector128.Sum(sum) + total;
    }

    private static float RowScalar(ref byte row, nint planeStride, int planes, int units, int unitsPerGroup, float mid, ref float x, ref float gs, ref float scales)
    {
        var total = 0f;
        var acc = 0f;
        var g = 0;
        var inGroup = 0;
        for (var u = 0; u < units; u++)
        {
            var i = u & 7;
            ref byte block = ref Unsafe.Add(ref row, (u >> 3) * BitPlaneFormat.BlockBytes);
            for (var j = 0; j < BitPlaneFormat.UnitColumns; j++)
            {
                var code = 0;
                for (var p = 0; p < planes; p++)
                {
                    code |= ((Unsafe.Add(ref block, (p * planeStride) + j) >> i) & 1) << (7 - p);
                }

                acc = float.MultiplyAddEstimate((sbyte)code, Unsafe.Add(ref x, (u * BitPlaneFormat.UnitColumns) + j), acc);
            }

            if (++inGroup == unitsPerGroup || u == units - 1)
            {
                total += (acc + (mid * Unsafe.Add(ref gs, g))) * Unsafe.Add(ref scales, g);
                acc = 0f;
                inGroup = 0;
                g++;
            }
        }

        return total;
    }
}
