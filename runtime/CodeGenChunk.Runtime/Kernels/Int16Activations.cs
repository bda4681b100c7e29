using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>The instruction sequence the int16-activation kernel uses for its int16 × int8 dot products.</summary>
public enum Int16DotPath
{
    /// <summary>Plain int32 loops.</summary>
    Scalar = 0,

    /// <summary>Portable <see cref="Vector128{T}"/>: int16 codes and int8 weights widened to int32, multiplied and added.</summary>
    Vector128,

    /// <summary>arm64 <c>smlal</c>/<c>smlal2</c> (<see cref="AdvSimd.MultiplyWideningLowerAndAdd(Vector128{int}, Vector64{short}, Vector64{short})"/>) on weights sign-extended to int16 (<c>sxtl</c>).</summary>
    AdvSimd,

    /// <summary>x64 <c>vpmaddwd</c> (<see cref="Avx2.MultiplyAddAdjacent(Vector256{short}, Vector256{short})"/>, 256-bit) on weights sign-extended by <c>vpmovsxbw</c>, then <c>vpaddd</c>.</summary>
    Avx2,

    /// <summary>x64 <c>vpdpwssd</c> (<see cref="AvxVnni"/>, 256-bit): the multiply-add of pairs and the accumulation in one instruction.</summary>
    AvxVnni,

    /// <summary>x64 <c>vpmaddwd</c> on 512-bit registers (<see cref="Avx512BW"/>): 32 inputs per step.</summary>
    Avx512BW,
}

/// <summary>
/// int16 activations for linear layers with int8 weights (docs/activations.md, "int16 activations"). An activation
/// vector is quantized once to <b>symmetric signed int16 codes</b>, <c>x ≈ scale · q</c>, <c>q</c> in −32767..32767,
/// zero point 0, <c>scale = max|x| / 32767</c> over the range (dynamic: the input's own; static: the calibrated one;
/// predicted: the one the previous layer predicts). The kernel multiplies the codes with the layer's int8 weights
/// (row-blocked, one float scale per group, the layout <see cref="Int8Activations"/> reads) and sums each group exactly
/// in int32: <c>|Σ q·w| ≤ len · 32767 · 128</c>, below 2³¹ − 1 for groups of at most <see cref="MaxInt32GroupLength"/>
/// (512) inputs, for every byte a weight file can hold (−128..127); the planner refuses longer groups (CGC0044). The
/// weights are sign-extended from their packed bytes in registers, never widened in memory. The epilogue (scale, bias,
/// ReLU, residual) is <see cref="Int8Activations"/>' with a zero point of 0; it writes floats or the next layer's int16
/// codes (clips counted). Nothing allocates.
/// </summary>
public static class Int16Activations
{
    /// <summary>Largest code magnitude: codes are −32767..32767 (−32768 is never written, so the codes are symmetric).</summary>
    public const int MaxCode = 32767;

    /// <summary>Largest weight magnitude a packed int8 byte can hold (−128; the quantizer writes −127..127).</summary>
    public const int MaxWeightMagnitude = 128;

    /// <summary>Largest group length whose int32 sum cannot overflow: ⌊(2³¹ − 1) / (32767 · 128)⌋ = 512.</summary>
    public const int MaxInt32GroupLength = int.MaxValue / (MaxCode * MaxWeightMagnitude);

    /// <summary>The dot-product path a resolved <see cref="KernelPath"/> uses on this machine.</summary>
    public static Int16DotPath Resolve(KernelPath path)
    {
        if (path == KernelPath.Auto)
        {
            return Resolve(KernelPaths.Resolve(KernelPath.Auto));
        }

        if (path == KernelPath.Scalar)
        {
            return Int16DotPath.Scalar;
        }

        if (path == KernelPath.Vector512 && Avx512BW.IsSupported)
        {
            return Int16DotPath.Avx512BW;
        }

        if (path >= KernelPath.Vector256 && AvxVnni.IsSupported)
        {
            return Int16DotPath.AvxVnni;
        }

        if (path >= KernelPath.Vector256 && Avx2.IsSupported)
        {
            return Int16DotPath.Avx2;
        }

        if (AdvSimd.IsSupported)
        {
            return Int16DotPath.AdvSimd;
        }

        return Vector128.IsHardwareAccelerated ? Int16DotPath.Vector128 : Int16DotPath.Scalar;
    }

    /// <summary>Whether <paramref name="path"/> runs on this machine (the portable paths always do).</summary>
    public static bool IsSupported(Int16DotPath path) => path switch
    {
        Int16DotPath.AdvSimd => AdvSimd.IsSupported,
        Int16DotPath.Avx2 => Avx2.IsSupported,
        Int16DotPath.AvxVnni => AvxVnni.IsSupported,
        Int16DotPath.Avx512BW => Avx512BW.IsSupported,
        _ => true,
    };

    // ---------------------------------------------------------------- quantization parameters

    /// <summary>
    /// The scale of symmetric int16 codes covering [<paramref name="lo"/>, <paramref name="hi"/>]:
    /// <c>max(|lo|, |hi|) / 32767</c>; an empty range gives scale 1.
    /// </summary>
    public static float RangeScale(float lo, float hi)
    {
        float scale = MathF.Max(MathF.Max(-lo, hi), 0f) / MaxCode;
        return scale > 0f && float.IsFinite(scale) ? scale : 1f;
    }

    /// <summary>Dynamic parameters: <c>max|x| / 32767</c> of <paramref name="x"/> itself.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float DynamicScale(ReadOnlySpan<float> x)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        nint n = x.Length;
        nint i = 0;
        float m = 0f;
        if (Vector128.IsHardwareAccelerated && n >= 8)
        {
            Vector128<float> m0 = Vector128<float>.Zero, m1 = m0;
            for (; i + 8 <= n; i += 8)
            {
                m0 = Vector128.Max(m0, Vector128.Abs(Vector128.LoadUnsafe(ref xr, (nuint)i)));
                m1 = Vector128.Max(m1, Vector128.Abs(Vector128.LoadUnsafe(ref xr, (nuint)i + 4)));
            }

            m0 = Vector128.Max(m0, m1);
            m = MathF.Max(MathF.Max(m0[0], m0[1]), MathF.Max(m0[2], m0[3]));
        }

        for (; i < n; i++)
        {
            m = MathF.Max(m, MathF.Abs(Unsafe.Add(ref xr, i)));
        }

        return RangeScale(-m, m);
    }

    /// <summary>
    /// <c>q = clamp(round(x / scale), −32767, 32767)</c> (x times the float reciprocal of the scale, rounded to nearest
    /// even); returns how many values were clipped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Quantize(ReadOnlySpan<float> x, float scale, Span<short> q)
    {
        if (q.Length < x.Length)
        {
            throw new ArgumentException("The code buffer is shorter than the input.", nameof(q));
        }

        ref float xr = ref MemoryMarshal.GetReference(x);
        ref short qr = ref MemoryMarshal.GetReference(q);
        float inv = 1f / scale;
        nint n = x.Length;
        nint i = 0;
        int clipped = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            var vinv = Vector128.Create(inv);
            for (; i + 8 <= n; i += 8)
            {
                var c0 = Code(Vector128.LoadUnsafe(ref xr, (nuint)i), vinv, ref clipped);
                var c1 = Code(Vector128.LoadUnsafe(ref xr, (nuint)i + 4), vinv, ref clipped);
                Vector128.Narrow(c0, c1).StoreUnsafe(ref qr, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref qr, i) = CodeOf(Unsafe.Add(ref xr, i), inv, ref clipped);
        }

        return clipped;
    }

    /// <summary>Four codes: <c>clamp(round(x · inv), −32767, 32767)</c> as int32 lanes, counting clips.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<int> Code(Vector128<float> x, Vector128<float> inv, ref int clipped)
    {
        var v = Vector128.Round(x * inv);
        var max = Vector128.Create((float)MaxCode);
        var outside = Vector128.GreaterThan(Vector128.Abs(v), max);
        clipped += BitOperations.PopCount(outside.ExtractMostSignificantBits());
        return Vector128.ConvertToInt32(Vector128.Min(Vector128.Max(v, -max), max));
    }

    /// <summary>One code: <c>clamp(round(x · inv), −32767, 32767)</c>, counting a clip.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static short CodeOf(float x, float inv, ref int clipped)
    {
        float v = MathF.Round(x * inv);
        if (v > MaxCode)
        {
            clipped++;
            return MaxCode;
        }

        if (v < -MaxCode)
        {
            clipped++;
            return -MaxCode;
        }

        return (short)v;
    }

    // ---------------------------------------------------------------- predicted output range

    /// <summary>
    /// The prediction of <see cref="Int8Activations.PredictParams"/> on int16 codes (zero point 0): the input's mean
    /// <c>m = s · mean(q)</c> and variance <c>s² · mean(q²) − m²</c>, the Gaussian range of every row
    /// (<see cref="Int8Activations.PredictRange"/>, the same per-row constants), clamped at 0 after a ReLU, as the
    /// scale of symmetric int16 codes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float PredictScale(ReadOnlySpan<short> x, float xScale, ReadOnlySpan<float> sums, ReadOnlySpan<float> norms, ReadOnlySpan<float> bias, float z, bool relu)
    {
        CodeMoments(x, out long s1, out long s2);
        double n = x.Length;
        double m = xScale * (s1 / n);
        double e2 = (double)xScale * xScale * (s2 / n);
        double variance = Math.Max(e2 - (m * m), 0);
        Int8Activations.PredictRange(sums, norms, bias, (float)m, (float)(z * Math.Sqrt(variance)), out float lo, out float hi);
        if (relu)
        {
            lo = 0f;
        }

        return RangeScale(lo, hi);
    }

    /// <summary>Σ q and Σ q² of int16 codes (exact, in 64-bit lanes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CodeMoments(ReadOnlySpan<short> x, out long sum, out long sumSquares)
    {
        ref short xr = ref MemoryMarshal.GetReference(x);
        nint n = x.Length;
        nint i = 0;
        long s1 = 0, s2 = 0;
        if (Vector128.IsHardwareAccelerated && n >= 8)
        {
            Vector128<long> a1 = Vector128<long>.Zero;
            Vector128<ulong> a2 = Vector128<ulong>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                var v = Vector128.LoadUnsafe(ref xr, (nuint)i);
                var lo = Vector128.WidenLower(v);
                var hi = Vector128.WidenUpper(v);
                var pair = lo + hi;
                a1 += Vector128.WidenLower(pair) + Vector128.WidenUpper(pair);

                // a square of an int16 is at most 2^30: exact in an int32 lane, non-negative
                var q0 = (lo * lo).AsUInt32();
                var q1 = (hi * hi).AsUInt32();
                a2 += Vector128.WidenLower(q0) + Vector128.WidenUpper(q0) + Vector128.WidenLower(q1) + Vector128.WidenUpper(q1);
            }

            s1 = Vector128.Sum(a1);
            s2 = (long)Vector128.Sum(a2);
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

    // ---------------------------------------------------------------- the kernel

    /// <summary>
    /// y = W x + b, ReLU, + residual, for int16 codes x (scale <paramref name="xScale"/>, zero point 0) and int8 weights
    /// <paramref name="w"/> (row-blocked, one scale per <paramref name="groupSize"/> inputs, at most
    /// <see cref="MaxInt32GroupLength"/>); <paramref name="sums"/> from <see cref="Int8Activations.RowStats"/> (their
    /// length is the output length). Writes floats to <paramref name="y"/>, or, when <paramref name="yq"/> is not empty,
    /// int16 codes of scale <paramref name="yScale"/> to <paramref name="yq"/>; returns the number of clipped codes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Linear(
        ReadOnlySpan<sbyte> w,
        ReadOnlySpan<float> scales,
        ReadOnlySpan<float> bias,
        ReadOnlySpan<float> sums,
        ReadOnlySpan<short> x,
        float xScale,
        int groupSize,
        bool relu,
        ReadOnlySpan<float> residual,
        Span<float> y,
        Span<short> yq,
        float yScale,
        Int16DotPath path)
    {
        int outLen = sums.Length;
        int inLen = x.Length;
        int groups = (inLen + groupSize - 1) / groupSize;
        if (groupSize <= 0 || Math.Min(groupSize, inLen) > MaxInt32GroupLength || w.Length < (long)outLen * inLen || scales.Length < (long)outLen * groups
            || (yq.IsEmpty ? y.Length < outLen : yq.Length < outLen) || (!bias.IsEmpty && bias.Length < outLen) || (!residual.IsEmpty && residual.Length < outLen))
        {
            throw new ArgumentException("Int16Activations.Linear: spans do not match the shape (groups of at most 512 inputs).");
        }

        if (!IsSupported(path))
        {
            path = Int16DotPath.Vector128;
        }

        // the int8 kernel's epilogue with a zero point of 0 (no correction term); it stores floats, or gives the values
        // that become int16 codes here
        var e = new Int8Activations.Epilogue(ref MemoryMarshal.GetReference(bias), !bias.IsEmpty, ref MemoryMarshal.GetReference(sums), ref MemoryMarshal.GetReference(residual), !residual.IsEmpty, relu, xScale, 0, 1f, 0, true);
        bool codes = !yq.IsEmpty;
        float inv = codes ? 1f / yScale : 0f;
        ref sbyte wr = ref MemoryMarshal.GetReference(w);
        ref float sr = ref MemoryMarshal.GetReference(scales);
        ref short xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref short qr = ref MemoryMarshal.GetReference(yq);
        int rowMain = outLen - (outLen % Int8Activations.RowBlock);
        int clipped = 0;
        for (int o = 0; o < outLen;)
        {
            int rc = o < rowMain ? Int8Activations.RowBlock : 1;
            ref sbyte blk = ref Unsafe.Add(ref wr, (nint)o * inLen);
            ref float sc = ref Unsafe.Add(ref sr, (nint)o * groups);
            float d0, d1, d2, d3;
            switch (path)
            {
                case Int16DotPath.Avx512BW:
                    Avx512Rows(ref xr, ref blk, ref sc, inLen, groupSize, groups, rc, out d0, out d1, out d2, out d3);
                    break;
                case Int16DotPath.AvxVnni:
                    X86Rows<VnniDot>(ref xr, ref blk, ref sc, inLen, groupSize, groups, rc, out d0, out d1, out d2, out d3);
                    break;
                case Int16DotPath.Avx2:
                    X86Rows<MaddDot>(ref xr, ref blk, ref sc, inLen, groupSize, groups, rc, out d0, out d1, out d2, out d3);
                    break;
                case Int16DotPath.AdvSimd:
                    ArmRows(ref xr, ref blk, ref sc, inLen, groupSize, groups, rc, out d0, out d1, out d2, out d3);
                    break;
                case Int16DotPath.Vector128:
                    V128Rows(ref xr, ref blk, ref sc, inLen, groupSize, groups, rc, out d0, out d1, out d2, out d3);
                    break;
                default:
                    ScalarRows(ref xr, ref blk, ref sc, inLen, groupSize, groups, rc, out d0, out d1, out d2, out d3);
                    break;
            }

            if (rc == 4)
            {
                var d = Vector128.Create(d0, d1, d2, d3);
                if (codes)
                {
                    var c = Code(e.Values4(o, d), Vector128.Create(inv), ref clipped);
                    Unsafe.WriteUnaligned(ref Unsafe.As<short, byte>(ref Unsafe.Add(ref qr, o)), Vector128.Narrow(c, c).AsUInt64().ToScalar());
                }
                else
                {
                    e.Store4(ref yr, ref Unsafe.NullRef<byte>(), o, d);
                }
            }
            else if (codes)
            {
                Unsafe.Add(ref qr, o) = CodeOf(e.Value(o, d0), inv, ref clipped);
            }
            else
            {
                Unsafe.Add(ref yr, o) = e.Value(o, d0);
            }

            o += rc;
        }

        return clipped;
    }

    // Layout of a row block of rc rows (the int8 weights, WeightPacker.RowBlocked): group g of row r starts at
    // g · rc · groupSize + r · len_g, len_g = min(groupSize, in − g · groupSize).

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScalarRows(ref short x, ref sbyte blk, ref float sc, int inLen, int groupSize, int groups, int rc, out float d0, out float d1, out float d2, out float d3)
    {
        Span<float> d = stackalloc float[4];
        d.Clear();
        for (int g = 0; g < groups; g++)
        {
            int start = g * groupSize;
            int len = Math.Min(groupSize, inLen - start);
            for (int r = 0; r < rc; r++)
            {
                int s = Tail(ref Unsafe.Add(ref x, start), ref Unsafe.Add(ref blk, ((nint)g * rc * groupSize) + ((nint)r * len)), 0, len);
                d[r] = float.MultiplyAddEstimate(s, Unsafe.Add(ref sc, (r * groups) + g), d[r]);
            }
        }

        d0 = d[0];
        d1 = d[1];
        d2 = d[2];
        d3 = d[3];
    }

    /// <summary>Σ x_k · w_k over [k, len) in int32 (exact within a group: the bound above).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Tail(ref short x, ref sbyte q, int k, int len)
    {
        int s = 0;
        for (; k < len; k++)
        {
            s += Unsafe.Add(ref x, k) * Unsafe.Add(ref q, k);
        }

        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void V128Rows(ref short x, ref sbyte blk, ref float sc, int inLen, int groupSize, int groups, int rc, out float d0, out float d1, out float d2, out float d3)
    {
        Vector128<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int g = 0; g < groups; g++)
        {
            int start = g * groupSize;
            int len = Math.Min(groupSize, inLen - start);
            ref short xg = ref Unsafe.Add(ref x, start);
            ref sbyte q0 = ref Unsafe.Add(ref blk, (nint)g * rc * groupSize);
            Vector128<int> a0 = default, a1 = default, a2 = default, a3 = default;
            int k = 0;
            for (; k + 16 <= len; k += 16)
            {
                var xa = Vector128.LoadUnsafe(ref xg, (nuint)k);
                var xb = Vector128.LoadUnsafe(ref xg, (nuint)k + 8);
                var x0 = Vector128.WidenLower(xa);
                var x1 = Vector128.WidenUpper(xa);
                var x2 = Vector128.WidenLower(xb);
                var x3 = Vector128.WidenUpper(xb);
                a0 += WidenDot(x0, x1, x2, x3, ref q0, k);
                if (rc == 4)
                {
                    a1 += WidenDot(x0, x1, x2, x3, ref Unsafe.Add(ref q0, len), k);
                    a2 += WidenDot(x0, x1, x2, x3, ref Unsafe.Add(ref q0, 2 * len), k);
                    a3 += WidenDot(x0, x1, x2, x3, ref Unsafe.Add(ref q0, 3 * len), k);
                }
            }

            f0 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a0 + Vector128.CreateScalar(Tail(ref xg, ref q0, k, len))), Vector128.Create(Unsafe.Add(ref sc, g)), f0);
            if (rc == 4)
            {
                f1 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a1 + Vector128.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, len), k, len))), Vector128.Create(Unsafe.Add(ref sc, groups + g)), f1);
                f2 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a2 + Vector128.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, 2 * len), k, len))), Vector128.Create(Unsafe.Add(ref sc, (2 * groups) + g)), f2);
                f3 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a3 + Vector128.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, 3 * len), k, len))), Vector128.Create(Unsafe.Add(ref sc, (3 * groups) + g)), f3);
            }
        }

        d0 = Vector128.Sum(f0);
        d1 = Vector128.Sum(f1);
        d2 = Vector128.Sum(f2);
        d3 = Vector128.Sum(f3);
    }

    /// <summary>16 products of int16 codes (widened to int32 in <paramref name="x0"/>..<paramref name="x3"/>) and int8 weights widened to int32, summed into four int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> WidenDot(Vector128<int> x0, Vector128<int> x1, Vector128<int> x2, Vector128<int> x3, ref sbyte q, int k)
    {
        var wb = Vector128.LoadUnsafe(ref q, (nuint)k);
        var wl = Vector128.WidenLower(wb);
        var wh = Vector128.WidenUpper(wb);
        return (x0 * Vector128.WidenLower(wl)) + (x1 * Vector128.WidenUpper(wl)) + (x2 * Vector128.WidenLower(wh)) + (x3 * Vector128.WidenUpper(wh));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ArmRows(ref short x, ref sbyte blk, ref float sc, int inLen, int groupSize, int groups, int rc, out float d0, out float d1, out float d2, out float d3)
    {
        if (!AdvSimd.IsSupported)
        {
            throw new PlatformNotSupportedException();
        }

        Vector128<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int g = 0; g < groups; g++)
        {
            int start = g * groupSize;
            int len = Math.Min(groupSize, inLen - start);
            ref short xg = ref Unsafe.Add(ref x, start);
            ref sbyte q0 = ref Unsafe.Add(ref blk, (nint)g * rc * groupSize);
            Vector128<int> a0 = default, a1 = default, a2 = default, a3 = default;
            int k = 0;
            for (; k + 16 <= len; k += 16)
            {
                var xa = Vector128.LoadUnsafe(ref xg, (nuint)k);
                var xb = Vector128.LoadUnsafe(ref xg, (nuint)k + 8);
                a0 = ArmDot(a0, xa, xb, ref q0, k);
                if (rc == 4)
                {
                    a1 = ArmDot(a1, xa, xb, ref Unsafe.Add(ref q0, len), k);
                    a2 = ArmDot(a2, xa, xb, ref Unsafe.Add(ref q0, 2 * len), k);
                    a3 = ArmDot(a3, xa, xb, ref Unsafe.Add(ref q0, 3 * len), k);
                }
            }

            f0 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a0 + Vector128.CreateScalar(Tail(ref xg, ref q0, k, len))), Vector128.Create(Unsafe.Add(ref sc, g)), f0);
            if (rc == 4)
            {
                f1 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a1 + Vector128.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, len), k, len))), Vector128.Create(Unsafe.Add(ref sc, groups + g)), f1);
                f2 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a2 + Vector128.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, 2 * len), k, len))), Vector128.Create(Unsafe.Add(ref sc, (2 * groups) + g)), f2);
                f3 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a3 + Vector128.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, 3 * len), k, len))), Vector128.Create(Unsafe.Add(ref sc, (3 * groups) + g)), f3);
            }
        }

        d0 = Vector128.Sum(f0);
        d1 = Vector128.Sum(f1);
        d2 = Vector128.Sum(f2);
        d3 = Vector128.Sum(f3);
    }

    /// <summary>16 weights sign-extended to int16 (<c>sxtl</c>, <c>sxtl2</c>), four <c>smlal</c>/<c>smlal2</c> into int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> ArmDot(Vector128<int> a, Vector128<short> xa, Vector128<short> xb, ref sbyte q, int k)
    {
        var wb = Vector128.LoadUnsafe(ref q, (nuint)k);
        var wl = AdvSimd.SignExtendWideningLower(wb.GetLower());
        var wh = AdvSimd.SignExtendWideningUpper(wb);
        a = AdvSimd.MultiplyWideningLowerAndAdd(a, xa.GetLower(), wl.GetLower());
        a = AdvSimd.MultiplyWideningUpperAndAdd(a, xa, wl);
        a = AdvSimd.MultiplyWideningLowerAndAdd(a, xb.GetLower(), wh.GetLower());
        return AdvSimd.MultiplyWideningUpperAndAdd(a, xb, wh);
    }

    /// <summary>A 256-bit multiply-add of int16 pairs into int32 lanes.</summary>
    private interface IDot256
    {
        static abstract bool IsSupported { get; }

        static abstract Vector256<int> Dot(Vector256<int> acc, Vector256<short> x, Vector256<short> w);
    }

    /// <summary><c>vpmaddwd</c> then <c>vpaddd</c>.</summary>
    private readonly struct MaddDot : IDot256
    {
        public static bool IsSupported => Avx2.IsSupported;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<int> acc, Vector256<short> x, Vector256<short> w) => acc + Avx2.MultiplyAddAdjacent(x, w);
    }

    /// <summary><c>vpdpwssd</c> (not saturating: the group bound keeps every lane exact).</summary>
    private readonly struct VnniDot : IDot256
    {
        public static bool IsSupported => AvxVnni.IsSupported;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<int> acc, Vector256<short> x, Vector256<short> w) => AvxVnni.MultiplyWideningAndAdd(acc, x, w);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void X86Rows<TDot>(ref short x, ref sbyte blk, ref float sc, int inLen, int groupSize, int groups, int rc, out float d0, out float d1, out float d2, out float d3)
        where TDot : struct, IDot256
    {
        if (!TDot.IsSupported || !Avx2.IsSupported)
        {
            throw new PlatformNotSupportedException();
        }

        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int g = 0; g < groups; g++)
        {
            int start = g * groupSize;
            int len = Math.Min(groupSize, inLen - start);
            ref short xg = ref Unsafe.Add(ref x, start);
            ref sbyte q0 = ref Unsafe.Add(ref blk, (nint)g * rc * groupSize);
            ref sbyte q1 = ref rc == 4 ? ref Unsafe.Add(ref q0, len) : ref q0;
            ref sbyte q2 = ref rc == 4 ? ref Unsafe.Add(ref q0, 2 * len) : ref q0;
            ref sbyte q3 = ref rc == 4 ? ref Unsafe.Add(ref q0, 3 * len) : ref q0;
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
            int k = 0;
            for (; k + 16 <= len; k += 16)
            {
                // 16 codes; each row's 16 weights sign-extended from their bytes (vpmovsxbw with a memory operand)
                var xv = Vector256.LoadUnsafe(ref xg, (nuint)k);
                a0 = TDot.Dot(a0, xv, Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref q0, (nuint)k)));
                if (rc == 4)
                {
                    a1 = TDot.Dot(a1, xv, Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref q1, (nuint)k)));
                    a2 = TDot.Dot(a2, xv, Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref q2, (nuint)k)));
                    a3 = TDot.Dot(a3, xv, Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref q3, (nuint)k)));
                }
            }

            f0 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(a0 + Vector256.CreateScalar(Tail(ref xg, ref q0, k, len))), Vector256.Create(Unsafe.Add(ref sc, g)), f0);
            if (rc == 4)
            {
                f1 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(a1 + Vector256.CreateScalar(Tail(ref xg, ref q1, k, len))), Vector256.Create(Unsafe.Add(ref sc, groups + g)), f1);
                f2 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(a2 + Vector256.CreateScalar(Tail(ref xg, ref q2, k, len))), Vector256.Create(Unsafe.Add(ref sc, (2 * groups) + g)), f2);
                f3 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(a3 + Vector256.CreateScalar(Tail(ref xg, ref q3, k, len))), Vector256.Create(Unsafe.Add(ref sc, (3 * groups) + g)), f3);
            }
        }

        d0 = Vector256.Sum(f0);
        d1 = Vector256.Sum(f1);
        d2 = Vector256.Sum(f2);
        d3 = Vector256.Sum(f3);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx512Rows(ref short x, ref sbyte blk, ref float sc, int inLen, int groupSize, int groups, int rc, out float d0, out float d1, out float d2, out float d3)
    {
        if (!Avx512BW.IsSupported || !Avx2.IsSupported)
        {
            throw new PlatformNotSupportedException();
        }

        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int g = 0; g < groups; g++)
        {
            int start = g * groupSize;
            int len = Math.Min(groupSize, inLen - start);
            ref short xg = ref Unsafe.Add(ref x, start);
            ref sbyte q0 = ref Unsafe.Add(ref blk, (nint)g * rc * groupSize);
            ref sbyte q1 = ref rc == 4 ? ref Unsafe.Add(ref q0, len) : ref q0;
            ref sbyte q2 = ref rc == 4 ? ref Unsafe.Add(ref q0, 2 * len) : ref q0;
            ref sbyte q3 = ref rc == 4 ? ref Unsafe.Add(ref q0, 3 * len) : ref q0;
            Vector512<int> w0 = default, w1 = default, w2 = default, w3 = default;
            int k = 0;
            for (; k + 32 <= len; k += 32)
            {
                // 32 codes; each row's 32 weights sign-extended from their bytes (vpmovsxbw zmm, m256), vpmaddwd, vpaddd
                var xv = Vector512.LoadUnsafe(ref xg, (nuint)k);
                w0 += Avx512BW.MultiplyAddAdjacent(xv, Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref q0, (nuint)k)));
                if (rc == 4)
                {
                    w1 += Avx512BW.MultiplyAddAdjacent(xv, Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref q1, (nuint)k)));
                    w2 += Avx512BW.MultiplyAddAdjacent(xv, Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref q2, (nuint)k)));
                    w3 += Avx512BW.MultiplyAddAdjacent(xv, Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref q3, (nuint)k)));
                }
            }

            var a0 = w0.GetLower() + w0.GetUpper();
            var a1 = w1.GetLower() + w1.GetUpper();
            var a2 = w2.GetLower() + w2.GetUpper();
            var a3 = w3.GetLower() + w3.GetUpper();
            if (k + 16 <= len)
            {
                var xv = Vector256.LoadUnsafe(ref xg, (nuint)k);
                a0 += Avx2.MultiplyAddAdjacent(xv, Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref q0, (nuint)k)));
                if (rc == 4)
                {
                    a1 += Avx2.MultiplyAddAdjacent(xv, Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref q1, (nuint)k)));
                    a2 += Avx2.MultiplyAddAdjacent(xv, Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref q2, (nuint)k)));
                    a3 += Avx2.MultiplyAddAdjacent(xv, Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref q3, (nuint)k)));
                }

                k += 16;
            }

            f0 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(a0 + Vector256.CreateScalar(Tail(ref xg, ref q0, k, len))), Vector256.Create(Unsafe.Add(ref sc, g)), f0);
            if (rc == 4)
            {
                f1 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(a1 + Vector256.CreateScalar(Tail(ref xg, ref q1, k, len))), Vector256.Create(Unsafe.Add(ref sc, groups + g)), f1);
                f2 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(a2 + Vector256.CreateScalar(Tail(ref xg, ref q2, k, len))), Vector256.Create(Unsafe.Add(ref sc, (2 * groups) + g)), f2);
                f3 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(a3 + Vector256.CreateScalar(Tail(ref xg, ref q3, k, len))), Vector256.Create(Unsafe.Add(ref sc, (3 * groups) + g)), f3);
            }
        }

        d0 = Vector256.Sum(f0);
        d1 = Vector256.Sum(f1);
        d2 = Vector256.Sum(f2);
        d3 = Vector256.Sum(f3);
    }
}
