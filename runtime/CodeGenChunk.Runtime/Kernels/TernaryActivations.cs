using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>
/// Integer activations for linear layers with ternary weights (docs/activations.md, "ternary weights"): the u8 activation
/// codes of <see cref="Int8Activations"/> times the ternary format's trits (<c>TernaryBlockFormat</c>: blocks of 80 inputs in
/// 16 bytes, byte j = Σ_{i=0..4} t(16i + j) · 3^i with t = q + 1), row-blocked as the packer stores them (blocks of four rows,
/// each 16-byte block of the four rows side by side: one 64-byte line holds block b of four rows). Per row and group the
/// kernel forms the exact integer <c>S_g = Σ_{i∈g} q_i · x_i</c> (x the u8 codes), scales it by the group's α and leaves the
/// zero point, bias, ReLU, residual and requantization to <see cref="Int8Activations"/>' epilogue, with the row sums
/// <c>Σ_g α_g Σ_{i∈g} q_i</c> of <see cref="RowStats"/> (computed once, at model open).
/// <para>
/// Paths, all with the same int32 <c>S_g</c>: Vector512 with AVX-512 VBMI (one 64-byte load is block b of four rows, each row
/// in its own 128-bit lane; one <c>vpermb</c> of <c>b ≫ 2</c> gives <c>27 · ⌊4(b ≫ 2) / 27⌋</c>, so <c>r' = b −</c> that (0..53) has b's
/// digits 0–2, one unsigned <c>min(r', r' − 27)</c> makes <c>r = b mod 27</c> and <c>u = b − r</c> has digits 3–4: five more one-uop
/// <c>vpermb</c> lookups in 64-entry tables of <c>q = t − 1</c>, three of r' and two of u; each digit
/// plane's 16 codes are one broadcast 16-byte load of the inputs shared by the four rows; <c>vpmaddubsw</c> (u8 codes × s8 q) into int16
/// accumulators, widened by <c>vpmaddwd</c> once per ≤ 12 blocks: at most 12 · 5 · 510 = 30,600 per int16 lane); Vector128
/// (portable, the arm64 path: digits by exact magic divisions in 16-bit lanes, <c>b/3 = (b·171)≫9</c>, <c>b/9 = (b·57)≫9</c>,
/// <c>b/27 = (b·19)≫9</c>, <c>b/81 = (b·203)≫14</c>, trits t times the widened codes summed in uint16 for ≤ 12 blocks
/// (≤ 12 · 10 · 2 · 255 = 61,200), then Σ t·x − Σ x; on arm64 with the dot-product extension instead the trits as bytes by
/// unsigned min steps and 16-entry table lookups, multiplied by <c>udot</c>); and scalar. Four rows share each block of
/// activation codes.
/// </para>
/// <para>
/// No overflow: <c>|S_g| ≤ 255 · n</c> for a group of n inputs, below 2³¹ − 1 for groups of up to
/// <see cref="MaxInt32GroupLength"/> inputs (the planner refuses longer groups, CGC0044).
/// </para>
/// Nothing allocates. The input codes are read in place when the input is whole blocks of 80; otherwise they are copied once per
/// call into the scratch, padded with code 0 to whole blocks (the weights' padding trits are q = 0 too).
/// </summary>
public static class TernaryActivations
{
    /// <summary>Largest group length (a multiple of 80) whose int32 sum of u8 codes times q (−1..1) cannot overflow: ⌊(2³¹ − 1) / 255 / 80⌋ · 80.</summary>
    public const int MaxInt32GroupLength = int.MaxValue / 255 / BlockElements * BlockElements;

    /// <summary>Inputs per 16-byte block of the ternary format.</summary>
    public const int BlockElements = 80;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 16;

    /// <summary>Blocks whose int16 (Vector512) or uint16 (Vector128) partial sums are widened together (see the class remarks).</summary>
    private const int ChunkBlocks = 12;

    /// <summary>Packed bytes of one row: <c>ceil(in / 80) · 16</c>.</summary>
    public static int RowBytes(int inLen) => ((inLen + BlockElements - 1) / BlockElements) * BlockBytes;

    /// <summary>Whether the input codes are read in place: the input is whole blocks of 80.</summary>
    public static bool InPlace(int inLen) => inLen % BlockElements == 0;

    /// <summary>Scratch of one call: the codes padded to whole blocks (none when <see cref="InPlace"/>), then one int Σ x per group.</summary>
    public static int ScratchBytes(int inLen, int groupSize) =>
        (InPlace(inLen) ? 0 : ((inLen + BlockElements - 1) / BlockElements) * BlockElements) + (4 * ((inLen + groupSize - 1) / groupSize));

    // the Vector512 path's vpermb tables, 64 bytes each: table 5 (first) 27 · ⌊4m / 27⌋ by m = b ≫ 2; q = t − 1 of digits 0–2
    // by r' = b − that (0..53: r' mod 27's digits, the same as b's); of digits 3–4 by (b − b mod 27) mod 64 (b − b mod 27 = 27k,
    // k = 0..8: entries 0, 27, 54, 17, 44, 7, 34, 61, 24)
    private static readonly sbyte[] DigitTables = DigitTable();

    private static sbyte[] DigitTable()
    {
        var t = new sbyte[6 * 64];
        for (int r = 0; r < 54; r++)
        {
            t[r] = (sbyte)(((r % 27) % 3) - 1);
            t[64 + r] = (sbyte)((((r % 27) / 3) % 3) - 1);
            t[128 + r] = (sbyte)(((r % 27) / 9) - 1);
        }

        for (int k = 0; k < 9; k++)
        {
            t[192 + ((27 * k) % 64)] = (sbyte)((k % 3) - 1);
            t[256 + ((27 * k) % 64)] = (sbyte)((k / 3) - 1);
        }

        for (int m = 0; m < 64; m++)
        {
            t[320 + m] = (sbyte)(byte)(27 * ((4 * m) / 27));
        }

        return t;
    }

    // ---------------------------------------------------------------- per-row weight statistics

    /// <summary>
    /// The ternary twin of <see cref="Int8Activations.RowStats"/>: per row, <paramref name="sums"/>[o] = Σ_g α_g · Σ_{i∈g} q_i
    /// and <paramref name="norms"/>[o] = √(Σ_i (α_g · q_i)²), from the row-blocked bytes. Padding trits are not read.
    /// </summary>
    public static void RowStats(ReadOnlySpan<byte> w, ReadOnlySpan<float> scales, int inLen, int groupSize, Span<float> sums, Span<float> norms)
    {
        int outLen = sums.Length;
        int groups = (inLen + groupSize - 1) / groupSize;
        int rowBytes = RowBytes(inLen);
        int rowMain = outLen - (outLen % Int8Activations.RowBlock);
        if (groupSize < BlockElements || groupSize % BlockElements != 0 || w.Length < (long)outLen * rowBytes || scales.Length < (long)outLen * groups || norms.Length < outLen)
        {
            throw new ArgumentException("TernaryActivations.RowStats: spans do not match the shape (the group size must be a multiple of 80).");
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
                    int v = Trit(blk, i, rc, r) - 1;
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

    /// <summary>The stored trit t = q + 1 (0..2) of input <paramref name="i"/> of row <paramref name="r"/> in a row block of <paramref name="rc"/> rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Trit(ReadOnlySpan<byte> blk, int i, int rc, int r)
    {
        int e = i % BlockElements;
        int b = blk[((i / BlockElements) * rc * BlockBytes) + (r * BlockBytes) + (e % BlockBytes)];
        return e < 16 ? b % 3 : e < 32 ? (b / 3) % 3 : e < 48 ? (b / 9) % 3 : e < 64 ? (b / 27) % 3 : b / 81;
    }

    // ---------------------------------------------------------------- the kernel

    /// <summary>
    /// y = W x + b, ReLU, + residual, for u8 codes x (scale <paramref name="xScale"/>, zero point <paramref name="xZero"/>) and
    /// ternary weights <paramref name="w"/> (row-blocked, one float α per <paramref name="groupSize"/> inputs, a multiple of 80
    /// up to <see cref="MaxInt32GroupLength"/>); <paramref name="sums"/> from <see cref="RowStats"/>; <paramref name="scratch"/> of
    /// at least <see cref="ScratchBytes"/>. Writes floats to <paramref name="y"/>, or, when <paramref name="yq"/> is not empty,
    /// u8 codes of scale <paramref name="yScale"/> and zero point <paramref name="yZero"/>; returns the number of clipped codes.
    /// <paramref name="path"/> is resolved (<see cref="Resolve"/>: Vector512 needs AVX-512 VBMI, else Vector128 runs).
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
        int rowBytes = RowBytes(inLen);
        if (groupSize < BlockElements || groupSize % BlockElements != 0 || groupSize > MaxInt32GroupLength || (uint)xZero > Int8Activations.MaxCode
            || w.Length < (long)outLen * rowBytes || scales.Length < (long)outLen * groups || scratch.Length < ScratchBytes(inLen, groupSize)
            || (yq.IsEmpty ? y.Length < outLen : yq.Length < outLen) || (!bias.IsEmpty && bias.Length < outLen) || (!residual.IsEmpty && residual.Length < outLen))
        {
            throw new ArgumentException("TernaryActivations.Linear: spans do not match the shape (the group size must be a multiple of 80).");
        }

        path = Resolve(path);
        var k = Prepare(x, groupSize, scratch, out var codes, out var codeSums);
        var e = new Int8Activations.Epilogue(ref MemoryMarshal.GetReference(bias), !bias.IsEmpty, ref MemoryMarshal.GetReference(sums), ref MemoryMarshal.GetReference(residual), !residual.IsEmpty, relu, xScale, -xZero, yScale, yZero, yq.IsEmpty);
        ref byte wr = ref MemoryMarshal.GetReference(w);
        ref float sr = ref MemoryMarshal.GetReference(scales);
        ref byte xr = ref MemoryMarshal.GetReference(codes);
        ref int cs = ref MemoryMarshal.GetReference(codeSums);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref byte qr = ref MemoryMarshal.GetReference(yq);
        int rowMain = outLen - (outLen % Int8Activations.RowBlock);
        int clipped = 0;
        for (int o = 0; o < outLen;)
        {
            int rc = o < rowMain ? Int8Activations.RowBlock : 1;
            ref byte blk = ref Unsafe.Add(ref wr, (nint)o * rowBytes);
            ref float sc = ref Unsafe.Add(ref sr, (nint)o * groups);
            float d0, d1 = 0f, d2 = 0f, d3 = 0f;
            if (path == KernelPath.Vector512 && rc == 4)
            {
                V512Rows(in k, ref xr, ref blk, ref sc, out d0, out d1, out d2, out d3);
            }
            else if (path is KernelPath.Vector512 or KernelPath.Vector128)
            {
                V128Rows(in k, ref xr, ref cs, ref blk, ref sc, rc, out d0, out d1, out d2, out d3);
            }
            else
            {
                ScalarRows(in k, ref xr, ref blk, ref sc, rc, out d0, out d1, out d2, out d3);
            }

            clipped += e.StoreRows(ref yr, ref qr, o, rc, d0, d1, d2, d3);

            o += rc;
        }

        return clipped;
    }

    /// <summary>
    /// The int32 sums <c>S_g(o) = Σ_{i∈g} q_i · x_i</c> of every row and group of the row-blocked weights <paramref name="w"/>,
    /// <paramref name="dots"/> row-major <c>[rows][groups]</c>, computed by the group steps of <paramref name="path"/> (for
    /// tests: every path gives the same).
    /// </summary>
    public static void GroupDots(ReadOnlySpan<byte> w, ReadOnlySpan<byte> x, int rows, int groupSize, Span<byte> scratch, Span<int> dots, KernelPath path)
    {
        int inLen = x.Length;
        int groups = (inLen + groupSize - 1) / groupSize;
        int rowBytes = RowBytes(inLen);
        if (groupSize < BlockElements || groupSize % BlockElements != 0 || w.Length < (long)rows * rowBytes || dots.Length < rows * groups || scratch.Length < ScratchBytes(inLen, groupSize))
        {
            throw new ArgumentException("TernaryActivations.GroupDots: spans do not match the shape.");
        }

        path = Resolve(path);
        var k = Prepare(x, groupSize, scratch, out var codes, out var codeSums);
        ref byte xr = ref MemoryMarshal.GetReference(codes);
        ref int cs = ref MemoryMarshal.GetReference(codeSums);
        int rowMain = rows - (rows % Int8Activations.RowBlock);
        for (int o = 0; o < rows;)
        {
            int rc = o < rowMain ? Int8Activations.RowBlock : 1;
            ref byte blk = ref Unsafe.Add(ref MemoryMarshal.GetReference(w), (nint)o * rowBytes);
            for (int g = 0; g < groups; g++)
            {
                var s = path == KernelPath.Vector512 && rc == 4 ? LaneSums(Group512(in k, ref xr, ref blk, g))
                    : path is KernelPath.Vector512 or KernelPath.Vector128 ? Group128(in k, ref xr, Unsafe.Add(ref cs, g), ref blk, rc, g)
                    : GroupScalar(in k, ref xr, ref blk, rc, g);
                for (int r = 0; r < rc; r++)
                {
                    dots[((o + r) * groups) + g] = s.GetElement(r);
                }
            }

            o += rc;
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

    /// <summary>The codes padded to whole blocks (in place when they already are) and Σ x per group.</summary>
    private static Shape Prepare(ReadOnlySpan<byte> x, int groupSize, Span<byte> scratch, out ReadOnlySpan<byte> codes, out Span<int> codeSums)
    {
        int inLen = x.Length;
        int groups = (inLen + groupSize - 1) / groupSize;
        int padded = InPlace(inLen) ? 0 : ((inLen + BlockElements - 1) / BlockElements) * BlockElements;
        codeSums = MemoryMarshal.Cast<byte, int>(scratch.Slice(padded, 4 * groups));
        if (padded > 0)
        {
            var copy = scratch.Slice(0, padded);
            x.CopyTo(copy);
            copy.Slice(inLen).Clear();
            codes = copy;
        }
        else
        {
            codes = x;
        }

        for (int g = 0; g < groups; g++)
        {
            int start = g * groupSize;
            Int8Activations.CodeMoments(x.Slice(start, Math.Min(groupSize, inLen - start)), out long s, out _);
            codeSums[g] = (int)s;
        }

        return new Shape(inLen, groupSize, groups);
    }

    /// <summary>The constants of one call.</summary>
    private readonly struct Shape
    {
        public readonly int Groups;
        public readonly int Blocks;
        public readonly int PerGroup;

        public Shape(int inLen, int groupSize, int groups)
        {
            Groups = groups;
            Blocks = (inLen + BlockElements - 1) / BlockElements;
            PerGroup = groupSize / BlockElements;
        }
    }

    // Layout of a row block of rc rows: block b (inputs 80b..80b+79) of row r at b · rc · 16 + r · 16; group g covers blocks
    // g · PerGroup up to min((g + 1) · PerGroup, Blocks); the codes are padded to Blocks · 80.

    // ---------------------------------------------------------------- scalar

    private static Vector128<int> GroupScalar(in Shape k, ref byte x, ref byte blk, int rc, int g)
    {
        var s = Vector128<int>.Zero;
        int last = Math.Min((g + 1) * k.PerGroup, k.Blocks);
        for (int r = 0; r < rc; r++)
        {
            int sum = 0;
            for (int b = g * k.PerGroup; b < last; b++)
            {
                ref byte wb = ref Unsafe.Add(ref blk, ((nint)b * rc * BlockBytes) + (r * BlockBytes));
                ref byte xb = ref Unsafe.Add(ref x, b * BlockElements);
                for (int j = 0; j < BlockBytes; j++)
                {
                    // the five trits of byte j are inputs j, 16 + j, …, 64 + j
                    int v = Unsafe.Add(ref wb, j);
                    for (int i = 0; i < 5; i++)
                    {
                        int d = v / 3;
                        sum += (v - (3 * d) - 1) * Unsafe.Add(ref xb, (16 * i) + j);
                        v = d;
                    }
                }
            }

            s = s.WithElement(r, sum);
        }

        return s;
    }

    private static void ScalarRows(in Shape k, ref byte x, ref byte blk, ref float sc, int rc, out float d0, out float d1, out float d2, out float d3)
    {
        var d = Vector128<float>.Zero;
        for (int g = 0; g < k.Groups; g++)
        {
            var s = GroupScalar(in k, ref x, ref blk, rc, g);
            for (int r = 0; r < rc; r++)
            {
                d = d.WithElement(r, float.MultiplyAddEstimate(s.GetElement(r), Unsafe.Add(ref sc, (r * k.Groups) + g), d.GetElement(r)));
            }
        }

        d0 = d.GetElement(0);
        d1 = d.GetElement(1);
        d2 = d.GetElement(2);
        d3 = d.GetElement(3);
    }

    // ---------------------------------------------------------------- Vector128 (portable; arm64)

    /// <summary>Σ t·x over eight weights of one digit half: the five trits of eight bytes (16-bit lanes) times their codes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ushort> Trits8(Vector128<ushort> b, Vector128<ushort> x0, Vector128<ushort> x1, Vector128<ushort> x2, Vector128<ushort> x3, Vector128<ushort> x4, Vector128<ushort> acc)
    {
        var three = Vector128.Create((ushort)3);
        var b3 = Vector128.ShiftRightLogical(b * Vector128.Create((ushort)171), 9);
        var b9 = Vector128.ShiftRightLogical(b * Vector128.Create((ushort)57), 9);
        var b27 = Vector128.ShiftRightLogical(b * Vector128.Create((ushort)19), 9);
        var b81 = Vector128.ShiftRightLogical(b * Vector128.Create((ushort)203), 14);
        acc += (b - (b3 * three)) * x0;
        acc += (b3 - (b9 * three)) * x1;
        acc += (b9 - (b27 * three)) * x2;
        acc += (b27 - (b81 * three)) * x3;
        return acc + (b81 * x4);
    }

    /// <summary>Σ t·x of one 16-byte block (16-bit lanes, each ≤ 10 · 2 · 255 = 5,100 more) against the block's codes widened to 16 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ushort> Block128(ref byte wb, in Codes16 c, Vector128<ushort> acc)
    {
        var (lo, hi) = Vector128.Widen(Vector128.LoadUnsafe(ref wb));
        acc = Trits8(lo, c.L0, c.L1, c.L2, c.L3, c.L4, acc);
        return Trits8(hi, c.H0, c.H1, c.H2, c.H3, c.H4, acc);
    }

    /// <summary>The 80 codes of a block widened to 16 bits: digit plane i's 16 codes as L_i (0–7) and H_i (8–15).</summary>
    private readonly struct Codes16
    {
        public readonly Vector128<ushort> L0, L1, L2, L3, L4, H0, H1, H2, H3, H4;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Codes16(ref byte x)
        {
            (L0, H0) = Vector128.Widen(Vector128.LoadUnsafe(ref x));
            (L1, H1) = Vector128.Widen(Vector128.LoadUnsafe(ref x, 16));
            (L2, H2) = Vector128.Widen(Vector128.LoadUnsafe(ref x, 32));
            (L3, H3) = Vector128.Widen(Vector128.LoadUnsafe(ref x, 48));
            (L4, H4) = Vector128.Widen(Vector128.LoadUnsafe(ref x, 64));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Widen(Vector128<ushort> v) => Vector128.WidenLower(v) + Vector128.WidenUpper(v);

    /// <summary>The exact group sums S_g of <paramref name="rc"/> rows (lanes 0..rc−1): Σ t·x in uint16 per ≤ 12 blocks, widened, minus Σ x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Group128(in Shape k, ref byte x, int codeSum, ref byte blk, int rc, int g)
    {
        if (Dp.IsSupported)
        {
            return Group128Dp(in k, ref x, codeSum, ref blk, rc, g);
        }

        Vector128<uint> p0 = default, p1 = default, p2 = default, p3 = default;
        int first = g * k.PerGroup;
        int last = Math.Min(first + k.PerGroup, k.Blocks);
        for (int chunk = first; chunk < last; chunk += ChunkBlocks)
        {
            int end = Math.Min(chunk + ChunkBlocks, last);
            Vector128<ushort> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int b = chunk; b < end; b++)
            {
                var c = new Codes16(ref Unsafe.Add(ref x, b * BlockElements));
                ref byte wb = ref Unsafe.Add(ref blk, (nint)b * rc * BlockBytes);
                a0 = Block128(ref wb, in c, a0);
                if (rc == 4)
                {
                    a1 = Block128(ref Unsafe.Add(ref wb, BlockBytes), in c, a1);
                    a2 = Block128(ref Unsafe.Add(ref wb, 2 * BlockBytes), in c, a2);
                    a3 = Block128(ref Unsafe.Add(ref wb, 3 * BlockBytes), in c, a3);
                }
            }

            p0 += Widen(a0);
            p1 += Widen(a1);
            p2 += Widen(a2);
            p3 += Widen(a3);
        }

        // Σ q·x = Σ t·x − Σ x (exact in wrapping uint32: the true value fits int32)
        var s = Vector128.Create(Vector128.Sum(p0), Vector128.Sum(p1), Vector128.Sum(p2), Vector128.Sum(p3)).AsInt32();
        return s - Vector128.Create(codeSum);
    }

    // arm64 with the dot-product extension: trits from byte lookups (tbl), multiplied by udot
    private static readonly byte[] DpTables = DpTable();

    private static byte[] DpTable()
    {
        // 16 bytes each: t0 and t1 of s = b mod 9 (0..8); t3 and t4 of k = (b − b mod 27) ≫ 4 (27j ≫ 4 = 0, 1, 3, 5, 6, 8, 10, 11, 13)
        var t = new byte[64];
        for (int s = 0; s < 9; s++)
        {
            t[s] = (byte)(s % 3);
            t[16 + s] = (byte)(s / 3);
        }

        for (int j = 0; j < 9; j++)
        {
            t[32 + ((27 * j) >> 4)] = (byte)(j % 3);
            t[48 + ((27 * j) >> 4)] = (byte)(j / 3);
        }

        return t;
    }

    /// <summary>
    /// The five trits of a 16-byte block as bytes: r = b mod 27 and s = r mod 9 by unsigned <c>min(a, a − c)</c> steps, t0 and
    /// t1 looked up from s, t2 = (r − s) ≫ 3 (r − s ∈ {0, 9, 18}), t3 and t4 looked up from (b − r) ≫ 4 (nine distinct values
    /// below 16). Every index is below 16, so <see cref="Vector128.Shuffle(Vector128{byte}, Vector128{byte})"/> is one table lookup.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TritBytes(Vector128<byte> b, Vector128<byte> lt0, Vector128<byte> lt1, Vector128<byte> lt3, Vector128<byte> lt4, out Vector128<byte> t0, out Vector128<byte> t1, out Vector128<byte> t2, out Vector128<byte> t3, out Vector128<byte> t4)
    {
        var r = Vector128.Min(b, b - Vector128.Create((byte)162));
        r = Vector128.Min(r, r - Vector128.Create((byte)81));
        r = Vector128.Min(r, r - Vector128.Create((byte)54));
        r = Vector128.Min(r, r - Vector128.Create((byte)27));
        var s = Vector128.Min(r, r - Vector128.Create((byte)18));
        s = Vector128.Min(s, s - Vector128.Create((byte)9));
        var k = Vector128.ShiftRightLogical(b - r, 4);
        t0 = Vector128.Shuffle(lt0, s);
        t1 = Vector128.Shuffle(lt1, s);
        t2 = Vector128.ShiftRightLogical(r - s, 3);
        t3 = Vector128.Shuffle(lt3, k);
        t4 = Vector128.Shuffle(lt4, k);
    }

    /// <summary>Σ t·x of one block into four uint32 lanes: five udot of the digit planes' trits with their 16 codes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> BlockDp(ref byte wb, Vector128<byte> x0, Vector128<byte> x1, Vector128<byte> x2, Vector128<byte> x3, Vector128<byte> x4, Vector128<byte> lt0, Vector128<byte> lt1, Vector128<byte> lt3, Vector128<byte> lt4, Vector128<uint> acc)
    {
        TritBytes(Vector128.LoadUnsafe(ref wb), lt0, lt1, lt3, lt4, out var t0, out var t1, out var t2, out var t3, out var t4);
        acc = Dp.DotProduct(acc, x0, t0);
        acc = Dp.DotProduct(acc, x1, t1);
        acc = Dp.DotProduct(acc, x2, t2);
        acc = Dp.DotProduct(acc, x3, t3);
        return Dp.DotProduct(acc, x4, t4);
    }

    /// <summary>
    /// <see cref="Group128"/> with the arm64 dot-product extension: Σ t·x by <c>udot</c> (u8 × u8 into uint32, at most
    /// 510 · n per row and group: no overflow below 8.4 M inputs), then minus Σ x. The same exact sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Group128Dp(in Shape k, ref byte x, int codeSum, ref byte blk, int rc, int g)
    {
        var t = DpTables.AsSpan();
        var lt0 = Vector128.Create((ReadOnlySpan<byte>)t);
        var lt1 = Vector128.Create((ReadOnlySpan<byte>)t.Slice(16));
        var lt3 = Vector128.Create((ReadOnlySpan<byte>)t.Slice(32));
        var lt4 = Vector128.Create((ReadOnlySpan<byte>)t.Slice(48));
        Vector128<uint> p0 = default, p1 = default, p2 = default, p3 = default;
        int first = g * k.PerGroup;
        int last = Math.Min(first + k.PerGroup, k.Blocks);
        for (int b = first; b < last; b++)
        {
            ref byte xb = ref Unsafe.Add(ref x, b * BlockElements);
            var x0 = Vector128.LoadUnsafe(ref xb);
            var x1 = Vector128.LoadUnsafe(ref xb, 16);
            var x2 = Vector128.LoadUnsafe(ref xb, 32);
            var x3 = Vector128.LoadUnsafe(ref xb, 48);
            var x4 = Vector128.LoadUnsafe(ref xb, 64);
            ref byte wb = ref Unsafe.Add(ref blk, (nint)b * rc * BlockBytes);
            p0 = BlockDp(ref wb, x0, x1, x2, x3, x4, lt0, lt1, lt3, lt4, p0);
            if (rc == 4)
            {
                p1 = BlockDp(ref Unsafe.Add(ref wb, BlockBytes), x0, x1, x2, x3, x4, lt0, lt1, lt3, lt4, p1);
                p2 = BlockDp(ref Unsafe.Add(ref wb, 2 * BlockBytes), x0, x1, x2, x3, x4, lt0, lt1, lt3, lt4, p2);
                p3 = BlockDp(ref Unsafe.Add(ref wb, 3 * BlockBytes), x0, x1, x2, x3, x4, lt0, lt1, lt3, lt4, p3);
            }
        }

        var s = Vector128.Create(Vector128.Sum(p0), Vector128.Sum(p1), Vector128.Sum(p2), Vector128.Sum(p3)).AsInt32();
        return s - Vector128.Create(codeSum);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void V128Rows(in Shape k, ref byte x, ref int codeSums, ref byte blk, ref float sc, int rc, out float d0, out float d1, out float d2, out float d3)
    {
        var d = Vector128<float>.Zero;
        for (int g = 0; g < k.Groups; g++)
        {
            var s = Vector128.ConvertToSingle(Group128(in k, ref x, Unsafe.Add(ref codeSums, g), ref blk, rc, g));
            var a = rc == 4
                ? Vector128.Create(Unsafe.Add(ref sc, g), Unsafe.Add(ref sc, k.Groups + g), Unsafe.Add(ref sc, (2 * k.Groups) + g), Unsafe.Add(ref sc, (3 * k.Groups) + g))
                : Vector128.CreateScalar(Unsafe.Add(ref sc, g));
            d = Vector128.MultiplyAddEstimate(s, a, d);
        }

        d0 = d.GetElement(0);
        d1 = d.GetElement(1);
        d2 = d.GetElement(2);
        d3 = d.GetElement(3);
    }

    // ---------------------------------------------------------------- Vector512 (AVX-512 VBMI)

    /// <summary>
    /// Block b of four rows (one 64-byte load, row r in 128-bit lane r) times the block's codes: Σ q·x of the five digit planes
    /// in 32 int16 lanes (each |·| ≤ 5 · 510), added to <paramref name="acc"/>. The lookup tables come in as arguments (in
    /// registers: a struct of six vectors would live on the stack).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<short> Block512(ref byte wb, byte* xb, Vector512<byte> t0, Vector512<byte> t1, Vector512<byte> t2, Vector512<byte> t3, Vector512<byte> t4, Vector512<byte> quotient, Vector512<short> acc)
    {
        var v = Vector512.LoadUnsafe(ref wb);

        // b ≫ 2 in the low six bits of each byte (a 16-bit shift: the bits it moves in from the next byte are bits 6–7, which
        // vpermb ignores) looks up 27 · ⌊4m / 27⌋ ≤ b, within 54 below b: r' = b − that has b's digits 0–2 (r' mod 27 = b mod
        // 27), one unsigned min(a, a − 27) step makes r = b mod 27, and u = b − r = 27 · ⌊b / 27⌋ ∈ {0, 27, …, 216} (nine
        // values, distinct mod 64) has digits 3–4. Six one-uop vpermb lookups of 64-entry tables (a two-table vpermi2b,
        // which 128 entries need, is several)
        var rq = v - Avx512Vbmi.PermuteVar64x8(quotient, Vector512.ShiftRightLogical(v.AsUInt16(), 2).AsByte());
        var c27 = Vector512.Create((byte)27);
        var u = v - Vector512.Min(rq, rq - c27);
        var q0 = Avx512Vbmi.PermuteVar64x8(t0, rq).AsSByte();
        var q1 = Avx512Vbmi.PermuteVar64x8(t1, rq).AsSByte();
        var q2 = Avx512Vbmi.PermuteVar64x8(t2, rq).AsSByte();
        var q3 = Avx512Vbmi.PermuteVar64x8(t3, u).AsSByte();
        var q4 = Avx512Vbmi.PermuteVar64x8(t4, u).AsSByte();

        // digit plane i of every row is inputs 16i..16i+15 of the block: the same 16 codes in each 128-bit lane (vbroadcasti32x4)
        var m0 = Avx512BW.MultiplyAddAdjacent(Avx512F.BroadcastVector128ToVector512((int*)xb).AsByte(), q0);
        var m1 = Avx512BW.MultiplyAddAdjacent(Avx512F.BroadcastVector128ToVector512((int*)(xb + 16)).AsByte(), q1);
        var m2 = Avx512BW.MultiplyAddAdjacent(Avx512F.BroadcastVector128ToVector512((int*)(xb + 32)).AsByte(), q2);
        var m3 = Avx512BW.MultiplyAddAdjacent(Avx512F.BroadcastVector128ToVector512((int*)(xb + 48)).AsByte(), q3);
        var m4 = Avx512BW.MultiplyAddAdjacent(Avx512F.BroadcastVector128ToVector512((int*)(xb + 64)).AsByte(), q4);
        return acc + ((m0 + m1) + (m2 + m3) + m4);
    }

    /// <summary>vpermb table <paramref name="i"/>: digits 0–4, then the quotient table.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Table(int i) => Vector512.Create(MemoryMarshal.AsBytes<sbyte>(DigitTables.AsSpan(64 * i, 64)));

    /// <summary>
    /// Group <paramref name="g"/> of a row block of four rows: 16 int32 lanes, row r's four partial sums in 128-bit lane r
    /// (for <see cref="GroupDots"/>; <see cref="V512Rows"/> has the same loop inline).
    /// </summary>
    private static unsafe Vector512<int> Group512(in Shape k, ref byte x, ref byte blk, int g)
    {
        var (t0, t1, t2, t3, t4, quotient) = (Table(0), Table(1), Table(2), Table(3), Table(4), Table(5));
        var p = Vector512<int>.Zero;
        int first = g * k.PerGroup;
        int last = Math.Min(first + k.PerGroup, k.Blocks);
        fixed (byte* xp = &x)
        {
            for (int chunk = first; chunk < last; chunk += ChunkBlocks)
            {
                int end = Math.Min(chunk + ChunkBlocks, last);
                var a = Vector512<short>.Zero;
                for (int b = chunk; b < end; b++)
                {
                    a = Block512(ref Unsafe.Add(ref blk, (nint)b * 4 * BlockBytes), xp + (b * BlockElements), t0, t1, t2, t3, t4, quotient, a);
                }

                p += Avx512BW.MultiplyAddAdjacent(a, Vector512<short>.One);
            }
        }

        return p;
    }

    /// <summary>The sums of the four int32 lanes of each 128-bit lane: [row 0, row 1, row 2, row 3].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> LaneSums(Vector512<int> p) =>
        Vector128.Create(Vector128.Sum(p.GetLower().GetLower()), Vector128.Sum(p.GetLower().GetUpper()), Vector128.Sum(p.GetUpper().GetLower()), Vector128.Sum(p.GetUpper().GetUpper()));

    /// <summary>
    /// Per 128-bit lane r: [Σ p0, Σ p1, Σ p2, Σ p3] of lane r (a transpose-add: row r's sums of four groups side by side, in the
    /// order of its four scales in memory).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Transpose4(Vector512<int> p0, Vector512<int> p1, Vector512<int> p2, Vector512<int> p3)
    {
        var a = Avx512F.UnpackLow(p0, p1) + Avx512F.UnpackHigh(p0, p1);
        var b = Avx512F.UnpackLow(p2, p3) + Avx512F.UnpackHigh(p2, p3);
        return Avx512F.UnpackLow(a.AsInt64(), b.AsInt64()).AsInt32() + Avx512F.UnpackHigh(a.AsInt64(), b.AsInt64()).AsInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void V512Rows(in Shape k, ref byte x, ref byte blk, ref float sc, out float d0, out float d1, out float d2, out float d3)
    {
        var (t0, t1, t2, t3, t4, quotient) = (Table(0), Table(1), Table(2), Table(3), Table(4), Table(5));
        var f = Vector512<float>.Zero;
        int groups = k.Groups;
        Vector512<int> p0 = default, p1 = default, p2 = default;
        fixed (byte* xp = &x)
        {
            for (int g = 0; g < groups; g++)
            {
                var p = Vector512<int>.Zero;
                int first = g * k.PerGroup;
                int last = Math.Min(first + k.PerGroup, k.Blocks);
                for (int chunk = first; chunk < last; chunk += ChunkBlocks)
                {
                    int end = Math.Min(chunk + ChunkBlocks, last);

                    // two int16 chains (odd and even blocks): the adds' latency, not their throughput, would bound one
                    Vector512<short> a = default, a2 = default;
                    int b = chunk;
                    for (; b + 1 < end; b += 2)
                    {
                        ref byte wb = ref Unsafe.Add(ref blk, (nint)b * 4 * BlockBytes);
                        KernelPrefetch.Line(ref wb);
                        KernelPrefetch.Line(ref Unsafe.Add(ref wb, 64));
                        a = Block512(ref wb, xp + (b * BlockElements), t0, t1, t2, t3, t4, quotient, a);
                        a2 = Block512(ref Unsafe.Add(ref wb, 4 * BlockBytes), xp + ((b + 1) * BlockElements), t0, t1, t2, t3, t4, quotient, a2);
                    }

                    if (b < end)
                    {
                        ref byte wb = ref Unsafe.Add(ref blk, (nint)b * 4 * BlockBytes);
                        KernelPrefetch.Line(ref wb);
                        a = Block512(ref wb, xp + (b * BlockElements), t0, t1, t2, t3, t4, quotient, a);
                    }

                    p += Avx512BW.MultiplyAddAdjacent(a + a2, Vector512<short>.One);
                }

                // four groups at a time: their sums transposed so that lane (r, j) is group g − 3 + j of row r, times the four
                // rows' four scales (rows × groups: four consecutive floats per row)
                int j = g & 3;
                if (j < 3 && g + 1 < groups)
                {
                    if (j == 0)
                    {
                        p0 = p;
                    }
                    else if (j == 1)
                    {
                        p1 = p;
                    }
                    else
                    {
                        p2 = p;
                    }

                    continue;
                }

                int g0 = g - j;
                var s = j switch
                {
                    0 => Transpose4(p, default, default, default),
                    1 => Transpose4(p0, p, default, default),
                    2 => Transpose4(p0, p1, p, default),
                    _ => Transpose4(p0, p1, p2, p),
                };
                Vector512<float> alpha;
                if (j == 3)
                {
                    alpha = Vector512.Create(
                        Vector256.Create(Vector128.LoadUnsafe(ref sc, (nuint)g0), Vector128.LoadUnsafe(ref sc, (nuint)(groups + g0))),
                        Vector256.Create(Vector128.LoadUnsafe(ref sc, (nuint)((2 * groups) + g0)), Vector128.LoadUnsafe(ref sc, (nuint)((3 * groups) + g0))));
                }
                else
                {
                    alpha = Vector512.Create(
                        Vector256.Create(Scales(ref sc, g0, j + 1), Scales(ref Unsafe.Add(ref sc, groups), g0, j + 1)),
                        Vector256.Create(Scales(ref Unsafe.Add(ref sc, 2 * groups), g0, j + 1), Scales(ref Unsafe.Add(ref sc, 3 * groups), g0, j + 1)));
                }

                f = Vector512.MultiplyAddEstimate(Vector512.ConvertToSingle(s), alpha, f);
            }
        }

        d0 = Vector128.Sum(f.GetLower().GetLower());
        d1 = Vector128.Sum(f.GetLower().GetUpper());
        d2 = Vector128.Sum(f.GetUpper().GetLower());
        d3 = Vector128.Sum(f.GetUpper().GetUpper());
    }

    /// <summary>Scales g..g+n−1 of one row (n &lt; 4), zero in the other lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Scales(ref float row, int g, int n) =>
        Vector128.Create(Unsafe.Add(ref row, g), n > 1 ? Unsafe.Add(ref row, g + 1) : 0f, n > 2 ? Unsafe.Add(ref row, g + 2) : 0f, 0f);
}
