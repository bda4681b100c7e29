using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>The instruction sequence an integer-activation kernel uses for its int8 dot products.</summary>
public enum Int8DotPath
{
    /// <summary>Plain int32 loops.</summary>
    Scalar = 0,

    /// <summary>Portable <see cref="Vector128{T}"/>: u8 and s8 widened to int16, exact int16 products widened to int32.</summary>
    Vector128,

    /// <summary>arm64 <c>sdot</c> (<see cref="Dp.DotProduct(Vector128{int}, Vector128{sbyte}, Vector128{sbyte})"/>) on codes shifted by -128.</summary>
    ArmDp,

    /// <summary>x64 <c>vpdpbusd</c> (<see cref="AvxVnni"/>, 256-bit): u8 codes times s8 weights straight into int32 lanes.</summary>
    AvxVnni,
}

/// <summary>
/// Integer activations for linear layers with int8 weights (docs/activations.md). An activation
/// vector is quantized once to u8 codes with a scale and a zero point, <c>x ≈ scale · (q − zero)</c>,
/// <c>q</c> in 0..255 (asymmetric, as ONNX Runtime's DynamicQuantizeLinear; after a ReLU the zero
/// point is 0 and all 256 codes cover the values). The kernel multiplies the codes with the layer's
/// int8 weights (codes −127..127, one float scale per group of the input dimension, stored
/// row-blocked as the float-activation int8 kernels read them) and sums each group in int32:
/// <c>|Σ q·w| ≤ groupLength · 255 · 127</c>, so a group of at most <see cref="MaxInt32GroupLength"/>
/// inputs cannot overflow (the planner refuses larger groups, CGC0044). Each group's int32 sum is
/// scaled by the group's weight scale and summed in float; the zero point enters once per row as
/// <c>zero · Σ_g scale_g · Σ_{i∈g} w_i</c> (the row's weight sum, computed when the model loads).
/// The epilogue adds the bias, applies the ReLU and the residual, and writes either floats or u8
/// codes of the next layer's input (requantized, clipped codes counted). Nothing allocates.
/// </summary>
public static partial class Int8Activations
{
    /// <summary>Largest u8 code.</summary>
    public const int MaxCode = 255;

    /// <summary>Largest group length whose int32 sum cannot overflow: ⌊(2³¹ − 1) / (255 · 127)⌋.</summary>
    public const int MaxInt32GroupLength = int.MaxValue / (255 * 127);

    /// <summary>Rows computed together (the int8 weights' row blocks).</summary>
    public const int RowBlock = 4;

    /// <summary>The dot-product path a resolved <see cref="KernelPath"/> uses on this machine.</summary>
    public static Int8DotPath Resolve(KernelPath path)
    {
        if (path == KernelPath.Scalar || path == KernelPath.Auto)
        {
            return path == KernelPath.Auto ? Resolve(KernelPaths.Resolve(KernelPath.Auto)) : Int8DotPath.Scalar;
        }

        if (path <= KernelPath.Vector256 && AvxVnni.IsSupported)
        {
            return Int8DotPath.AvxVnni;
        }

        if (Dp.IsSupported)
        {
            return Int8DotPath.ArmDp;
        }

        return Vector128.IsHardwareAccelerated ? Int8DotPath.Vector128 : Int8DotPath.Scalar;
    }

    /// <summary>Whether <paramref name="path"/> runs on this machine (the portable paths always do).</summary>
    public static bool IsSupported(Int8DotPath path) => path switch
    {
        Int8DotPath.ArmDp => Dp.IsSupported,
        Int8DotPath.AvxVnni => AvxVnni.IsSupported,
        _ => true,
    };

    // ---------------------------------------------------------------- quantization parameters

    /// <summary>
    /// Scale and zero point covering [<paramref name="lo"/>, <paramref name="hi"/>] widened to include 0:
    /// <c>scale = (hi − lo) / 255</c>, <c>zero = round(−lo / scale)</c> in 0..255; an empty range gives scale 1, zero 0.
    /// </summary>
    public static void RangeParams(float lo, float hi, out float scale, out int zero)
    {
        lo = MathF.Min(lo, 0f);
        hi = MathF.Max(hi, 0f);
        scale = (hi - lo) / MaxCode;
        if (!(scale > 0f) || !float.IsFinite(scale))
        {
            scale = 1f;
            zero = 0;
            return;
        }

        zero = (int)Math.Clamp(MathF.Round(-lo / scale), 0f, MaxCode);
    }

    /// <summary>Dynamic parameters: the range of <paramref name="x"/> itself (ONNX Runtime's DynamicQuantizeLinear).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DynamicParams(ReadOnlySpan<float> x, out float scale, out int zero)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        nint n = x.Length;
        nint i = 0;
        float lo = 0f, hi = 0f;
        if (Vector128.IsHardwareAccelerated && n >= 8)
        {
            Vector128<float> l0 = Vector128<float>.Zero, l1 = l0, h0 = l0, h1 = l0;
            for (; i + 8 <= n; i += 8)
            {
                var a = Vector128.LoadUnsafe(ref xr, (nuint)i);
                var b = Vector128.LoadUnsafe(ref xr, (nuint)i + 4);
                l0 = Vector128.Min(l0, a);
                h0 = Vector128.Max(h0, a);
                l1 = Vector128.Min(l1, b);
                h1 = Vector128.Max(h1, b);
            }

            l0 = Vector128.Min(l0, l1);
            h0 = Vector128.Max(h0, h1);
            lo = MathF.Min(MathF.Min(l0[0], l0[1]), MathF.Min(l0[2], l0[3]));
            hi = MathF.Max(MathF.Max(h0[0], h0[1]), MathF.Max(h0[2], h0[3]));
        }

        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref xr, i);
            lo = MathF.Min(lo, v);
            hi = MathF.Max(hi, v);
        }

        RangeParams(lo, hi, out scale, out zero);
    }

    /// <summary>
    /// <c>q = clamp(round(x / scale) + zero, 0, 255)</c> (x times the float reciprocal of the scale, rounded to
    /// nearest even); returns how many values were clipped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Quantize(ReadOnlySpan<float> x, float scale, int zero, Span<byte> q)
    {
        if (q.Length < x.Length)
        {
            throw new ArgumentException("The code buffer is shorter than the input.", nameof(q));
        }

        ref float xr = ref MemoryMarshal.GetReference(x);
        ref byte qr = ref MemoryMarshal.GetReference(q);
        float inv = 1f / scale;
        nint n = x.Length;
        nint i = 0;
        int clipped = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            var vinv = Vector128.Create(inv);
            var vzero = Vector128.Create((float)zero);
            var vmax = Vector128.Create((float)MaxCode);
            for (; i + 16 <= n; i += 16)
            {
                var c0 = Code(Vector128.LoadUnsafe(ref xr, (nuint)i), vinv, vzero, vmax, ref clipped);
                var c1 = Code(Vector128.LoadUnsafe(ref xr, (nuint)i + 4), vinv, vzero, vmax, ref clipped);
                var c2 = Code(Vector128.LoadUnsafe(ref xr, (nuint)i + 8), vinv, vzero, vmax, ref clipped);
                var c3 = Code(Vector128.LoadUnsafe(ref xr, (nuint)i + 12), vinv, vzero, vmax, ref clipped);
                var s01 = Vector128.Narrow(c0, c1).AsUInt16();
                var s23 = Vector128.Narrow(c2, c3).AsUInt16();
                Vector128.Narrow(s01, s23).StoreUnsafe(ref qr, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref qr, i) = CodeOf(Unsafe.Add(ref xr, i), inv, zero, ref clipped);
        }

        return clipped;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<int> Code(Vector128<float> x, Vector128<float> inv, Vector128<float> zero, Vector128<float> max, ref int clipped)
    {
        var v = Vector128.Round(x * inv) + zero;
        var outside = Vector128.LessThan(v, Vector128<float>.Zero) | Vector128.GreaterThan(v, max);
        clipped += BitOperations.PopCount(outside.ExtractMostSignificantBits());
        return Vector128.ConvertToInt32(Vector128.Min(Vector128.Max(v, Vector128<float>.Zero), max));
    }

    /// <summary>One code: <c>clamp(round(x · inv) + zero, 0, 255)</c>, counting a clip.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte CodeOf(float x, float inv, int zero, ref int clipped)
    {
        float v = MathF.Round(x * inv) + zero;
        if (v < 0f)
        {
            clipped++;
            return 0;
        }

        if (v > MaxCode)
        {
            clipped++;
            return MaxCode;
        }

        return (byte)v;
    }

    // ---------------------------------------------------------------- per-row weight statistics

    /// <summary>
    /// Per row o of a packed int8 matrix (row-blocked as the packer stores it): <paramref name="sums"/>[o] =
    /// Σ_g scale_g · Σ_{i∈g} w_i (the dequantized row sum: the zero point's correction and the predicted
    /// mean's slope) and <paramref name="norms"/>[o] = √(Σ_i (scale_g · w_i)²) (the predicted spread's slope).
    /// Computed once when a model loads.
    /// </summary>
    public static void RowStats(ReadOnlySpan<sbyte> w, ReadOnlySpan<float> scales, int inLen, int groupSize, Span<float> sums, Span<float> norms)
    {
        int outLen = sums.Length;
        int groups = (inLen + groupSize - 1) / groupSize;
        int rowMain = outLen - (outLen % RowBlock);
        for (int o = 0; o < outLen; o++)
        {
            int rc = o < rowMain ? RowBlock : 1;
            int r = o % rc;
            long blockStart = (long)(o - r) * inLen;
            double s = 0, s2 = 0;
            for (int g = 0; g < groups; g++)
            {
                int len = Math.Min(groupSize, inLen - (g * groupSize));
                var slice = w.Slice((int)(blockStart + ((long)g * rc * groupSize) + ((long)r * len)), len);
                long ws = 0, ws2 = 0;
                foreach (var v in slice)
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

    // ---------------------------------------------------------------- predicted output range

    /// <summary>
    /// Predicts the quantization parameters of a layer's output before it runs (seed 003; docs/activations.md):
    /// from the mean m and variance v of its input x (O(in), on the codes) and per-row constants, a Gaussian model of
    /// each pre-activation y_o ~ N(m·S_o + b_o, v·R_o²) (S_o, R_o = <see cref="RowStats"/>), the output range is
    /// [min_o(μ_o − z·σ_o), max_o(μ_o + z·σ_o)], clamped at 0 after a ReLU.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PredictParams(ReadOnlySpan<byte> x, float xScale, int xZero, ReadOnlySpan<float> sums, ReadOnlySpan<float> norms, ReadOnlySpan<float> bias, float z, bool relu, out float scale, out int zero)
    {
        CodeMoments(x, out long s1, out long s2);
        double n = x.Length;
        double mq = s1 / n;
        double m = xScale * (mq - xZero);
        double e2 = (double)xScale * xScale * ((s2 / n) - (2.0 * xZero * mq) + ((double)xZero * xZero));
        double variance = Math.Max(e2 - (m * m), 0);
        PredictParams(m, variance, sums, norms, bias, z, relu, out scale, out zero);
    }

    /// <summary>
    /// The prediction of <see cref="PredictParams(ReadOnlySpan{byte}, float, int, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, float, bool, out float, out int)"/>
    /// from the input's mean <paramref name="mean"/> and variance <paramref name="variance"/> however they were measured
    /// (from codes, or from a float input: <see cref="Int8FloatInput.Moments"/>).
    /// </summary>
    public static void PredictParams(double mean, double variance, ReadOnlySpan<float> sums, ReadOnlySpan<float> norms, ReadOnlySpan<float> bias, float z, bool relu, out float scale, out int zero)
    {
        PredictRange(sums, norms, bias, (float)mean, (float)(z * Math.Sqrt(Math.Max(variance, 0))), out float lo, out float hi);
        if (relu)
        {
            lo = 0f;
        }

        RangeParams(lo, hi, out scale, out zero);
    }

    /// <summary>Σ q and Σ q² of the codes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CodeMoments(ReadOnlySpan<byte> x, out long sum, out long sumSquares)
    {
        ref byte xr = ref MemoryMarshal.GetReference(x);
        nint n = x.Length;
        nint i = 0;
        long s1 = 0, s2 = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            while (i + 32 <= n)
            {
                // at most 8192 codes per flush: a uint lane then holds at most 1024 · 2 · 65025 < 2³²
                nint end = Math.Min(n - (n - i) % 32, i + 8192);
                Vector256<uint> a1 = Vector256<uint>.Zero, a2 = a1;
                for (; i < end; i += 32)
                {
                    var b = Vector256.LoadUnsafe(ref xr, (nuint)i);
                    var lo = Vector256.WidenLower(b);
                    var hi = Vector256.WidenUpper(b);
                    var sq0 = lo * lo;
                    var sq1 = hi * hi;
                    var pair = lo + hi;
                    a1 += Vector256.WidenLower(pair) + Vector256.WidenUpper(pair);
                    a2 += Vector256.WidenLower(sq0) + Vector256.WidenUpper(sq0);
                    a2 += Vector256.WidenLower(sq1) + Vector256.WidenUpper(sq1);
                }

                s1 += (long)Vector256.Sum(Vector256.WidenLower(a1) + Vector256.WidenUpper(a1));
                s2 += (long)Vector256.Sum(Vector256.WidenLower(a2) + Vector256.WidenUpper(a2));
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            while (i + 16 <= n)
            {
                // at most 4096 codes per flush: a uint lane then holds at most 1024 · 2 · 65025 < 2³²
                nint end = Math.Min(n - (n - i) % 16, i + 4096);
                Vector128<uint> a1 = Vector128<uint>.Zero, a2 = a1;
                for (; i < end; i += 16)
                {
                    var b = Vector128.LoadUnsafe(ref xr, (nuint)i);
                    var lo = Vector128.WidenLower(b);
                    var hi = Vector128.WidenUpper(b);
                    var sq0 = lo * lo;
                    var sq1 = hi * hi;
                    a1 += Vector128.WidenLower(lo + hi);
                    a1 += Vector128.WidenUpper(lo + hi);
                    a2 += Vector128.WidenLower(sq0) + Vector128.WidenUpper(sq0);
                    a2 += Vector128.WidenLower(sq1) + Vector128.WidenUpper(sq1);
                }

                s1 += (long)Vector128.Sum(Vector128.WidenLower(a1) + Vector128.WidenUpper(a1));
                s2 += (long)Vector128.Sum(Vector128.WidenLower(a2) + Vector128.WidenUpper(a2));
            }
        }

        for (; i < n; i++)
        {
            int v = Unsafe.Add(ref xr, i);
            s1 += v;
            s2 += v * v;
        }

        sum = s1;
        sumSquares = s2;
    }

    /// <summary>[min_o(m·S_o + b_o − k·R_o), max_o(m·S_o + b_o + k·R_o)].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PredictRange(ReadOnlySpan<float> sums, ReadOnlySpan<float> norms, ReadOnlySpan<float> bias, float m, float k, out float lo, out float hi)
    {
        ref float sr = ref MemoryMarshal.GetReference(sums);
        ref float nr = ref MemoryMarshal.GetReference(norms);
        ref float br = ref MemoryMarshal.GetReference(bias);
        bool hasBias = !bias.IsEmpty;
        nint n = sums.Length;
        nint i = 0;
        lo = float.PositiveInfinity;
        hi = float.NegativeInfinity;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var vm = Vector256.Create(m);
            var vk = Vector256.Create(k);
            var vlo = Vector256.Create(float.PositiveInfinity);
            var vhi = Vector256.Create(float.NegativeInfinity);
            for (; i + 8 <= n; i += 8)
            {
                var mu = vm * Vector256.LoadUnsafe(ref sr, (nuint)i);
                if (hasBias)
                {
                    mu += Vector256.LoadUnsafe(ref br, (nuint)i);
                }

                var d = vk * Vector256.LoadUnsafe(ref nr, (nuint)i);
                vlo = Vector256.Min(vlo, mu - d);
                vhi = Vector256.Max(vhi, mu + d);
            }

            var l4 = Vector128.Min(vlo.GetLower(), vlo.GetUpper());
            var h4 = Vector128.Max(vhi.GetLower(), vhi.GetUpper());
            lo = MathF.Min(MathF.Min(l4[0], l4[1]), MathF.Min(l4[2], l4[3]));
            hi = MathF.Max(MathF.Max(h4[0], h4[1]), MathF.Max(h4[2], h4[3]));
        }

        if (Vector128.IsHardwareAccelerated && n - i >= 4)
        {
            var vm = Vector128.Create(m);
            var vk = Vector128.Create(k);
            var vlo = Vector128.Create(float.PositiveInfinity);
            var vhi = Vector128.Create(float.NegativeInfinity);
            for (; i + 4 <= n; i += 4)
            {
                var mu = vm * Vector128.LoadUnsafe(ref sr, (nuint)i);
                if (hasBias)
                {
                    mu += Vector128.LoadUnsafe(ref br, (nuint)i);
                }

                var d = vk * Vector128.LoadUnsafe(ref nr, (nuint)i);
                vlo = Vector128.Min(vlo, mu - d);
                vhi = Vector128.Max(vhi, mu + d);
            }

            lo = MathF.Min(lo, MathF.Min(MathF.Min(vlo[0], vlo[1]), MathF.Min(vlo[2], vlo[3])));
            hi = MathF.Max(hi, MathF.Max(MathF.Max(vhi[0], vhi[1]), MathF.Max(vhi[2], vhi[3])));
        }

        for (; i < n; i++)
        {
            float mu = (m * Unsafe.Add(ref sr, i)) + (hasBias ? Unsafe.Add(ref br, i) : 0f);
            float d = k * Unsafe.Add(ref nr, i);
            lo = MathF.Min(lo, mu - d);
            hi = MathF.Max(hi, mu + d);
        }
    }

    // ---------------------------------------------------------------- the kernel

    /// <summary>
    /// y = W x + b, ReLU, + residual, for u8 codes x (scale <paramref name="xScale"/>, zero point <paramref name="xZero"/>)
    /// and int8 weights <paramref name="w"/> (row-blocked, one scale per <paramref name="groupSize"/> inputs). Writes floats
    /// to <paramref name="y"/>, or, when <paramref name="yq"/> is not empty, u8 codes of scale <paramref name="yScale"/> and
    /// zero point <paramref name="yZero"/> to <paramref name="yq"/>; returns the number of clipped codes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Linear(
        ReadOnlySpan<sbyte> w,
        ReadOnlySpan<float> scales,
        ReadOnlySpan<float> bias,
        ReadOnlySpan<float> sums,
        ReadOnlySpan<byte> x,
        float xScale,
        int xZero,
        int groupSize,
        bool relu,
        ReadOnlySpan<float> residual,
        Span<float> y,
        Span<byte> yq,
        float yScale,
        int yZero,
        Int8DotPath path)
    {
        int outLen = sums.Length;
        int inLen = x.Length;
        int groups = (inLen + groupSize - 1) / groupSize;
        if (groupSize > MaxInt32GroupLength || w.Length < (long)outLen * inLen || scales.Length < (long)outLen * groups
            || (yq.IsEmpty ? y.Length < outLen : yq.Length < outLen) || (!bias.IsEmpty && bias.Length < outLen) || (!residual.IsEmpty && residual.Length < outLen))
        {
            throw new ArgumentException("Int8Activations.Linear: spans do not match the shape.");
        }

        if (!IsSupported(path))
        {
            path = Int8DotPath.Vector128;
        }

        var e = new Epilogue(ref MemoryMarshal.GetReference(bias), !bias.IsEmpty, ref MemoryMarshal.GetReference(sums), ref MemoryMarshal.GetReference(residual), !residual.IsEmpty, relu, xScale, (path == Int8DotPath.ArmDp ? 128 : 0) - xZero, yScale, yZero, yq.IsEmpty);
        ref sbyte wr = ref MemoryMarshal.GetReference(w);
        ref float sr = ref MemoryMarshal.GetReference(scales);
        ref byte xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref byte qr = ref MemoryMarshal.GetReference(yq);
        int rowMain = outLen - (outLen % RowBlock);
        int clipped = 0;
        int pairs = path == Int8DotPath.AvxVnni ? TwoStreamPairs(inLen, groupSize, rowMain) : 0;
        for (int i = 0; i < pairs; i++)
        {
            // row blocks i and i + pairs together: two streams of weights (TwoStreamPairs)
            VnniPair(ref xr, ref wr, ref sr, inLen, groups, i, pairs, out var da, out var db);
            clipped += e.Store4(ref yr, ref qr, i * RowBlock, da);
            clipped += e.Store4(ref yr, ref qr, (i + pairs) * RowBlock, db);
        }

        for (int o = 2 * pairs * RowBlock; o < outLen;)
        {
            int rc = o < rowMain ? RowBlock : 1;
            ref sbyte blk = ref Unsafe.Add(ref wr, (nint)o * inLen);
            ref float sc = ref Unsafe.Add(ref sr, (nint)o * groups);
            float d0, d1 = 0f, d2 = 0f, d3 = 0f;
            switch (path)
            {
                case Int8DotPath.AvxVnni:
                    if (rc == 4)
                    {
                        Vnni4(ref xr, ref blk, ref sc, inLen, groupSize, groups, out d0, out d1, out d2, out d3);
                    }
                    else
                    {
                        d0 = Vnni1(ref xr, ref blk, ref sc, inLen, groupSize);
                    }

                    break;
                case Int8DotPath.ArmDp:
                    DpRows(ref xr, ref blk, ref sc, inLen, groupSize, groups, rc, out d0, out d1, out d2, out d3);
                    break;
                case Int8DotPath.Vector128:
                    V128Rows(ref xr, ref blk, ref sc, inLen, groupSize, groups, rc, out d0, out d1, out d2, out d3);
                    break;
                default:
                    ScalarRows(ref xr, ref blk, ref sc, inLen, groupSize, groups, rc, out d0, out d1, out d2, out d3);
                    break;
            }

            clipped += e.StoreRows(ref yr, ref qr, o, rc, d0, d1, d2, d3);

            o += rc;
        }

        return clipped;
    }

    /// <summary>
    /// How many pairs of row blocks the AVX-VNNI path computes two at a time (<see cref="Vnni4x2"/>): row block i together
    /// with row block i + pairs, so the weights are read as two ascending streams half a layer apart instead of one. With
    /// the weights in the last-level cache one core reads two streams faster than one (its hardware prefetchers keep more
    /// lines in flight: on the x64 test machine ~1.1× for a 1024 × 1024 layer, docs/activations.md). For the int8
    /// layout's default group (64) and rows of whole groups, and for one group per row (a per-row scale) of a multiple
    /// of 32 inputs; 0 otherwise, and the row blocks run one at a time.
    /// </summary>
    internal static int TwoStreamPairs(int inLen, int groupSize, int rowMain) =>
        inLen > 0 && ((groupSize == 64 && inLen % 64 == 0) || (groupSize >= inLen && inLen % 32 == 0)) ? rowMain / (2 * RowBlock) : 0;

    /// <summary>
    /// Row blocks i and i + pairs of <see cref="TwoStreamPairs"/> on AVX-VNNI: <see cref="Vnni4x2"/> for groups of 64, or,
    /// with one group per row (a per-row scale), <see cref="Vnni4x2Rows"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void VnniPair(ref byte x, ref sbyte w, ref float s, int inLen, int groups, int i, int pairs, out Vector128<float> da, out Vector128<float> db)
    {
        nint oa = (nint)i * RowBlock, ob = (nint)(i + pairs) * RowBlock;
        if (groups == 1)
        {
            Vnni4x2Rows(ref x, ref Unsafe.Add(ref w, oa * inLen), ref Unsafe.Add(ref s, oa), ref Unsafe.Add(ref w, ob * inLen), ref Unsafe.Add(ref s, ob), inLen, out da, out db);
        }
        else
        {
            Vnni4x2(ref x, ref Unsafe.Add(ref w, oa * inLen), ref Unsafe.Add(ref s, oa * groups), ref Unsafe.Add(ref w, ob * inLen), ref Unsafe.Add(ref s, ob * groups), groups, out da, out db);
        }
    }

    /// <summary>
    /// Two row blocks with one group per row (a per-row scale), whose four rows are each <paramref name="inLen"/> contiguous
    /// bytes: read row after row, so each block is one ascending stream (<see cref="Vnni4"/> reads a block's four rows side
    /// by side, four streams 1 KiB apart for a row of 1,024, which the hardware prefetchers follow less well), both blocks
    /// at once. The int32 lanes are <see cref="Vnni4"/>'s (integer sums in another order), so the results are the same.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Vnni4x2Rows(ref byte x, ref sbyte a, ref float sa, ref sbyte b, ref float sb, int inLen, out Vector128<float> da, out Vector128<float> db)
    {
        if (!AvxVnni.IsSupported)
        {
            throw new PlatformNotSupportedException();
        }

        da = default;
        db = default;
        for (int r = 0; r < RowBlock; r++)
        {
            ref byte ra = ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref a, (nint)r * inLen));
            ref byte rb = ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref b, (nint)r * inLen));
            Vector256<int> p0 = default, p1 = default, q0 = default, q1 = default;
            nint k = 0;
            for (; k + 64 <= inLen; k += 64)
            {
                KernelPrefetch.Line(ref Unsafe.Add(ref ra, k));
                KernelPrefetch.Line(ref Unsafe.Add(ref rb, k));
                var x0 = Vector256.LoadUnsafe(ref Unsafe.Add(ref x, k));
                var x1 = Vector256.LoadUnsafe(ref Unsafe.Add(ref x, k + 32));
                p0 = AvxVnni.MultiplyWideningAndAdd(p0, x0, Vector256.LoadUnsafe(ref Unsafe.Add(ref ra, k)).AsSByte());
                p1 = AvxVnni.MultiplyWideningAndAdd(p1, x1, Vector256.LoadUnsafe(ref Unsafe.Add(ref ra, k + 32)).AsSByte());
                q0 = AvxVnni.MultiplyWideningAndAdd(q0, x0, Vector256.LoadUnsafe(ref Unsafe.Add(ref rb, k)).AsSByte());
                q1 = AvxVnni.MultiplyWideningAndAdd(q1, x1, Vector256.LoadUnsafe(ref Unsafe.Add(ref rb, k + 32)).AsSByte());
            }

            if (k < inLen)
            {
                // the last 32 inputs (inLen % 64 == 32)
                var x0 = Vector256.LoadUnsafe(ref Unsafe.Add(ref x, k));
                p0 = AvxVnni.MultiplyWideningAndAdd(p0, x0, Vector256.LoadUnsafe(ref Unsafe.Add(ref ra, k)).AsSByte());
                q0 = AvxVnni.MultiplyWideningAndAdd(q0, x0, Vector256.LoadUnsafe(ref Unsafe.Add(ref rb, k)).AsSByte());
            }

            da = da.WithElement(r, Vector256.Sum(Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(p0 + p1), Vector256.Create(Unsafe.Add(ref sa, r)), Vector256<float>.Zero)));
            db = db.WithElement(r, Vector256.Sum(Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(q0 + q1), Vector256.Create(Unsafe.Add(ref sb, r)), Vector256<float>.Zero)));
        }
    }

    /// <summary>
    /// <see cref="Vnni4"/>'s group-64 loop over two row blocks at once (<paramref name="a"/> and <paramref name="b"/>,
    /// with their scales): the same instructions per block in the same order, so each block's sums are the ones
    /// <see cref="Vnni4"/> computes, bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Vnni4x2(ref byte x, ref sbyte a, ref float sa, ref sbyte b, ref float sb, int groups, out Vector128<float> da, out Vector128<float> db)
    {
        if (!AvxVnni.IsSupported)
        {
            throw new PlatformNotSupportedException();
        }

        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        Vector256<float> e0 = default, e1 = default, e2 = default, e3 = default;
        ref byte qa = ref Unsafe.As<sbyte, byte>(ref a);
        ref byte qb = ref Unsafe.As<sbyte, byte>(ref b);
        for (nint g = 0; g < groups; g++)
        {
            ref byte ga = ref Unsafe.Add(ref qa, g * 256);
            ref byte gb = ref Unsafe.Add(ref qb, g * 256);
            ref byte xg = ref Unsafe.Add(ref x, g * 64);
            KernelPrefetch.Lines256(ref ga);
            KernelPrefetch.Lines256(ref gb);
            var x0 = Vector256.LoadUnsafe(ref xg);
            var x1 = Vector256.LoadUnsafe(ref xg, 32);
            f0 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(Dot64(x0, x1, ref ga)), Vector256.Create(Unsafe.Add(ref sa, g)), f0);
            f1 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(Dot64(x0, x1, ref Unsafe.Add(ref ga, 64))), Vector256.Create(Unsafe.Add(ref sa, groups + g)), f1);
            f2 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(Dot64(x0, x1, ref Unsafe.Add(ref ga, 128))), Vector256.Create(Unsafe.Add(ref sa, (2 * groups) + g)), f2);
            f3 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(Dot64(x0, x1, ref Unsafe.Add(ref ga, 192))), Vector256.Create(Unsafe.Add(ref sa, (3 * groups) + g)), f3);
            e0 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(Dot64(x0, x1, ref gb)), Vector256.Create(Unsafe.Add(ref sb, g)), e0);
            e1 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(Dot64(x0, x1, ref Unsafe.Add(ref gb, 64))), Vector256.Create(Unsafe.Add(ref sb, groups + g)), e1);
            e2 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(Dot64(x0, x1, ref Unsafe.Add(ref gb, 128))), Vector256.Create(Unsafe.Add(ref sb, (2 * groups) + g)), e2);
            e3 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(Dot64(x0, x1, ref Unsafe.Add(ref gb, 192))), Vector256.Create(Unsafe.Add(ref sb, (3 * groups) + g)), e3);
        }

        da = Vector128.Create(Vector256.Sum(f0), Vector256.Sum(f1), Vector256.Sum(f2), Vector256.Sum(f3));
        db = Vector128.Create(Vector256.Sum(e0), Vector256.Sum(e1), Vector256.Sum(e2), Vector256.Sum(e3));
    }

    /// <summary>One row's group of 64: u8 codes <paramref name="x0"/>, <paramref name="x1"/> times 64 s8 weights at <paramref name="q"/>, two <c>vpdpbusd</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot64(Vector256<byte> x0, Vector256<byte> x1, ref byte q) =>
        AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, x0, Vector256.LoadUnsafe(ref q).AsSByte()), x1, Vector256.LoadUnsafe(ref q, 32).AsSByte());

    /// <summary>The fused epilogue: y_o = xScale · (d_o + (offset − zero) · S_o) + b_o, ReLU, + residual, then float or u8.</summary>
    internal readonly ref struct Epilogue
    {
        private readonly ref float _bias;
        private readonly ref float _sums;
        private readonly ref float _residual;
        private readonly bool _hasBias;
        private readonly bool _hasResidual;
        private readonly bool _relu;
        private readonly float _xScale;
        private readonly float _correction;
        private readonly float _inv;
        private readonly int _yZero;
        private readonly bool _float;

        public Epilogue(ref float bias, bool hasBias, ref float sums, ref float residual, bool hasResidual, bool relu, float xScale, int correction, float yScale, int yZero, bool isFloat)
        {
            _bias = ref bias;
            _sums = ref sums;
            _residual = ref residual;
            _hasBias = hasBias;
            _hasResidual = hasResidual;
            _relu = relu;
            _xScale = xScale;
            _correction = correction;
            _inv = isFloat ? 0f : 1f / yScale;
            _yZero = yZero;
            _float = isFloat;
        }

        /// <summary>
        /// The output values of four rows before they are stored: xScale · (d + correction · S) + b, ReLU, + residual
        /// (shared with the int16 kernel, <see cref="Int16Activations"/>, which writes them as floats or int16 codes).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector128<float> Values4(int o, Vector128<float> d)
        {
            var v = Vector128.Create(_xScale) * Vector128.MultiplyAddEstimate(Vector128.Create(_correction), Vector128.LoadUnsafe(ref _sums, (nuint)o), d);
            if (_hasBias)
            {
                v += Vector128.LoadUnsafe(ref _bias, (nuint)o);
            }

            if (_relu)
            {
                v = Vector128.Max(v, Vector128<float>.Zero);
            }

            if (_hasResidual)
            {
                v += Vector128.LoadUnsafe(ref _residual, (nuint)o);
            }

            return v;
        }

        /// <summary>One row's output value before it is stored: the arithmetic of <see cref="Values4"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Value(int o, float d)
        {
            float v = _xScale * float.MultiplyAddEstimate(_correction, Unsafe.Add(ref _sums, o), d);
            if (_hasBias)
            {
                v += Unsafe.Add(ref _bias, o);
            }

            if (_relu)
            {
                v = MathF.Max(v, 0f);
            }

            if (_hasResidual)
            {
                v += Unsafe.Add(ref _residual, o);
            }

            return v;
        }

        /// <summary>Four rows at once: the same arithmetic as <see cref="Store"/>, lane by lane.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Store4(ref float y, ref byte q, int o, Vector128<float> d)
        {
            var v = Values4(o, d);
            if (_float)
            {
                v.StoreUnsafe(ref y, (nuint)o);
                return 0;
            }

            int clipped = 0;
            var codes = Code(v, Vector128.Create(_inv), Vector128.Create((float)_yZero), Vector128.Create((float)MaxCode), ref clipped);
            var shorts = Vector128.Narrow(codes, codes).AsUInt16();
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref q, o), Vector128.Narrow(shorts, shorts).AsUInt32().ToScalar());
            return clipped;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Store(ref float y, ref byte q, int o, float d)
        {
            float v = Value(o, d);
            if (_float)
            {
                Unsafe.Add(ref y, o) = v;
                return 0;
            }

            int clipped = 0;
            Unsafe.Add(ref q, o) = CodeOf(v, _inv, _yZero, ref clipped);
            return clipped;
        }

        /// <summary>The <paramref name="rc"/> rows (4 or 1) a row block computed, from row <paramref name="o"/>: <see cref="Store4"/> or <see cref="Store"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int StoreRows(ref float y, ref byte q, int o, int rc, float d0, float d1, float d2, float d3) =>
            rc == 4 ? Store4(ref y, ref q, o, Vector128.Create(d0, d1, d2, d3)) : Store(ref y, ref q, o, d0);
    }

    // Layout of a row block of rc rows (see WeightPacker.RowBlocked): group g of row r starts at
    // g · rc · groupSize + r · len_g, len_g = min(groupSize, in − g · groupSize).

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScalarRows(ref byte x, ref sbyte blk, ref float sc, int inLen, int groupSize, int groups, int rc, out float d0, out float d1, out float d2, out float d3)
    {
        Span<float> d = stackalloc float[4];
        d.Clear();
        for (int g = 0; g < groups; g++)
        {
            int start = g * groupSize;
            int len = Math.Min(groupSize, inLen - start);
            for (int r = 0; r < rc; r++)
            {
                ref sbyte q = ref Unsafe.Add(ref blk, ((nint)g * rc * groupSize) + ((nint)r * len));
                int s = 0;
                for (int k = 0; k < len; k++)
                {
                    s += Unsafe.Add(ref x, start + k) * Unsafe.Add(ref q, k);
                }

                d[r] = float.MultiplyAddEstimate(s, Unsafe.Add(ref sc, (r * groups) + g), d[r]);
            }
        }

        d0 = d[0];
        d1 = d[1];
        d2 = d[2];
        d3 = d[3];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void V128Rows(ref byte x, ref sbyte blk, ref float sc, int inLen, int groupSize, int groups, int rc, out float d0, out float d1, out float d2, out float d3)
    {
        Vector128<float> f0 = default, f1 = default, f2 = default, f3 = default;
        float t0 = 0f, t1 = 0f, t2 = 0f, t3 = 0f;
        for (int g = 0; g < groups; g++)
        {
            int start = g * groupSize;
            int len = Math.Min(groupSize, inLen - start);
            ref byte xg = ref Unsafe.Add(ref x, start);
            ref sbyte q0 = ref Unsafe.Add(ref blk, (nint)g * rc * groupSize);
            Vector128<int> a0 = default, a1 = default, a2 = default, a3 = default;
            int k = 0;
            for (; k + 16 <= len; k += 16)
            {
                var xb = Vector128.LoadUnsafe(ref xg, (nuint)k);
                var xl = Vector128.WidenLower(xb).AsInt16();
                var xh = Vector128.WidenUpper(xb).AsInt16();
                a0 += WidenDot(xl, xh, ref q0, k);
                if (rc == 4)
                {
                    a1 += WidenDot(xl, xh, ref Unsafe.Add(ref q0, len), k);
                    a2 += WidenDot(xl, xh, ref Unsafe.Add(ref q0, 2 * len), k);
                    a3 += WidenDot(xl, xh, ref Unsafe.Add(ref q0, 3 * len), k);
                }
            }

            f0 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a0 + Vector128.CreateScalar(Tail(ref xg, ref q0, k, len, 0))), Vector128.Create(Unsafe.Add(ref sc, g)), f0);
            if (rc == 4)
            {
                f1 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a1 + Vector128.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, len), k, len, 0))), Vector128.Create(Unsafe.Add(ref sc, groups + g)), f1);
                f2 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a2 + Vector128.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, 2 * len), k, len, 0))), Vector128.Create(Unsafe.Add(ref sc, (2 * groups) + g)), f2);
                f3 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a3 + Vector128.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, 3 * len), k, len, 0))), Vector128.Create(Unsafe.Add(ref sc, (3 * groups) + g)), f3);
            }
        }

        d0 = Vector128.Sum(f0) + t0;
        d1 = Vector128.Sum(f1) + t1;
        d2 = Vector128.Sum(f2) + t2;
        d3 = Vector128.Sum(f3) + t3;
    }

    /// <summary>16 products u8 × s8 as int16 (exact: |255 · 127| &lt; 2¹⁵), summed into four int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> WidenDot(Vector128<short> xl, Vector128<short> xh, ref sbyte q, int k)
    {
        var wb = Vector128.LoadUnsafe(ref q, (nuint)k);
        var pl = xl * Vector128.WidenLower(wb);
        var ph = xh * Vector128.WidenUpper(wb);
        return Vector128.WidenLower(pl) + Vector128.WidenUpper(pl) + Vector128.WidenLower(ph) + Vector128.WidenUpper(ph);
    }

    /// <summary>Σ (x_k − offset) · w_k for the last elements of a group that a vector does not cover.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Tail(ref byte x, ref sbyte q, int k, int len, int offset)
    {
        int s = 0;
        for (; k < len; k++)
        {
            s += (Unsafe.Add(ref x, k) - offset) * Unsafe.Add(ref q, k);
        }

        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DpRows(ref byte x, ref sbyte blk, ref float sc, int inLen, int groupSize, int groups, int rc, out float d0, out float d1, out float d2, out float d3)
    {
        if (!Dp.IsSupported)
        {
            throw new PlatformNotSupportedException();
        }

        Vector128<float> f0 = default, f1 = default, f2 = default, f3 = default;
        var flip = Vector128.Create((byte)0x80);
        for (int g = 0; g < groups; g++)
        {
            int start = g * groupSize;
            int len = Math.Min(groupSize, inLen - start);
            ref byte xg = ref Unsafe.Add(ref x, start);
            ref sbyte q0 = ref Unsafe.Add(ref blk, (nint)g * rc * groupSize);
            Vector128<int> a0 = default, a1 = default, a2 = default, a3 = default;
            int k = 0;
            for (; k + 16 <= len; k += 16)
            {
                // codes − 128 as s8: sdot multiplies s8 by s8; the kernel adds 128 · S_o back in the epilogue
                var xs = (Vector128.LoadUnsafe(ref xg, (nuint)k) ^ flip).AsSByte();
                a0 = Dp.DotProduct(a0, xs, Vector128.LoadUnsafe(ref q0, (nuint)k));
                if (rc == 4)
                {
                    a1 = Dp.DotProduct(a1, xs, Vector128.LoadUnsafe(ref q0, (nuint)(len + k)));
                    a2 = Dp.DotProduct(a2, xs, Vector128.LoadUnsafe(ref q0, (nuint)((2 * len) + k)));
                    a3 = Dp.DotProduct(a3, xs, Vector128.LoadUnsafe(ref q0, (nuint)((3 * len) + k)));
                }
            }

            f0 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a0 + Vector128.CreateScalar(Tail(ref xg, ref q0, k, len, 128))), Vector128.Create(Unsafe.Add(ref sc, g)), f0);
            if (rc == 4)
            {
                f1 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a1 + Vector128.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, len), k, len, 128))), Vector128.Create(Unsafe.Add(ref sc, groups + g)), f1);
                f2 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a2 + Vector128.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, 2 * len), k, len, 128))), Vector128.Create(Unsafe.Add(ref sc, (2 * groups) + g)), f2);
                f3 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a3 + Vector128.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, 3 * len), k, len, 128))), Vector128.Create(Unsafe.Add(ref sc, (3 * groups) + g)), f3);
            }
        }

        d0 = Vector128.Sum(f0);
        d1 = Vector128.Sum(f1);
        d2 = Vector128.Sum(f2);
        d3 = Vector128.Sum(f3);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Vnni4(ref byte x, ref sbyte blk, ref float sc, int inLen, int groupSize, int groups, out float d0, out float d1, out float d2, out float d3)
    {
        if (!AvxVnni.IsSupported)
        {
            throw new PlatformNotSupportedException();
        }

        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        int first = 0;
        if (groupSize == 64)
        {
            // the int8 layout's default group: each row's group is two 32-byte steps, unrolled
            first = inLen / 64;
            ref byte q = ref Unsafe.As<sbyte, byte>(ref blk);
            ref float s1 = ref Unsafe.Add(ref sc, groups);
            ref float s2 = ref Unsafe.Add(ref sc, 2 * groups);
            ref float s3 = ref Unsafe.Add(ref sc, 3 * groups);
            for (nint g = 0; g < first; g++)
            {
                ref byte qg = ref Unsafe.Add(ref q, g * 256);
                ref byte xg = ref Unsafe.Add(ref x, g * 64);
                KernelPrefetch.Lines256(ref qg);
                var x0 = Vector256.LoadUnsafe(ref xg);
                var x1 = Vector256.LoadUnsafe(ref xg, 32);
                f0 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(Dot64(x0, x1, ref qg)), Vector256.Create(Unsafe.Add(ref sc, g)), f0);
                f1 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(Dot64(x0, x1, ref Unsafe.Add(ref qg, 64))), Vector256.Create(Unsafe.Add(ref s1, g)), f1);
                f2 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(Dot64(x0, x1, ref Unsafe.Add(ref qg, 128))), Vector256.Create(Unsafe.Add(ref s2, g)), f2);
                f3 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(Dot64(x0, x1, ref Unsafe.Add(ref qg, 192))), Vector256.Create(Unsafe.Add(ref s3, g)), f3);
            }
        }

        for (int g = first; g < groups; g++)
        {
            int start = g * groupSize;
            int len = Math.Min(groupSize, inLen - start);
            ref byte xg = ref Unsafe.Add(ref x, start);
            ref byte q0 = ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref blk, (nint)g * 4 * groupSize));
            ref byte q1 = ref Unsafe.Add(ref q0, len);
            ref byte q2 = ref Unsafe.Add(ref q0, 2 * len);
            ref byte q3 = ref Unsafe.Add(ref q0, 3 * len);
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
            int k = 0;
            for (; k + 32 <= len; k += 32)
            {
                var xv = Vector256.LoadUnsafe(ref xg, (nuint)k);
                a0 = AvxVnni.MultiplyWideningAndAdd(a0, xv, Vector256.LoadUnsafe(ref q0, (nuint)k).AsSByte());
                a1 = AvxVnni.MultiplyWideningAndAdd(a1, xv, Vector256.LoadUnsafe(ref q1, (nuint)k).AsSByte());
                a2 = AvxVnni.MultiplyWideningAndAdd(a2, xv, Vector256.LoadUnsafe(ref q2, (nuint)k).AsSByte());
                a3 = AvxVnni.MultiplyWideningAndAdd(a3, xv, Vector256.LoadUnsafe(ref q3, (nuint)k).AsSByte());
            }

            if (k + 16 <= len)
            {
                var xv = Vector128.LoadUnsafe(ref xg, (nuint)k);
                a0 += AvxVnni.MultiplyWideningAndAdd(Vector128<int>.Zero, xv, Vector128.LoadUnsafe(ref q0, (nuint)k).AsSByte()).ToVector256();
                a1 += AvxVnni.MultiplyWideningAndAdd(Vector128<int>.Zero, xv, Vector128.LoadUnsafe(ref q1, (nuint)k).AsSByte()).ToVector256();
                a2 += AvxVnni.MultiplyWideningAndAdd(Vector128<int>.Zero, xv, Vector128.LoadUnsafe(ref q2, (nuint)k).AsSByte()).ToVector256();
                a3 += AvxVnni.MultiplyWideningAndAdd(Vector128<int>.Zero, xv, Vector128.LoadUnsafe(ref q3, (nuint)k).AsSByte()).ToVector256();
                k += 16;
            }

            if (k < len)
            {
                a0 += Vector256.CreateScalar(Tail(ref xg, ref Unsafe.As<byte, sbyte>(ref q0), k, len, 0));
                a1 += Vector256.CreateScalar(Tail(ref xg, ref Unsafe.As<byte, sbyte>(ref q1), k, len, 0));
                a2 += Vector256.CreateScalar(Tail(ref xg, ref Unsafe.As<byte, sbyte>(ref q2), k, len, 0));
                a3 += Vector256.CreateScalar(Tail(ref xg, ref Unsafe.As<byte, sbyte>(ref q3), k, len, 0));
            }

            f0 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(a0), Vector256.Create(Unsafe.Add(ref sc, g)), f0);
            f1 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(a1), Vector256.Create(Unsafe.Add(ref sc, groups + g)), f1);
            f2 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(a2), Vector256.Create(Unsafe.Add(ref sc, (2 * groups) + g)), f2);
            f3 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(a3), Vector256.Create(Unsafe.Add(ref sc, (3 * groups) + g)), f3);
        }

        d0 = Vector256.Sum(f0);
        d1 = Vector256.Sum(f1);
        d2 = Vector256.Sum(f2);
        d3 = Vector256.Sum(f3);
    }

    /// <summary>
    /// Bytes ahead of the kernel's read position that <see cref="KernelPrefetch.Lines256"/> requests into L1, and, with a hint for
    /// the outer caches, <see cref="FarPrefetchDistance"/> bytes ahead. The weights are one ascending stream (row blocks
    /// group by group). In interleaved A/B runs over 1,100 copies of a 1024 × 1024 layer streamed from DRAM on the x64
    /// test machine: none 108–114 µs per layer, L1 at 1–4 KiB 88–114 µs, L1 at 2 KiB plus the far hint at 18 KiB
    /// 85–86 µs (docs/activations.md).
    /// </summary>
    public const int PrefetchDistance = KernelPrefetch.Distance;

    /// <summary>The distance of the outer-cache hint (<c>prefetcht2</c>).</summary>
    public const int FarPrefetchDistance = KernelPrefetch.FarDistance;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Vnni1(ref byte x, ref sbyte row, ref float sc, int inLen, int groupSize)
    {
        if (!AvxVnni.IsSupported)
        {
            throw new PlatformNotSupportedException();
        }

        Vector256<float> f = default;
        int groups = (inLen + groupSize - 1) / groupSize;
        for (int g = 0; g < groups; g++)
        {
            int start = g * groupSize;
            int len = Math.Min(groupSize, inLen - start);
            ref byte xg = ref Unsafe.Add(ref x, start);
            ref byte q = ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref row, start));
            Vector256<int> a = default;
            int k = 0;
            for (; k + 32 <= len; k += 32)
            {
                a = AvxVnni.MultiplyWideningAndAdd(a, Vector256.LoadUnsafe(ref xg, (nuint)k), Vector256.LoadUnsafe(ref q, (nuint)k).AsSByte());
            }

            a += Vector256.CreateScalar(Tail(ref xg, ref Unsafe.As<byte, sbyte>(ref q), k, len, 0));
            f = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(a), Vector256.Create(Unsafe.Add(ref sc, g)), f);
        }

        return Vector256.Sum(f);
    }
}
