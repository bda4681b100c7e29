using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>
/// Integer activations for conv2d layers with base11 weights (docs/activations.md, "conv2d"): u8 input codes with a zero
/// point z times base11 filters (each filter a row of InC·KH·KW indices 0..10 in the base11 format's groups, binary16
/// min and range per filter and group, as <c>FilterDecode.Base11Rows</c> reads them). Per output channel o, position p
/// and group g of the filter's taps:
/// <c>y = s · Σ_g [0.1 · range_g · Σ_{t∈g} d_t · (q_{p,t} − z) + min_g · Σ_{t∈g} (q_{p,t} − z)] + b_o</c>.
/// <para>
/// The layout is <see cref="Int8Activations.Conv2d"/>'s (<c>ConvLayout</c>: tap offsets and the input bordered with z, so
/// padding adds (z − z) = 0), and so is the epilogue (ReLU, floats or requantized codes and clip counts). Each filter is
/// decoded once per call into digit bytes in the scratch. Per group the kernel sums Σ d · q and Σ q in int32 and takes
/// away z · Σ d and z · |g|: |Σ d · (q − z)| ≤ 10 · 255 · |g| and |Σ (q − z)| ≤ 255 · |g| are integers below 2²⁴ for
/// |g| ≤ <see cref="MaxExactGroupLength"/> = 6,579, exact in float (and Σ d · q ≤ 2,550 · 6,579 is far inside int32).
/// Every path then adds <c>(0.1 · range_g) · A + min_g · B</c> to a float per column in the same order (multiplies and
/// adds, never fused): the Vector128 path (also arm64's), the AVX-VNNI path (Vector256 and Vector512 requests where
/// the machine has AVX-VNNI; else they run Vector128) and the scalar path agree bit for bit.
/// </para>
/// </summary>
public static partial class Base11Activations
{
    /// <summary>
    /// Bytes of scratch <see cref="Conv2d"/> needs: <see cref="Int8Activations.ConvScratchBytes"/>, then one filter's
    /// digits (one byte per tap, rounded to 64), then 16 bytes per group (the floats 0.1 · range and min, then the ints z · Σ d and z · |g|).
    /// </summary>
    public static int ConvScratchBytes(int inC, int h, int w, int kh, int kw, int padTop, int padLeft, int padBottom, int padRight, int groupSize)
    {
        int f = inC * kh * kw;
        return Int8Activations.ConvScratchBytes(inC, h, w, kh, kw, padTop, padLeft, padBottom, padRight) + ((f + 63) & ~63) + (16 * ((f + groupSize - 1) / groupSize));
    }

    /// <summary>
    /// y = conv(x, W) + b, ReLU, for u8 codes x [InC, H, W] (scale <paramref name="xScale"/>, zero point
    /// <paramref name="xZero"/>) and base11 filters <paramref name="w"/> [OutC rows of InC·KH·KW indices, groups of
    /// <paramref name="groupSize"/> ≤ <see cref="MaxExactGroupLength"/>] with binary16 <paramref name="mins"/> and
    /// <paramref name="ranges"/> per filter and group. Writes floats [OutC, OH, OW] to <paramref name="y"/>, or, when
    /// <paramref name="yq"/> is not empty, u8 codes of scale <paramref name="yScale"/> and zero point <paramref name="yZero"/>;
    /// returns the number of clipped codes. <paramref name="sums"/> (<see cref="RowStats"/>) gives the output channels.
    /// The vector paths need a horizontal stride of 1 (others run the scalar path).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Conv2d(
        ReadOnlySpan<byte> w,
        ReadOnlySpan<ushort> mins,
        ReadOnlySpan<ushort> ranges,
        ReadOnlySpan<float> bias,
        ReadOnlySpan<float> sums,
        ReadOnlySpan<byte> x,
        float xScale,
        int xZero,
        int inC,
        int h,
        int wd,
        int kh,
        int kw,
        int sh,
        int sw,
        int padTop,
        int padLeft,
        int padBottom,
        int padRight,
        int groupSize,
        bool relu,
        Span<byte> scratch,
        Span<float> y,
        Span<byte> yq,
        float yScale,
        int yZero,
        KernelPath path)
    {
        int outC = sums.Length;
        int f = inC * kh * kw;
        int groups = groupSize < 1 ? 0 : (f + groupSize - 1) / groupSize;
        int rowBytes = groupSize < 1 ? 0 : RowBytes(f, groupSize);
        int ph = h + padTop + padBottom;
        int pw = wd + padLeft + padRight;
        int oh = sh < 1 ? 0 : ((ph - kh) / sh) + 1;
        int ow = sw < 1 ? 0 : ((pw - kw) / sw) + 1;
        int outPlane = oh * ow;
        if (groupSize < 1 || Math.Min(groupSize, f) > MaxExactGroupLength || (uint)xZero > Int8Activations.MaxCode || oh < 1 || ow < 1
            || x.Length < inC * h * wd || w.Length < (long)outC * rowBytes || mins.Length < (long)outC * groups || ranges.Length < (long)outC * groups
            || (yq.IsEmpty ? y.Length < outC * outPlane : yq.Length < outC * outPlane) || (!bias.IsEmpty && bias.Length < outC)
            || scratch.Length < ConvScratchBytes(inC, h, wd, kh, kw, padTop, padLeft, padBottom, padRight, groupSize))
        {
            throw new ArgumentException("Base11Activations.Conv2d: spans do not match the shape (a group may hold at most 6,579 taps).");
        }

        path = KernelPaths.Resolve(path);
        bool vector = path != KernelPath.Scalar && sw == 1;
        bool vnni = vector && path is KernelPath.Vector256 or KernelPath.Vector512 && AvxVnni.IsSupported;

        int layoutBytes = Int8Activations.ConvScratchBytes(inC, h, wd, kh, kw, padTop, padLeft, padBottom, padRight);
        Int8Activations.ConvLayout(x, xZero, false, inC, h, wd, kh, kw, padTop, padLeft, padBottom, padRight, scratch, out Span<int> offs, out Span<byte> padded);
        int digitBytes = (f + 63) & ~63;
        Span<byte> digits = scratch.Slice(layoutBytes, f);
        Span<float> groupConst = MemoryMarshal.Cast<byte, float>(scratch.Slice(layoutBytes + digitBytes, 8 * groups));
        Span<int> groupZero = MemoryMarshal.Cast<byte, int>(scratch.Slice(layoutBytes + digitBytes + (8 * groups), 8 * groups));

        ref int off = ref MemoryMarshal.GetReference(offs);
        ref byte p = ref MemoryMarshal.GetReference(padded);
        ref byte dr = ref MemoryMarshal.GetReference(digits);
        ref float gc = ref MemoryMarshal.GetReference(groupConst);
        ref int gz = ref MemoryMarshal.GetReference(groupZero);
        float inv = yq.IsEmpty ? 0f : 1f / yScale;
        Span<float> d = stackalloc float[Int8Activations.ConvColumns];
        Span<byte> tail = stackalloc byte[Int8Activations.ConvColumns];
        int clipped = 0;
        for (int o = 0; o < outC; o++)
        {
            // the filter's digits, and per group 0.1 · range and min (floats), z · Σ d and z · |g| (ints)
            var row = w.Slice(o * rowBytes, rowBytes);
            for (int g = 0; g < groups; g++)
            {
                int start = g * groupSize;
                int len = Math.Min(groupSize, f - start);
                var packed = row.Slice(g * PackBytes(groupSize), PackBytes(len));
                int ds = 0;
                for (int i = 0; i < len; i += DigitsPerWord)
                {
                    uint word = MemoryMarshal.Read<uint>(packed.Slice((i / DigitsPerWord) * 4, 4));
                    int n = Math.Min(DigitsPerWord, len - i);
                    for (int j = 0; j < n; j++)
                    {
                        uint q = word / 11;
                        int digit = (int)(word - (11 * q));
                        digits[start + i + j] = (byte)digit;
                        ds += digit;
                        word = q;
                    }
                }

                groupConst[2 * g] = Step * PackedDecode.HalfToSingle(ranges[(o * groups) + g]);
                groupConst[(2 * g) + 1] = PackedDecode.HalfToSingle(mins[(o * groups) + g]);
                groupZero[2 * g] = xZero * ds;
                groupZero[(2 * g) + 1] = xZero * len;
            }

            float bo = bias.IsEmpty ? 0f : bias[o];
            for (int i = 0; i < oh; i++)
            {
                for (int j = 0; j < ow; j += Int8Activations.ConvColumns)
                {
                    int n = Math.Min(Int8Activations.ConvColumns, ow - j);
                    int origin = (i * sh * pw) + (j * sw);
                    if (vnni)
                    {
                        VnniColumns(ref Unsafe.Add(ref p, origin), ref off, ref dr, ref gc, ref gz, f, groupSize, d);
                    }
                    else if (vector)
                    {
                        V128Columns(ref Unsafe.Add(ref p, origin), ref off, ref dr, ref gc, ref gz, f, groupSize, d);
                    }
                    else
                    {
                        ScalarColumns(ref Unsafe.Add(ref p, origin), ref off, ref dr, ref gc, ref gz, f, groupSize, sw, n, d);
                    }

                    int at = (o * outPlane) + (i * ow) + j;
                    clipped += Int8Activations.StoreColumns(d, n, xScale, 0f, bo, relu, inv, yZero, yq.IsEmpty ? y.Slice(at, n) : default, yq.IsEmpty ? default : yq.Slice(at, n), tail);
                }
            }
        }

        return clipped;
    }

    /// <summary>Plain loops: per column and group, A = Σ d · q − z · Σ d and B = Σ q − z · |g| in int32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScalarColumns(ref byte p, ref int off, ref byte digits, ref float gc, ref int gz, int f, int groupSize, int sw, int n, Span<float> d)
    {
        for (int k = 0; k < n; k++)
        {
            float acc = 0f;
            for (int g = 0, start = 0; start < f; g++, start += groupSize)
            {
                int end = Math.Min(f, start + groupSize);
                int a = 0, b = 0;
                for (int t = start; t < end; t++)
                {
                    int q = Unsafe.Add(ref p, Unsafe.Add(ref off, t) + (k * sw));
                    a += Unsafe.Add(ref digits, t) * q;
                    b += q;
                }

                ref float c = ref Unsafe.Add(ref gc, 2 * g);
                a -= Unsafe.Add(ref gz, 2 * g);
                b -= Unsafe.Add(ref gz, (2 * g) + 1);
                float term = (a * c) + (b * Unsafe.Add(ref c, 1));
                acc += term;
            }

            d[k] = acc;
        }
    }

    /// <summary>
    /// 16 columns on Vector128: each tap's 16 codes widened to int16, times the broadcast digit (≤ 2,550, exact in int16),
    /// widened into int32 sums of d · q, and the codes themselves widened into int32 sums of q.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void V128Columns(ref byte p, ref int off, ref byte digits, ref float gc, ref int gz, int f, int groupSize, Span<float> d)
    {
        Vector128<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int g = 0, start = 0; start < f; g++, start += groupSize)
        {
            int end = Math.Min(f, start + groupSize);
            Vector128<int> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector128<int> b0 = default, b1 = default, b2 = default, b3 = default;
            for (int t = start; t < end; t++)
            {
                var xb = Vector128.LoadUnsafe(ref p, (nuint)Unsafe.Add(ref off, t));
                var lo = Vector128.WidenLower(xb).AsInt16();
                var hi = Vector128.WidenUpper(xb).AsInt16();
                var dv = Vector128.Create((short)Unsafe.Add(ref digits, t));
                var pl = lo * dv;
                var ph = hi * dv;
                a0 += Vector128.WidenLower(pl);
                a1 += Vector128.WidenUpper(pl);
                a2 += Vector128.WidenLower(ph);
                a3 += Vector128.WidenUpper(ph);
                b0 += Vector128.WidenLower(lo);
                b1 += Vector128.WidenUpper(lo);
                b2 += Vector128.WidenLower(hi);
                b3 += Vector128.WidenUpper(hi);
            }

            var vc = Vector128.Create(Unsafe.Add(ref gc, 2 * g));
            var vm = Vector128.Create(Unsafe.Add(ref gc, (2 * g) + 1));
            var zd = Vector128.Create(Unsafe.Add(ref gz, 2 * g));
            var zl = Vector128.Create(Unsafe.Add(ref gz, (2 * g) + 1));
            f0 += (Vector128.ConvertToSingle(a0 - zd) * vc) + (Vector128.ConvertToSingle(b0 - zl) * vm);
            f1 += (Vector128.ConvertToSingle(a1 - zd) * vc) + (Vector128.ConvertToSingle(b1 - zl) * vm);
            f2 += (Vector128.ConvertToSingle(a2 - zd) * vc) + (Vector128.ConvertToSingle(b2 - zl) * vm);
            f3 += (Vector128.ConvertToSingle(a3 - zd) * vc) + (Vector128.ConvertToSingle(b3 - zl) * vm);
        }

        Int8Activations.StoreColumns(d, f0, f1, f2, f3);
    }

    /// <summary>
    /// x64 <c>vpdpbusd</c> (128-bit), for Vector256 and Vector512 requests: four taps at a time, interleaved as in
    /// <c>Int8Activations</c>' AVX-VNNI conv (each int32 lane one column's four codes), times the four digits (0..10, a
    /// valid s8 operand) for Σ d · q and times four ones for Σ q; taps left over as <see cref="V128Columns"/>. The same
    /// int32 sums and float steps as the other paths: bit for bit equal.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void VnniColumns(ref byte p, ref int off, ref byte digits, ref float gc, ref int gz, int f, int groupSize, Span<float> d)
    {
        if (!AvxVnni.IsSupported)
        {
            throw new PlatformNotSupportedException();
        }

        var ones = Vector128.Create((sbyte)1);
        Vector128<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int g = 0, start = 0; start < f; g++, start += groupSize)
        {
            int end = Math.Min(f, start + groupSize);
            Vector128<int> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector128<int> b0 = default, b1 = default, b2 = default, b3 = default;
            int t = start;
            for (; t + 4 <= end; t += 4)
            {
                var ta = Vector128.LoadUnsafe(ref p, (nuint)Unsafe.Add(ref off, t));
                var tb = Vector128.LoadUnsafe(ref p, (nuint)Unsafe.Add(ref off, t + 1));
                var tc = Vector128.LoadUnsafe(ref p, (nuint)Unsafe.Add(ref off, t + 2));
                var td = Vector128.LoadUnsafe(ref p, (nuint)Unsafe.Add(ref off, t + 3));
                var abLo = Sse2.UnpackLow(ta, tb).AsUInt16();
                var abHi = Sse2.UnpackHigh(ta, tb).AsUInt16();
                var cdLo = Sse2.UnpackLow(tc, td).AsUInt16();
                var cdHi = Sse2.UnpackHigh(tc, td).AsUInt16();
                var q0 = Sse2.UnpackLow(abLo, cdLo).AsByte();
                var q1 = Sse2.UnpackHigh(abLo, cdLo).AsByte();
                var q2 = Sse2.UnpackLow(abHi, cdHi).AsByte();
                var q3 = Sse2.UnpackHigh(abHi, cdHi).AsByte();
                var dq = Vector128.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref digits, t))).AsSByte();
                a0 = AvxVnni.MultiplyWideningAndAdd(a0, q0, dq);
                a1 = AvxVnni.MultiplyWideningAndAdd(a1, q1, dq);
                a2 = AvxVnni.MultiplyWideningAndAdd(a2, q2, dq);
                a3 = AvxVnni.MultiplyWideningAndAdd(a3, q3, dq);
                b0 = AvxVnni.MultiplyWideningAndAdd(b0, q0, ones);
                b1 = AvxVnni.MultiplyWideningAndAdd(b1, q1, ones);
                b2 = AvxVnni.MultiplyWideningAndAdd(b2, q2, ones);
                b3 = AvxVnni.MultiplyWideningAndAdd(b3, q3, ones);
            }

            for (; t < end; t++)
            {
                var xb = Vector128.LoadUnsafe(ref p, (nuint)Unsafe.Add(ref off, t));
                var lo = Vector128.WidenLower(xb).AsInt16();
                var hi = Vector128.WidenUpper(xb).AsInt16();
                var dv = Vector128.Create((short)Unsafe.Add(ref digits, t));
                var pl = lo * dv;
                var ph = hi * dv;
                a0 += Vector128.WidenLower(pl);
                a1 += Vector128.WidenUpper(pl);
                a2 += Vector128.WidenLower(ph);
                a3 += Vector128.WidenUpper(ph);
                b0 += Vector128.WidenLower(lo);
                b1 += Vector128.WidenUpper(lo);
                b2 += Vector128.WidenLower(hi);
                b3 += Vector128.WidenUpper(hi);
            }

            var vc = Vector128.Create(Unsafe.Add(ref gc, 2 * g));
            var vm = Vector128.Create(Unsafe.Add(ref gc, (2 * g) + 1));
            var zd = Vector128.Create(Unsafe.Add(ref gz, 2 * g));
            var zl = Vector128.Create(Unsafe.Add(ref gz, (2 * g) + 1));
            f0 += (Vector128.ConvertToSingle(a0 - zd) * vc) + (Vector128.ConvertToSingle(b0 - zl) * vm);
            f1 += (Vector128.ConvertToSingle(a1 - zd) * vc) + (Vector128.ConvertToSingle(b1 - zl) * vm);
            f2 += (Vector128.ConvertToSingle(a2 - zd) * vc) + (Vector128.ConvertToSingle(b2 - zl) * vm);
            f3 += (Vector128.ConvertToSingle(a3 - zd) * vc) + (Vector128.ConvertToSingle(b3 - zl) * vm);
        }

        Int8Activations.StoreColumns(d, f0, f1, f2, f3);
    }
}
