using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>
/// Float activations for linear layers with base11 weights in the "pairs" layout (docs/formats.md, "base11 pairs layout";
/// the bytes: <c>Base11PairsFormat</c>, the same as <see cref="Base11PairsActivations"/> reads). With the float kernels'
/// convention <c>w_i = 0.1 · range_g · d_i + min_g</c> (d the index 0..10):
/// <c>y_o = Σ_g [0.1 · range_g · Σ_{i∈g} d_i · x_i + min_g · Σ_{i∈g} x_i] + b_o</c>, then ReLU, then + residual. The group
/// input sums <c>Σ_{i∈g} x_i</c> are computed once per call for all rows; <c>Σ d · x</c> is summed in float.
/// <para>
/// Paths: Vector512 with AVX-512 VBMI (the block's 64 codes decoded to the 128 indices as bytes exactly as
/// <see cref="Base11PairsActivations"/> does — <c>vpermb</c>, <c>vpmultishiftqb</c>, two <c>vpermi2b</c> — then 16 indices at
/// a time zero-extended to int32 by one in-lane <c>vpshufb</c> (bytes 4k..4k+3 of each 128-bit lane; measured faster than
/// <c>vextracti32x4</c> + <c>vpmovzxbd</c>, and than spreading the codes to dwords before four table lookups), converted
/// to float and multiply-added with the 16 matching inputs, which a copy of the input in that lane order supplies (per call);
/// one 64-byte load per block, 8 bytes past it, so the row block whose last block ends within 8 bytes of the end of the
/// weights takes the Vector128 path); Vector256 with AVX2 and FMA (x64 without VBMI: two 16-byte loads per 256-bit vector,
/// in-lane <c>vpshufb</c> gathers and the 16-bit code arithmetic below, the even and the odd codes' lanes taken as int32 by
/// a mask and a shift, the input in that lane order); Vector128 (portable, the arm64 path: the codes of
/// <see cref="Base11PairsActivations"/>'s Vector128 path, <c>hi = (c · 187) &gt;&gt; 11</c>, <c>lo = c − 11 · hi</c>, widened,
/// converted, multiply-added with the input in its natural order); and scalar. Four rows share each block of inputs, two
/// accumulators per row (low and high indices). The paths sum in different orders: their results agree to float rounding,
/// not bit for bit.
/// </para>
/// Nothing allocates. The scratch holds the input padded to whole blocks per group (only when a group is not whole blocks;
/// else it is read in place; a short block's missing indices are 0, but 0 times a non-finite input would not be), the
/// Vector512 or Vector256 path's lane-ordered copy and Σ x per group.
/// </summary>
public static class Base11PairsFloat
{
    private const int BlockWeights = Base11PairsActivations.BlockWeights;
    private const int BlockBytes = Base11PairsActivations.BlockBytes;
    private const int RowBlock = 4;
    private const float Step = 0.1f;

    /// <summary>
    /// Floats of scratch one call needs: the zero-padded copy of the input (none when every group is whole blocks), the
    /// Vector512 or Vector256 path's lane-ordered copy (padded to whole blocks), then one Σ x per group.
    /// </summary>
    public static int ScratchFloats(int inLen, int groupSize) =>
        (Base11PairsActivations.InPlace(inLen, groupSize) ? 0 : PaddedInputs(inLen, groupSize)) + PaddedInputs(inLen, groupSize) + ((inLen + groupSize - 1) / groupSize);

    private static int PaddedInputs(int inLen, int groupSize) =>
        ((inLen / groupSize) * Base11PairsActivations.PaddedLength(groupSize)) + Base11PairsActivations.PaddedLength(inLen % groupSize);

    /// <summary>The path that runs: Vector512 with AVX-512 VBMI, else Vector256 with AVX2 and FMA, else Vector128 when accelerated, else scalar.</summary>
    public static KernelPath Resolve(KernelPath path)
    {
        path = KernelPaths.Resolve(path);
        if (path == KernelPath.Vector512 && !Avx512Vbmi.IsSupported)
        {
            path = KernelPath.Vector256;
        }

        if (path == KernelPath.Vector256 && !(Avx2.IsSupported && Fma.IsSupported))
        {
            path = KernelPath.Vector128;
        }

        return path == KernelPath.Vector128 && !Vector128.IsHardwareAccelerated ? KernelPath.Scalar : path;
    }

    /// <summary>
    /// y = W x + b, ReLU, + residual for float <paramref name="x"/> and base11 pairs weights <paramref name="w"/> (row-major
    /// <c>[row][group][PackBytes]</c> of <see cref="Base11PairsActivations.RowBytes"/> per row, binary16 <paramref name="mins"/>
    /// and <paramref name="ranges"/> per row and group of <paramref name="groupSize"/> inputs); <c>y.Length</c> rows;
    /// <paramref name="scratch"/> of at least <see cref="ScratchFloats"/>. <paramref name="path"/> is resolved
    /// (<see cref="Resolve"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Linear(
        ReadOnlySpan<byte> w,
        ReadOnlySpan<ushort> mins,
        ReadOnlySpan<ushort> ranges,
        ReadOnlySpan<float> bias,
        ReadOnlySpan<float> x,
        int groupSize,
        bool relu,
        Span<float> scratch,
        ReadOnlySpan<float> residual,
        Span<float> y,
        KernelPath path)
    {
        int outLen = y.Length;
        int inLen = x.Length;
        int groups = groupSize < 1 ? 0 : (inLen + groupSize - 1) / groupSize;
        int rowBytes = inLen == 0 || groupSize < 1 ? 0 : Base11PairsActivations.RowBytes(inLen, groupSize);
        if (groupSize < 1 || w.Length < (long)outLen * rowBytes || mins.Length < (long)outLen * groups || ranges.Length < (long)outLen * groups
            || scratch.Length < ScratchFloats(inLen, groupSize) || (!bias.IsEmpty && bias.Length < outLen) || (!residual.IsEmpty && residual.Length < outLen))
        {
            throw new ArgumentException("Base11PairsFloat.Linear: spans do not match the shape.");
        }

        path = Resolve(path);
        var k = Prepare(x, groupSize, groups, scratch, out var input, out var groupSums);
        var lanes = scratch.Slice(k.Copied, PaddedInputs(inLen, groupSize));
        if (path == KernelPath.Vector512)
        {
            LaneOrder(input, lanes);
        }
        else if (path == KernelPath.Vector256)
        {
            LaneOrder256(input, lanes);
        }

        ref float xl = ref MemoryMarshal.GetReference(lanes);
        ref byte wr = ref MemoryMarshal.GetReference(w);
        ref ushort mr = ref MemoryMarshal.GetReference(mins);
        ref ushort rr = ref MemoryMarshal.GetReference(ranges);
        ref float xr = ref MemoryMarshal.GetReference(input);
        ref float ts = ref MemoryMarshal.GetReference(groupSums);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref float br = ref MemoryMarshal.GetReference(bias);
        ref float res = ref MemoryMarshal.GetReference(residual);
        bool hasBias = !bias.IsEmpty;
        bool hasResidual = !residual.IsEmpty;
        int rowMain = outLen - (outLen % RowBlock);
        for (int o = 0; o < outLen;)
        {
            int rc = o < rowMain ? RowBlock : 1;
            ref byte blk = ref Unsafe.Add(ref wr, (nint)o * rowBytes);
            ref ushort mn = ref Unsafe.Add(ref mr, (nint)o * groups);
            ref ushort rg = ref Unsafe.Add(ref rr, (nint)o * groups);
            KernelPrefetch.Block(ref Unsafe.As<byte, sbyte>(ref blk), rc * rowBytes);
            Vector128<float> d;

            // a Vector512 step loads 64 bytes from a 56-byte block: the row block whose last block ends within 8 bytes of the
            // end of the weights takes the Vector128 path (which reads only its blocks)
            var vector = path == KernelPath.Vector512 && ((long)(o + rc) * rowBytes) + 8 > w.Length ? KernelPath.Vector128 : path;
            switch (vector)
            {
                case KernelPath.Vector512:
                    d = V512Rows(in k, ref xl, ref ts, ref blk, ref mn, ref rg, rowBytes, rc);
                    break;
                case KernelPath.Vector256:
                    d = V256Rows(in k, ref xl, ref ts, ref blk, ref mn, ref rg, rowBytes, rc);
                    break;
                case KernelPath.Vector128:
                    d = V128Rows(in k, ref xr, ref ts, ref blk, ref mn, ref rg, rowBytes, rc);
                    break;
                default:
                    d = ScalarRows(in k, ref xr, ref ts, ref blk, ref mn, ref rg, rowBytes, rc);
                    break;
            }

            if (rc == RowBlock)
            {
                if (hasBias)
                {
                    d += Vector128.LoadUnsafe(ref br, (nuint)o);
                }

                if (relu)
                {
                    d = Vector128.Max(d, Vector128<float>.Zero);
                }

                if (hasResidual)
                {
                    d += Vector128.LoadUnsafe(ref res, (nuint)o);
                }

                d.StoreUnsafe(ref yr, (nuint)o);
            }
            else
            {
                float s = d.ToScalar();
                if (hasBias)
                {
                    s += Unsafe.Add(ref br, o);
                }

                if (relu)
                {
                    s = MathF.Max(s, 0f);
                }

                if (hasResidual)
                {
                    s += Unsafe.Add(ref res, o);
                }

                Unsafe.Add(ref yr, o) = s;
            }

            o += rc;
        }
    }

    /// <summary>The input padded to whole blocks per group (in place when it already is) and Σ x per group.</summary>
    private static Shape Prepare(ReadOnlySpan<float> x, int groupSize, int groups, Span<float> scratch, out ReadOnlySpan<float> input, out Span<float> groupSums)
    {
        int inLen = x.Length;
        int padded = Base11PairsActivations.InPlace(inLen, groupSize) ? 0 : PaddedInputs(inLen, groupSize);
        groupSums = scratch.Slice(padded + PaddedInputs(inLen, groupSize), groups);
        var copy = scratch.Slice(0, padded);
        if (padded > 0)
        {
            copy.Clear();
        }

        int paddedGroup = Base11PairsActivations.PaddedLength(groupSize);
        for (int g = 0; g < groups; g++)
        {
            int start = g * groupSize;
            var group = x.Slice(start, Math.Min(groupSize, inLen - start));
            groupSums[g] = System.Numerics.Tensors.TensorPrimitives.Sum(group);
            if (padded > 0)
            {
                group.CopyTo(copy.Slice(g * paddedGroup));
            }
        }

        input = padded > 0 ? copy : x;
        return new Shape(inLen, groupSize, groups, padded);
    }

    /// <summary>The constants of one call.</summary>
    private readonly struct Shape
    {
        public readonly int In;
        public readonly int GroupSize;
        public readonly int Groups;
        public readonly int GroupBytes;
        public readonly int PaddedGroup;
        public readonly int Copied;

        public Shape(int inLen, int groupSize, int groups, int copied)
        {
            Copied = copied;
            In = inLen;
            GroupSize = groupSize;
            Groups = groups;
            GroupBytes = Base11PairsActivations.PackBytes(groupSize);
            PaddedGroup = Base11PairsActivations.PaddedLength(groupSize);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Blocks(in Shape k, int g) => (Math.Min(k.GroupSize, k.In - (g * k.GroupSize)) + BlockWeights - 1) / BlockWeights;

    // ---------------------------------------------------------------- scalar

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ScalarBlock(ref byte w, ref float x)
    {
        float s = 0f;
        for (int j = 0; j < 64; j++)
        {
            int c = Base11PairsActivations.Code(ref w, j);
            int hi = (c * 187) >> 11;
            s = float.MultiplyAddEstimate(c - (11 * hi), Unsafe.Add(ref x, j), s);
            s = float.MultiplyAddEstimate(hi, Unsafe.Add(ref x, 64 + j), s);
        }

        return s;
    }

    private static Vector128<float> ScalarRows(in Shape k, ref float xr, ref float ts, ref byte blk, ref ushort mn, ref ushort rg, int rowBytes, int rc)
    {
        float d0 = ScalarRow(in k, ref xr, ref ts, ref blk, ref mn, ref rg), d1 = 0f, d2 = 0f, d3 = 0f;
        if (rc == RowBlock)
        {
            d1 = ScalarRow(in k, ref xr, ref ts, ref Unsafe.Add(ref blk, rowBytes), ref Unsafe.Add(ref mn, k.Groups), ref Unsafe.Add(ref rg, k.Groups));
            d2 = ScalarRow(in k, ref xr, ref ts, ref Unsafe.Add(ref blk, 2 * rowBytes), ref Unsafe.Add(ref mn, 2 * k.Groups), ref Unsafe.Add(ref rg, 2 * k.Groups));
            d3 = ScalarRow(in k, ref xr, ref ts, ref Unsafe.Add(ref blk, 3 * rowBytes), ref Unsafe.Add(ref mn, 3 * k.Groups), ref Unsafe.Add(ref rg, 3 * k.Groups));
        }

        return Vector128.Create(d0, d1, d2, d3);
    }

    private static float ScalarRow(in Shape k, ref float xr, ref float ts, ref byte row, ref ushort mn, ref ushort rg)
    {
        float d = 0f;
        for (int g = 0; g < k.Groups; g++)
        {
            int blocks = Blocks(in k, g);
            float s = 0f;
            for (int b = 0; b < blocks; b++)
            {
                s += ScalarBlock(ref Unsafe.Add(ref row, ((nint)g * k.GroupBytes) + (b * BlockBytes)), ref Unsafe.Add(ref xr, ((nint)g * k.PaddedGroup) + (b * BlockWeights)));
            }

            d += (Step * PackedDecode.HalfToSingle(Unsafe.Add(ref rg, g)) * s) + (PackedDecode.HalfToSingle(Unsafe.Add(ref mn, g)) * Unsafe.Add(ref ts, g));
        }

        return d;
    }

    // ---------------------------------------------------------------- Vector512 (AVX-512 VBMI)

    // vpshufb per 128-bit lane: control k widens bytes 4k..4k+3 of each lane to its four dwords (0x80: a zero byte)
    private static readonly byte[] LaneWiden = LaneWidenIndex();

    private static byte[] LaneWidenIndex()
    {
        var t = new byte[4 * 64];
        for (int k = 0; k < 4; k++)
        {
            for (int lane = 0; lane < 4; lane++)
            {
                for (int i = 0; i < 16; i++)
                {
                    t[(64 * k) + (16 * lane) + i] = (byte)(i % 4 == 0 ? (4 * k) + (i / 4) : 0x80);
                }
            }
        }

        return t;
    }

    /// <summary>The input in the order of <see cref="LaneBlock"/>: per block, for k = 0..3, x[16l + 4k + i] then x[64 + 16l + 4k + i] at lane 4l + i.</summary>
    private static void LaneOrder(ReadOnlySpan<float> x, Span<float> destination)
    {
        for (int b = 0; b < destination.Length; b += BlockWeights)
        {
            for (int k = 0; k < 4; k++)
            {
                for (int l = 0; l < 4; l++)
                {
                    // four consecutive inputs move together
                    x.Slice(b + (16 * l) + (4 * k), 4).CopyTo(destination.Slice(b + (32 * k) + (4 * l), 4));
                    x.Slice(b + 64 + (16 * l) + (4 * k), 4).CopyTo(destination.Slice(b + (32 * k) + 16 + (4 * l), 4));
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LaneBlock(Vector512<byte> lo, Vector512<byte> hi, ref float xb, Vector512<byte> w0, Vector512<byte> w1, Vector512<byte> w2, Vector512<byte> w3, ref Vector512<float> acc0, ref Vector512<float> acc1)
    {
        acc0 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Avx512BW.Shuffle(lo, w0).AsInt32()), Vector512.LoadUnsafe(ref xb), acc0);
        acc1 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Avx512BW.Shuffle(hi, w0).AsInt32()), Vector512.LoadUnsafe(ref xb, 16), acc1);
        acc0 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Avx512BW.Shuffle(lo, w1).AsInt32()), Vector512.LoadUnsafe(ref xb, 32), acc0);
        acc1 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Avx512BW.Shuffle(hi, w1).AsInt32()), Vector512.LoadUnsafe(ref xb, 48), acc1);
        acc0 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Avx512BW.Shuffle(lo, w2).AsInt32()), Vector512.LoadUnsafe(ref xb, 64), acc0);
        acc1 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Avx512BW.Shuffle(hi, w2).AsInt32()), Vector512.LoadUnsafe(ref xb, 80), acc1);
        acc0 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Avx512BW.Shuffle(lo, w3).AsInt32()), Vector512.LoadUnsafe(ref xb, 96), acc0);
        acc1 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Avx512BW.Shuffle(hi, w3).AsInt32()), Vector512.LoadUnsafe(ref xb, 112), acc1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector128<float> V512Rows(in Shape k, ref float xr, ref float ts, ref byte blk, ref ushort mn, ref ushort rg, int rowBytes, int rc)
    {
        var runIndex = Vector512.Create((ReadOnlySpan<byte>)Base11PairsActivations.RunBytes);
        var shifts = Vector512.Create((ReadOnlySpan<byte>)Base11PairsActivations.ShiftBytes);
        var low0 = Vector512.Create((ReadOnlySpan<byte>)Base11PairsActivations.LowTable);
        var low1 = Vector512.Create((ReadOnlySpan<byte>)Base11PairsActivations.LowTable.AsSpan(64));
        var high0 = Vector512.Create((ReadOnlySpan<byte>)Base11PairsActivations.HighTable);
        var high1 = Vector512.Create((ReadOnlySpan<byte>)Base11PairsActivations.HighTable.AsSpan(64));
        var w0 = Vector512.Create((ReadOnlySpan<byte>)LaneWiden);
        var w1 = Vector512.Create((ReadOnlySpan<byte>)LaneWiden.AsSpan(64));
        var w2 = Vector512.Create((ReadOnlySpan<byte>)LaneWiden.AsSpan(128));
        var w3 = Vector512.Create((ReadOnlySpan<byte>)LaneWiden.AsSpan(192));
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var t = Vector128<float>.Zero;
        for (int g = 0; g < k.Groups; g++)
        {
            int blocks = Blocks(in k, g);
            ref float xg = ref Unsafe.Add(ref xr, (nint)g * k.PaddedGroup);
            ref byte wg = ref Unsafe.Add(ref blk, (nint)g * k.GroupBytes);
            Vector512<float> p0 = default, q0 = default, p1 = default, q1 = default, p2 = default, q2 = default, p3 = default, q3 = default;
            for (int b = 0; b < blocks; b++)
            {
                ref float xb = ref Unsafe.Add(ref xg, b * BlockWeights);
                ref byte wb = ref Unsafe.Add(ref wg, b * BlockBytes);
                Base11PairsActivations.Digits512(ref wb, runIndex, shifts, low0, low1, high0, high1, out var lo, out var hi);
                LaneBlock(lo, hi, ref xb, w0, w1, w2, w3, ref p0, ref q0);
                if (rc == RowBlock)
                {
                    Base11PairsActivations.Digits512(ref Unsafe.Add(ref wb, rowBytes), runIndex, shifts, low0, low1, high0, high1, out lo, out hi);
                    LaneBlock(lo, hi, ref xb, w0, w1, w2, w3, ref p1, ref q1);
                    Base11PairsActivations.Digits512(ref Unsafe.Add(ref wb, 2 * rowBytes), runIndex, shifts, low0, low1, high0, high1, out lo, out hi);
                    LaneBlock(lo, hi, ref xb, w0, w1, w2, w3, ref p2, ref q2);
                    Base11PairsActivations.Digits512(ref Unsafe.Add(ref wb, 3 * rowBytes), runIndex, shifts, low0, low1, high0, high1, out lo, out hi);
                    LaneBlock(lo, hi, ref xb, w0, w1, w2, w3, ref p3, ref q3);
                }
            }

            var tg = Vector128.Create(Unsafe.Add(ref ts, g));
            if (rc == RowBlock)
            {
                var range = Base11PairsActivations.Halves4(ref rg, g, k.Groups) * Vector128.Create(Step);
                a0 = Vector512.FusedMultiplyAdd(p0 + q0, Vector512.Create(range.GetElement(0)), a0);
                a1 = Vector512.FusedMultiplyAdd(p1 + q1, Vector512.Create(range.GetElement(1)), a1);
                a2 = Vector512.FusedMultiplyAdd(p2 + q2, Vector512.Create(range.GetElement(2)), a2);
                a3 = Vector512.FusedMultiplyAdd(p3 + q3, Vector512.Create(range.GetElement(3)), a3);
                t = Vector128.FusedMultiplyAdd(Base11PairsActivations.Halves4(ref mn, g, k.Groups), tg, t);
            }
            else
            {
                a0 = Vector512.FusedMultiplyAdd(p0 + q0, Vector512.Create(Step * PackedDecode.HalfToSingle(Unsafe.Add(ref rg, g))), a0);
                t = Vector128.FusedMultiplyAdd(Vector128.CreateScalar(PackedDecode.HalfToSingle(Unsafe.Add(ref mn, g))), tg, t);
            }
        }

        return rc == RowBlock ? Reduce4(a0, a1, a2, a3) + t : Vector128.CreateScalar(Vector512.Sum(a0) + t.ToScalar());
    }

    /// <summary>[Σ a0, Σ a1, Σ a2, Σ a3] of four float vectors (a transpose-add tree instead of four full reductions).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Reduce4(Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3)
    {
        var a = Avx512F.UnpackLow(a0, a1) + Avx512F.UnpackHigh(a0, a1);
        var b = Avx512F.UnpackLow(a2, a3) + Avx512F.UnpackHigh(a2, a3);
        var c = Avx512F.UnpackLow(a.AsDouble(), b.AsDouble()).AsSingle() + Avx512F.UnpackHigh(a.AsDouble(), b.AsDouble()).AsSingle();
        var h = c.GetLower() + c.GetUpper();
        return h.GetLower() + h.GetUpper();
    }

    // ---------------------------------------------------------------- Vector256 (AVX2, FMA)

    // vpshufb per 128-bit lane over two 16-byte loads of a block (lane 0 from byte 0 or 28, lane 1 from byte 14 or 40): the
    // gathers of Base11PairsActivations' Vector128 path, lane 1 of the second load starting two bytes in (Gather 32..63)
    private static readonly byte[] Gather256 = Gather256Index();

    private static byte[] Gather256Index()
    {
        var g = Base11PairsActivations.Gather;
        var t = new byte[128];
        g.AsSpan(0, 16).CopyTo(t.AsSpan(0)); // first load, runs 0 | 2
        g.AsSpan(0, 16).CopyTo(t.AsSpan(16));
        g.AsSpan(16, 16).CopyTo(t.AsSpan(32)); // runs 1 | 3
        g.AsSpan(16, 16).CopyTo(t.AsSpan(48));
        g.AsSpan(0, 16).CopyTo(t.AsSpan(64)); // second load, runs 4 | 6
        g.AsSpan(32, 16).CopyTo(t.AsSpan(80));
        g.AsSpan(16, 16).CopyTo(t.AsSpan(96)); // runs 5 | 7
        g.AsSpan(48, 16).CopyTo(t.AsSpan(112));
        return t;
    }

    // the runs whose codes each 256-bit code vector holds in its two lanes, in the order the block step takes them
    private static readonly int[] RunPairs = { 0, 2, 1, 3, 4, 6, 5, 7 };

    /// <summary>
    /// The input in the order of <see cref="Block256"/>: per block, for each of its four code vectors (runs r0 | r1 of
    /// <see cref="RunPairs"/>) and each parity q (the even or the odd codes 2i + q of a run), eight floats for the low
    /// indices (x[8·r0 + 2i + q], then x[8·r1 + 2i + q], i = 0..3) and eight for the high ones (64 on).
    /// </summary>
    private static void LaneOrder256(ReadOnlySpan<float> x, Span<float> destination)
    {
        if (destination.Length > x.Length)
        {
            throw new ArgumentException("Base11PairsFloat: the input is shorter than its lane order.");
        }

        ref float src = ref MemoryMarshal.GetReference(x);
        ref float dst = ref MemoryMarshal.GetReference(destination);
        for (int b = 0; b < destination.Length; b += BlockWeights)
        {
            int at = b;
            for (int p = 0; p < 4; p++)
            {
                for (int q = 0; q < 2; q++)
                {
                    for (int h = 0; h < 2; h++)
                    {
                        for (int lane = 0; lane < 2; lane++)
                        {
                            ref float from = ref Unsafe.Add(ref src, b + (64 * h) + (8 * RunPairs[(2 * p) + lane]) + q);
                            ref float to = ref Unsafe.Add(ref dst, at + (4 * lane));
                            to = from;
                            Unsafe.Add(ref to, 1) = Unsafe.Add(ref from, 2);
                            Unsafe.Add(ref to, 2) = Unsafe.Add(ref from, 4);
                            Unsafe.Add(ref to, 3) = Unsafe.Add(ref from, 6);
                        }

                        at += 8;
                    }
                }
            }
        }
    }

    /// <summary>Sixteen codes (two runs) times their inputs: the low and high indices, the even and the odd codes' 16-bit lanes taken as int32 by a mask and a shift (no shuffles).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Codes256(Vector256<byte> bytes, Vector256<byte> gather, Vector256<ushort> lift, ref float x, ref Vector256<float> acc0, ref Vector256<float> acc1)
    {
        var c = Avx2.ShiftRightLogical(Avx2.MultiplyLow(Avx2.Shuffle(bytes, gather).AsUInt16(), lift), 9);
        var hi = Avx2.ShiftRightLogical(Avx2.MultiplyLow(c, Vector256.Create((ushort)187)), 11);
        var lo = Avx2.Subtract(c, Avx2.MultiplyLow(hi, Vector256.Create((ushort)11)));
        var low16 = Vector256.Create(0xFFFFu);
        acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single((lo.AsUInt32() & low16).AsInt32()), Vector256.LoadUnsafe(ref x), acc0);
        acc1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single((hi.AsUInt32() & low16).AsInt32()), Vector256.LoadUnsafe(ref x, 8), acc1);
        acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ShiftRightLogical(lo.AsUInt32(), 16).AsInt32()), Vector256.LoadUnsafe(ref x, 16), acc0);
        acc1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ShiftRightLogical(hi.AsUInt32(), 16).AsInt32()), Vector256.LoadUnsafe(ref x, 24), acc1);
    }

    /// <summary>Σ d·x of one block into two accumulators (low and high indices), the input in <see cref="LaneOrder256"/>'s order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block256(ref byte w, ref float xb, Vector256<ushort> lift, Vector256<byte> a0, Vector256<byte> a1, Vector256<byte> b0, Vector256<byte> b1, ref Vector256<float> acc0, ref Vector256<float> acc1)
    {
        var first = Vector256.Create(Vector128.LoadUnsafe(ref w), Vector128.LoadUnsafe(ref w, 14));
        var second = Vector256.Create(Vector128.LoadUnsafe(ref w, 28), Vector128.LoadUnsafe(ref w, 40));
        Codes256(first, a0, lift, ref xb, ref acc0, ref acc1);
        Codes256(first, a1, lift, ref Unsafe.Add(ref xb, 32), ref acc0, ref acc1);
        Codes256(second, b0, lift, ref Unsafe.Add(ref xb, 64), ref acc0, ref acc1);
        Codes256(second, b1, lift, ref Unsafe.Add(ref xb, 96), ref acc0, ref acc1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector128<float> V256Rows(in Shape k, ref float xr, ref float ts, ref byte blk, ref ushort mn, ref ushort rg, int rowBytes, int rc)
    {
        var lift = Vector256.Create(Vector128.Create((ReadOnlySpan<ushort>)Base11PairsActivations.Lift8), Vector128.Create((ReadOnlySpan<ushort>)Base11PairsActivations.Lift8));
        var a0 = Vector256.Create((ReadOnlySpan<byte>)Gather256);
        var a1 = Vector256.Create((ReadOnlySpan<byte>)Gather256.AsSpan(32));
        var b0 = Vector256.Create((ReadOnlySpan<byte>)Gather256.AsSpan(64));
        var b1 = Vector256.Create((ReadOnlySpan<byte>)Gather256.AsSpan(96));
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        var t = Vector128<float>.Zero;
        for (int g = 0; g < k.Groups; g++)
        {
            int blocks = Blocks(in k, g);
            ref float xg = ref Unsafe.Add(ref xr, (nint)g * k.PaddedGroup);
            ref byte wg = ref Unsafe.Add(ref blk, (nint)g * k.GroupBytes);
            Vector256<float> p0 = default, q0 = default, p1 = default, q1 = default, p2 = default, q2 = default, p3 = default, q3 = default;
            for (int b = 0; b < blocks; b++)
            {
                ref float xb = ref Unsafe.Add(ref xg, b * BlockWeights);
                ref byte wb = ref Unsafe.Add(ref wg, b * BlockBytes);
                Block256(ref wb, ref xb, lift, a0, a1, b0, b1, ref p0, ref q0);
                if (rc == RowBlock)
                {
                    Block256(ref Unsafe.Add(ref wb, rowBytes), ref xb, lift, a0, a1, b0, b1, ref p1, ref q1);
                    Block256(ref Unsafe.Add(ref wb, 2 * rowBytes), ref xb, lift, a0, a1, b0, b1, ref p2, ref q2);
                    Block256(ref Unsafe.Add(ref wb, 3 * rowBytes), ref xb, lift, a0, a1, b0, b1, ref p3, ref q3);
                }
            }

            var tg = Vector128.Create(Unsafe.Add(ref ts, g));
            if (rc == RowBlock)
            {
                var range = Base11PairsActivations.Halves4(ref rg, g, k.Groups) * Vector128.Create(Step);
                s0 = Fma.MultiplyAdd(p0 + q0, Vector256.Create(range.GetElement(0)), s0);
                s1 = Fma.MultiplyAdd(p1 + q1, Vector256.Create(range.GetElement(1)), s1);
                s2 = Fma.MultiplyAdd(p2 + q2, Vector256.Create(range.GetElement(2)), s2);
                s3 = Fma.MultiplyAdd(p3 + q3, Vector256.Create(range.GetElement(3)), s3);
                t = Fma.MultiplyAdd(Base11PairsActivations.Halves4(ref mn, g, k.Groups), tg, t);
            }
            else
            {
                s0 = Fma.MultiplyAdd(p0 + q0, Vector256.Create(Step * PackedDecode.HalfToSingle(Unsafe.Add(ref rg, g))), s0);
                t = Fma.MultiplyAdd(Vector128.CreateScalar(PackedDecode.HalfToSingle(Unsafe.Add(ref mn, g))), tg, t);
            }
        }

        return Vector128.Create(Vector256.Sum(s0), Vector256.Sum(s1), Vector256.Sum(s2), Vector256.Sum(s3)) + t;
    }

    // ---------------------------------------------------------------- Vector128 (portable; arm64)

    /// <summary>Eight codes' low and high indices times x[j..j+7] and x[64+j..64+j+7], into two accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Run8(Vector128<ushort> c, ref float x, ref Vector128<float> acc0, ref Vector128<float> acc1)
    {
        var hi = Vector128.ShiftRightLogical(c * Vector128.Create((ushort)187), 11);
        var lo = c - (hi * Vector128.Create((ushort)11));
        acc0 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(Vector128.WidenLower(lo)), Vector128.LoadUnsafe(ref x), acc0);
        acc1 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(Vector128.WidenLower(hi)), Vector128.LoadUnsafe(ref x, 64), acc1);
        acc0 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(Vector128.WidenUpper(lo)), Vector128.LoadUnsafe(ref x, 4), acc0);
        acc1 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(Vector128.WidenUpper(hi)), Vector128.LoadUnsafe(ref x, 68), acc1);
    }

    /// <summary>Σ d·x of one block into two accumulators (the low and the high indices).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block128(ref byte w, ref float x, Vector128<ushort> lift, Vector128<byte> g0, Vector128<byte> g1, Vector128<byte> g2, Vector128<byte> g3, ref Vector128<float> acc0, ref Vector128<float> acc1)
    {
        // two runs (16 codes) per 16-byte load: bytes 0, 14, 28 and, for the last two runs, 40 (g2, g3 start two bytes in)
        var bytes = Vector128.LoadUnsafe(ref w);
        Run8(Base11PairsActivations.Codes8(bytes, g0, lift), ref x, ref acc0, ref acc1);
        Run8(Base11PairsActivations.Codes8(bytes, g1, lift), ref Unsafe.Add(ref x, 8), ref acc0, ref acc1);
        bytes = Vector128.LoadUnsafe(ref w, 14);
        Run8(Base11PairsActivations.Codes8(bytes, g0, lift), ref Unsafe.Add(ref x, 16), ref acc0, ref acc1);
        Run8(Base11PairsActivations.Codes8(bytes, g1, lift), ref Unsafe.Add(ref x, 24), ref acc0, ref acc1);
        bytes = Vector128.LoadUnsafe(ref w, 28);
        Run8(Base11PairsActivations.Codes8(bytes, g0, lift), ref Unsafe.Add(ref x, 32), ref acc0, ref acc1);
        Run8(Base11PairsActivations.Codes8(bytes, g1, lift), ref Unsafe.Add(ref x, 40), ref acc0, ref acc1);
        bytes = Vector128.LoadUnsafe(ref w, 40);
        Run8(Base11PairsActivations.Codes8(bytes, g2, lift), ref Unsafe.Add(ref x, 48), ref acc0, ref acc1);
        Run8(Base11PairsActivations.Codes8(bytes, g3, lift), ref Unsafe.Add(ref x, 56), ref acc0, ref acc1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector128<float> V128Rows(in Shape k, ref float xr, ref float ts, ref byte blk, ref ushort mn, ref ushort rg, int rowBytes, int rc)
    {
        var lift = Vector128.Create((ReadOnlySpan<ushort>)Base11PairsActivations.Lift8);
        var g0 = Vector128.Create((ReadOnlySpan<byte>)Base11PairsActivations.Gather);
        var g1 = Vector128.Create((ReadOnlySpan<byte>)Base11PairsActivations.Gather.AsSpan(16));
        var g2 = Vector128.Create((ReadOnlySpan<byte>)Base11PairsActivations.Gather.AsSpan(32));
        var g3 = Vector128.Create((ReadOnlySpan<byte>)Base11PairsActivations.Gather.AsSpan(48));
        Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
        float t0 = 0f, t1 = 0f, t2 = 0f, t3 = 0f;
        for (int g = 0; g < k.Groups; g++)
        {
            int blocks = Blocks(in k, g);
            ref float xg = ref Unsafe.Add(ref xr, (nint)g * k.PaddedGroup);
            ref byte wg = ref Unsafe.Add(ref blk, (nint)g * k.GroupBytes);
            Vector128<float> p0 = default, q0 = default, p1 = default, q1 = default, p2 = default, q2 = default, p3 = default, q3 = default;
            for (int b = 0; b < blocks; b++)
            {
                ref float xb = ref Unsafe.Add(ref xg, b * BlockWeights);
                ref byte wb = ref Unsafe.Add(ref wg, b * BlockBytes);
                Block128(ref wb, ref xb, lift, g0, g1, g2, g3, ref p0, ref q0);
                if (rc == RowBlock)
                {
                    Block128(ref Unsafe.Add(ref wb, rowBytes), ref xb, lift, g0, g1, g2, g3, ref p1, ref q1);
                    Block128(ref Unsafe.Add(ref wb, 2 * rowBytes), ref xb, lift, g0, g1, g2, g3, ref p2, ref q2);
                    Block128(ref Unsafe.Add(ref wb, 3 * rowBytes), ref xb, lift, g0, g1, g2, g3, ref p3, ref q3);
                }
            }

            float tg = Unsafe.Add(ref ts, g);
            a0 = Vector128.MultiplyAddEstimate(p0 + q0, Vector128.Create(Step * PackedDecode.HalfToSingle(Unsafe.Add(ref rg, g))), a0);
            t0 = float.MultiplyAddEstimate(PackedDecode.HalfToSingle(Unsafe.Add(ref mn, g)), tg, t0);
            if (rc == RowBlock)
            {
                a1 = Vector128.MultiplyAddEstimate(p1 + q1, Vector128.Create(Step * PackedDecode.HalfToSingle(Unsafe.Add(ref rg, k.Groups + g))), a1);
                a2 = Vector128.MultiplyAddEstimate(p2 + q2, Vector128.Create(Step * PackedDecode.HalfToSingle(Unsafe.Add(ref rg, (2 * k.Groups) + g))), a2);
                a3 = Vector128.MultiplyAddEstimate(p3 + q3, Vector128.Create(Step * PackedDecode.HalfToSingle(Unsafe.Add(ref rg, (3 * k.Groups) + g))), a3);
                t1 = float.MultiplyAddEstimate(PackedDecode.HalfToSingle(Unsafe.Add(ref mn, k.Groups + g)), tg, t1);
                t2 = float.MultiplyAddEstimate(PackedDecode.HalfToSingle(Unsafe.Add(ref mn, (2 * k.Groups) + g)), tg, t2);
                t3 = float.MultiplyAddEstimate(PackedDecode.HalfToSingle(Unsafe.Add(ref mn, (3 * k.Groups) + g)), tg, t3);
            }
        }

        return Vector128.Create(Vector128.Sum(a0) + t0, Vector128.Sum(a1) + t1, Vector128.Sum(a2) + t2, Vector128.Sum(a3) + t3);
    }
}
