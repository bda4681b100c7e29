using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>
/// A linear layer with int8 weights that reads a float input in place and writes the next layer's u8 codes
/// (docs/activations.md, "A float input writing the next layer's codes"): y = W x + b, ReLU, then the
/// <see cref="Int8Activations"/> epilogue (quantization at a static or predicted range, clipped codes counted). The
/// weights are the int8 layout the integer-activation kernels read (codes −127..127, one float scale per group of a row,
/// rows in blocks of four); each group is summed in float (s8 weights converted to float in registers, fused
/// multiply-adds with the input) and scaled once. No code buffer for the input, no float tensor for the output.
/// Paths: <see cref="KernelPath.Vector512"/> (AVX-512F), <see cref="KernelPath.Vector256"/> (AVX2), the portable
/// <see cref="KernelPath.Vector128"/> (arm64 and x64) and <see cref="KernelPath.Scalar"/>. Nothing allocates.
/// </summary>
public static class Int8FloatInput
{
    /// <summary>The path this kernel runs for a requested <see cref="KernelPath"/> on this machine (a wider path it lacks falls back to the next narrower one).</summary>
    public static KernelPath Resolve(KernelPath path)
    {
        if (path == KernelPath.Auto)
        {
            path = KernelPaths.Resolve(KernelPath.Auto);
        }

        if (path == KernelPath.Vector512 && !(Avx512F.IsSupported && Vector512.IsHardwareAccelerated))
        {
            path = KernelPath.Vector256;
        }

        if (path == KernelPath.Vector256 && !(Avx2.IsSupported && Vector256.IsHardwareAccelerated))
        {
            path = KernelPath.Vector128;
        }

        if (path == KernelPath.Vector128 && !Vector128.IsHardwareAccelerated)
        {
            path = KernelPath.Scalar;
        }

        return path;
    }

    /// <summary>
    /// The mean and variance of <paramref name="x"/> (Σ x and Σ x² in double, O(in)): the moments a predicted range
    /// needs (<see cref="Int8Activations.PredictParams(double, double, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, float, bool, out float, out int)"/>).
    /// The same arithmetic on every kernel path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Moments(ReadOnlySpan<float> x, out double mean, out double variance)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        nint n = x.Length;
        nint i = 0;
        double s1 = 0, s2 = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<double> a1 = Vector128<double>.Zero, a2 = a1, b1 = a1, b2 = a1;
            for (; i + 4 <= n; i += 4)
            {
                var v = Vector128.LoadUnsafe(ref xr, (nuint)i);
                var lo = Vector128.WidenLower(v);
                var hi = Vector128.WidenUpper(v);
                a1 += lo;
                b1 += hi;
                a2 += lo * lo;
                b2 += hi * hi;
            }

            s1 = Vector128.Sum(a1 + b1);
            s2 = Vector128.Sum(a2 + b2);
        }

        for (; i < n; i++)
        {
            double v = Unsafe.Add(ref xr, i);
            s1 += v;
            s2 += v * v;
        }

        if (n == 0)
        {
            mean = 0;
            variance = 0;
            return;
        }

        mean = s1 / n;
        variance = Math.Max((s2 / n) - (mean * mean), 0);
    }

    /// <summary>
    /// The predicted quantization parameters of this layer's output (docs/activations.md, <c>predicted</c>) from its
    /// float input: the moments of <paramref name="x"/> (<see cref="Moments"/>), then <see cref="Int8Activations"/>' prediction
    /// from the per-row weight sums and norms (<see cref="Int8Activations.RowStats"/>).
    /// </summary>
    public static void PredictParams(ReadOnlySpan<float> x, ReadOnlySpan<float> sums, ReadOnlySpan<float> norms, ReadOnlySpan<float> bias, float z, bool relu, out float scale, out int zero)
    {
        Moments(x, out double mean, out double variance);
        Int8Activations.PredictParams(mean, variance, sums, norms, bias, z, relu, out scale, out zero);
    }

    /// <summary>
    /// y = W x + b, ReLU, for a float input <paramref name="x"/> (read in place) and int8 weights <paramref name="w"/>
    /// (row-blocked, one scale per <paramref name="groupSize"/> inputs). Writes floats to <paramref name="y"/>, or, when
    /// <paramref name="yq"/> is not empty, u8 codes of scale <paramref name="yScale"/> and zero point
    /// <paramref name="yZero"/> to <paramref name="yq"/> (the next layer's input); returns the number of clipped codes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Linear(
        ReadOnlySpan<sbyte> w,
        ReadOnlySpan<float> scales,
        ReadOnlySpan<float> bias,
        ReadOnlySpan<float> x,
        int outLen,
        int groupSize,
        bool relu,
        Span<float> y,
        Span<byte> yq,
        float yScale,
        int yZero,
        KernelPath path)
    {
        int inLen = x.Length;
        int groups = (inLen + groupSize - 1) / groupSize;
        if (groupSize < 1 || outLen < 0 || w.Length < (long)outLen * inLen || scales.Length < (long)outLen * groups
            || (yq.IsEmpty ? y.Length < outLen : yq.Length < outLen) || (!bias.IsEmpty && bias.Length < outLen))
        {
            throw new ArgumentException("Int8FloatInput.Linear: spans do not match the shape.");
        }

        path = Resolve(path);

        // The epilogue of the integer-activation kernels with input scale 1 and no zero-point correction: the dot
        // products here are already in the input's units. Its row-sum operand is multiplied by 0, so the group scales
        // stand in for it (at least outLen finite floats).
        ref float sr = ref MemoryMarshal.GetReference(scales);
        var e = new Int8Activations.Epilogue(ref MemoryMarshal.GetReference(bias), !bias.IsEmpty, ref sr, ref sr, false, relu, 1f, 0, yScale, yZero, yq.IsEmpty);
        ref sbyte wr = ref MemoryMarshal.GetReference(w);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref byte qr = ref MemoryMarshal.GetReference(yq);
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
                case KernelPath.Vector512:
                    V512Rows(ref xr, ref blk, ref sc, inLen, groupSize, groups, rc, out d0, out d1, out d2, out d3);
                    break;
                case KernelPath.Vector256:
                    V256Rows(ref xr, ref blk, ref sc, inLen, groupSize, groups, rc, out d0, out d1, out d2, out d3);
                    break;
                case KernelPath.Vector128:
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

    // Layout of a row block of rc rows (WeightPacker.RowBlocked, as Int8Activations reads it): group g of row r starts
    // at g · rc · groupSize + r · len_g, len_g = min(groupSize, in − g · groupSize).

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScalarRows(ref float x, ref sbyte blk, ref float sc, int inLen, int groupSize, int groups, int rc, out float d0, out float d1, out float d2, out float d3)
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
                float s = 0f;
                for (int k = 0; k < len; k++)
                {
                    s += Unsafe.Add(ref q, k) * Unsafe.Add(ref x, start + k);
                }

                d[r] += s * Unsafe.Add(ref sc, (r * groups) + g);
            }
        }

        d0 = d[0];
        d1 = d[1];
        d2 = d[2];
        d3 = d[3];
    }

    /// <summary>Σ w_k · x_k over the last inputs of a group a vector step does not cover.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Tail(ref float x, ref sbyte q, int k, int len)
    {
        float s = 0f;
        for (; k < len; k++)
        {
            s += Unsafe.Add(ref q, k) * Unsafe.Add(ref x, k);
        }

        return s;
    }

    /// <summary>16 s8 weights as four float vectors (portable widening: s8 → s16 → s32 → float).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Dot16(ref sbyte q, ref float x, int k, Vector128<float> acc)
    {
        var wb = Vector128.LoadUnsafe(ref q, (nuint)k);
        var lo = Vector128.WidenLower(wb);
        var hi = Vector128.WidenUpper(wb);
        acc = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(Vector128.WidenLower(lo)), Vector128.LoadUnsafe(ref x, (nuint)k), acc);
        acc = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(Vector128.WidenUpper(lo)), Vector128.LoadUnsafe(ref x, (nuint)(k + 4)), acc);
        acc = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(Vector128.WidenLower(hi)), Vector128.LoadUnsafe(ref x, (nuint)(k + 8)), acc);
        return Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(Vector128.WidenUpper(hi)), Vector128.LoadUnsafe(ref x, (nuint)(k + 12)), acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void V128Rows(ref float x, ref sbyte blk, ref float sc, int inLen, int groupSize, int groups, int rc, out float d0, out float d1, out float d2, out float d3)
    {
        Vector128<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int g = 0; g < groups; g++)
        {
            int start = g * groupSize;
            int len = Math.Min(groupSize, inLen - start);
            ref float xg = ref Unsafe.Add(ref x, start);
            ref sbyte q0 = ref Unsafe.Add(ref blk, (nint)g * rc * groupSize);
            Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int k = 0;
            for (; k + 16 <= len; k += 16)
            {
                a0 = Dot16(ref q0, ref xg, k, a0);
                if (rc == 4)
                {
                    a1 = Dot16(ref Unsafe.Add(ref q0, len), ref xg, k, a1);
                    a2 = Dot16(ref Unsafe.Add(ref q0, 2 * len), ref xg, k, a2);
                    a3 = Dot16(ref Unsafe.Add(ref q0, 3 * len), ref xg, k, a3);
                }
            }

            f0 = Vector128.MultiplyAddEstimate(a0 + Vector128.CreateScalar(Tail(ref xg, ref q0, k, len)), Vector128.Create(Unsafe.Add(ref sc, g)), f0);
            if (rc == 4)
            {
                f1 = Vector128.MultiplyAddEstimate(a1 + Vector128.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, len), k, len)), Vector128.Create(Unsafe.Add(ref sc, groups + g)), f1);
                f2 = Vector128.MultiplyAddEstimate(a2 + Vector128.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, 2 * len), k, len)), Vector128.Create(Unsafe.Add(ref sc, (2 * groups) + g)), f2);
                f3 = Vector128.MultiplyAddEstimate(a3 + Vector128.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, 3 * len), k, len)), Vector128.Create(Unsafe.Add(ref sc, (3 * groups) + g)), f3);
            }
        }

        d0 = Vector128.Sum(f0);
        d1 = Vector128.Sum(f1);
        d2 = Vector128.Sum(f2);
        d3 = Vector128.Sum(f3);
    }

    /// <summary>8 s8 weights as floats (one 8-byte load, <c>vpmovsxbd</c>, <c>vcvtdq2ps</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen8(ref sbyte q, int k)
    {
        var wb = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref q, k)))).AsSByte();
        return Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(wb));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void V256Rows(ref float x, ref sbyte blk, ref float sc, int inLen, int groupSize, int groups, int rc, out float d0, out float d1, out float d2, out float d3)
    {
        if (!Avx2.IsSupported)
        {
            throw new PlatformNotSupportedException();
        }

        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int g = 0; g < groups; g++)
        {
            int start = g * groupSize;
            int len = Math.Min(groupSize, inLen - start);
            ref float xg = ref Unsafe.Add(ref x, start);
            ref sbyte q0 = ref Unsafe.Add(ref blk, (nint)g * rc * groupSize);
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int k = 0;
            if (rc == 4)
            {
                ref sbyte q1 = ref Unsafe.Add(ref q0, len);
                ref sbyte q2 = ref Unsafe.Add(ref q0, 2 * len);
                ref sbyte q3 = ref Unsafe.Add(ref q0, 3 * len);
                for (; k + 8 <= len; k += 8)
                {
                    var xv = Vector256.LoadUnsafe(ref xg, (nuint)k);
                    a0 = Vector256.MultiplyAddEstimate(Widen8(ref q0, k), xv, a0);
                    a1 = Vector256.MultiplyAddEstimate(Widen8(ref q1, k), xv, a1);
                    a2 = Vector256.MultiplyAddEstimate(Widen8(ref q2, k), xv, a2);
                    a3 = Vector256.MultiplyAddEstimate(Widen8(ref q3, k), xv, a3);
                }
            }
            else
            {
                for (; k + 8 <= len; k += 8)
                {
                    a0 = Vector256.MultiplyAddEstimate(Widen8(ref q0, k), Vector256.LoadUnsafe(ref xg, (nuint)k), a0);
                }
            }

            f0 = Vector256.MultiplyAddEstimate(a0 + Vector256.CreateScalar(Tail(ref xg, ref q0, k, len)), Vector256.Create(Unsafe.Add(ref sc, g)), f0);
            if (rc == 4)
            {
                f1 = Vector256.MultiplyAddEstimate(a1 + Vector256.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, len), k, len)), Vector256.Create(Unsafe.Add(ref sc, groups + g)), f1);
                f2 = Vector256.MultiplyAddEstimate(a2 + Vector256.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, 2 * len), k, len)), Vector256.Create(Unsafe.Add(ref sc, (2 * groups) + g)), f2);
                f3 = Vector256.MultiplyAddEstimate(a3 + Vector256.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, 3 * len), k, len)), Vector256.Create(Unsafe.Add(ref sc, (3 * groups) + g)), f3);
            }
        }

        d0 = Vector256.Sum(f0);
        d1 = Vector256.Sum(f1);
        d2 = Vector256.Sum(f2);
        d3 = Vector256.Sum(f3);
    }

    /// <summary>16 s8 weights as floats (one 16-byte load, <c>vpmovsxbd</c> to 512 bits, <c>vcvtdq2ps</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Widen16(ref sbyte q, int k) =>
        Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref q, (nuint)k)));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void V512Rows(ref float x, ref sbyte blk, ref float sc, int inLen, int groupSize, int groups, int rc, out float d0, out float d1, out float d2, out float d3)
    {
        if (!Avx512F.IsSupported)
        {
            throw new PlatformNotSupportedException();
        }

        Vector512<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int g = 0; g < groups; g++)
        {
            int start = g * groupSize;
            int len = Math.Min(groupSize, inLen - start);
            ref float xg = ref Unsafe.Add(ref x, start);
            ref sbyte q0 = ref Unsafe.Add(ref blk, (nint)g * rc * groupSize);
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int k = 0;
            if (rc == 4)
            {
                ref sbyte q1 = ref Unsafe.Add(ref q0, len);
                ref sbyte q2 = ref Unsafe.Add(ref q0, 2 * len);
                ref sbyte q3 = ref Unsafe.Add(ref q0, 3 * len);
                for (; k + 16 <= len; k += 16)
                {
                    var xv = Vector512.LoadUnsafe(ref xg, (nuint)k);
                    a0 = Vector512.MultiplyAddEstimate(Widen16(ref q0, k), xv, a0);
                    a1 = Vector512.MultiplyAddEstimate(Widen16(ref q1, k), xv, a1);
                    a2 = Vector512.MultiplyAddEstimate(Widen16(ref q2, k), xv, a2);
                    a3 = Vector512.MultiplyAddEstimate(Widen16(ref q3, k), xv, a3);
                }
            }
            else
            {
                for (; k + 16 <= len; k += 16)
                {
                    a0 = Vector512.MultiplyAddEstimate(Widen16(ref q0, k), Vector512.LoadUnsafe(ref xg, (nuint)k), a0);
                }
            }

            f0 = Vector512.MultiplyAddEstimate(a0 + Vector512.CreateScalar(Tail(ref xg, ref q0, k, len)), Vector512.Create(Unsafe.Add(ref sc, g)), f0);
            if (rc == 4)
            {
                f1 = Vector512.MultiplyAddEstimate(a1 + Vector512.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, len), k, len)), Vector512.Create(Unsafe.Add(ref sc, groups + g)), f1);
                f2 = Vector512.MultiplyAddEstimate(a2 + Vector512.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, 2 * len), k, len)), Vector512.Create(Unsafe.Add(ref sc, (2 * groups) + g)), f2);
                f3 = Vector512.MultiplyAddEstimate(a3 + Vector512.CreateScalar(Tail(ref xg, ref Unsafe.Add(ref q0, 3 * len), k, len)), Vector512.Create(Unsafe.Add(ref sc, (3 * groups) + g)), f3);
            }
        }

        d0 = Vector512.Sum(f0);
        d1 = Vector512.Sum(f1);
        d2 = Vector512.Sum(f2);
        d3 = Vector512.Sum(f3);
    }
}
