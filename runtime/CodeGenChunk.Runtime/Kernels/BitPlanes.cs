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
        Span<float> four = stackalloc float[4];
        var first = 0;
        if (wide)
        {
            // Four rows at a time: the x loads and the loop shared, four independent multiply-add chains.
            for (; first + 4 <= rows; first += 4)
            {
                ref byte row = ref Unsafe.Add(ref w, (nint)(planeOffset + ((long)first * rowBytes)));
                Row256x4(ref row, rowBytes, planeStride, planes, units, unitsPerGroup, mid, ref x, ref gs, ref Unsafe.Add(ref sc, first * groups), groups, four);
                for (var k = 0; k < 4; k++)
                {
                    Store(ref w, biasOffset, hasBias, relu, residual, y, first + k, four[k]);
                }
            }
        }

        for (var r = first; r < rows; r++)
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

            Store(ref w, biasOffset, hasBias, relu, residual, y, r, total);
        }
    }

    /// <summary>A row's epilogue: + bias, ReLU, + residual.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref byte w, long biasOffset, bool hasBias, bool relu, ReadOnlySpan<float> residual, Span<float> y, int r, float total)
    {
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

    /// <summary>Four consecutive rows by <see cref="Row256"/>'s method, sharing the x loads; their dot products (before bias) into <paramref name="totals"/>.</summary>
    private static void Row256x4(ref byte row, int rowBytes, nint planeStride, int planes, int units, int unitsPerGroup, float mid, ref float x, ref float gs, ref float scales, int groups, Span<float> totals)
    {
        float t0 = 0f, t1 = 0f, t2 = 0f, t3 = 0f;
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var g = 0;
        var inGroup = 0;
        var drop = BitPlaneFormat.Planes - planes;
        var keep = Vector256.Create((byte)(0xFF << drop));
        for (var u = 0; u < units; u += 2)
        {
            var i = u & 7;
            ref byte block = ref Unsafe.Add(ref row, (u >> 3) * BitPlaneFormat.BlockBytes);
            var select = Vector256.Create(Vector128.Create((byte)(1 << i)), Vector128.Create((byte)(2 << i)));
            Vector256<byte> c0 = default, c1 = default, c2 = default, c3 = default;
            for (var p = 0; p < planes; p++)
            {
                ref byte b = ref Unsafe.Add(ref block, p * planeStride);
                var b0 = Vector128.LoadUnsafe(ref b);
                var b1 = Vector128.LoadUnsafe(ref Unsafe.Add(ref b, rowBytes));
                var b2 = Vector128.LoadUnsafe(ref Unsafe.Add(ref b, 2 * rowBytes));
                var b3 = Vector128.LoadUnsafe(ref Unsafe.Add(ref b, 3 * rowBytes));
                c0 = c0 + c0 - Vector256.Equals(Vector256.Create(b0, b0) & select, select);
                c1 = c1 + c1 - Vector256.Equals(Vector256.Create(b1, b1) & select, select);
                c2 = c2 + c2 - Vector256.Equals(Vector256.Create(b2, b2) & select, select);
                c3 = c3 + c3 - Vector256.Equals(Vector256.Create(b3, b3) & select, select);
            }

            var q0 = (Vector256.ShiftLeft(c0.AsUInt16(), drop).AsByte() & keep).AsSByte();
            var q1 = (Vector256.ShiftLeft(c1.AsUInt16(), drop).AsByte() & keep).AsSByte();
            var q2 = (Vector256.ShiftLeft(c2.AsUInt16(), drop).AsByte() & keep).AsSByte();
            var q3 = (Vector256.ShiftLeft(c3.AsUInt16(), drop).AsByte() & keep).AsSByte();
            for (var half = 0; half < 2 && u + half < units; half++)
            {
                ref float xu = ref Unsafe.Add(ref x, (u + half) * BitPlaneFormat.UnitColumns);
                var xl = Vector256.LoadUnsafe(ref xu);
                var xh = Vector256.LoadUnsafe(ref xu, 8);
                a0 = Accumulate(half == 0 ? Vector256.WidenLower(q0) : Vector256.WidenUpper(q0), xl, xh, a0);
                a1 = Accumulate(half == 0 ? Vector256.WidenLower(q1) : Vector256.WidenUpper(q1), xl, xh, a1);
                a2 = Accumulate(half == 0 ? Vector256.WidenLower(q2) : Vector256.WidenUpper(q2), xl, xh, a2);
                a3 = Accumulate(half == 0 ? Vector256.WidenLower(q3) : Vector256.WidenUpper(q3), xl, xh, a3);
                if (++inGroup == unitsPerGroup || u + half == units - 1)
                {
                    var m = mid * Unsafe.Add(ref gs, g);
                    float sc0 = Unsafe.Add(ref scales, g), sc1 = Unsafe.Add(ref scales, groups + g), sc2 = Unsafe.Add(ref scales, (2 * groups) + g), sc3 = Unsafe.Add(ref scales, (3 * groups) + g);
                    s0 = Vector256.MultiplyAddEstimate(a0, Vector256.Create(sc0), s0);
                    s1 = Vector256.MultiplyAddEstimate(a1, Vector256.Create(sc1), s1);
                    s2 = Vector256.MultiplyAddEstimate(a2, Vector256.Create(sc2), s2);
                    s3 = Vector256.MultiplyAddEstimate(a3, Vector256.Create(sc3), s3);
                    t0 += m * sc0;
                    t1 += m * sc1;
                    t2 += m * sc2;
                    t3 += m * sc3;
                    a0 = default;
                    a1 = default;
                    a2 = default;
                    a3 = default;
                    inGroup = 0;
                    g++;
                }
            }
        }

        totals[0] = Vector256.Sum(s0) + t0;
        totals[1] = Vector256.Sum(s1) + t1;
        totals[2] = Vector256.Sum(s2) + t2;
        totals[3] = Vector256.Sum(s3) + t3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Accumulate(Vector256<short> codes, Vector256<float> xl, Vector256<float> xh, Vector256<float> acc) =>
        Vector256.MultiplyAddEstimate(
            Vector256.ConvertToSingle(Vector256.WidenUpper(codes)),
            xh,
            Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(Vector256.WidenLower(codes)), xl, acc));

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
