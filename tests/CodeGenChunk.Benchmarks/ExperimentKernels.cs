using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CodeGenChunk.Benchmarks;

/// <summary>
/// Hand-written variants of the generated 1024x1024 matrix-vector kernels (Vector512), used by
/// <see cref="KernelExperiments"/> to find out what limits the generated ones. "Generated-style" variants are
/// line-for-line the shape the templates emit today (4 rows at a time); the others change one thing each.
/// int8 weights are [row][input] with one float scale per 64 inputs ([row][group]) unless the name says otherwise.
/// </summary>
internal static unsafe class ExperimentKernels
{
    public const int N = 1024;
    public const int G = 64;
    public const int NG = N / G;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> L(sbyte* p) => Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(p)));

    /// <summary>int8 as generated: 4 rows at a time, one partial-sum chain per row, a 4-step loop per group.
    /// With <paramref name="prefetch"/> &gt; 0, also a software prefetch that many bytes ahead in each row.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Int8Generated(sbyte* q, float* sc, float* x, float* y, nint prefetch)
    {
        for (nint o = 0; o < N; o += 4)
        {
            sbyte* q0 = q + (o * N), q1 = q0 + N, q2 = q1 + N, q3 = q2 + N;
            float* c0 = sc + (o * NG), c1 = c0 + NG, c2 = c1 + NG, c3 = c2 + NG;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (nint g = 0; g < NG; g++)
            {
                nint gi = g * G;
                if (prefetch != 0)
                {
                    Sse.Prefetch0(q0 + gi + prefetch);
                    Sse.Prefetch0(q1 + gi + prefetch);
                    Sse.Prefetch0(q2 + gi + prefetch);
                    Sse.Prefetch0(q3 + gi + prefetch);
                }

                Vector512<float> p0 = default, p1 = default, p2 = default, p3 = default;
                for (nint i = gi; i < gi + G; i += 16)
                {
                    var xv = Vector512.Load(x + i);
                    p0 = Vector512.FusedMultiplyAdd(L(q0 + i), xv, p0);
                    p1 = Vector512.FusedMultiplyAdd(L(q1 + i), xv, p1);
                    p2 = Vector512.FusedMultiplyAdd(L(q2 + i), xv, p2);
                    p3 = Vector512.FusedMultiplyAdd(L(q3 + i), xv, p3);
                }

                a0 = Vector512.FusedMultiplyAdd(p0, Vector512.Create(c0[g]), a0);
                a1 = Vector512.FusedMultiplyAdd(p1, Vector512.Create(c1[g]), a1);
                a2 = Vector512.FusedMultiplyAdd(p2, Vector512.Create(c2[g]), a2);
                a3 = Vector512.FusedMultiplyAdd(p3, Vector512.Create(c3[g]), a3);
            }

            y[o] = Vector512.Sum(a0);
            y[o + 1] = Vector512.Sum(a1);
            y[o + 2] = Vector512.Sum(a2);
            y[o + 3] = Vector512.Sum(a3);
        }
    }

    /// <summary>int8, 4 rows, group unrolled with two partial sums per row (8 FMA chains instead of 4).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Int8EightChains(sbyte* q, float* sc, float* x, float* y)
    {
        for (nint o = 0; o < N; o += 4)
        {
            sbyte* q0 = q + (o * N), q1 = q0 + N, q2 = q1 + N, q3 = q2 + N;
            float* c0 = sc + (o * NG), c1 = c0 + NG, c2 = c1 + NG, c3 = c2 + NG;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (nint g = 0; g < NG; g++)
            {
                nint i = g * G;
                var x0 = Vector512.Load(x + i);
                var x1 = Vector512.Load(x + i + 16);
                var x2 = Vector512.Load(x + i + 32);
                var x3 = Vector512.Load(x + i + 48);
                var p0 = Vector512.FusedMultiplyAdd(L(q0 + i + 16), x1, L(q0 + i) * x0) + Vector512.FusedMultiplyAdd(L(q0 + i + 48), x3, L(q0 + i + 32) * x2);
                var p1 = Vector512.FusedMultiplyAdd(L(q1 + i + 16), x1, L(q1 + i) * x0) + Vector512.FusedMultiplyAdd(L(q1 + i + 48), x3, L(q1 + i + 32) * x2);
                var p2 = Vector512.FusedMultiplyAdd(L(q2 + i + 16), x1, L(q2 + i) * x0) + Vector512.FusedMultiplyAdd(L(q2 + i + 48), x3, L(q2 + i + 32) * x2);
                var p3 = Vector512.FusedMultiplyAdd(L(q3 + i + 16), x1, L(q3 + i) * x0) + Vector512.FusedMultiplyAdd(L(q3 + i + 48), x3, L(q3 + i + 32) * x2);
                a0 = Vector512.FusedMultiplyAdd(p0, Vector512.Create(c0[g]), a0);
                a1 = Vector512.FusedMultiplyAdd(p1, Vector512.Create(c1[g]), a1);
                a2 = Vector512.FusedMultiplyAdd(p2, Vector512.Create(c2[g]), a2);
                a3 = Vector512.FusedMultiplyAdd(p3, Vector512.Create(c3[g]), a3);
            }

            y[o] = Vector512.Sum(a0);
            y[o + 1] = Vector512.Sum(a1);
            y[o + 2] = Vector512.Sum(a2);
            y[o + 3] = Vector512.Sum(a3);
        }
    }

    /// <summary>
    /// int8 with u8 activations (x / xs + 128) and AVX-VNNI vpdpbusd (256-bit): 32 MACs per instruction. The +128
    /// offset is removed with a per-row constant corr[o] = 128 * sum_g scale_g * sum(w in g), computable at pack time.
    /// Changes the numerics (activations quantized to 8 bits).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Int8Vnni(sbyte* q, float* sc, byte* xu, float xs, float* corr, float* y)
    {
        for (nint o = 0; o < N; o += 4)
        {
            sbyte* q0 = q + (o * N), q1 = q0 + N, q2 = q1 + N, q3 = q2 + N;
            float* c0 = sc + (o * NG), c1 = c0 + NG, c2 = c1 + NG, c3 = c2 + NG;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (nint g = 0; g < NG; g++)
            {
                nint i = g * G;
                var x0 = Vector256.Load(xu + i);
                var x1 = Vector256.Load(xu + i + 32);
                var s0 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, x0, Vector256.Load(q0 + i)), x1, Vector256.Load(q0 + i + 32));
                var s1 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, x0, Vector256.Load(q1 + i)), x1, Vector256.Load(q1 + i + 32));
                var s2 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, x0, Vector256.Load(q2 + i)), x1, Vector256.Load(q2 + i + 32));
                var s3 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, x0, Vector256.Load(q3 + i)), x1, Vector256.Load(q3 + i + 32));
                a0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s0), Vector256.Create(c0[g]), a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s1), Vector256.Create(c1[g]), a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s2), Vector256.Create(c2[g]), a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s3), Vector256.Create(c3[g]), a3);
            }

            y[o] = (Vector256.Sum(a0) - corr[o]) * xs;
            y[o + 1] = (Vector256.Sum(a1) - corr[o + 1]) * xs;
            y[o + 2] = (Vector256.Sum(a2) - corr[o + 2]) * xs;
            y[o + 3] = (Vector256.Sum(a3) - corr[o + 3]) * xs;
        }
    }

    /// <summary>int8, same layout as generated, but ONE row at a time (the matrix is read strictly sequentially),
    /// 4 groups in flight (4 partial-sum chains) and 2 scale accumulators. A template-only change.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Int8OneRow(sbyte* q, float* sc, float* x, float* y)
    {
        for (nint o = 0; o < N; o++)
        {
            sbyte* qr = q + (o * N);
            float* c = sc + (o * NG);
            Vector512<float> a = default, b = default;
            for (nint g = 0; g < NG; g += 4)
            {
                nint i = g * G;
                Vector512<float> p0 = default, p1 = default, p2 = default, p3 = default;
                for (nint j = 0; j < G; j += 16)
                {
                    p0 = Vector512.FusedMultiplyAdd(L(qr + i + j), Vector512.Load(x + i + j), p0);
                    p1 = Vector512.FusedMultiplyAdd(L(qr + i + 64 + j), Vector512.Load(x + i + 64 + j), p1);
                    p2 = Vector512.FusedMultiplyAdd(L(qr + i + 128 + j), Vector512.Load(x + i + 128 + j), p2);
                    p3 = Vector512.FusedMultiplyAdd(L(qr + i + 192 + j), Vector512.Load(x + i + 192 + j), p3);
                }

                a = Vector512.FusedMultiplyAdd(p0, Vector512.Create(c[g]), a);
                b = Vector512.FusedMultiplyAdd(p1, Vector512.Create(c[g + 1]), b);
                a = Vector512.FusedMultiplyAdd(p2, Vector512.Create(c[g + 2]), a);
                b = Vector512.FusedMultiplyAdd(p3, Vector512.Create(c[g + 3]), b);
            }

            y[o] = Vector512.Sum(a + b);
        }
    }

    /// <summary>int8 arithmetic exactly as generated, on a row-interleaved layout: for each block of 4 rows and each
    /// group the 4 x 64 weights are contiguous ([o/4][g][r][64]), so a block is one sequential 4 KiB stream.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Int8Interleaved(sbyte* q, float* sc, float* x, float* y)
    {
        for (nint o = 0; o < N; o += 4)
        {
            sbyte* qb = q + (o * N);
            float* c0 = sc + (o * NG), c1 = c0 + NG, c2 = c1 + NG, c3 = c2 + NG;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (nint g = 0; g < NG; g++)
            {
                sbyte* qg = qb + (g * 256);
                nint gi = g * G;
                Vector512<float> p0 = default, p1 = default, p2 = default, p3 = default;
                for (nint i = 0; i < G; i += 16)
                {
                    var xv = Vector512.Load(x + gi + i);
                    p0 = Vector512.FusedMultiplyAdd(L(qg + i), xv, p0);
                    p1 = Vector512.FusedMultiplyAdd(L(qg + 64 + i), xv, p1);
                    p2 = Vector512.FusedMultiplyAdd(L(qg + 128 + i), xv, p2);
                    p3 = Vector512.FusedMultiplyAdd(L(qg + 192 + i), xv, p3);
                }

                a0 = Vector512.FusedMultiplyAdd(p0, Vector512.Create(c0[g]), a0);
                a1 = Vector512.FusedMultiplyAdd(p1, Vector512.Create(c1[g]), a1);
                a2 = Vector512.FusedMultiplyAdd(p2, Vector512.Create(c2[g]), a2);
                a3 = Vector512.FusedMultiplyAdd(p3, Vector512.Create(c3[g]), a3);
            }

            y[o] = Vector512.Sum(a0);
            y[o + 1] = Vector512.Sum(a1);
            y[o + 2] = Vector512.Sum(a2);
            y[o + 3] = Vector512.Sum(a3);
        }
    }

    /// <summary>f32 as generated: 4 rows at a time, two accumulators per row (4 concurrent 4 KiB row streams).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void F32Generated(float* w, float* x, float* y)
    {
        for (nint o = 0; o < N; o += 4)
        {
            float* w0 = w + (o * N), w1 = w0 + N, w2 = w1 + N, w3 = w2 + N;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
            for (nint i = 0; i < N; i += 32)
            {
                var x0 = Vector512.Load(x + i);
                var x1 = Vector512.Load(x + i + 16);
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(w0 + i), x0, a0);
                b0 = Vector512.FusedMultiplyAdd(Vector512.Load(w0 + i + 16), x1, b0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(w1 + i), x0, a1);
                b1 = Vector512.FusedMultiplyAdd(Vector512.Load(w1 + i + 16), x1, b1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Load(w2 + i), x0, a2);
                b2 = Vector512.FusedMultiplyAdd(Vector512.Load(w2 + i + 16), x1, b2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Load(w3 + i), x0, a3);
                b3 = Vector512.FusedMultiplyAdd(Vector512.Load(w3 + i + 16), x1, b3);
            }

            y[o] = Vector512.Sum(a0 + b0);
            y[o + 1] = Vector512.Sum(a1 + b1);
            y[o + 2] = Vector512.Sum(a2 + b2);
            y[o + 3] = Vector512.Sum(a3 + b3);
        }
    }

    /// <summary>f32, one row at a time with 4 accumulators: one sequential stream (what TensorPrimitives.Dot row by row does).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void F32OneRow(float* w, float* x, float* y)
    {
        for (nint o = 0; o < N; o++)
        {
            float* w0 = w + (o * N);
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (nint i = 0; i < N; i += 64)
            {
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(w0 + i), Vector512.Load(x + i), a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(w0 + i + 16), Vector512.Load(x + i + 16), a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Load(w0 + i + 32), Vector512.Load(x + i + 32), a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Load(w0 + i + 48), Vector512.Load(x + i + 48), a3);
            }

            y[o] = Vector512.Sum((a0 + a1) + (a2 + a3));
        }
    }

    /// <summary>f32 arithmetic as generated on a row-interleaved layout [o/4][i/32][r][32]: one sequential stream per block.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void F32Interleaved(float* w, float* x, float* y)
    {
        for (nint o = 0; o < N; o += 4)
        {
            float* wb = w + (o * N);
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
            for (nint i = 0; i < N; i += 32)
            {
                float* p = wb + (i * 4);
                var x0 = Vector512.Load(x + i);
                var x1 = Vector512.Load(x + i + 16);
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(p), x0, a0);
                b0 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 16), x1, b0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 32), x0, a1);
                b1 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 48), x1, b1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 64), x0, a2);
                b2 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 80), x1, b2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 96), x0, a3);
                b3 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 112), x1, b3);
            }

            y[o] = Vector512.Sum(a0 + b0);
            y[o + 1] = Vector512.Sum(a1 + b1);
            y[o + 2] = Vector512.Sum(a2 + b2);
            y[o + 3] = Vector512.Sum(a3 + b3);
        }
    }
    /// <summary>
    /// <see cref="F32Interleaved"/> with a software prefetch (<c>prefetcht0</c>) of every cache line
    /// <paramref name="ahead"/> bytes before the kernel reads it (x86 only: .NET has no arm64 prefetch intrinsic).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void F32InterleavedPrefetch(float* w, float* x, float* y, nint ahead)
    {
        nint af = ahead / sizeof(float);
        for (nint o = 0; o < N; o += 4)
        {
            float* wb = w + (o * N);
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
            for (nint i = 0; i < N; i += 32)
            {
                float* p = wb + (i * 4);
                float* f = p + af;
                Sse.Prefetch0(f);
                Sse.Prefetch0(f + 16);
                Sse.Prefetch0(f + 32);
                Sse.Prefetch0(f + 48);
                Sse.Prefetch0(f + 64);
                Sse.Prefetch0(f + 80);
                Sse.Prefetch0(f + 96);
                Sse.Prefetch0(f + 112);
                var x0 = Vector512.Load(x + i);
                var x1 = Vector512.Load(x + i + 16);
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(p), x0, a0);
                b0 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 16), x1, b0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 32), x0, a1);
                b1 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 48), x1, b1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 64), x0, a2);
                b2 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 80), x1, b2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 96), x0, a3);
                b3 = Vector512.FusedMultiplyAdd(Vector512.Load(p + 112), x1, b3);
            }

            y[o] = Vector512.Sum(a0 + b0);
            y[o + 1] = Vector512.Sum(a1 + b1);
            y[o + 2] = Vector512.Sum(a2 + b2);
            y[o + 3] = Vector512.Sum(a3 + b3);
        }
    }
    /// <summary><see cref="Int8Interleaved"/> with a <c>prefetcht0</c> of the 4 lines of each group's block 8 KiB ahead (x86 only).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Int8InterleavedPrefetch(sbyte* q, float* sc, float* x, float* y)
    {
        for (nint o = 0; o < N; o += 4)
        {
            sbyte* qb = q + (o * N);
            float* c0 = sc + (o * NG), c1 = c0 + NG, c2 = c1 + NG, c3 = c2 + NG;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (nint g = 0; g < NG; g++)
            {
                sbyte* qg = qb + (g * 256);
                Sse.Prefetch0(qg + 8192);
                Sse.Prefetch0(qg + 8192 + 64);
                Sse.Prefetch0(qg + 8192 + 128);
                Sse.Prefetch0(qg + 8192 + 192);
                nint gi = g * G;
                Vector512<float> p0 = default, p1 = default, p2 = default, p3 = default;
                for (nint i = 0; i < G; i += 16)
                {
                    var xv = Vector512.Load(x + gi + i);
                    p0 = Vector512.FusedMultiplyAdd(L(qg + i), xv, p0);
                    p1 = Vector512.FusedMultiplyAdd(L(qg + 64 + i), xv, p1);
                    p2 = Vector512.FusedMultiplyAdd(L(qg + 128 + i), xv, p2);
                    p3 = Vector512.FusedMultiplyAdd(L(qg + 192 + i), xv, p3);
                }

                a0 = Vector512.FusedMultiplyAdd(p0, Vector512.Create(c0[g]), a0);
                a1 = Vector512.FusedMultiplyAdd(p1, Vector512.Create(c1[g]), a1);
                a2 = Vector512.FusedMultiplyAdd(p2, Vector512.Create(c2[g]), a2);
                a3 = Vector512.FusedMultiplyAdd(p3, Vector512.Create(c3[g]), a3);
            }

            y[o] = Vector512.Sum(a0);
            y[o + 1] = Vector512.Sum(a1);
            y[o + 2] = Vector512.Sum(a2);
            y[o + 3] = Vector512.Sum(a3);
        }
    }
}
