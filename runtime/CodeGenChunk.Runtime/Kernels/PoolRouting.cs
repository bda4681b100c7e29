using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>
/// Pool routing (docs/routing.md, "Pool routing"): a conv2d layer followed by an optional ReLU and a max pool with
/// stride = window and no padding, as one step. In every pool window only the largest conv output of each channel
/// survives, so for each (output channel, window) the kernel ranks the window's positions by a cheap proxy — the
/// channel's own filter restricted to its largest-|w| taps (<see cref="CodeGenChunk.Formats.PoolTapsFormat"/>) — and
/// computes the exact convolution only at the <c>topK</c> best positions (ties to the lower position, row-major in the
/// window): <c>pooled = act(max over those exact values + bias)</c>. With <c>topK</c> = the window size it is the dense
/// conv → ReLU → max pool (conv positions the pool never reads are never computed).
/// <para>
/// Allocation-free: the input is copied into a zero-padded plane in <c>temp</c> (so no bounds are checked per tap), the
/// proxy's tap offsets into that plane follow it; the window's proxy values live on the stack (windows of at most
/// <see cref="MaxWindow"/> positions). The proxy and the selection are scalar; the exact dots use Vector128 over each
/// filter row of four or more taps where the hardware accelerates it (x64 and arm64), else scalar.
/// </para>
/// </summary>
public static class PoolRouting
{
    /// <summary>Largest pool window (positions) the kernel ranks.</summary>
    public const int MaxWindow = 64;

    /// <summary>Floats of <c>temp</c> <see cref="Conv2dMaxPool"/> needs: the zero-padded input plane, then the proxy's tap offsets (one int each).</summary>
    public static int TempFloats(int inC, int h, int w, int outC, int padTop, int padLeft, int padBottom, int padRight, int taps) =>
        (inC * (h + padTop + padBottom) * (w + padLeft + padRight)) + (outC * taps);

    /// <summary>
    /// Multiply-adds of one call: the proxy at every conv position the pool reads (<c>taps</c> per channel and position)
    /// plus <c>topK</c> exact outputs of <c>inC·kH·kW</c> per channel and window (padding taps included).
    /// </summary>
    public static long Macs(int inC, int outC, int kh, int kw, int outH, int outW, int poolH, int poolW, int topK, int taps) =>
        ((long)outC * outH * poolH * outW * poolW * taps) + ((long)outC * outH * outW * topK * inC * kh * kw);

    /// <summary>
    /// <paramref name="output"/> [outC, outH, outW] = maxpool(act(conv(<paramref name="input"/> [inC, h, w], filters) + bias))
    /// with the pool window <paramref name="poolH"/> x <paramref name="poolW"/> (stride the same, no padding), computing the
    /// convolution only at the <paramref name="topK"/> positions of each window and channel that the proxy
    /// <paramref name="proxy"/> ([outC][2·taps], <see cref="CodeGenChunk.Formats.PoolTapsFormat"/>) ranks highest.
    /// <paramref name="filters"/> is the row-major filter bank [outC][inC·kh·kw], <paramref name="bias"/> [outC] or empty.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Conv2dMaxPool(
        ReadOnlySpan<float> filters,
        ReadOnlySpan<float> bias,
        ReadOnlySpan<float> proxy,
        ReadOnlySpan<float> input,
        Span<float> temp,
        Span<float> output,
        int inC,
        int h,
        int w,
        int outC,
        int kh,
        int kw,
        int sh,
        int sw,
        int padTop,
        int padLeft,
        int padBottom,
        int padRight,
        int poolH,
        int poolW,
        int topK,
        int taps,
        bool relu)
    {
        int ph = h + padTop + padBottom;
        int pw = w + padLeft + padRight;
        int planeSize = ph * pw;
        int filter = inC * kh * kw;
        int convH = ((ph - kh) / sh) + 1;
        int convW = ((pw - kw) / sw) + 1;
        int outH = convH / poolH;
        int outW = convW / poolW;
        int window = poolH * poolW;
        if (input.Length < inC * h * w || filters.Length < outC * filter || proxy.Length < outC * 2 * taps
            || (bias.Length != 0 && bias.Length < outC) || output.Length < outC * outH * outW
            || temp.Length < TempFloats(inC, h, w, outC, padTop, padLeft, padBottom, padRight, taps)
            || window > MaxWindow || topK < 1 || topK > window || taps < 1 || taps > filter)
        {
            ThrowArguments();
        }

        // the zero-padded input, plane by plane
        Span<float> plane = temp.Slice(0, inC * planeSize);
        if (padTop + padLeft + padBottom + padRight > 0)
        {
            plane.Clear();
        }

        for (int c = 0; c < inC; c++)
        {
            for (int y = 0; y < h; y++)
            {
                input.Slice((c * h * w) + (y * w), w).CopyTo(plane.Slice((c * planeSize) + ((y + padTop) * pw) + padLeft, w));
            }
        }

        // the proxy taps' offsets in the padded plane: flat index (ic·kh + ky)·kw + kx -> ic·planeSize + ky·pw + kx
        Span<int> offsets = MemoryMarshal.Cast<float, int>(temp.Slice(inC * planeSize, outC * taps));
        for (int o = 0; o < outC; o++)
        {
            for (int t = 0; t < taps; t++)
            {
                int index = (int)proxy[(o * 2 * taps) + taps + t];
                int ic = index / (kh * kw);
                int r = index - (ic * kh * kw);
                int ky = r / kw;
                offsets[(o * taps) + t] = (ic * planeSize) + (ky * pw) + (r - (ky * kw));
            }
        }

        bool rowVector = Vector128.IsHardwareAccelerated && sw == 1 && sh == 1 && (poolW == 3 || poolW == 4);
        Span<float> score = stackalloc float[MaxWindow];
        Span<int> at = stackalloc int[MaxWindow];
        ref float x0 = ref MemoryMarshal.GetReference(plane);
        for (int o = 0; o < outC; o++)
        {
            ReadOnlySpan<float> pwts = proxy.Slice(o * 2 * taps, taps);
            ReadOnlySpan<int> poff = offsets.Slice(o * taps, taps);
            ReadOnlySpan<float> f = filters.Slice(o * filter, filter);
            float b = bias.Length != 0 ? bias[o] : 0f;
            for (int oy = 0; oy < outH; oy++)
            {
                for (int ox = 0; ox < outW; ox++)
                {
                    // the proxy at every position of the window
                    int j = 0;
                    if (rowVector)
                    {
                        // a window row's positions side by side in one Vector128 (each lane the scalar loop's own sum, in
                        // the same order, so the scores are identical); a 3-wide row's fourth lane reads one float past
                        // its last position, at most the first float after the plane (the offsets in temp), and is dropped
                        for (int dy = 0; dy < poolH; dy++)
                        {
                            int p = (((oy * poolH) + dy) * pw) + (ox * poolW);
                            var s4 = Vector128<float>.Zero;
                            for (int t = 0; t < pwts.Length; t++)
                            {
                                s4 += Vector128.Create(pwts[t]) * Vector128.LoadUnsafe(ref x0, (nuint)(p + poff[t]));
                            }

                            for (int dx = 0; dx < poolW; dx++, j++)
                            {
                                score[j] = s4.GetElement(dx);
                                at[j] = p + dx;
                            }
                        }
                    }

                    for (int dy = 0; dy < (rowVector ? 0 : poolH); dy++)
                    {
                        int rowBase = ((oy * poolH) + dy) * sh * pw;
                        for (int dx = 0; dx < poolW; dx++, j++)
                        {
                            int p = rowBase + (((ox * poolW) + dx) * sw);
                            float s = 0f;
                            for (int t = 0; t < pwts.Length; t++)
                            {
                                s += pwts[t] * Unsafe.Add(ref x0, p + poff[t]);
                            }

                            score[j] = s;
                            at[j] = p;
                        }
                    }

                    // top-k of the window by the proxy (ties to the lower position), exact conv at each, their maximum
                    float best = float.NegativeInfinity;
                    ulong taken = 0;
                    for (int k = 0; k < topK; k++)
                    {
                        int pick = -1;
                        float top = 0f;
                        for (int q = 0; q < window; q++)
                        {
                            if ((taken & (1UL << q)) == 0 && (pick < 0 || score[q] > top))
                            {
                                pick = q;
                                top = score[q];
                            }
                        }

                        taken |= 1UL << pick;
                        float v = Dot(f, ref Unsafe.Add(ref x0, at[pick]), inC, kh, kw, planeSize, pw);
                        if (v > best)
                        {
                            best = v;
                        }
                    }

                    float y = best + b;
                    output[(o * outH * outW) + (oy * outW) + ox] = relu && !(y > 0f) ? 0f : y;
                }
            }
        }
    }

    /// <summary>One exact conv output: the filter [inC][kh][kw] times the padded input at <paramref name="x"/> (its top-left tap).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(ReadOnlySpan<float> filter, ref float x, int inC, int kh, int kw, int planeSize, int pw)
    {
        ref float f = ref MemoryMarshal.GetReference(filter);
        float sum = 0f;
        int t = 0;
        if (Vector128.IsHardwareAccelerated && kw >= 4)
        {
            var acc = Vector128<float>.Zero;
            for (int c = 0; c < inC; c++)
            {
                for (int ky = 0; ky < kh; ky++, t += kw)
                {
                    ref float row = ref Unsafe.Add(ref x, (c * planeSize) + (ky * pw));
                    int kx = 0;
                    for (; kx <= kw - 4; kx += 4)
                    {
                        acc += Vector128.LoadUnsafe(ref f, (nuint)(t + kx)) * Vector128.LoadUnsafe(ref row, (nuint)kx);
                    }

                    for (; kx < kw; kx++)
                    {
                        sum += Unsafe.Add(ref f, t + kx) * Unsafe.Add(ref row, kx);
                    }
                }
            }

            return sum + Vector128.Sum(acc);
        }

        for (int c = 0; c < inC; c++)
        {
            for (int ky = 0; ky < kh; ky++, t += kw)
            {
                ref float row = ref Unsafe.Add(ref x, (c * planeSize) + (ky * pw));
                for (int kx = 0; kx < kw; kx++)
                {
                    sum += Unsafe.Add(ref f, t + kx) * Unsafe.Add(ref row, kx);
                }
            }
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowArguments() =>
        throw new ArgumentException("PoolRouting.Conv2dMaxPool: a span is shorter than the shapes need, or the window, topK or taps is out of range.");
}
