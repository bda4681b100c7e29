using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>
/// Integer activations for conv2d layers with int8 weights (docs/activations.md, "conv2d"): u8 input codes with a
/// zero point, int8 filters [OutC, InC·KH·KW] row-major with one float scale per group of the filter, int32 sums per
/// group, and the linear layer's fused epilogue (scale, bias, ReLU, then floats or requantized u8 codes). No im2col:
/// the input codes are copied once into a border of the zero point's code (padding 0.0 is code <c>zero</c>), each
/// filter tap is an offset into that buffer, and the kernel runs over 16 output columns of one output row at a time.
/// </summary>
public static partial class Int8Activations
{
    /// <summary>Output columns a vector path computes at once.</summary>
    public const int ConvColumns = 16;

    /// <summary>
    /// Bytes of scratch <see cref="Conv2d"/> needs: the tap offsets (4 bytes each, rounded to 64) and the zero-point
    /// bordered input codes plus 64 bytes a vector of the last row may read past its end.
    /// </summary>
    public static int ConvScratchBytes(int inC, int h, int w, int kh, int kw, int padTop, int padLeft, int padBottom, int padRight) =>
        (((4 * inC * kh * kw) + 63) & ~63) + (inC * (h + padTop + padBottom) * (w + padLeft + padRight)) + 64;

    /// <summary>
    /// Per row o of a row-major int8 matrix (a conv2d filter bank [OutC, F]): the dequantized row sum Σ_g scale_g · Σ_{i∈g} w_i
    /// and the row norm √(Σ_i (scale_g · w_i)²), as <see cref="RowStats"/> for the row-blocked linear layout.
    /// </summary>
    public static void RowMajorStats(ReadOnlySpan<sbyte> w, ReadOnlySpan<float> scales, int cols, int groupSize, Span<float> sums, Span<float> norms)
    {
        int groups = (cols + groupSize - 1) / groupSize;
        for (int o = 0; o < sums.Length; o++)
        {
            double s = 0, s2 = 0;
            for (int g = 0; g < groups; g++)
            {
                int start = g * groupSize;
                int len = Math.Min(groupSize, cols - start);
                long ws = 0, ws2 = 0;
                foreach (var v in w.Slice((o * cols) + start, len))
                {
                    ws += v;
                    ws2 += v * v;
                }

                double sc = scales[(o * groups) + g];
                s += sc * ws;
                s2 += sc * sc * ws2;
            }

            sums[o] = (float)s;
            norms[o] = (float)Math.Sqrt(s2);
        }
    }

    /// <summary>
    /// Max pooling of u8 codes in place (the codes of one scale and zero point are monotonic in the values, so the
    /// largest code is the code of the largest value): [C, H, W] at the start of <paramref name="codes"/> becomes
    /// [C, OH, OW], OH = (H − KH) / SH + 1. No padding. In place is safe: output i reads only inputs at i or later.
    /// </summary>
    public static void MaxPoolCodes(Span<byte> codes, int c, int h, int w, int kh, int kw, int sh, int sw)
    {
        int oh = ((h - kh) / sh) + 1;
        int ow = ((w - kw) / sw) + 1;
        if (codes.Length < c * h * w || oh < 1 || ow < 1)
        {
            throw new ArgumentException("Int8Activations.MaxPoolCodes: the codes do not match the shape.");
        }

        ref byte q = ref MemoryMarshal.GetReference(codes);
        int o = 0;
        if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && Vector128.IsHardwareAccelerated)
        {
            // 2 x 2, stride 2: the larger of two rows, then of each pair of bytes (as ushort lanes), 8 outputs per step;
            // the vector reads 16 bytes of a row, so each row's last outputs go through the scalar loop
            for (int ci = 0; ci < c; ci++)
            {
                for (int i = 0; i < oh; i++)
                {
                    int row = (ci * h * w) + (2 * i * w);
                    int j = 0;
                    for (; (2 * j) + 16 <= w; j += 8)
                    {
                        var m = Vector128.Max(Vector128.LoadUnsafe(ref q, (nuint)(row + (2 * j))), Vector128.LoadUnsafe(ref q, (nuint)(row + w + (2 * j)))).AsUInt16();
                        var pair = Vector128.Max(m & Vector128.Create((ushort)0xFF), m >> 8);
                        Unsafe.WriteUnaligned(ref Unsafe.Add(ref q, o + j), Vector128.Narrow(pair, pair).AsUInt64().ToScalar());
                    }

                    for (; j < ow; j++)
                    {
                        int at = row + (2 * j);
                        Unsafe.Add(ref q, o + j) = Math.Max(Math.Max(Unsafe.Add(ref q, at), Unsafe.Add(ref q, at + 1)), Math.Max(Unsafe.Add(ref q, at + w), Unsafe.Add(ref q, at + w + 1)));
                    }

                    o += ow;
                }
            }

            return;
        }

        for (int ci = 0; ci < c; ci++)
        {
            int plane = ci * h * w;
            for (int i = 0; i < oh; i++)
            {
                for (int j = 0; j < ow; j++)
                {
                    int start = plane + (i * sh * w) + (j * sw);
                    int m = 0;
                    for (int ky = 0; ky < kh; ky++)
                    {
                        for (int kx = 0; kx < kw; kx++)
                        {
                            m = Math.Max(m, Unsafe.Add(ref q, start + (ky * w) + kx));
                        }
                    }

                    Unsafe.Add(ref q, o++) = (byte)m;
                }
            }
        }
    }

    /// <summary>
    /// y = conv(x, W) + b, ReLU, for u8 codes x [InC, H, W] (scale <paramref name="xScale"/>, zero point
    /// <paramref name="xZero"/>) and int8 filters <paramref name="w"/> [OutC, InC·KH·KW] row-major with one scale per
    /// <paramref name="groupSize"/> taps of a filter. Writes floats [OutC, OH, OW] to <paramref name="y"/>, or, when
    /// <paramref name="yq"/> is not empty, u8 codes of scale <paramref name="yScale"/> and zero point
    /// <paramref name="yZero"/>; returns the number of clipped codes. <paramref name="sums"/> are the filters'
    /// dequantized sums (<see cref="RowMajorStats"/>). The vector paths need a horizontal stride of 1 (others run the
    /// scalar path).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Conv2d(
        ReadOnlySpan<sbyte> w,
        ReadOnlySpan<float> scales,
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
        Int8DotPath path)
    {
        int outC = sums.Length;
        int f = inC * kh * kw;
        int groups = (f + groupSize - 1) / groupSize;
        int ph = h + padTop + padBottom;
        int pw = wd + padLeft + padRight;
        int oh = ((ph - kh) / sh) + 1;
        int ow = ((pw - kw) / sw) + 1;
        int outPlane = oh * ow;
        if (groupSize > MaxInt32GroupLength || groupSize < 1 || x.Length < inC * h * wd || w.Length < (long)outC * f || scales.Length < (long)outC * groups
            || (yq.IsEmpty ? y.Length < outC * outPlane : yq.Length < outC * outPlane) || (!bias.IsEmpty && bias.Length < outC)
            || scratch.Length < ConvScratchBytes(inC, h, wd, kh, kw, padTop, padLeft, padBottom, padRight) || oh < 1 || ow < 1)
        {
            throw new ArgumentException("Int8Activations.Conv2d: spans do not match the shape.");
        }

        if (!IsSupported(path))
        {
            path = Int8DotPath.Vector128;
        }

        if (sw != 1)
        {
            path = Int8DotPath.Scalar;
        }

        // tap offsets, then the zero-point-bordered input (arm64 sdot: codes − 128, stored as s8)
        ConvLayout(x, xZero, path == Int8DotPath.ArmDp, inC, h, wd, kh, kw, padTop, padLeft, padBottom, padRight, scratch, out Span<int> offs, out Span<byte> padded);
        ref int off = ref MemoryMarshal.GetReference(offs);
        ref byte p = ref MemoryMarshal.GetReference(padded);
        ref sbyte wr = ref MemoryMarshal.GetReference(w);
        ref float sr = ref MemoryMarshal.GetReference(scales);
        float correction = (path == Int8DotPath.ArmDp ? 128 : 0) - xZero;
        float inv = yq.IsEmpty ? 0f : 1f / yScale;
        Span<float> d = stackalloc float[ConvColumns];
        int clipped = 0;
        Span<float> d1 = stackalloc float[ConvColumns];
        Span<byte> tail = stackalloc byte[ConvColumns];
        for (int o = 0; o < outC;)
        {
            // AVX-VNNI computes two output channels per interleaved input (the shuffles are shared)
            int oc = path == Int8DotPath.AvxVnni && o + 1 < outC ? 2 : 1;
            ref sbyte wo = ref Unsafe.Add(ref wr, (nint)o * f);
            ref float so = ref Unsafe.Add(ref sr, (nint)o * groups);
            float adj = correction * sums[o];
            float bo = bias.IsEmpty ? 0f : bias[o];
            float adj1 = oc == 2 ? correction * sums[o + 1] : 0f;
            float bo1 = oc == 2 && !bias.IsEmpty ? bias[o + 1] : 0f;
            for (int i = 0; i < oh; i++)
            {
                for (int j = 0; j < ow; j += ConvColumns)
                {
                    int n = Math.Min(ConvColumns, ow - j);
                    int origin = (i * sh * pw) + (j * sw);
                    switch (path)
                    {
                        case Int8DotPath.AvxVnni when oc == 2:
                            VnniColumns2(ref Unsafe.Add(ref p, origin), ref off, ref wo, ref Unsafe.Add(ref wo, f), ref so, ref Unsafe.Add(ref so, groups), f, groupSize, d, d1);
                            break;
                        case Int8DotPath.AvxVnni:
                            VnniColumns(ref Unsafe.Add(ref p, origin), ref off, ref wo, ref so, f, groupSize, d);
                            break;
                        case Int8DotPath.ArmDp:
                            DpColumns(ref Unsafe.Add(ref p, origin), ref off, ref wo, ref so, f, groupSize, d);
                            break;
                        case Int8DotPath.Vector128:
                            V128Columns(ref Unsafe.Add(ref p, origin), ref off, ref wo, ref so, f, groupSize, d);
                            break;
                        default:
                            ScalarColumns(ref Unsafe.Add(ref p, origin), ref off, ref wo, ref so, f, groupSize, sw, n, d);
                            break;
                    }

                    int at = (o * outPlane) + (i * ow) + j;
                    clipped += StoreColumns(d, n, xScale, adj, bo, relu, inv, yZero, yq.IsEmpty ? y.Slice(at, n) : default, yq.IsEmpty ? default : yq.Slice(at, n), tail);
                    if (oc == 2)
                    {
                        at += outPlane;
                        clipped += StoreColumns(d1, n, xScale, adj1, bo1, relu, inv, yZero, yq.IsEmpty ? y.Slice(at, n) : default, yq.IsEmpty ? default : yq.Slice(at, n), tail);
                    }
                }
            }

            o += oc;
        }

        return clipped;
    }

    /// <summary>
    /// The layout every conv2d kernel on u8 codes shares (at the start of <paramref name="scratch"/>, <see cref="ConvScratchBytes"/>
    /// bytes): the offset of each filter tap [c][ky][kx] in the padded input, then the input codes [InC, H + padTop + padBottom,
    /// W + padLeft + padRight] bordered with the zero point's code (padding 0.0 is code z, so (q − z) is 0 there) and 64 bytes
    /// more of z that a vector of the last row may read. <paramref name="flip"/>: codes stored minus 128 as s8 (arm64 sdot).
    /// </summary>
    internal static void ConvLayout(ReadOnlySpan<byte> x, int xZero, bool flip, int inC, int h, int wd, int kh, int kw, int padTop, int padLeft, int padBottom, int padRight, Span<byte> scratch, out Span<int> offs, out Span<byte> padded)
    {
        int f = inC * kh * kw;
        int ph = h + padTop + padBottom;
        int pw = wd + padLeft + padRight;
        int offBytes = ((4 * f) + 63) & ~63;
        offs = MemoryMarshal.Cast<byte, int>(scratch.Slice(0, 4 * f));
        for (int c = 0, t = 0; c < inC; c++)
        {
            for (int ky = 0; ky < kh; ky++)
            {
                for (int kx = 0; kx < kw; kx++)
                {
                    offs[t++] = (c * ph * pw) + (ky * pw) + kx;
                }
            }
        }

        padded = scratch.Slice(offBytes, (inC * ph * pw) + 64);
        padded.Fill((byte)(xZero ^ (flip ? 0x80 : 0)));
        for (int c = 0; c < inC; c++)
        {
            for (int r = 0; r < h; r++)
            {
                var src = x.Slice((c * h * wd) + (r * wd), wd);
                var dst = padded.Slice((c * ph * pw) + ((r + padTop) * pw) + padLeft, wd);
                src.CopyTo(dst);
                if (flip)
                {
                    Flip(dst);
                }
            }
        }
    }

    /// <summary>
    /// The epilogue of 16 columns on Vector128 (the first <paramref name="n"/> stored and counted): y = xScale · (d + adj) + b,
    /// ReLU, then floats or u8 codes (<c>clamp(round(y · inv) + zero, 0, 255)</c>, as <see cref="CodeOf"/>); returns the clips.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int StoreColumns(Span<float> d, int n, float xScale, float adj, float bias, bool relu, float inv, int zero, Span<float> y, Span<byte> q, Span<byte> tmp)
    {
        ref float dr = ref MemoryMarshal.GetReference(d);
        var vs = Vector128.Create(xScale);
        var va = Vector128.Create(adj);
        var vb = Vector128.Create(bias);
        var v0 = (vs * (Vector128.LoadUnsafe(ref dr) + va)) + vb;
        var v1 = (vs * (Vector128.LoadUnsafe(ref dr, 4) + va)) + vb;
        var v2 = (vs * (Vector128.LoadUnsafe(ref dr, 8) + va)) + vb;
        var v3 = (vs * (Vector128.LoadUnsafe(ref dr, 12) + va)) + vb;
        if (relu)
        {
            v0 = Vector128.Max(v0, Vector128<float>.Zero);
            v1 = Vector128.Max(v1, Vector128<float>.Zero);
            v2 = Vector128.Max(v2, Vector128<float>.Zero);
            v3 = Vector128.Max(v3, Vector128<float>.Zero);
        }

        if (q.IsEmpty)
        {
            if (n == ConvColumns)
            {
                ref float yr = ref MemoryMarshal.GetReference(y);
                v0.StoreUnsafe(ref yr);
                v1.StoreUnsafe(ref yr, 4);
                v2.StoreUnsafe(ref yr, 8);
                v3.StoreUnsafe(ref yr, 12);
            }
            else
            {
                StoreColumns(d, v0, v1, v2, v3);
                d.Slice(0, n).CopyTo(y);
            }

            return 0;
        }

        var vinv = Vector128.Create(inv);
        var vzero = Vector128.Create((float)zero);
        var vmax = Vector128.Create((float)MaxCode);
        var c0 = CodeLanes(v0, vinv, vzero, vmax, n, 0, out int k0);
        var c1 = CodeLanes(v1, vinv, vzero, vmax, n, 4, out int k1);
        var c2 = CodeLanes(v2, vinv, vzero, vmax, n, 8, out int k2);
        var c3 = CodeLanes(v3, vinv, vzero, vmax, n, 12, out int k3);
        var codes = Vector128.Narrow(Vector128.Narrow(c0, c1).AsUInt16(), Vector128.Narrow(c2, c3).AsUInt16());
        if (n == ConvColumns)
        {
            codes.StoreUnsafe(ref MemoryMarshal.GetReference(q));
        }
        else
        {
            codes.StoreUnsafe(ref MemoryMarshal.GetReference(tmp));
            tmp.Slice(0, n).CopyTo(q);
        }

        return k0 + k1 + k2 + k3;
    }

    /// <summary>Four codes as <see cref="Code"/> does, counting clips only in lanes first + lane &lt; n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> CodeLanes(Vector128<float> x, Vector128<float> inv, Vector128<float> zero, Vector128<float> max, int n, int first, out int clipped)
    {
        var v = Vector128.Round(x * inv) + zero;
        var outside = Vector128.LessThan(v, Vector128<float>.Zero) | Vector128.GreaterThan(v, max);
        var valid = Vector128.LessThan(Vector128.Create(first, first + 1, first + 2, first + 3), Vector128.Create(n)).AsSingle();
        clipped = System.Numerics.BitOperations.PopCount((outside & valid).ExtractMostSignificantBits());
        return Vector128.ConvertToInt32(Vector128.Min(Vector128.Max(v, Vector128<float>.Zero), max));
    }

    private static void Flip(Span<byte> b)
    {
        for (int i = 0; i < b.Length; i++)
        {
            b[i] ^= 0x80;
        }
    }

    // Every path sums each group of taps exactly in int32 (one lane per output column), then adds the group sum times
    // the group's scale to a float per column in the same order (a multiply and an add, never fused): the paths agree
    // bit for bit.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScalarColumns(ref byte p, ref int off, ref sbyte wo, ref float so, int f, int groupSize, int sw, int n, Span<float> d)
    {
        for (int k = 0; k < n; k++)
        {
            float acc = 0f;
            for (int g = 0, start = 0; start < f; g++, start += groupSize)
            {
                int end = Math.Min(f, start + groupSize);
                int s = 0;
                for (int t = start; t < end; t++)
                {
                    s += Unsafe.Add(ref p, Unsafe.Add(ref off, t) + (k * sw)) * Unsafe.Add(ref wo, t);
                }

                acc += s * Unsafe.Add(ref so, g);
            }

            d[k] = acc;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void V128Columns(ref byte p, ref int off, ref sbyte wo, ref float so, int f, int groupSize, Span<float> d)
    {
        Vector128<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int g = 0, start = 0; start < f; g++, start += groupSize)
        {
            int end = Math.Min(f, start + groupSize);
            Vector128<int> a0 = default, a1 = default, a2 = default, a3 = default;
            WidenTaps(ref p, ref off, ref wo, start, end, ref a0, ref a1, ref a2, ref a3);
            var sc = Vector128.Create(Unsafe.Add(ref so, g));
            f0 += Vector128.ConvertToSingle(a0) * sc;
            f1 += Vector128.ConvertToSingle(a1) * sc;
            f2 += Vector128.ConvertToSingle(a2) * sc;
            f3 += Vector128.ConvertToSingle(a3) * sc;
        }

        StoreColumns(d, f0, f1, f2, f3);
    }

    /// <summary>Taps [start, end) over 16 columns of u8 codes: widened to int16, exact products with the broadcast weight, widened into int32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void WidenTaps(ref byte p, ref int off, ref sbyte wo, int start, int end, ref Vector128<int> a0, ref Vector128<int> a1, ref Vector128<int> a2, ref Vector128<int> a3)
    {
        for (int t = start; t < end; t++)
        {
            var xb = Vector128.LoadUnsafe(ref p, (nuint)Unsafe.Add(ref off, t));
            var wv = Vector128.Create((short)Unsafe.Add(ref wo, t));
            var pl = Vector128.WidenLower(xb).AsInt16() * wv;
            var ph = Vector128.WidenUpper(xb).AsInt16() * wv;
            a0 += Vector128.WidenLower(pl);
            a1 += Vector128.WidenUpper(pl);
            a2 += Vector128.WidenLower(ph);
            a3 += Vector128.WidenUpper(ph);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreColumns(Span<float> d, Vector128<float> f0, Vector128<float> f1, Vector128<float> f2, Vector128<float> f3)
    {
        ref float dr = ref MemoryMarshal.GetReference(d);
        f0.StoreUnsafe(ref dr);
        f1.StoreUnsafe(ref dr, 4);
        f2.StoreUnsafe(ref dr, 8);
        f3.StoreUnsafe(ref dr, 12);
    }

    /// <summary>
    /// x64 <c>vpdpbusd</c> (128-bit): four taps at a time. The 16 columns of four taps are interleaved so that each
    /// int32 lane holds one column's four codes (unpack bytes, then words), and each lane multiplies them with the
    /// same four weights (broadcast as one int32).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void VnniColumns(ref byte p, ref int off, ref sbyte wo, ref float so, int f, int groupSize, Span<float> d)
    {
        if (!AvxVnni.IsSupported)
        {
            throw new PlatformNotSupportedException();
        }

        Vector128<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int g = 0, start = 0; start < f; g++, start += groupSize)
        {
            int end = Math.Min(f, start + groupSize);
            Vector128<int> a0 = default, a1 = default, a2 = default, a3 = default;
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
                var wq = Vector128.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref wo, t)))).AsSByte();
                a0 = AvxVnni.MultiplyWideningAndAdd(a0, Sse2.UnpackLow(abLo, cdLo).AsByte(), wq);
                a1 = AvxVnni.MultiplyWideningAndAdd(a1, Sse2.UnpackHigh(abLo, cdLo).AsByte(), wq);
                a2 = AvxVnni.MultiplyWideningAndAdd(a2, Sse2.UnpackLow(abHi, cdHi).AsByte(), wq);
                a3 = AvxVnni.MultiplyWideningAndAdd(a3, Sse2.UnpackHigh(abHi, cdHi).AsByte(), wq);
            }

            WidenTaps(ref p, ref off, ref wo, t, end, ref a0, ref a1, ref a2, ref a3);
            var sc = Vector128.Create(Unsafe.Add(ref so, g));
            f0 += Vector128.ConvertToSingle(a0) * sc;
            f1 += Vector128.ConvertToSingle(a1) * sc;
            f2 += Vector128.ConvertToSingle(a2) * sc;
            f3 += Vector128.ConvertToSingle(a3) * sc;
        }

        StoreColumns(d, f0, f1, f2, f3);
    }

    /// <summary><see cref="VnniColumns"/> for two output channels: each interleaved quad of taps feeds both filters.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void VnniColumns2(ref byte p, ref int off, ref sbyte w0, ref sbyte w1, ref float s0, ref float s1, int f, int groupSize, Span<float> d0, Span<float> d1)
    {
        if (!AvxVnni.IsSupported)
        {
            throw new PlatformNotSupportedException();
        }

        Vector128<float> f0 = default, f1 = default, f2 = default, f3 = default;
        Vector128<float> h0 = default, h1 = default, h2 = default, h3 = default;
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
                var wq = Vector128.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref w0, t)))).AsSByte();
                a0 = AvxVnni.MultiplyWideningAndAdd(a0, q0, wq);
                a1 = AvxVnni.MultiplyWideningAndAdd(a1, q1, wq);
                a2 = AvxVnni.MultiplyWideningAndAdd(a2, q2, wq);
                a3 = AvxVnni.MultiplyWideningAndAdd(a3, q3, wq);
                var wr = Vector128.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref w1, t)))).AsSByte();
                b0 = AvxVnni.MultiplyWideningAndAdd(b0, q0, wr);
                b1 = AvxVnni.MultiplyWideningAndAdd(b1, q1, wr);
                b2 = AvxVnni.MultiplyWideningAndAdd(b2, q2, wr);
                b3 = AvxVnni.MultiplyWideningAndAdd(b3, q3, wr);
            }

            WidenTaps(ref p, ref off, ref w0, t, end, ref a0, ref a1, ref a2, ref a3);
            WidenTaps(ref p, ref off, ref w1, t, end, ref b0, ref b1, ref b2, ref b3);
            var sa = Vector128.Create(Unsafe.Add(ref s0, g));
            f0 += Vector128.ConvertToSingle(a0) * sa;
            f1 += Vector128.ConvertToSingle(a1) * sa;
            f2 += Vector128.ConvertToSingle(a2) * sa;
            f3 += Vector128.ConvertToSingle(a3) * sa;
            var sb = Vector128.Create(Unsafe.Add(ref s1, g));
            h0 += Vector128.ConvertToSingle(b0) * sb;
            h1 += Vector128.ConvertToSingle(b1) * sb;
            h2 += Vector128.ConvertToSingle(b2) * sb;
            h3 += Vector128.ConvertToSingle(b3) * sb;
        }

        StoreColumns(d0, f0, f1, f2, f3);
        StoreColumns(d1, h0, h1, h2, h3);
    }

    /// <summary>
    /// arm64 <c>sdot</c>: as <see cref="VnniColumns"/> (zip bytes, then halfwords) on codes stored minus 128 as s8; the
    /// epilogue adds 128 · S_o back. Taps left over after the groups of four: s8 widened to int16.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DpColumns(ref byte p, ref int off, ref sbyte wo, ref float so, int f, int groupSize, Span<float> d)
    {
        if (!Dp.IsSupported || !AdvSimd.Arm64.IsSupported)
        {
            throw new PlatformNotSupportedException();
        }

        ref sbyte ps = ref Unsafe.As<byte, sbyte>(ref p);
        Vector128<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int g = 0, start = 0; start < f; g++, start += groupSize)
        {
            int end = Math.Min(f, start + groupSize);
            Vector128<int> a0 = default, a1 = default, a2 = default, a3 = default;
            int t = start;
            for (; t + 4 <= end; t += 4)
            {
                var ta = Vector128.LoadUnsafe(ref ps, (nuint)Unsafe.Add(ref off, t));
                var tb = Vector128.LoadUnsafe(ref ps, (nuint)Unsafe.Add(ref off, t + 1));
                var tc = Vector128.LoadUnsafe(ref ps, (nuint)Unsafe.Add(ref off, t + 2));
                var td = Vector128.LoadUnsafe(ref ps, (nuint)Unsafe.Add(ref off, t + 3));
                var abLo = AdvSimd.Arm64.ZipLow(ta, tb).AsInt16();
                var abHi = AdvSimd.Arm64.ZipHigh(ta, tb).AsInt16();
                var cdLo = AdvSimd.Arm64.ZipLow(tc, td).AsInt16();
                var cdHi = AdvSimd.Arm64.ZipHigh(tc, td).AsInt16();
                var wq = Vector128.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref wo, t)))).AsSByte();
                a0 = Dp.DotProduct(a0, AdvSimd.Arm64.ZipLow(abLo, cdLo).AsSByte(), wq);
                a1 = Dp.DotProduct(a1, AdvSimd.Arm64.ZipHigh(abLo, cdLo).AsSByte(), wq);
                a2 = Dp.DotProduct(a2, AdvSimd.Arm64.ZipLow(abHi, cdHi).AsSByte(), wq);
                a3 = Dp.DotProduct(a3, AdvSimd.Arm64.ZipHigh(abHi, cdHi).AsSByte(), wq);
            }

            for (; t < end; t++)
            {
                var xb = Vector128.LoadUnsafe(ref ps, (nuint)Unsafe.Add(ref off, t));
                var wv = Vector128.Create((short)Unsafe.Add(ref wo, t));
                var pl = Vector128.WidenLower(xb) * wv;
                var ph = Vector128.WidenUpper(xb) * wv;
                a0 += Vector128.WidenLower(pl);
                a1 += Vector128.WidenUpper(pl);
                a2 += Vector128.WidenLower(ph);
                a3 += Vector128.WidenUpper(ph);
            }

            var sc = Vector128.Create(Unsafe.Add(ref so, g));
            f0 += Vector128.ConvertToSingle(a0) * sc;
            f1 += Vector128.ConvertToSingle(a1) * sc;
            f2 += Vector128.ConvertToSingle(a2) * sc;
            f3 += Vector128.ConvertToSingle(a3) * sc;
        }

        StoreColumns(d, f0, f1, f2, f3);
    }
}
