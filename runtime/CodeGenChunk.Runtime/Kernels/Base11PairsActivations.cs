using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>
/// Integer activations for linear layers with base11 weights in the "pairs" layout (docs/activations.md, "base11 pairs";
/// the bytes: <c>Base11PairsFormat</c>): per block of 128 weights of a group, 64 seven-bit codes
/// <c>c_j = d[j] + 11 · d[64 + j]</c> in 56 bytes, the same indices d (0..10), binary16 min and range as the word layout
/// (<see cref="Base11Activations"/>). With <c>x_i = s · (q_i − z)</c> and the float kernels' convention
/// <c>w_i = 0.1 · range_g · d_i + min_g</c>:
/// <c>y_o = s · (Σ_g [0.1 · range_g · S_dq(o, g) + min_g · S_q(g)] − z · S_o) + b_o</c>, with the exact integer
/// <c>S_dq(o, g) = Σ_{i∈g} d_i · q_i</c>, the per-call group code sums <c>S_q(g) = Σ_{i∈g} q_i</c> (shared by all rows) and
/// the row sums <c>S_o = Σ_i w_i</c> of <see cref="RowStats"/> (the epilogue's zero-point correction, as in
/// <see cref="Int8Activations"/>): no per-row Σ d is needed.
/// <para>
/// Paths, all with the same int32 <c>S_dq</c>: Vector512 with AVX-512 VBMI (one <c>vpermb</c> puts each 7-byte run of codes
/// into its own qword, <c>vpmultishiftqb</c> moves code j of a run to byte j, two <c>vpermi2b</c> look the 64 codes up in
/// 128-entry tables of the low and the high index — no mask: the lookup reads index bits 6..0 — and <c>vpmaddubsw</c> /
/// <c>vpmaddwd</c> multiply them with the 128 u8 codes; one 64-byte load per block, 8 bytes past it, so the last row block of
/// the weights takes the Vector128 path); Vector128 (portable, the arm64 path: a byte shuffle gathers each
/// code's two bytes into a 16-bit lane, a multiply by 2^(9 − shift) and a shift by 9 isolate it, the index pair is
/// <c>hi = (c · 187) &gt;&gt; 11</c>, <c>lo = c − 11 · hi</c>, exact for c ≤ 127, products summed in 16-bit lanes per block
/// (at most 16 · 10 · 255 = 40,800) and widened per block); and scalar. Four rows share each block of activation codes.
/// </para>
/// <para>
/// Exact sums: <c>|S_dq(o, g)| ≤ 10 · 255 · n</c>, below 2²⁴ for a group of at most
/// <see cref="Base11Activations.MaxExactGroupLength"/> = 6,579 inputs (CGC0044), so the int32 sum and its float conversion
/// are exact; each group's sum is then scaled by <c>0.1 · range_g</c> in float as the float kernel does. Against the
/// bit-exact decode <c>HalfPlusOneTable[d] · range + min</c> the convention differs by at most one float32 rounding of the
/// weight (|Δw| ≤ 2⁻²⁴ · (|range| + |w|) per weight), as for every base11 kernel.
/// </para>
/// Nothing allocates. The input codes are read in place when every group is a whole number of 128-input blocks;
/// otherwise they are copied once per call into the scratch, each group padded with 0 to whole blocks.
/// </summary>
public static class Base11PairsActivations
{
    /// <summary>Weights per block.</summary>
    public const int BlockWeights = 128;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 56;

    private const float Step = 0.1f;

    // code c (0..127) -> c % 11 and c / 11; codes 121..127 never occur
    internal static readonly byte[] LowTable = Table(false);
    internal static readonly byte[] HighTable = Table(true);

    /// <summary>Bytes of one group of <paramref name="length"/> inputs: <c>ceil(length / 128) · 56</c>.</summary>
    public static int PackBytes(int length) => ((length + BlockWeights - 1) / BlockWeights) * BlockBytes;

    /// <summary>Bytes of one row: whole groups, then a shorter last group.</summary>
    public static int RowBytes(int inLen, int groupSize) => ((inLen / groupSize) * PackBytes(groupSize)) + PackBytes(inLen % groupSize);

    /// <summary>Codes of a group of <paramref name="length"/> inputs padded to whole blocks.</summary>
    public static int PaddedLength(int length) => ((length + BlockWeights - 1) / BlockWeights) * BlockWeights;

    /// <summary>Whether the input codes are read in place: every group (the last one too) is whole blocks.</summary>
    public static bool InPlace(int inLen, int groupSize) => groupSize % BlockWeights == 0 && inLen % BlockWeights == 0;

    /// <summary>Scratch of one call: the padded copy of the codes (none when <see cref="InPlace"/>), then one float Σ q per group.</summary>
    public static int ScratchBytes(int inLen, int groupSize) =>
        (InPlace(inLen, groupSize) ? 0 : ((inLen / groupSize) * PaddedLength(groupSize)) + PaddedLength(inLen % groupSize)) + (4 * ((inLen + groupSize - 1) / groupSize));

    private static byte[] Table(bool high)
    {
        var t = new byte[128];
        for (int c = 0; c < 128; c++)
        {
            t[c] = (byte)(high ? c / 11 : c % 11);
        }

        return t;
    }

    // ---------------------------------------------------------------- per-row weight statistics

    /// <summary>
    /// <paramref name="sums"/>[o] = Σ_i w_i and <paramref name="norms"/>[o] = √(Σ_i w_i²) over <c>w = 0.1 · range_g · d + min_g</c>
    /// (the twin of <see cref="Base11Activations.RowStats"/>; padding is not read).
    /// </summary>
    public static void RowStats(ReadOnlySpan<byte> w, ReadOnlySpan<ushort> mins, ReadOnlySpan<ushort> ranges, int inLen, int groupSize, Span<float> sums, Span<float> norms) =>
        Base11Activations.RowStats<Pairs>("Base11PairsActivations", w, mins, ranges, inLen, groupSize, sums, norms);

    /// <summary>The pairs layout for <see cref="Base11Activations.RowStats{TLayout}"/>.</summary>
    private readonly struct Pairs : Base11Activations.ILayout
    {
        public static int PackBytes(int length) => Base11PairsActivations.PackBytes(length);

        public static int Digit(ReadOnlySpan<byte> group, int i) => Base11PairsActivations.Digit(group, i);
    }

    /// <summary>Index <paramref name="i"/> (0..10) of a group's pairs bytes.</summary>
    public static int Digit(ReadOnlySpan<byte> group, int i)
    {
        int c = Code(ref MemoryMarshal.GetReference(group.Slice((i / BlockWeights) * BlockBytes, BlockBytes)), i % 64);
        return (i % BlockWeights) < 64 ? c % 11 : c / 11;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Code(ref byte block, int j)
    {
        int bit = 7 * j;
        int at = bit >> 3;
        int v = Unsafe.Add(ref block, at) | (at + 1 < BlockBytes ? Unsafe.Add(ref block, at + 1) << 8 : 0);
        return (v >> (bit & 7)) & 0x7F;
    }

    // ---------------------------------------------------------------- the kernel

    /// <summary>
    /// y = W x + b, ReLU, + residual, for u8 codes x (scale <paramref name="xScale"/>, zero point <paramref name="xZero"/>) and
    /// base11 pairs weights <paramref name="w"/> (row-major <c>[row][group][PackBytes]</c>, binary16 <paramref name="mins"/> and
    /// <paramref name="ranges"/> per row and group of <paramref name="groupSize"/> ≤ 6,579 inputs); <paramref name="sums"/> from
    /// <see cref="RowStats"/>; <paramref name="scratch"/> of at least <see cref="ScratchBytes"/>. Writes floats to
    /// <paramref name="y"/>, or, when <paramref name="yq"/> is not empty, u8 codes of scale <paramref name="yScale"/> and zero
    /// point <paramref name="yZero"/>; returns the number of clipped codes. <paramref name="path"/> is resolved
    /// (<see cref="KernelPaths.Resolve(KernelPath)"/>; Vector512 needs AVX-512 VBMI, else Vector128 runs).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Linear(
        ReadOnlySpan<byte> w,
        ReadOnlySpan<ushort> mins,
        ReadOnlySpan<ushort> ranges,
        ReadOnlySpan<float> bias,
        ReadOnlySpan<float> sums,
        ReadOnlySpan<byte> x,
        float xScale,
        int xZero,
        int groupSize,
        bool relu,
        Span<byte> scratch,
        ReadOnlySpan<float> residual,
        Span<float> y,
        Span<byte> yq,
        float yScale,
        int yZero,
        KernelPath path)
    {
        int outLen = sums.Length;
        int inLen = x.Length;
        int groups = groupSize < 1 ? 0 : (inLen + groupSize - 1) / groupSize;
        int rowBytes = inLen == 0 || groupSize < 1 ? 0 : RowBytes(inLen, groupSize);
        if (groupSize < 1 || Math.Min(groupSize, inLen) > Base11Activations.MaxExactGroupLength || (uint)xZero > Int8Activations.MaxCode
            || w.Length < (long)outLen * rowBytes || mins.Length < (long)outLen * groups || ranges.Length < (long)outLen * groups
            || scratch.Length < ScratchBytes(inLen, groupSize)
            || (yq.IsEmpty ? y.Length < outLen : yq.Length < outLen) || (!bias.IsEmpty && bias.Length < outLen) || (!residual.IsEmpty && residual.Length < outLen))
        {
            throw new ArgumentException("Base11PairsActivations.Linear: spans do not match the shape (a group may hold at most 6,579 inputs).");
        }

        path = Resolve(path);
        var k = Prepare(x, groupSize, groups, scratch, out var codes, out var groupSums);
        var e = new Int8Activations.Epilogue(ref MemoryMarshal.GetReference(bias), !bias.IsEmpty, ref MemoryMarshal.GetReference(sums), ref MemoryMarshal.GetReference(residual), !residual.IsEmpty, relu, xScale, -xZero, yScale, yZero, yq.IsEmpty);
        ref byte wr = ref MemoryMarshal.GetReference(w);
        ref ushort mr = ref MemoryMarshal.GetReference(mins);
        ref ushort rr = ref MemoryMarshal.GetReference(ranges);
        ref byte xr = ref MemoryMarshal.GetReference(codes);
        ref float ts = ref MemoryMarshal.GetReference(groupSums);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref byte qr = ref MemoryMarshal.GetReference(yq);
        int rowMain = outLen - (outLen % Int8Activations.RowBlock);
        int clipped = 0;
        for (int o = 0; o < outLen;)
        {
            int rc = o < rowMain ? Int8Activations.RowBlock : 1;
            ref byte blk = ref Unsafe.Add(ref wr, (nint)o * rowBytes);
            ref ushort mn = ref Unsafe.Add(ref mr, (nint)o * groups);
            ref ushort rg = ref Unsafe.Add(ref rr, (nint)o * groups);
            KernelPrefetch.Block(ref Unsafe.As<byte, sbyte>(ref blk), rc * rowBytes);
            float d0, d1 = 0f, d2 = 0f, d3 = 0f;

            // a Vector512 step loads 64 bytes from a 56-byte block: the row block whose last block ends within 8 bytes of the
            // end of the weights takes the Vector128 path (which reads only its blocks)
            var vector = path == KernelPath.Vector512 && ((long)(o + rc) * rowBytes) + 8 > w.Length ? KernelPath.Vector128 : path;
            switch (vector)
            {
                case KernelPath.Vector512 when rc == 4:
                    V512Rows(in k, ref xr, ref ts, ref blk, ref mn, ref rg, rowBytes, out d0, out d1, out d2, out d3);
                    break;
                case KernelPath.Vector512:
                case KernelPath.Vector128:
                    V128Rows(in k, ref xr, ref ts, ref blk, ref mn, ref rg, rowBytes, rc, out d0, out d1, out d2, out d3);
                    break;
                default:
                    ScalarRows(in k, ref xr, ref ts, ref blk, ref mn, ref rg, rowBytes, rc, out d0, out d1, out d2, out d3);
                    break;
            }

            clipped += e.StoreRows(ref yr, ref qr, o, rc, d0, d1, d2, d3);

            o += rc;
        }

        return clipped;
    }

    /// <summary>
    /// The int32 sums <c>S_dq(o, g) = Σ_{i∈g} d_i · q_i</c> of every row and group, <paramref name="dots"/> row-major
    /// <c>[rows][groups]</c>, computed by the block steps of <paramref name="path"/> (for tests: every path gives the same).
    /// </summary>
    public static void GroupDots(ReadOnlySpan<byte> w, ReadOnlySpan<byte> x, int rows, int groupSize, Span<byte> scratch, Span<int> dots, KernelPath path)
    {
        int inLen = x.Length;
        int groups = (inLen + groupSize - 1) / groupSize;
        int rowBytes = RowBytes(inLen, groupSize);
        if (w.Length < (long)rows * rowBytes || dots.Length < rows * groups || scratch.Length < ScratchBytes(inLen, groupSize))
        {
            throw new ArgumentException("Base11PairsActivations.GroupDots: spans do not match the shape.");
        }

        path = Resolve(path);
        var k = Prepare(x, groupSize, groups, scratch, out var codes, out _);
        ref byte xr = ref MemoryMarshal.GetReference(codes);
        for (int o = 0; o < rows; o++)
        {
            ref byte row = ref Unsafe.Add(ref MemoryMarshal.GetReference(w), (nint)o * rowBytes);
            for (int g = 0; g < groups; g++)
            {
                int blocks = Blocks(in k, g);
                ref byte wg = ref Unsafe.Add(ref row, (nint)g * k.GroupBytes);
                ref byte xg = ref Unsafe.Add(ref xr, (nint)g * k.PaddedGroup);
                int s = 0;
                for (int b = 0; b < blocks; b++)
                {
                    ref byte wb = ref Unsafe.Add(ref wg, b * BlockBytes);
                    ref byte xb = ref Unsafe.Add(ref xg, b * BlockWeights);
                    s += path switch
                    {
                        KernelPath.Vector512 when ((long)o * rowBytes) + (g * k.GroupBytes) + ((b + 1) * BlockBytes) + 8 <= w.Length => Vector512.Sum(Avx512BW.MultiplyAddAdjacent(Dot512(ref wb, Vector512.LoadUnsafe(ref xb), Vector512.LoadUnsafe(ref xb, 64), Vector512.Create((ReadOnlySpan<byte>)RunBytes), Vector512.Create((ReadOnlySpan<byte>)ShiftBytes), Vector512.Create((ReadOnlySpan<byte>)LowTable), Vector512.Create((ReadOnlySpan<byte>)LowTable.AsSpan(64)), Vector512.Create((ReadOnlySpan<byte>)HighTable), Vector512.Create((ReadOnlySpan<byte>)HighTable.AsSpan(64))), Vector512<short>.One)),
                        KernelPath.Vector512 or KernelPath.Vector128 => (int)Vector128.Sum(Widen(Dot128(ref wb, ref xb, Vector128.Create((ReadOnlySpan<ushort>)Lift8), Vector128.Create((ReadOnlySpan<byte>)Gather), Vector128.Create((ReadOnlySpan<byte>)Gather.AsSpan(16)), Vector128.Create((ReadOnlySpan<byte>)Gather.AsSpan(32)), Vector128.Create((ReadOnlySpan<byte>)Gather.AsSpan(48))))),
                        _ => ScalarBlock(ref wb, ref xb),
                    };
                }

                dots[(o * groups) + g] = s;
            }
        }
    }

    /// <summary>The path that runs: Vector512 with AVX-512 VBMI, Vector256 as Vector128, Vector128 when accelerated, else scalar.</summary>
    public static KernelPath Resolve(KernelPath path)
    {
        path = KernelPaths.Resolve(path);
        if (path == KernelPath.Vector512 && !Avx512Vbmi.IsSupported)
        {
            path = KernelPath.Vector256;
        }

        if (path == KernelPath.Vector256)
        {
            path = KernelPath.Vector128;
        }

        return path == KernelPath.Vector128 && !Vector128.IsHardwareAccelerated ? KernelPath.Scalar : path;
    }

    /// <summary>The codes padded to whole blocks per group (in place when they already are) and Σ q per group (exact in float).</summary>
    private static Shape Prepare(ReadOnlySpan<byte> x, int groupSize, int groups, Span<byte> scratch, out ReadOnlySpan<byte> codes, out Span<float> groupSums)
    {
        int inLen = x.Length;
        int padded = InPlace(inLen, groupSize) ? 0 : ((inLen / groupSize) * PaddedLength(groupSize)) + PaddedLength(inLen % groupSize);
        groupSums = MemoryMarshal.Cast<byte, float>(scratch.Slice(padded, 4 * groups));
        var copy = scratch.Slice(0, padded);
        if (padded > 0)
        {
            copy.Clear();
        }

        for (int g = 0; g < groups; g++)
        {
            int start = g * groupSize;
            int length = Math.Min(groupSize, inLen - start);
            var group = x.Slice(start, length);
            Int8Activations.CodeMoments(group, out long s, out _);
            groupSums[g] = s;
            if (padded > 0)
            {
                group.CopyTo(copy.Slice(g * PaddedLength(groupSize)));
            }
        }

        codes = padded > 0 ? copy : x;
        return new Shape(inLen, groupSize, groups);
    }

    /// <summary>The constants of one call.</summary>
    private readonly struct Shape
    {
        public readonly int In;
        public readonly int GroupSize;
        public readonly int Groups;
        public readonly int GroupBytes;
        public readonly int PaddedGroup;

        public Shape(int inLen, int groupSize, int groups)
        {
            In = inLen;
            GroupSize = groupSize;
            Groups = groups;
            GroupBytes = PackBytes(groupSize);
            PaddedGroup = PaddedLength(groupSize);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Blocks(in Shape k, int g) => (Math.Min(k.GroupSize, k.In - (g * k.GroupSize)) + BlockWeights - 1) / BlockWeights;

    // ---------------------------------------------------------------- scalar

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ScalarBlock(ref byte w, ref byte x)
    {
        int s = 0;
        for (int j = 0; j < 64; j++)
        {
            int c = Code(ref w, j);
            int hi = (c * 187) >> 11;
            s += ((c - (11 * hi)) * Unsafe.Add(ref x, j)) + (hi * Unsafe.Add(ref x, 64 + j));
        }

        return s;
    }

    private static void ScalarRows(in Shape k, ref byte xr, ref float ts, ref byte blk, ref ushort mn, ref ushort rg, int rowBytes, int rc, out float d0, out float d1, out float d2, out float d3)
    {
        d0 = ScalarRow(in k, ref xr, ref ts, ref blk, ref mn, ref rg);
        d1 = d2 = d3 = 0f;
        if (rc == 4)
        {
            d1 = ScalarRow(in k, ref xr, ref ts, ref Unsafe.Add(ref blk, rowBytes), ref Unsafe.Add(ref mn, k.Groups), ref Unsafe.Add(ref rg, k.Groups));
            d2 = ScalarRow(in k, ref xr, ref ts, ref Unsafe.Add(ref blk, 2 * rowBytes), ref Unsafe.Add(ref mn, 2 * k.Groups), ref Unsafe.Add(ref rg, 2 * k.Groups));
            d3 = ScalarRow(in k, ref xr, ref ts, ref Unsafe.Add(ref blk, 3 * rowBytes), ref Unsafe.Add(ref mn, 3 * k.Groups), ref Unsafe.Add(ref rg, 3 * k.Groups));
        }
    }

    private static float ScalarRow(in Shape k, ref byte xr, ref float ts, ref byte row, ref ushort mn, ref ushort rg)
    {
        float d = 0f;
        for (int g = 0; g < k.Groups; g++)
        {
            int blocks = Blocks(in k, g);
            int s = 0;
            for (int b = 0; b < blocks; b++)
            {
                s += ScalarBlock(ref Unsafe.Add(ref row, ((nint)g * k.GroupBytes) + (b * BlockBytes)), ref Unsafe.Add(ref xr, ((nint)g * k.PaddedGroup) + (b * BlockWeights)));
            }

            d += (Step * PackedDecode.HalfToSingle(Unsafe.Add(ref rg, g)) * s) + (PackedDecode.HalfToSingle(Unsafe.Add(ref mn, g)) * Unsafe.Add(ref ts, g));
        }

        return d;
    }

    // ---------------------------------------------------------------- Vector512 (AVX-512 VBMI)

    // vpermb: qword r of the result holds bytes 7r..7r+6 of the block (byte 7 of a qword repeats byte 7r+6: unused)
    internal static readonly byte[] RunBytes = RunIndex();

    // vpmultishiftqb: byte j of each qword starts at bit 7j
    internal static readonly byte[] ShiftBytes = { 0, 7, 14, 21, 28, 35, 42, 49, 0, 7, 14, 21, 28, 35, 42, 49, 0, 7, 14, 21, 28, 35, 42, 49, 0, 7, 14, 21, 28, 35, 42, 49, 0, 7, 14, 21, 28, 35, 42, 49, 0, 7, 14, 21, 28, 35, 42, 49, 0, 7, 14, 21, 28, 35, 42, 49, 0, 7, 14, 21, 28, 35, 42, 49 };

    private static byte[] RunIndex()
    {
        var t = new byte[64];
        for (int r = 0; r < 8; r++)
        {
            for (int i = 0; i < 8; i++)
            {
                t[(8 * r) + i] = (byte)((7 * r) + Math.Min(i, 6));
            }
        }

        return t;
    }

    /// <summary>Σ d·q of one block in 32 int16 lanes (each ≤ 4 · 10 · 255): the low indices times codes 0..63, the high ones times 64..127.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Dot512(ref byte w, Vector512<byte> xLo, Vector512<byte> xHi, Vector512<byte> runIndex, Vector512<byte> shifts, Vector512<byte> low0, Vector512<byte> low1, Vector512<byte> high0, Vector512<byte> high1)
    {
        // 64 bytes from the block's start: 8 past its end (the next block's or row's; the caller keeps the last row block
        // of the weights off this path), which the run index never selects
        var runs = Avx512Vbmi.PermuteVar64x8(Vector512.LoadUnsafe(ref w), runIndex);
        var codes = Avx512Vbmi.MultiShift(shifts, runs.AsUInt64());
        var lo = Avx512Vbmi.PermuteVar64x8x2(low0, codes, low1);
        var hi = Avx512Vbmi.PermuteVar64x8x2(high0, codes, high1);
        return Avx512BW.MultiplyAddAdjacent(xLo, lo.AsSByte()) + Avx512BW.MultiplyAddAdjacent(xHi, hi.AsSByte());
    }

    /// <summary>The indices of one block as bytes: <paramref name="lo"/> = d[0..63], <paramref name="hi"/> = d[64..127] (Dot512's decode; reads 64 bytes, 8 past the block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Digits512(ref byte w, Vector512<byte> runIndex, Vector512<byte> shifts, Vector512<byte> low0, Vector512<byte> low1, Vector512<byte> high0, Vector512<byte> high1, out Vector512<byte> lo, out Vector512<byte> hi)
    {
        var codes = Avx512Vbmi.MultiShift(shifts, Avx512Vbmi.PermuteVar64x8(Vector512.LoadUnsafe(ref w), runIndex).AsUInt64());
        lo = Avx512Vbmi.PermuteVar64x8x2(low0, codes, low1);
        hi = Avx512Vbmi.PermuteVar64x8x2(high0, codes, high1);
    }

    /// <summary>
    /// Four rows (a single row takes the Vector128 path): per group the exact int32 sums of the four rows, reduced together,
    /// scaled by their 0.1 · range, plus min · Σ q.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void V512Rows(in Shape k, ref byte xr, ref float ts, ref byte blk, ref ushort mn, ref ushort rg, int rowBytes, out float d0, out float d1, out float d2, out float d3)
    {
        var ones = Vector512<short>.One;
        var runIndex = Vector512.Create((ReadOnlySpan<byte>)RunBytes);
        var shifts = Vector512.Create((ReadOnlySpan<byte>)ShiftBytes);
        var low0 = Vector512.Create((ReadOnlySpan<byte>)LowTable);
        var low1 = Vector512.Create((ReadOnlySpan<byte>)LowTable.AsSpan(64));
        var high0 = Vector512.Create((ReadOnlySpan<byte>)HighTable);
        var high1 = Vector512.Create((ReadOnlySpan<byte>)HighTable.AsSpan(64));
        var acc = Vector128<float>.Zero;
        int groups = k.Groups, paddedGroup = k.PaddedGroup, groupBytes = k.GroupBytes;

        // four groups per row (BigNet's 1,024 inputs, the MNIST MLP's 784, in groups of 256): the row block's 16 ranges and
        // 16 minima converted once; group g's four are lanes g, 4 + g, 8 + g, 12 + g, picked by one permute each
        bool four = groups == 4;
        Vector512<float> ranges16 = default, mins16 = default;
        var pick0 = Vector512.Create(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        if (four)
        {
            ranges16 = Halves16(ref rg) * Vector512.Create(Step);
            mins16 = Halves16(ref mn);
        }

        for (int g = 0; g < groups; g++)
        {
            int blocks = Blocks(in k, g);
            ref byte xg = ref Unsafe.Add(ref xr, (nint)g * paddedGroup);
            ref byte wg = ref Unsafe.Add(ref blk, (nint)g * groupBytes);
            Vector512<int> p0 = default, p1 = default, p2 = default, p3 = default;
            for (int b = 0; b < blocks; b++)
            {
                ref byte xb = ref Unsafe.Add(ref xg, b * BlockWeights);
                var xLo = Vector512.LoadUnsafe(ref xb);
                var xHi = Vector512.LoadUnsafe(ref xb, 64);
                ref byte wb = ref Unsafe.Add(ref wg, b * BlockBytes);
                p0 += Avx512BW.MultiplyAddAdjacent(Dot512(ref wb, xLo, xHi, runIndex, shifts, low0, low1, high0, high1), ones);
                p1 += Avx512BW.MultiplyAddAdjacent(Dot512(ref Unsafe.Add(ref wb, rowBytes), xLo, xHi, runIndex, shifts, low0, low1, high0, high1), ones);
                p2 += Avx512BW.MultiplyAddAdjacent(Dot512(ref Unsafe.Add(ref wb, 2 * rowBytes), xLo, xHi, runIndex, shifts, low0, low1, high0, high1), ones);
                p3 += Avx512BW.MultiplyAddAdjacent(Dot512(ref Unsafe.Add(ref wb, 3 * rowBytes), xLo, xHi, runIndex, shifts, low0, low1, high0, high1), ones);
            }

            var sums = Vector128.ConvertToSingle(Reduce4(p0, p1, p2, p3));
            Vector128<float> range, min;
            if (four)
            {
                var pick = pick0 + Vector512.Create(g);
                range = Avx512F.PermuteVar16x32(ranges16, pick).GetLower().GetLower();
                min = Avx512F.PermuteVar16x32(mins16, pick).GetLower().GetLower();
            }
            else
            {
                range = Halves4(ref rg, g, groups) * Vector128.Create(Step);
                min = Halves4(ref mn, g, groups);
            }

            acc = Vector128.MultiplyAddEstimate(sums, range, acc);
            acc = Vector128.MultiplyAddEstimate(min, Vector128.Create(Unsafe.Add(ref ts, g)), acc);
        }

        d0 = acc.GetElement(0);
        d1 = acc.GetElement(1);
        d2 = acc.GetElement(2);
        d3 = acc.GetElement(3);
    }

    /// <summary>[Σ p0, Σ p1, Σ p2, Σ p3] of four int32 vectors (a transpose-add tree: 12 instructions, not four full reductions).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Reduce4(Vector512<int> p0, Vector512<int> p1, Vector512<int> p2, Vector512<int> p3)
    {
        // per 128-bit lane: a = [p0 0+2, p1 0+2, p0 1+3, p1 1+3], b the same for p2, p3; then [p0, p1, p2, p3] per lane
        var a = Avx512F.UnpackLow(p0, p1) + Avx512F.UnpackHigh(p0, p1);
        var b = Avx512F.UnpackLow(p2, p3) + Avx512F.UnpackHigh(p2, p3);
        var c = Avx512F.UnpackLow(a.AsInt64(), b.AsInt64()).AsInt32() + Avx512F.UnpackHigh(a.AsInt64(), b.AsInt64()).AsInt32();
        var h = c.GetLower() + c.GetUpper();
        return h.GetLower() + h.GetUpper();
    }

    /// <summary>Sixteen consecutive binary16 values as floats (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Halves16(ref ushort p)
    {
        var h = Vector512.WidenLower(Vector256.LoadUnsafe(ref p).ToVector512Unsafe());
        var magnitude = ((h & Vector512.Create(0x7FFFu)) << 13).AsSingle() * Vector512.Create(5.192296858534828E+33f);
        return (magnitude.AsUInt32() | ((h & Vector512.Create(0x8000u)) << 16)).AsSingle();
    }

    /// <summary>The binary16 values of group <paramref name="g"/> of four consecutive rows as floats (exact; see <see cref="PackedDecode.HalfToSingle"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Halves4(ref ushort rows, int g, int groups)
    {
        var h = Vector128.Create((uint)Unsafe.Add(ref rows, g), Unsafe.Add(ref rows, groups + g), Unsafe.Add(ref rows, (2 * groups) + g), Unsafe.Add(ref rows, (3 * groups) + g));
        var magnitude = ((h & Vector128.Create(0x7FFFu)) << 13).AsSingle() * Vector128.Create(5.192296858534828E+33f);
        return (magnitude.AsUInt32() | ((h & Vector128.Create(0x8000u)) << 16)).AsSingle();
    }

    // ---------------------------------------------------------------- Vector128 (portable; arm64)

    // per 16-byte load of two runs (bytes 0..13 of the load; the last pair is loaded from byte 40, two bytes later):
    // lane j of run 0 gathers bytes 7j/8 and 7j/8 + 1, run 1 the same 7 bytes on; 255 = a byte the code does not need
    internal static readonly byte[] Gather = GatherIndex();

    // 2^(9 - (7j mod 8)): the code's bits moved to 9..15 of the lane
    internal static readonly ushort[] Lift8 = { 512, 4, 8, 16, 32, 64, 128, 256 };

    private static byte[] GatherIndex()
    {
        // four 16-byte index vectors: run 0 and run 1 of a pair at load offset 0, and at load offset 2 (the last pair)
        var t = new byte[64];
        for (int v = 0; v < 4; v++)
        {
            int baseByte = ((v & 1) * 7) + ((v >> 1) * 2);
            for (int j = 0; j < 8; j++)
            {
                int b = baseByte + ((7 * j) >> 3);
                t[(16 * v) + (2 * j)] = (byte)b;
                t[(16 * v) + (2 * j) + 1] = j == 7 ? (byte)255 : (byte)(b + 1);
            }
        }

        return t;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<ushort> Codes8(Vector128<byte> bytes, Vector128<byte> gather, Vector128<ushort> lift) =>
        Vector128.ShiftRightLogical(Vector128.Shuffle(bytes, gather).AsUInt16() * lift, 9);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ushort> Pair8(Vector128<ushort> c, Vector128<ushort> xLo, Vector128<ushort> xHi, Vector128<ushort> acc)
    {
        var hi = Vector128.ShiftRightLogical(c * Vector128.Create((ushort)187), 11);
        var lo = c - (hi * Vector128.Create((ushort)11));
        return acc + (lo * xLo) + (hi * xHi);
    }

    /// <summary>Σ d·q of one block in eight 16-bit lanes (each ≤ 16 · 10 · 255 = 40,800).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ushort> Dot128(ref byte w, ref byte x, Vector128<ushort> lift, Vector128<byte> g0, Vector128<byte> g1, Vector128<byte> g2, Vector128<byte> g3)
    {
        var acc = Vector128<ushort>.Zero;
        acc = Pairs16(Vector128.LoadUnsafe(ref w), g0, g1, Vector128.LoadUnsafe(ref x), Vector128.LoadUnsafe(ref x, 64), lift, acc);
        acc = Pairs16(Vector128.LoadUnsafe(ref w, 14), g0, g1, Vector128.LoadUnsafe(ref x, 16), Vector128.LoadUnsafe(ref x, 80), lift, acc);
        acc = Pairs16(Vector128.LoadUnsafe(ref w, 28), g0, g1, Vector128.LoadUnsafe(ref x, 32), Vector128.LoadUnsafe(ref x, 96), lift, acc);
        return Pairs16(Vector128.LoadUnsafe(ref w, 40), g2, g3, Vector128.LoadUnsafe(ref x, 48), Vector128.LoadUnsafe(ref x, 112), lift, acc);
    }

    /// <summary>Two runs (16 codes) of one 16-byte load times their 16 low and 16 high activation codes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ushort> Pairs16(Vector128<byte> bytes, Vector128<byte> g0, Vector128<byte> g1, Vector128<byte> xLo, Vector128<byte> xHi, Vector128<ushort> lift, Vector128<ushort> acc)
    {
        acc = Pair8(Codes8(bytes, g0, lift), Vector128.WidenLower(xLo), Vector128.WidenLower(xHi), acc);
        return Pair8(Codes8(bytes, g1, lift), Vector128.WidenUpper(xLo), Vector128.WidenUpper(xHi), acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Widen(Vector128<ushort> v) => Vector128.WidenLower(v) + Vector128.WidenUpper(v);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void V128Rows(in Shape k, ref byte xr, ref float ts, ref byte blk, ref ushort mn, ref ushort rg, int rowBytes, int rc, out float d0, out float d1, out float d2, out float d3)
    {
        var lift = Vector128.Create((ReadOnlySpan<ushort>)Lift8);
        var g0 = Vector128.Create((ReadOnlySpan<byte>)Gather);
        var g1 = Vector128.Create((ReadOnlySpan<byte>)Gather.AsSpan(16));
        var g2 = Vector128.Create((ReadOnlySpan<byte>)Gather.AsSpan(32));
        var g3 = Vector128.Create((ReadOnlySpan<byte>)Gather.AsSpan(48));
        Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
        float t0 = 0f, t1 = 0f, t2 = 0f, t3 = 0f;
        for (int g = 0; g < k.Groups; g++)
        {
            int blocks = Blocks(in k, g);
            ref byte xg = ref Unsafe.Add(ref xr, (nint)g * k.PaddedGroup);
            ref byte wg = ref Unsafe.Add(ref blk, (nint)g * k.GroupBytes);
            Vector128<uint> p0 = default, p1 = default, p2 = default, p3 = default;
            for (int b = 0; b < blocks; b++)
            {
                ref byte xb = ref Unsafe.Add(ref xg, b * BlockWeights);
                ref byte wb = ref Unsafe.Add(ref wg, b * BlockBytes);
                p0 += Widen(Dot128(ref wb, ref xb, lift, g0, g1, g2, g3));
                if (rc == 4)
                {
                    p1 += Widen(Dot128(ref Unsafe.Add(ref wb, rowBytes), ref xb, lift, g0, g1, g2, g3));
                    p2 += Widen(Dot128(ref Unsafe.Add(ref wb, 2 * rowBytes), ref xb, lift, g0, g1, g2, g3));
                    p3 += Widen(Dot128(ref Unsafe.Add(ref wb, 3 * rowBytes), ref xb, lift, g0, g1, g2, g3));
                }
            }

            float tg = Unsafe.Add(ref ts, g);
            a0 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(p0.AsInt32()), Vector128.Create(Step * PackedDecode.HalfToSingle(Unsafe.Add(ref rg, g))), a0);
            t0 = float.MultiplyAddEstimate(PackedDecode.HalfToSingle(Unsafe.Add(ref mn, g)), tg, t0);
            if (rc == 4)
            {
                a1 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(p1.AsInt32()), Vector128.Create(Step * PackedDecode.HalfToSingle(Unsafe.Add(ref rg, k.Groups + g))), a1);
                a2 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(p2.AsInt32()), Vector128.Create(Step * PackedDecode.HalfToSingle(Unsafe.Add(ref rg, (2 * k.Groups) + g))), a2);
                a3 = Vector128.MultiplyAddEstimate(Vector128.ConvertToSingle(p3.AsInt32()), Vector128.Create(Step * PackedDecode.HalfToSingle(Unsafe.Add(ref rg, (3 * k.Groups) + g))), a3);
                t1 = float.MultiplyAddEstimate(PackedDecode.HalfToSingle(Unsafe.Add(ref mn, k.Groups + g)), tg, t1);
                t2 = float.MultiplyAddEstimate(PackedDecode.HalfToSingle(Unsafe.Add(ref mn, (2 * k.Groups) + g)), tg, t2);
                t3 = float.MultiplyAddEstimate(PackedDecode.HalfToSingle(Unsafe.Add(ref mn, (3 * k.Groups) + g)), tg, t3);
            }
        }

        d0 = Vector128.Sum(a0) + t0;
        d1 = Vector128.Sum(a1) + t1;
        d2 = Vector128.Sum(a2) + t2;
        d3 = Vector128.Sum(a3) + t3;
    }
}
