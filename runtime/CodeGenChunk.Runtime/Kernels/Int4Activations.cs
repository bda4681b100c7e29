using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>
/// Integer activations for linear layers with int4 weights (docs/activations.md, "int4 weights"): the u8 activation
/// codes of <see cref="Int8Activations"/> times the int4 format's nibbles (<c>Int4BlockFormat</c>: blocks of 32
/// inputs in 16 bytes, byte j holding input j in its low nibble and input 16 + j in its high nibble, stored nibble
/// <c>q + 8</c>), row-blocked as the packer stores them (blocks of four rows, each 16-byte block of the four rows side
/// by side). The kernel unpacks each 16- or 32-byte load into s8 lanes in registers (<c>(b &amp; 15) − 8</c> and
/// <c>(b ≫ 4) − 8</c>, inputs 0–15 and 16–31 of a block, no shuffle of the weights) and feeds them to the same
/// dot-product instructions as the int8 kernel: <c>vpdpbusd</c>, <c>sdot</c>, a portable Vector128 path, a scalar path.
/// A layer is never expanded to memory. Each group's int32 sum is scaled by the group's float scale; the zero point,
/// bias, ReLU, residual and requantization are <see cref="Int8Activations"/>' epilogue, unchanged.
/// <para>
/// No overflow: a nibble decodes to −8..7, so <c>|Σ_g q·w| ≤ len_g · 255 · 8</c>, below 2³¹ − 1 for groups of up to
/// <see cref="MaxInt32GroupLength"/> inputs (the planner refuses longer groups, CGC0044).
/// </para>
/// </summary>
public static class Int4Activations
{
    /// <summary>Largest group length whose int32 sum of u8 codes times nibbles (−8..7) cannot overflow: ⌊(2³¹ − 1) / (255 · 8)⌋.</summary>
    public const int MaxInt32GroupLength = int.MaxValue / (255 * 8);

    /// <summary>Inputs per 16-byte block of the int4 format.</summary>
    public const int BlockElements = 32;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 16;

    /// <summary>Packed bytes of one row: <c>ceil(in / 32) · 16</c>.</summary>
    public static int RowBytes(int inLen) => ((inLen + BlockElements - 1) / BlockElements) * BlockBytes;

    // ---------------------------------------------------------------- per-row weight statistics

    /// <summary>
    /// The int4 twin of <see cref="Int8Activations.RowStats"/>: per row, <paramref name="sums"/>[o] = Σ_g scale_g ·
    /// Σ_{i∈g} (n_i − 8) and <paramref name="norms"/>[o] = √(Σ_i (scale_g · (n_i − 8))²), from the row-blocked nibbles.
    /// Padding nibbles past the row's last input are not read.
    /// </summary>
    public static void RowStats(ReadOnlySpan<byte> w, ReadOnlySpan<float> scales, int inLen, int groupSize, Span<float> sums, Span<float> norms)
    {
        int outLen = sums.Length;
        int groups = (inLen + groupSize - 1) / groupSize;
        int rowBytes = RowBytes(inLen);
        int rowMain = outLen - (outLen % Int8Activations.RowBlock);
        if (groupSize % BlockElements != 0 || w.Length < (long)outLen * rowBytes || scales.Length < (long)outLen * groups)
        {
            throw new ArgumentException("Int4Activations.RowStats: spans do not match the shape (the group size must be a multiple of 32).");
        }

        for (int o = 0; o < outLen; o++)
        {
            int rc = o < rowMain ? Int8Activations.RowBlock : 1;
            int r = o % rc;
            var blk = w.Slice((o - r) * rowBytes);
            double s = 0, s2 = 0;
            for (int g = 0; g < groups; g++)
            {
                long ws = 0, ws2 = 0;
                for (int i = g * groupSize; i < Math.Min(inLen, (g + 1) * groupSize); i++)
                {
                    int v = Nibble(blk, i, rc, r) - 8;
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

    /// <summary>The stored nibble (0..15) of input <paramref name="i"/> of row <paramref name="r"/> in a row block of <paramref name="rc"/> rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Nibble(ReadOnlySpan<byte> blk, int i, int rc, int r)
    {
        int e = i % BlockElements;
        byte b = blk[((i / BlockElements) * rc * BlockBytes) + (r * BlockBytes) + (e % BlockBytes)];
        return e < BlockBytes ? b & 0xF : b >> 4;
    }

    // ---------------------------------------------------------------- the kernel

    /// <summary>
    /// y = W x + b, ReLU, + residual, for u8 codes x (scale <paramref name="xScale"/>, zero point <paramref name="xZero"/>)
    /// and int4 weights <paramref name="w"/> (row-blocked nibbles, one scale per <paramref name="groupSize"/> inputs, a
    /// multiple of 32); <paramref name="sums"/> from <see cref="RowStats"/>. Writes floats to <paramref name="y"/>, or,
    /// when <paramref name="yq"/> is not empty, u8 codes of scale <paramref name="yScale"/> and zero point
    /// <paramref name="yZero"/>; returns the number of clipped codes. The same contract as <see cref="Int8Activations.Linear"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Linear(
        ReadOnlySpan<byte> w,
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
        Int8DotPath path) => Run(w, scales, bias, sums, x, xScale, xZero, groupSize, relu, residual, y, yq, yScale, yZero, path, false);

    /// <summary>
    /// <see cref="Linear(ReadOnlySpan{byte}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{byte}, float, int, int, bool, ReadOnlySpan{float}, Span{float}, Span{byte}, float, int, Int8DotPath)"/>
    /// on a <see cref="KernelPath"/> (what generated code passes): <see cref="KernelPath.Vector512"/> on x64 with AVX-512BW runs
    /// the blocks of four rows on 512-bit vectors (<see cref="V512Rows"/>: <c>vpmaddubsw</c>, one 64-byte load per block of
    /// four rows); everything else, and a row tail, runs the <see cref="Int8DotPath"/> that <see cref="Int8Activations.Resolve"/>
    /// picks for the path. The sums are the same exact int32 group sums on every path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Linear(
        ReadOnlySpan<byte> w,
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
        KernelPath path)
    {
        path = KernelPaths.Resolve(path);
        return Run(w, scales, bias, sums, x, xScale, xZero, groupSize, relu, residual, y, yq, yScale, yZero, Int8Activations.Resolve(path), path == KernelPath.Vector512 && Avx512BW.IsSupported);
    }

    /// <summary>Whether <see cref="KernelPath.Vector512"/> runs <see cref="V512Rows"/> on this machine (x64 with AVX-512BW and accelerated 512-bit vectors).</summary>
    public static bool Wide512Supported => Avx512BW.IsSupported && KernelPaths.Resolve(KernelPath.Vector512) == KernelPath.Vector512;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Run(
        ReadOnlySpan<byte> w,
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
        Int8DotPath path,
        bool wide)
    {
        int outLen = sums.Length;
        int inLen = x.Length;
        int groups = (inLen + groupSize - 1) / groupSize;
        int rowBytes = RowBytes(inLen);
        if (groupSize % BlockElements != 0 || groupSize > MaxInt32GroupLength || w.Length < (long)outLen * rowBytes || scales.Length < (long)outLen * groups
            || (yq.IsEmpty ? y.Length < outLen : yq.Length < outLen) || (!bias.IsEmpty && bias.Length < outLen) || (!residual.IsEmpty && residual.Length < outLen))
        {
            throw new ArgumentException("Int4Activations.Linear: spans do not match the shape (the group size must be a multiple of 32).");
        }

        if (!Int8Activations.IsSupported(path))
        {
            path = Int8DotPath.Vector128;
        }

        var e = new Int8Activations.Epilogue(ref MemoryMarshal.GetReference(bias), !bias.IsEmpty, ref MemoryMarshal.GetReference(sums), ref MemoryMarshal.GetReference(residual), !residual.IsEmpty, relu, xScale, (path == Int8DotPath.ArmDp ? 128 : 0) - xZero, yScale, yZero, yq.IsEmpty);
        ref byte wr = ref MemoryMarshal.GetReference(w);
        ref float sr = ref MemoryMarshal.GetReference(scales);
        ref byte xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref byte qr = ref MemoryMarshal.GetReference(yq);
        int rowMain = outLen - (outLen % Int8Activations.RowBlock);
        int clipped = 0;

        // AVX-VNNI multiplies the stored nibbles n (0..15) as they are and subtracts 8 · Σ_{i∈g} x_i once per group and row
        // (Σ (n − 8) · x = Σ n · x − 8 · Σ x): the input's group sums, once per call, as the accumulators' starting
        // values (lanes 0 and 4: the first lane of each of two rows), on the stack for up to MaxStackGroups groups
        // (8 KiB); a longer row subtracts 8 from every nibble instead. The 512-bit path starts from the same values in
        // all four rows (one 256-bit broadcast), or, for a longer row, runs the row blocks on the resolved path.
        wide &= Wide512Fits(inLen, groupSize);
        Span<Vector256<int>> xsums = (wide || path == Int8DotPath.AvxVnni) && groups <= MaxStackGroups ? stackalloc Vector256<int>[groups] : default;
        if (!xsums.IsEmpty)
        {
            GroupSums(x, groupSize, xsums);
        }

        ref Vector256<int> xs = ref MemoryMarshal.GetReference(xsums);
        int pairs = wide ? rowMain / (2 * Int8Activations.RowBlock) : 0;
        if (pairs > 0)
        {
            unsafe
            {
                fixed (byte* xp = &xr)
                fixed (Vector256<int>* xsp = &xs)
                {
                    for (int i = 0; i < pairs; i++)
                    {
                        // row blocks i and i + pairs together: two streams of weights (Int8Activations.TwoStreamPairs)
                        int oa = i * Int8Activations.RowBlock, ob = (i + pairs) * Int8Activations.RowBlock;
                        V512Rows(xp, ref Unsafe.Add(ref wr, (nint)oa * rowBytes), ref Unsafe.Add(ref sr, (nint)oa * groups), ref Unsafe.Add(ref wr, (nint)ob * rowBytes), ref Unsafe.Add(ref sr, (nint)ob * groups), xsp, groupSize, groups, out var da, out var db);
                        clipped += e.Store4(ref yr, ref qr, oa, da);
                        clipped += e.Store4(ref yr, ref qr, ob, db);
                    }
                }
            }
        }

        for (int o = 2 * pairs * Int8Activations.RowBlock; o < outLen;)
        {
            int rc = o < rowMain ? Int8Activations.RowBlock : 1;
            ref byte blk = ref Unsafe.Add(ref wr, (nint)o * rowBytes);
            ref float sc = ref Unsafe.Add(ref sr, (nint)o * groups);
            float d0, d1 = 0f, d2 = 0f, d3 = 0f;
            switch (path)
            {
                case Int8DotPath.AvxVnni:
                    if (rc == 4 && !xsums.IsEmpty)
                    {
                        Vnni4Raw(ref xr, ref blk, ref sc, ref xs, inLen, groupSize, groups, out d0, out d1, out d2, out d3);
                    }
                    else if (rc == 4)
                    {
                        Vnni4(ref xr, ref blk, ref sc, inLen, groupSize, groups, out d0, out d1, out d2, out d3);
                    }
                    else
                    {
                        d0 = Vnni1(ref xr, ref blk, ref sc, inLen, groupSize, groups);
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

    /// <summary>Most groups whose input sums <see cref="Linear"/> keeps on the stack for the AVX-VNNI path (8 KiB).</summary>
    public const int MaxStackGroups = 256;

    /// <summary>−8 · Σ_{i∈g} x_i per group g in lanes 0 and 4: the correction of the raw nibbles' group sums of two rows.</summary>
    private static void GroupSums(ReadOnlySpan<byte> x, int groupSize, Span<Vector256<int>> sums)
    {
        for (int g = 0; g < sums.Length; g++)
        {
            int start = g * groupSize;
            Int8Activations.CodeMoments(x.Slice(start, Math.Min(groupSize, x.Length - start)), out long s, out _);
            int c = -8 * (int)s;
            sums[g] = Vector256.Create(c, 0, 0, 0, c, 0, 0, 0);
        }
    }

    // Layout of a row block of rc rows: block b (inputs 32b..32b+31) of row r at b · rc · 16 + r · 16; group g covers
    // blocks g · groupSize / 32 up to the row's last block, which is partial when in % 32 != 0 (its padding is not read).

    /// <summary>Σ (x_j − offset) · (n_j − 8) over the first <paramref name="n"/> inputs of one block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BlockTail(ref byte x, ref byte wb, int n, int offset) => BlockTail(ref x, ref wb, n, offset, 8);

    /// <summary>Σ (x_j − offset) · (n_j − nibbleOffset) over the first <paramref name="n"/> inputs of one block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BlockTail(ref byte x, ref byte wb, int n, int offset, int nibbleOffset)
    {
        int s = 0;
        for (int j = 0; j < n; j++)
        {
            int b = Unsafe.Add(ref wb, j & 15);
            int nib = j < BlockBytes ? b & 0xF : b >> 4;
            s += (Unsafe.Add(ref x, j) - offset) * (nib - nibbleOffset);
        }

        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScalarRows(ref byte x, ref byte blk, ref float sc, int inLen, int groupSize, int groups, int rc, out float d0, out float d1, out float d2, out float d3)
    {
        Span<float> d = stackalloc float[4];
        d.Clear();
        int perGroup = groupSize / BlockElements;
        int blocks = (inLen + BlockElements - 1) / BlockElements;
        for (int g = 0; g < groups; g++)
        {
            int last = Math.Min((g + 1) * perGroup, blocks);
            for (int r = 0; r < rc; r++)
            {
                int s = 0;
                for (int b = g * perGroup; b < last; b++)
                {
                    s += BlockTail(ref Unsafe.Add(ref x, b * BlockElements), ref Unsafe.Add(ref blk, ((nint)b * rc * BlockBytes) + (r * BlockBytes)), Math.Min(BlockElements, inLen - (b * BlockElements)), 0);
                }

                d[r] = float.MultiplyAddEstimate(s, Unsafe.Add(ref sc, (r * groups) + g), d[r]);
            }
        }

        d0 = d[0];
        d1 = d[1];
        d2 = d[2];
        d3 = d[3];
    }

    /// <summary>The 16 low nibbles (inputs 0–15 of a block) and 16 high nibbles (inputs 16–31) of a 16-byte load as s8 in −8..7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Unpack(Vector128<byte> b, out Vector128<sbyte> lo, out Vector128<sbyte> hi)
    {
        var mask = Vector128.Create((byte)0x0F);
        var eight = Vector128.Create((byte)8);
        lo = ((b & mask) - eight).AsSByte();
        hi = ((Vector128.ShiftRightLogical(b.AsUInt16(), 4).AsByte() & mask) - eight).AsSByte();
    }

    /// <summary>Σ over one block of 32 inputs, u8 × s8 as exact int16 products (|255 · 8| &lt; 2¹⁵) widened into four int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> WidenBlock(Vector128<short> x0, Vector128<short> x1, Vector128<short> x2, Vector128<short> x3, ref byte wb)
    {
        Unpack(Vector128.LoadUnsafe(ref wb), out var lo, out var hi);
        var p0 = x0 * Vector128.WidenLower(lo);
        var p1 = x1 * Vector128.WidenUpper(lo);
        var p2 = x2 * Vector128.WidenLower(hi);
        var p3 = x3 * Vector128.WidenUpper(hi);
        var s01 = Vector128.WidenLower(p0) + Vector128.WidenUpper(p0) + Vector128.WidenLower(p1) + Vector128.WidenUpper(p1);
        return s01 + Vector128.WidenLower(p2) + Vector128.WidenUpper(p2) + Vector128.WidenLower(p3) + Vector128.WidenUpper(p3);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void V128Rows(ref byte x, ref byte blk, ref float sc, int inLen, int groupSize, int groups, int rc, out float d0, out float d1, out float d2, out float d3)
    {
        Vector128<float> f0 = default, f1 = default, f2 = default, f3 = default;
        int perGroup = groupSize / BlockElements;
        int full = inLen / BlockElements;
        int blocks = (inLen + BlockElements - 1) / BlockElements;
        for (int g = 0; g < groups; g++)
        {
            int last = Math.Min((g + 1) * perGroup, blocks);
            Vector128<int> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int b = g * perGroup; b < last; b++)
            {
                ref byte xb = ref Unsafe.Add(ref x, b * BlockElements);
                ref byte wb = ref Unsafe.Add(ref blk, (nint)b * rc * BlockBytes);
                if (b >= full)
                {
                    // the row's partial last block: only in % 32 inputs exist
                    int n = inLen - (b * BlockElements);
                    a0 += Vector128.CreateScalar(BlockTail(ref xb, ref wb, n, 0));
                    if (rc == 4)
                    {
                        a1 += Vector128.CreateScalar(BlockTail(ref xb, ref Unsafe.Add(ref wb, BlockBytes), n, 0));
                        a2 += Vector128.CreateScalar(BlockTail(ref xb, ref Unsafe.Add(ref wb, 2 * BlockBytes), n, 0));
                        a3 += Vector128.CreateScalar(BlockTail(ref xb, ref Unsafe.Add(ref wb, 3 * BlockBytes), n, 0));
                    }

                    continue;
                }

                var xl = Vector128.LoadUnsafe(ref xb);
                var xh = Vector128.LoadUnsafe(ref xb, 16);
                var x0 = Vector128.WidenLower(xl).AsInt16();
                var x1 = Vector128.WidenUpper(xl).AsInt16();
                var x2 = Vector128.WidenLower(xh).AsInt16();
                var x3 = Vector128.WidenUpper(xh).AsInt16();
                a0 += WidenBlock(x0, x1, x2, x3, ref wb);
                if (rc == 4)
                {
                    a1 += WidenBlock(x0, x1, x2, x3, ref Unsafe.Add(ref wb, BlockBytes));
                    a2 += WidenBlock(x0, x1, x2, x3, ref Unsafe.Add(ref wb, 2 * BlockBytes));
                    a3 += WidenBlock(x0, x1, x2, x3, ref Unsafe.Add(ref wb, 3 * BlockBytes));
                }
            }

            f0 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a0), Vector128.Create(Unsafe.Add(ref sc, g)), f0);
            if (rc == 4)
            {
                f1 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a1), Vector128.Create(Unsafe.Add(ref sc, groups + g)), f1);
                f2 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a2), Vector128.Create(Unsafe.Add(ref sc, (2 * groups) + g)), f2);
                f3 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a3), Vector128.Create(Unsafe.Add(ref sc, (3 * groups) + g)), f3);
            }
        }

        d0 = Vector128.Sum(f0);
        d1 = Vector128.Sum(f1);
        d2 = Vector128.Sum(f2);
        d3 = Vector128.Sum(f3);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DpRows(ref byte x, ref byte blk, ref float sc, int inLen, int groupSize, int groups, int rc, out float d0, out float d1, out float d2, out float d3)
    {
        if (!Dp.IsSupported)
        {
            throw new PlatformNotSupportedException();
        }

        Vector128<float> f0 = default, f1 = default, f2 = default, f3 = default;
        var flip = Vector128.Create((byte)0x80);
        int perGroup = groupSize / BlockElements;
        int full = inLen / BlockElements;
        int blocks = (inLen + BlockElements - 1) / BlockElements;
        for (int g = 0; g < groups; g++)
        {
            int last = Math.Min((g + 1) * perGroup, blocks);
            Vector128<int> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int b = g * perGroup; b < last; b++)
            {
                ref byte xb = ref Unsafe.Add(ref x, b * BlockElements);
                ref byte wb = ref Unsafe.Add(ref blk, (nint)b * rc * BlockBytes);
                if (b >= full)
                {
                    int n = inLen - (b * BlockElements);
                    a0 += Vector128.CreateScalar(BlockTail(ref xb, ref wb, n, 128));
                    if (rc == 4)
                    {
                        a1 += Vector128.CreateScalar(BlockTail(ref xb, ref Unsafe.Add(ref wb, BlockBytes), n, 128));
                        a2 += Vector128.CreateScalar(BlockTail(ref xb, ref Unsafe.Add(ref wb, 2 * BlockBytes), n, 128));
                        a3 += Vector128.CreateScalar(BlockTail(ref xb, ref Unsafe.Add(ref wb, 3 * BlockBytes), n, 128));
                    }

                    continue;
                }

                // codes − 128 as s8: sdot multiplies s8 by s8; the epilogue adds 128 · S_o back
                var xl = (Vector128.LoadUnsafe(ref xb) ^ flip).AsSByte();
                var xh = (Vector128.LoadUnsafe(ref xb, 16) ^ flip).AsSByte();
                Unpack(Vector128.LoadUnsafe(ref wb), out var l0, out var h0);
                a0 = Dp.DotProduct(Dp.DotProduct(a0, xl, l0), xh, h0);
                if (rc == 4)
                {
                    Unpack(Vector128.LoadUnsafe(ref wb, BlockBytes), out var l1, out var h1);
                    Unpack(Vector128.LoadUnsafe(ref wb, 2 * BlockBytes), out var l2, out var h2);
                    Unpack(Vector128.LoadUnsafe(ref wb, 3 * BlockBytes), out var l3, out var h3);
                    a1 = Dp.DotProduct(Dp.DotProduct(a1, xl, l1), xh, h1);
                    a2 = Dp.DotProduct(Dp.DotProduct(a2, xl, l2), xh, h2);
                    a3 = Dp.DotProduct(Dp.DotProduct(a3, xl, l3), xh, h3);
                }
            }

            f0 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a0), Vector128.Create(Unsafe.Add(ref sc, g)), f0);
            if (rc == 4)
            {
                f1 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a1), Vector128.Create(Unsafe.Add(ref sc, groups + g)), f1);
                f2 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a2), Vector128.Create(Unsafe.Add(ref sc, (2 * groups) + g)), f2);
                f3 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a3), Vector128.Create(Unsafe.Add(ref sc, (3 * groups) + g)), f3);
            }
        }

        d0 = Vector128.Sum(f0);
        d1 = Vector128.Sum(f1);
        d2 = Vector128.Sum(f2);
        d3 = Vector128.Sum(f3);
    }

    /// <summary>
    /// Four rows on AVX-VNNI: a 32-byte load holds one block of two rows (rows 0 and 1, then 2 and 3), so its low
    /// nibbles are inputs 0–15 of both rows and its high nibbles inputs 16–31: the codes go in as each 16-byte half of
    /// the block's inputs broadcast to both 128-bit lanes, and each int32 accumulator carries two rows (lanes 0–3 and 4–7).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Vnni4(ref byte x, ref byte blk, ref float sc, int inLen, int groupSize, int groups, out float d0, out float d1, out float d2, out float d3)
    {
        if (!AvxVnni.IsSupported)
        {
            throw new PlatformNotSupportedException();
        }

        var mask = Vector256.Create((byte)0x0F);
        var eight = Vector256.Create((byte)8);
        Vector256<float> f01 = default, f23 = default;
        int perGroup = groupSize / BlockElements;
        int full = inLen / BlockElements;
        int blocks = (inLen + BlockElements - 1) / BlockElements;
        ref float s1 = ref Unsafe.Add(ref sc, groups);
        ref float s2 = ref Unsafe.Add(ref sc, 2 * groups);
        ref float s3 = ref Unsafe.Add(ref sc, 3 * groups);
        for (int g = 0; g < groups; g++)
        {
            int first = g * perGroup;
            int last = Math.Min(first + perGroup, blocks);
            int end = Math.Min(last, full);
            Vector256<int> a01 = default, a23 = default;
            for (int b = first; b < end; b++)
            {
                ref byte wb = ref Unsafe.Add(ref blk, (nint)b * 4 * BlockBytes);
                ref byte xb = ref Unsafe.Add(ref x, b * BlockElements);
                KernelPrefetch.Line(ref wb);
                var xl = Vector128.LoadUnsafe(ref xb);
                var xh = Vector128.LoadUnsafe(ref xb, 16);
                var xlo = Vector256.Create(xl, xl);
                var xhi = Vector256.Create(xh, xh);
                var w01 = Vector256.LoadUnsafe(ref wb);
                var w23 = Vector256.LoadUnsafe(ref wb, 32);
                var l01 = ((w01 & mask) - eight).AsSByte();
                var h01 = ((Vector256.ShiftRightLogical(w01.AsUInt16(), 4).AsByte() & mask) - eight).AsSByte();
                var l23 = ((w23 & mask) - eight).AsSByte();
                var h23 = ((Vector256.ShiftRightLogical(w23.AsUInt16(), 4).AsByte() & mask) - eight).AsSByte();
                a01 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(a01, xlo, l01), xhi, h01);
                a23 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(a23, xlo, l23), xhi, h23);
            }

            if (end < last)
            {
                // the row's partial last block
                ref byte wb = ref Unsafe.Add(ref blk, (nint)end * 4 * BlockBytes);
                ref byte xb = ref Unsafe.Add(ref x, end * BlockElements);
                int n = inLen - (end * BlockElements);
                a01 += Vector256.Create(BlockTail(ref xb, ref wb, n, 0), 0, 0, 0, BlockTail(ref xb, ref Unsafe.Add(ref wb, BlockBytes), n, 0), 0, 0, 0);
                a23 += Vector256.Create(BlockTail(ref xb, ref Unsafe.Add(ref wb, 2 * BlockBytes), n, 0), 0, 0, 0, BlockTail(ref xb, ref Unsafe.Add(ref wb, 3 * BlockBytes), n, 0), 0, 0, 0);
            }

            var sc01 = Vector256.Create(Vector128.Create(Unsafe.Add(ref sc, g)), Vector128.Create(Unsafe.Add(ref s1, g)));
            var sc23 = Vector256.Create(Vector128.Create(Unsafe.Add(ref s2, g)), Vector128.Create(Unsafe.Add(ref s3, g)));
            f01 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(a01), sc01, f01);
            f23 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(a23), sc23, f23);
        }

        d0 = Vector128.Sum(f01.GetLower());
        d1 = Vector128.Sum(f01.GetUpper());
        d2 = Vector128.Sum(f23.GetLower());
        d3 = Vector128.Sum(f23.GetUpper());
    }

    /// <summary>
    /// <see cref="Vnni4"/> on the stored nibbles n as they are (u8 codes × n, 0..15, three operations per 32 bytes: two
    /// masks and a shift), each group's accumulators starting at −8 · Σ_{i∈g} x_i (<paramref name="xs"/>) in one lane
    /// per row. The codes are broadcast from memory (<c>vbroadcasti128</c>, a load, no shuffle).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Vnni4Raw(ref byte x, ref byte blk, ref float sc, ref Vector256<int> xs, int inLen, int groupSize, int groups, out float d0, out float d1, out float d2, out float d3)
    {
        if (!AvxVnni.IsSupported)
        {
            throw new PlatformNotSupportedException();
        }

        var mask = Vector256.Create((byte)0x0F);
        Vector256<float> f01 = default, f23 = default;
        int perGroup = groupSize / BlockElements;
        int full = inLen / BlockElements;
        int blocks = (inLen + BlockElements - 1) / BlockElements;
        ref float s1 = ref Unsafe.Add(ref sc, groups);
        ref float s2 = ref Unsafe.Add(ref sc, 2 * groups);
        ref float s3 = ref Unsafe.Add(ref sc, 3 * groups);
        fixed (byte* xp = &x)
        {
            for (int g = 0; g < groups; g++)
            {
                int first = g * perGroup;
                int last = Math.Min(first + perGroup, blocks);
                int end = Math.Min(last, full);
                // four independent accumulators (low and high nibbles of each row pair): vpdpbusd's latency, not its
                // throughput, would bound one chain per row pair
                var a01 = Unsafe.Add(ref xs, g);
                var a23 = a01;
                Vector256<int> a01h = default, a23h = default;
                int loopEnd = end;
                if (perGroup == 2 && end == last)
                {
                    // group 64 (the int4 default): two whole blocks, straight-line, two cache lines of weights
                    ref byte wb = ref Unsafe.Add(ref blk, (nint)first * 4 * BlockBytes);
                    KernelPrefetch.Line(ref wb);
                    KernelPrefetch.Line(ref Unsafe.Add(ref wb, 64));
                    byte* xg = xp + (first * BlockElements);
                    var xlo0 = Avx2.BroadcastVector128ToVector256(xg);
                    var xhi0 = Avx2.BroadcastVector128ToVector256(xg + 16);
                    var xlo1 = Avx2.BroadcastVector128ToVector256(xg + 32);
                    var xhi1 = Avx2.BroadcastVector128ToVector256(xg + 48);
                    var w0 = Vector256.LoadUnsafe(ref wb);
                    var w1 = Vector256.LoadUnsafe(ref wb, 32);
                    var w2 = Vector256.LoadUnsafe(ref wb, 64);
                    var w3 = Vector256.LoadUnsafe(ref wb, 96);
                    a01 = AvxVnni.MultiplyWideningAndAdd(a01, xlo0, (w0 & mask).AsSByte());
                    a01h = AvxVnni.MultiplyWideningAndAdd(a01h, xhi0, (Vector256.ShiftRightLogical(w0.AsUInt16(), 4).AsByte() & mask).AsSByte());
                    a23 = AvxVnni.MultiplyWideningAndAdd(a23, xlo0, (w1 & mask).AsSByte());
                    a23h = AvxVnni.MultiplyWideningAndAdd(a23h, xhi0, (Vector256.ShiftRightLogical(w1.AsUInt16(), 4).AsByte() & mask).AsSByte());
                    a01 = AvxVnni.MultiplyWideningAndAdd(a01, xlo1, (w2 & mask).AsSByte());
                    a01h = AvxVnni.MultiplyWideningAndAdd(a01h, xhi1, (Vector256.ShiftRightLogical(w2.AsUInt16(), 4).AsByte() & mask).AsSByte());
                    a23 = AvxVnni.MultiplyWideningAndAdd(a23, xlo1, (w3 & mask).AsSByte());
                    a23h = AvxVnni.MultiplyWideningAndAdd(a23h, xhi1, (Vector256.ShiftRightLogical(w3.AsUInt16(), 4).AsByte() & mask).AsSByte());
                    loopEnd = first;
                }

                for (int b = first; b < loopEnd; b++)
                {
                    ref byte wb = ref Unsafe.Add(ref blk, (nint)b * 4 * BlockBytes);
                    KernelPrefetch.Line(ref wb);
                    var xlo = Avx2.BroadcastVector128ToVector256(xp + (b * BlockElements));
                    var xhi = Avx2.BroadcastVector128ToVector256(xp + (b * BlockElements) + 16);
                    var w01 = Vector256.LoadUnsafe(ref wb);
                    var w23 = Vector256.LoadUnsafe(ref wb, 32);
                    var h01 = Vector256.ShiftRightLogical(w01.AsUInt16(), 4).AsByte() & mask;
                    var h23 = Vector256.ShiftRightLogical(w23.AsUInt16(), 4).AsByte() & mask;
                    a01 = AvxVnni.MultiplyWideningAndAdd(a01, xlo, (w01 & mask).AsSByte());
                    a01h = AvxVnni.MultiplyWideningAndAdd(a01h, xhi, h01.AsSByte());
                    a23 = AvxVnni.MultiplyWideningAndAdd(a23, xlo, (w23 & mask).AsSByte());
                    a23h = AvxVnni.MultiplyWideningAndAdd(a23h, xhi, h23.AsSByte());
                }

                a01 += a01h;
                a23 += a23h;

                if (end < last)
                {
                    // the row's partial last block: −8 · Σ x of its inputs is in the group's correction already, so add Σ n · x
                    ref byte wb = ref Unsafe.Add(ref blk, (nint)end * 4 * BlockBytes);
                    ref byte xb = ref Unsafe.Add(ref x, end * BlockElements);
                    int n = inLen - (end * BlockElements);
                    a01 += Vector256.Create(BlockTail(ref xb, ref wb, n, 0, 0), 0, 0, 0, BlockTail(ref xb, ref Unsafe.Add(ref wb, BlockBytes), n, 0, 0), 0, 0, 0);
                    a23 += Vector256.Create(BlockTail(ref xb, ref Unsafe.Add(ref wb, 2 * BlockBytes), n, 0, 0), 0, 0, 0, BlockTail(ref xb, ref Unsafe.Add(ref wb, 3 * BlockBytes), n, 0, 0), 0, 0, 0);
                }

                var sc01 = Vector256.Create(Vector128.Create(Unsafe.Add(ref sc, g)), Vector128.Create(Unsafe.Add(ref s1, g)));
                var sc23 = Vector256.Create(Vector128.Create(Unsafe.Add(ref s2, g)), Vector128.Create(Unsafe.Add(ref s3, g)));
                f01 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(a01), sc01, f01);
                f23 = Vector256.MultiplyAddEstimate(Vector256.ConvertToSingle(a23), sc23, f23);
            }
        }

        d0 = Vector128.Sum(f01.GetLower());
        d1 = Vector128.Sum(f01.GetUpper());
        d2 = Vector128.Sum(f23.GetLower());
        d3 = Vector128.Sum(f23.GetUpper());
    }

    /// <summary>
    /// Two blocks of four rows on AVX-512BW (<paramref name="blkA"/> and <paramref name="blkB"/>, half a layer apart: two
    /// streams of weights, as <see cref="Int8Activations.TwoStreamPairs"/>), for rows of whole groups of a multiple of 64
    /// inputs (<see cref="Wide512Fits"/>): a 64-byte load is one block of the four rows; the stored nibbles n (0..15) go in as they are (a mask, a shift and a mask),
    /// each 16-byte half of the block's codes broadcast to the four 128-bit lanes. <c>vpmaddubsw</c> multiplies u8 codes
    /// by n into exact int16 pair sums (≤ 2 · 255 · 15 = 7,650), two blocks' four products add in int16 (≤ 30,600 &lt;
    /// 2¹⁵), and one <c>vpmaddwd</c> by ones widens them to int32, lanes 4r..4r + 3 holding row r. Each group starts at
    /// −8 · Σ_{i∈g} x_i (<paramref name="xs"/>, lanes 0 and 4 of a 256-bit value, broadcast), so the int32 group sums
    /// equal <see cref="Vnni4Raw"/>'s. Four groups' scales of the four rows are one 512-bit value (four 16-byte loads),
    /// and a <c>vpermps</c> by an index that steps by one per group picks group g's scale of each row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void V512Rows(byte* x, ref byte blkA, ref float scA, ref byte blkB, ref float scB, Vector256<int>* xs, int groupSize, int groups, out Vector128<float> da, out Vector128<float> db)
    {
        if (!Avx512BW.IsSupported)
        {
            throw new PlatformNotSupportedException();
        }

        var first4 = Vector512.Create(0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12);
        Vector512<float> fa = default, fb = default;
        int pairs = groupSize / (2 * BlockElements);
        int groupBytes = pairs * 8 * BlockBytes;
        int g = 0;
        for (; g + 4 <= groups; g += 4)
        {
            var sa = Scales4(ref scA, g, groups);
            var sb = Scales4(ref scB, g, groups);
            var pick = first4;
            for (int k = 0; k < 4; k++)
            {
                Group512(x + ((g + k) * groupSize), ref Unsafe.Add(ref blkA, (nint)(g + k) * groupBytes), ref Unsafe.Add(ref blkB, (nint)(g + k) * groupBytes), (long*)(xs + g + k), pairs, out var a, out var b);
                fa = Vector512.MultiplyAddEstimate(Vector512.ConvertToSingle(a), Avx512F.PermuteVar16x32(sa, pick), fa);
                fb = Vector512.MultiplyAddEstimate(Vector512.ConvertToSingle(b), Avx512F.PermuteVar16x32(sb, pick), fb);
                pick += Vector512<int>.One;
            }
        }

        for (; g < groups; g++)
        {
            // the last one to three groups: each row's scale broadcast to its lane
            Group512(x + (g * groupSize), ref Unsafe.Add(ref blkA, (nint)g * groupBytes), ref Unsafe.Add(ref blkB, (nint)g * groupBytes), (long*)(xs + g), pairs, out var a, out var b);
            fa = Vector512.MultiplyAddEstimate(Vector512.ConvertToSingle(a), Scales1(ref scA, g, groups), fa);
            fb = Vector512.MultiplyAddEstimate(Vector512.ConvertToSingle(b), Scales1(ref scB, g, groups), fb);
        }

        da = Sums4(fa);
        db = Sums4(fb);
    }

    /// <summary>Groups g..g + 3 of the four rows' scales (row r's in 128-bit lane r).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Scales4(ref float sc, int g, int groups) => Vector512.Create(
        Vector256.Create(Vector128.LoadUnsafe(ref sc, (nuint)g), Vector128.LoadUnsafe(ref sc, (nuint)(groups + g))),
        Vector256.Create(Vector128.LoadUnsafe(ref sc, (nuint)((2 * groups) + g)), Vector128.LoadUnsafe(ref sc, (nuint)((3 * groups) + g))));

    /// <summary>Group g's scale of each of the four rows, broadcast to the row's 128-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Scales1(ref float sc, int g, int groups) => Vector512.Create(
        Vector256.Create(Vector128.Create(Unsafe.Add(ref sc, g)), Vector128.Create(Unsafe.Add(ref sc, groups + g))),
        Vector256.Create(Vector128.Create(Unsafe.Add(ref sc, (2 * groups) + g)), Vector128.Create(Unsafe.Add(ref sc, (3 * groups) + g))));

    /// <summary>The sum of each 128-bit lane (row r's partial sums in lane r).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Sums4(Vector512<float> f) => Vector128.Create(
        Vector128.Sum(f.GetLower().GetLower()),
        Vector128.Sum(f.GetLower().GetUpper()),
        Vector128.Sum(f.GetUpper().GetLower()),
        Vector128.Sum(f.GetUpper().GetUpper()));

    /// <summary>Whether <see cref="V512Rows"/> takes a layer: whole groups (<c>in % groupSize == 0</c>) of a multiple of 64 inputs, at most <see cref="MaxStackGroups"/> of them.</summary>
    public static bool Wide512Fits(int inLen, int groupSize) => groupSize % (2 * BlockElements) == 0 && inLen % groupSize == 0 && inLen / groupSize <= MaxStackGroups;

    /// <summary>
    /// One group of two blocks of four rows on AVX-512BW (<see cref="V512Rows"/>): <paramref name="pairs"/> pairs of blocks
    /// from <paramref name="wa"/> and from <paramref name="wb"/>, the codes from <paramref name="xb"/>, both starting at the
    /// group's correction <paramref name="start"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Group512(byte* xb, ref byte wa, ref byte wb, long* start, int pairs, out Vector512<int> a, out Vector512<int> b)
    {
        a = Avx512F.BroadcastVector256ToVector512(start).AsInt32();
        b = a;
        for (int p = 0; p < pairs; p++)
        {
            KernelPrefetch.Line(ref wa);
            KernelPrefetch.Line(ref Unsafe.Add(ref wa, 4 * BlockBytes));
            KernelPrefetch.Line(ref wb);
            KernelPrefetch.Line(ref Unsafe.Add(ref wb, 4 * BlockBytes));
            var x0 = Codes(xb);
            var x1 = Codes(xb + 16);
            var x2 = Codes(xb + 32);
            var x3 = Codes(xb + 48);
            a += Block2(x0, x1, x2, x3, ref wa);
            b += Block2(x0, x1, x2, x3, ref wb);
            wa = ref Unsafe.Add(ref wa, 8 * BlockBytes);
            wb = ref Unsafe.Add(ref wb, 8 * BlockBytes);
            xb += 2 * BlockElements;
        }
    }

    /// <summary>
    /// Two blocks of four rows at <paramref name="w"/> times the codes of their 64 inputs (<paramref name="x0"/>..<paramref name="x3"/>:
    /// inputs 0–15, 16–31, 32–47, 48–63, each in every 128-bit lane): four <c>vpmaddubsw</c> into int16, one <c>vpmaddwd</c> to int32.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Block2(Vector512<byte> x0, Vector512<byte> x1, Vector512<byte> x2, Vector512<byte> x3, ref byte w)
    {
        var mask = Vector512.Create((byte)0x0F);
        var w0 = Vector512.LoadUnsafe(ref w);
        var w1 = Vector512.LoadUnsafe(ref w, 4 * BlockBytes);
        var t = Avx512BW.MultiplyAddAdjacent(x0, (w0 & mask).AsSByte())
            + Avx512BW.MultiplyAddAdjacent(x1, (Vector512.ShiftRightLogical(w0.AsUInt16(), 4).AsByte() & mask).AsSByte());
        var t1 = Avx512BW.MultiplyAddAdjacent(x2, (w1 & mask).AsSByte())
            + Avx512BW.MultiplyAddAdjacent(x3, (Vector512.ShiftRightLogical(w1.AsUInt16(), 4).AsByte() & mask).AsSByte());
        return Avx512BW.MultiplyAddAdjacent(t + t1, Vector512<short>.One);
    }

    /// <summary>Sixteen codes at <paramref name="p"/> in each 128-bit lane (<c>vbroadcasti32x4</c>, a load).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<byte> Codes(byte* p) => Avx512F.BroadcastVector128ToVector512((int*)p).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Vnni1(ref byte x, ref byte row, ref float sc, int inLen, int groupSize, int groups)
    {
        if (!AvxVnni.IsSupported)
        {
            throw new PlatformNotSupportedException();
        }

        Vector128<float> f = default;
        int perGroup = groupSize / BlockElements;
        int full = inLen / BlockElements;
        int blocks = (inLen + BlockElements - 1) / BlockElements;
        for (int g = 0; g < groups; g++)
        {
            int first = g * perGroup;
            int last = Math.Min(first + perGroup, blocks);
            int end = Math.Min(last, full);
            Vector128<int> a = default;
            for (int b = first; b < end; b++)
            {
                ref byte xb = ref Unsafe.Add(ref x, b * BlockElements);
                Unpack(Vector128.LoadUnsafe(ref row, (nuint)(b * BlockBytes)), out var lo, out var hi);
                a = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(a, Vector128.LoadUnsafe(ref xb), lo), Vector128.LoadUnsafe(ref xb, 16), hi);
            }

            if (end < last)
            {
                a += Vector128.CreateScalar(BlockTail(ref Unsafe.Add(ref x, end * BlockElements), ref Unsafe.Add(ref row, end * BlockBytes), inLen - (end * BlockElements), 0));
            }

            f = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(a), Vector128.Create(Unsafe.Add(ref sc, g)), f);
        }

        return Vector128.Sum(f);
    }
}
