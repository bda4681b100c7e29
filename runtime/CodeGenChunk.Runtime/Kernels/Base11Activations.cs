using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>
/// Integer activations for linear layers with base11 weights (docs/activations.md, "base11 weights"): the u8 activation
/// codes of <see cref="Int8Activations"/> times the base11 format's indices (<c>Base11Format</c>: nine indices 0..10 per
/// little-endian uint32, row-major <c>[row][group][words]</c>, a binary16 min and range per row and group). With
/// <c>x_i = s · (q_i − z)</c> and the float kernels' convention <c>w_i = 0.1 · range_g · d_i + min_g</c>:
/// <c>y_o = s · Σ_g [0.1 · range_g · Σ_{i∈g} d_i · (q_i − z) + min_g · Σ_{i∈g} (q_i − z)] + b_o</c>.
/// <para>
/// Each call copies the codes once into a digit-major <b>byte</b> copy (the caller's <c>scratch</c>, see
/// <see cref="ScratchBytes"/>; in a generated model a tensor of the code buffer live only while the step runs, counted in
/// <c>QuantizedActivationBytes</c>): per group nine runs of <see cref="PaddedWords"/> bytes, run i holding q[9·j + i] for
/// word j, and the zero point z past the group's end, so that padding adds (z − z) · d = 0. The per-group Σ (q − z) is
/// computed once per call into the same scratch. The vector paths (Vector512, Vector256, Vector128 — the arm64 path —
/// and a scalar path) decode sixteen words at a time with <see cref="PackedDecode"/> (digits as exact floats), widen the
/// matching sixteen codes of each digit position to floats in registers, subtract z, and share them across a block of
/// four rows; the scalar path extracts digits by division and sums in int32.
/// </para>
/// <para>
/// Exact: every product <c>d · (q − z)</c> is an integer of magnitude at most 10 · 255, and every partial sum of a group
/// of at most <see cref="MaxExactGroupLength"/> = ⌊2²⁴ / (10 · 255)⌋ = 6,579 inputs is an integer of magnitude at most
/// 6,579 · 2,550 = 16,776,450 &lt; 2²⁴, so it is represented exactly in float and every fused multiply-add of a digit
/// and a code difference into a float lane is exact (a lane holds a partial sum over a subset of the group's inputs,
/// bounded the same way). The group's integer sum is then scaled by 0.1 · range_g in float, as the float kernel does.
/// The planner refuses longer base11 groups with int8 activations (CGC0044).
/// </para>
/// </summary>
public static partial class Base11Activations
{
    /// <summary>Longest group whose sums Σ d · (q − z) (|d · (q − z)| ≤ 10 · 255) stay below 2²⁴, exact in float: ⌊2²⁴ / (10 · 255)⌋ = 6,579.</summary>
    public const int MaxExactGroupLength = (1 << 24) / (10 * Int8Activations.MaxCode);

    /// <summary>Indices per uint32 word.</summary>
    public const int DigitsPerWord = 9;

    /// <summary>Words decoded per vector step (<see cref="PackedDecode.Base11V512"/> and its twins).</summary>
    public const int WordsPerStep = 16;

    /// <summary>The float kernels' index step: weight = 0.1 · range · index + min.</summary>
    private const float Step = 0.1f;

    /// <summary>Bytes of one group of <paramref name="length"/> inputs: <c>ceil(length / 9) · 4</c>.</summary>
    public static int PackBytes(int length) => ((length + DigitsPerWord - 1) / DigitsPerWord) * 4;

    /// <summary>Packed bytes of one row: whole groups, then a shorter last group.</summary>
    public static int RowBytes(int inLen, int groupSize) => ((inLen / groupSize) * PackBytes(groupSize)) + PackBytes(inLen % groupSize);

    /// <summary>Words of a group of <paramref name="length"/> inputs rounded up to a multiple of 16 (one run of the digit-major copy).</summary>
    public static int PaddedWords(int length) => (((length + DigitsPerWord - 1) / DigitsPerWord) + WordsPerStep - 1) / WordsPerStep * WordsPerStep;

    /// <summary>Bytes of the digit-major copy of an input of <paramref name="inLen"/> codes: 9 · PaddedWords per group.</summary>
    public static int DigitMajorBytes(int inLen, int groupSize) =>
        ((inLen / groupSize) * DigitsPerWord * PaddedWords(groupSize)) + (inLen % groupSize > 0 ? DigitsPerWord * PaddedWords(inLen % groupSize) : 0);

    /// <summary>Scratch of one call: the digit-major copy, then one float Σ (q − z) per group.</summary>
    public static int ScratchBytes(int inLen, int groupSize) => DigitMajorBytes(inLen, groupSize) + (4 * ((inLen + groupSize - 1) / groupSize));

    // ---------------------------------------------------------------- per-row weight statistics

    /// <summary>
    /// The base11 twin of <see cref="Int8Activations.RowStats"/>, over the weights as the kernel sees them
    /// (<c>w = 0.1 · range_g · d + min_g</c>): <paramref name="sums"/>[o] = Σ_i w_i and <paramref name="norms"/>[o] =
    /// √(Σ_i w_i²). Padding indices are not read.
    /// </summary>
    public static void RowStats(ReadOnlySpan<byte> w, ReadOnlySpan<ushort> mins, ReadOnlySpan<ushort> ranges, int inLen, int groupSize, Span<float> sums, Span<float> norms) =>
        RowStats<Words>("Base11Activations", w, mins, ranges, inLen, groupSize, sums, norms);

    /// <summary>How a base11 layout stores a group's indices: its bytes per group length and index i of a group.</summary>
    internal interface ILayout
    {
        static abstract int PackBytes(int length);

        static abstract int Digit(ReadOnlySpan<byte> group, int i);
    }

    /// <summary>The seed's words: nine indices per little-endian uint32.</summary>
    internal readonly struct Words : ILayout
    {
        public static int PackBytes(int length) => Base11Activations.PackBytes(length);

        public static int Digit(ReadOnlySpan<byte> group, int i) => Base11Activations.Digit(group, i);
    }

    /// <summary><see cref="RowStats(ReadOnlySpan{byte}, ReadOnlySpan{ushort}, ReadOnlySpan{ushort}, int, int, Span{float}, Span{float})"/> for either layout.</summary>
    internal static void RowStats<TLayout>(string kernel, ReadOnlySpan<byte> w, ReadOnlySpan<ushort> mins, ReadOnlySpan<ushort> ranges, int inLen, int groupSize, Span<float> sums, Span<float> norms)
        where TLayout : ILayout
    {
        int outLen = sums.Length;
        int groups = (inLen + groupSize - 1) / groupSize;
        if (groupSize < 1)
        {
            throw new ArgumentException(kernel + ".RowStats: spans do not match the shape.");
        }

        int rowBytes = ((inLen / groupSize) * TLayout.PackBytes(groupSize)) + TLayout.PackBytes(inLen % groupSize);
        if (w.Length < (long)outLen * rowBytes || mins.Length < (long)outLen * groups || ranges.Length < (long)outLen * groups || norms.Length < outLen)
        {
            throw new ArgumentException(kernel + ".RowStats: spans do not match the shape.");
        }

        for (int o = 0; o < outLen; o++)
        {
            var row = w.Slice(o * rowBytes, rowBytes);
            double s = 0, s2 = 0;
            for (int g = 0; g < groups; g++)
            {
                int len = Math.Min(groupSize, inLen - (g * groupSize));
                var group = row.Slice(g * TLayout.PackBytes(groupSize));
                float c = Step * PackedDecode.HalfToSingle(ranges[(o * groups) + g]);
                float m = PackedDecode.HalfToSingle(mins[(o * groups) + g]);
                for (int i = 0; i < len; i++)
                {
                    double v = (double)(c * TLayout.Digit(group, i)) + m;
                    s += v;
                    s2 += v * v;
                }
            }

            sums[o] = (float)s;
            norms[o] = (float)Math.Sqrt(s2);
        }
    }

    /// <summary>Index <paramref name="i"/> (0..10) of a group's packed words.</summary>
    public static int Digit(ReadOnlySpan<byte> group, int i)
    {
        uint word = MemoryMarshal.Read<uint>(group.Slice((i / DigitsPerWord) * 4, 4));
        for (int k = i % DigitsPerWord; k > 0; k--)
        {
            word /= 11;
        }

        return (int)(word % 11);
    }

    // ---------------------------------------------------------------- the kernel

    /// <summary>
    /// y = W x + b, ReLU, + residual, for u8 codes x (scale <paramref name="xScale"/>, zero point <paramref name="xZero"/>)
    /// and base11 weights <paramref name="w"/> (row-major words, binary16 <paramref name="mins"/> and <paramref name="ranges"/>
    /// per row and group of <paramref name="groupSize"/> inputs, at most <see cref="MaxExactGroupLength"/>);
    /// <paramref name="sums"/> from <see cref="RowStats"/>; <paramref name="scratch"/> of at least <see cref="ScratchBytes"/>.
    /// Writes floats to <paramref name="y"/>, or, when <paramref name="yq"/> is not empty, u8 codes of scale
    /// <paramref name="yScale"/> and zero point <paramref name="yZero"/>; returns the number of clipped codes. The epilogue
    /// is <see cref="Int8Activations.Linear"/>'s. <paramref name="path"/> is resolved (<see cref="KernelPaths.Resolve(KernelPath)"/>).
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
        int groups = (inLen + groupSize - 1) / groupSize;
        int rowBytes = inLen == 0 || groupSize < 1 ? 0 : RowBytes(inLen, groupSize);
        if (groupSize < 1 || Math.Min(groupSize, inLen) > MaxExactGroupLength || (uint)xZero > Int8Activations.MaxCode
            || w.Length < (long)outLen * rowBytes || mins.Length < (long)outLen * groups || ranges.Length < (long)outLen * groups
            || scratch.Length < ScratchBytes(inLen, groupSize)
            || (yq.IsEmpty ? y.Length < outLen : yq.Length < outLen) || (!bias.IsEmpty && bias.Length < outLen) || (!residual.IsEmpty && residual.Length < outLen))
        {
            throw new ArgumentException("Base11Activations.Linear: spans do not match the shape (a group may hold at most 6,579 inputs).");
        }

        path = KernelPaths.Resolve(path);

        // the digit-major byte copy and the group sums Σ (q − z), once per call
        int digitBytes = DigitMajorBytes(inLen, groupSize);
        var digitMajor = scratch.Slice(0, digitBytes);
        var groupSums = MemoryMarshal.Cast<byte, float>(scratch.Slice(digitBytes, 4 * groups));
        Prepare(x, xZero, groupSize, path != KernelPath.Scalar, digitMajor, groupSums);

        // the zero point is inside the sums already: the epilogue's correction is 0
        var e = new Int8Activations.Epilogue(ref MemoryMarshal.GetReference(bias), !bias.IsEmpty, ref MemoryMarshal.GetReference(sums), ref MemoryMarshal.GetReference(residual), !residual.IsEmpty, relu, xScale, 0, yScale, yZero, yq.IsEmpty);
        var k = new Shape(inLen, groupSize, groups, rowBytes, xZero);
        ref byte wr = ref MemoryMarshal.GetReference(w);
        ref ushort mr = ref MemoryMarshal.GetReference(mins);
        ref ushort rr = ref MemoryMarshal.GetReference(ranges);
        ref byte xn = ref MemoryMarshal.GetReference(x);
        ref byte xd = ref MemoryMarshal.GetReference(digitMajor);
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
            float d0, d1 = 0f, d2 = 0f, d3 = 0f;

            // a vector step reads 16 words (64 bytes) from its start, past the group's words: a row block whose last step
            // could read past the end of the weights (the last block or row) takes the scalar loops
            var vector = ((long)(o + rc) * rowBytes) + 64 <= w.Length ? path : KernelPath.Scalar;
            switch (vector)
            {
                case KernelPath.Vector512:
                    Rows<Width512, Vector512<float>>(in k, ref xd, ref ts, ref blk, ref mn, ref rg, rc, out d0, out d1, out d2, out d3);
                    break;
                case KernelPath.Vector256:
                    Rows<Width256, Lanes16W>(in k, ref xd, ref ts, ref blk, ref mn, ref rg, rc, out d0, out d1, out d2, out d3);
                    break;
                case KernelPath.Vector128:
                    Rows<Width128, Lanes16>(in k, ref xd, ref ts, ref blk, ref mn, ref rg, rc, out d0, out d1, out d2, out d3);
                    break;
                default:
                    ScalarRows(in k, ref xn, ref ts, ref blk, ref mn, ref rg, rc, out d0, out d1, out d2, out d3);
                    break;
            }

            clipped += e.StoreRows(ref yr, ref qr, o, rc, d0, d1, d2, d3);

            o += rc;
        }

        return clipped;
    }

    /// <summary>
    /// The codes digit-major (when <paramref name="digitMajor"/> is wanted: the vector paths), z past each group's end,
    /// and Σ_{i∈g} (q_i − z) per group, exact in float (|Σ| ≤ 255 · 6,579 &lt; 2²⁴).
    /// </summary>
    private static void Prepare(ReadOnlySpan<byte> x, int z, int groupSize, bool digitMajor, Span<byte> destination, Span<float> groupSums)
    {
        if (digitMajor)
        {
            destination.Fill((byte)z);
        }

        int offset = 0;
        for (int g = 0, start = 0; start < x.Length; g++, start += groupSize)
        {
            int length = Math.Min(groupSize, x.Length - start);
            var group = x.Slice(start, length);
            Int8Activations.CodeMoments(group, out long s, out _);
            groupSums[g] = s - ((long)z * length);
            if (!digitMajor)
            {
                continue;
            }

            int padded = PaddedWords(length);
            var run = destination.Slice(offset, DigitsPerWord * padded);
            for (int j = 0, i = 0; i < length; j++)
            {
                for (int d = 0; d < DigitsPerWord && i < length; d++, i++)
                {
                    run[(d * padded) + j] = group[i];
                }
            }

            offset += DigitsPerWord * padded;
        }
    }

    /// <summary>The constants of one call.</summary>
    private readonly struct Shape
    {
        public readonly int In;
        public readonly int GroupSize;
        public readonly int Groups;
        public readonly int RowBytes;
        public readonly int Zero;
        public readonly int GroupBytes;
        public readonly int FullPadded;

        public Shape(int inLen, int groupSize, int groups, int rowBytes, int zero)
        {
            In = inLen;
            GroupSize = groupSize;
            Groups = groups;
            RowBytes = rowBytes;
            Zero = zero;
            GroupBytes = PackBytes(groupSize);
            FullPadded = PaddedWords(groupSize);
        }
    }

    /// <summary>
    /// One vector width of the vector paths: sixteen float lanes (<see cref="Vector512{T}"/>, <see cref="Lanes16W"/>,
    /// <see cref="Lanes16"/>), the codes that fill them and the nine index products of sixteen words. <see cref="Rows{TWidth, TLanes}"/>
    /// is written once over it; the JIT compiles it once per width, with every call below inlined.
    /// </summary>
    private interface IWidth<TLanes>
        where TLanes : struct
    {
        /// <summary>z in every lane.</summary>
        static abstract TLanes Zero(int z);

        /// <summary>Sixteen codes of the digit-major copy minus z (exact: |q − z| ≤ 255).</summary>
        static abstract TLanes Codes(ref byte p, in TLanes z);

        /// <summary><paramref name="acc"/> + Σ_d index_d · x_d over the nine digits of sixteen words.</summary>
        static abstract TLanes Dot(ref byte words, in TLanes x0, in TLanes x1, in TLanes x2, in TLanes x3, in TLanes x4, in TLanes x5, in TLanes x6, in TLanes x7, in TLanes x8, TLanes acc);

        /// <summary><paramref name="p"/> · <paramref name="s"/> + <paramref name="acc"/>.</summary>
        static abstract TLanes Scale(TLanes p, float s, TLanes acc);

        /// <summary>The sum of the lanes.</summary>
        static abstract float Sum(TLanes a);
    }

    /// <summary>AVX-512: one <see cref="Vector512{T}"/>.</summary>
    private readonly struct Width512 : IWidth<Vector512<float>>
    {
        public static Vector512<float> Zero(int z) => Vector512.Create((float)z);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Codes(ref byte p, in Vector512<float> z) => Vector512.ConvertToSingle(PackedDecode.BytesV512(ref p)) - z;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Dot(ref byte words, in Vector512<float> x0, in Vector512<float> x1, in Vector512<float> x2, in Vector512<float> x3, in Vector512<float> x4, in Vector512<float> x5, in Vector512<float> x6, in Vector512<float> x7, in Vector512<float> x8, Vector512<float> acc)
        {
            PackedDecode.Base11V512(ref words, out var d0, out var d1, out var d2, out var d3, out var d4, out var d5, out var d6, out var d7, out var d8);
            acc = Vector512.MultiplyAddEstimate(d0, x0, acc);
            acc = Vector512.MultiplyAddEstimate(d1, x1, acc);
            acc = Vector512.MultiplyAddEstimate(d2, x2, acc);
            acc = Vector512.MultiplyAddEstimate(d3, x3, acc);
            acc = Vector512.MultiplyAddEstimate(d4, x4, acc);
            acc = Vector512.MultiplyAddEstimate(d5, x5, acc);
            acc = Vector512.MultiplyAddEstimate(d6, x6, acc);
            acc = Vector512.MultiplyAddEstimate(d7, x7, acc);
            return Vector512.MultiplyAddEstimate(d8, x8, acc);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Scale(Vector512<float> p, float s, Vector512<float> acc) => Vector512.MultiplyAddEstimate(p, Vector512.Create(s), acc);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Sum(Vector512<float> a) => Vector512.Sum(a);
    }

    /// <summary>AVX2: two <see cref="Vector256{T}"/>.</summary>
    private readonly struct Width256 : IWidth<Lanes16W>
    {
        public static Lanes16W Zero(int z) => Lanes16W.Create(z);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Lanes16W Codes(ref byte p, in Lanes16W z)
        {
            var shorts = Vector256.WidenLower(Vector128.LoadUnsafe(ref p).ToVector256Unsafe());
            return new Lanes16W(
                Vector256.ConvertToSingle(Vector256.WidenLower(shorts).AsInt32()) - z.A,
                Vector256.ConvertToSingle(Vector256.WidenUpper(shorts).AsInt32()) - z.B);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Lanes16W Dot(ref byte words, in Lanes16W x0, in Lanes16W x1, in Lanes16W x2, in Lanes16W x3, in Lanes16W x4, in Lanes16W x5, in Lanes16W x6, in Lanes16W x7, in Lanes16W x8, Lanes16W acc)
        {
            PackedDecode.Base11W256(ref words, out var d0, out var d1, out var d2, out var d3, out var d4, out var d5, out var d6, out var d7, out var d8);
            acc = Lanes16W.MultiplyAddEstimate(d0, x0, acc);
            acc = Lanes16W.MultiplyAddEstimate(d1, x1, acc);
            acc = Lanes16W.MultiplyAddEstimate(d2, x2, acc);
            acc = Lanes16W.MultiplyAddEstimate(d3, x3, acc);
            acc = Lanes16W.MultiplyAddEstimate(d4, x4, acc);
            acc = Lanes16W.MultiplyAddEstimate(d5, x5, acc);
            acc = Lanes16W.MultiplyAddEstimate(d6, x6, acc);
            acc = Lanes16W.MultiplyAddEstimate(d7, x7, acc);
            return Lanes16W.MultiplyAddEstimate(d8, x8, acc);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Lanes16W Scale(Lanes16W p, float s, Lanes16W acc) => Lanes16W.MultiplyAddEstimate(p, Lanes16W.Create(s), acc);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Sum(Lanes16W a) => Lanes16W.Sum(a);
    }

    /// <summary>Vector128 (arm64 AdvSimd, x64 SSE): four <see cref="Vector128{T}"/>.</summary>
    private readonly struct Width128 : IWidth<Lanes16>
    {
        public static Lanes16 Zero(int z) => Lanes16.Create(z);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Lanes16 Codes(ref byte p, in Lanes16 z)
        {
            var bytes = Vector128.LoadUnsafe(ref p);
            var lo = Vector128.WidenLower(bytes);
            var hi = Vector128.WidenUpper(bytes);
            return new Lanes16(
                Vector128.ConvertToSingle(Vector128.WidenLower(lo).AsInt32()) - z.A,
                Vector128.ConvertToSingle(Vector128.WidenUpper(lo).AsInt32()) - z.B,
                Vector128.ConvertToSingle(Vector128.WidenLower(hi).AsInt32()) - z.C,
                Vector128.ConvertToSingle(Vector128.WidenUpper(hi).AsInt32()) - z.D);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Lanes16 Dot(ref byte words, in Lanes16 x0, in Lanes16 x1, in Lanes16 x2, in Lanes16 x3, in Lanes16 x4, in Lanes16 x5, in Lanes16 x6, in Lanes16 x7, in Lanes16 x8, Lanes16 acc)
        {
            PackedDecode.Base11L16(ref words, out var d0, out var d1, out var d2, out var d3, out var d4, out var d5, out var d6, out var d7, out var d8);
            acc = Lanes16.MultiplyAddEstimate(d0, x0, acc);
            acc = Lanes16.MultiplyAddEstimate(d1, x1, acc);
            acc = Lanes16.MultiplyAddEstimate(d2, x2, acc);
            acc = Lanes16.MultiplyAddEstimate(d3, x3, acc);
            acc = Lanes16.MultiplyAddEstimate(d4, x4, acc);
            acc = Lanes16.MultiplyAddEstimate(d5, x5, acc);
            acc = Lanes16.MultiplyAddEstimate(d6, x6, acc);
            acc = Lanes16.MultiplyAddEstimate(d7, x7, acc);
            return Lanes16.MultiplyAddEstimate(d8, x8, acc);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Lanes16 Scale(Lanes16 p, float s, Lanes16 acc) => Lanes16.MultiplyAddEstimate(p, Lanes16.Create(s), acc);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Sum(Lanes16 a) => Lanes16.Sum(a);
    }

    // Group g of a row starts at byte g · PackBytes(groupSize) of the row; its codes at byte g · 9 · PaddedWords(groupSize)
    // of the digit-major copy, run d (digit position d) pw bytes long. Each step reads sixteen words of every row (past
    // the group's words: the next group's or row's, which meet z − z = 0) and sixteen codes of each of the nine runs.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TWidth, TLanes>(in Shape k, ref byte xd, ref float ts, ref byte blk, ref ushort mn, ref ushort rg, int rc, out float d0, out float d1, out float d2, out float d3)
        where TWidth : struct, IWidth<TLanes>
        where TLanes : struct
    {
        var z = TWidth.Zero(k.Zero);
        TLanes a0 = default, a1 = default, a2 = default, a3 = default;
        float t0 = 0f, t1 = 0f, t2 = 0f, t3 = 0f;
        for (int g = 0; g < k.Groups; g++)
        {
            int len = Math.Min(k.GroupSize, k.In - (g * k.GroupSize));
            int pw = PaddedWords(len);
            ref byte xg = ref Unsafe.Add(ref xd, (nint)g * DigitsPerWord * k.FullPadded);
            nint wo = (nint)g * k.GroupBytes;
            TLanes p0 = default, p1 = default, p2 = default, p3 = default;
            for (int j = 0; j < pw; j += WordsPerStep)
            {
                ref byte xj = ref Unsafe.Add(ref xg, j);
                var x0 = TWidth.Codes(ref xj, z);
                var x1 = TWidth.Codes(ref Unsafe.Add(ref xj, pw), z);
                var x2 = TWidth.Codes(ref Unsafe.Add(ref xj, 2 * pw), z);
                var x3 = TWidth.Codes(ref Unsafe.Add(ref xj, 3 * pw), z);
                var x4 = TWidth.Codes(ref Unsafe.Add(ref xj, 4 * pw), z);
                var x5 = TWidth.Codes(ref Unsafe.Add(ref xj, 5 * pw), z);
                var x6 = TWidth.Codes(ref Unsafe.Add(ref xj, 6 * pw), z);
                var x7 = TWidth.Codes(ref Unsafe.Add(ref xj, 7 * pw), z);
                var x8 = TWidth.Codes(ref Unsafe.Add(ref xj, 8 * pw), z);
                nint at = wo + (j * 4);
                p0 = TWidth.Dot(ref Unsafe.Add(ref blk, at), x0, x1, x2, x3, x4, x5, x6, x7, x8, p0);
                if (rc == 4)
                {
                    p1 = TWidth.Dot(ref Unsafe.Add(ref blk, at + k.RowBytes), x0, x1, x2, x3, x4, x5, x6, x7, x8, p1);
                    p2 = TWidth.Dot(ref Unsafe.Add(ref blk, at + (2 * k.RowBytes)), x0, x1, x2, x3, x4, x5, x6, x7, x8, p2);
                    p3 = TWidth.Dot(ref Unsafe.Add(ref blk, at + (3 * k.RowBytes)), x0, x1, x2, x3, x4, x5, x6, x7, x8, p3);
                }
            }

            float tg = Unsafe.Add(ref ts, g);
            a0 = TWidth.Scale(p0, Step * PackedDecode.HalfToSingle(Unsafe.Add(ref rg, g)), a0);
            t0 = float.MultiplyAddEstimate(PackedDecode.HalfToSingle(Unsafe.Add(ref mn, g)), tg, t0);
            if (rc == 4)
            {
                a1 = TWidth.Scale(p1, Step * PackedDecode.HalfToSingle(Unsafe.Add(ref rg, k.Groups + g)), a1);
                a2 = TWidth.Scale(p2, Step * PackedDecode.HalfToSingle(Unsafe.Add(ref rg, (2 * k.Groups) + g)), a2);
                a3 = TWidth.Scale(p3, Step * PackedDecode.HalfToSingle(Unsafe.Add(ref rg, (3 * k.Groups) + g)), a3);
                t1 = float.MultiplyAddEstimate(PackedDecode.HalfToSingle(Unsafe.Add(ref mn, k.Groups + g)), tg, t1);
                t2 = float.MultiplyAddEstimate(PackedDecode.HalfToSingle(Unsafe.Add(ref mn, (2 * k.Groups) + g)), tg, t2);
                t3 = float.MultiplyAddEstimate(PackedDecode.HalfToSingle(Unsafe.Add(ref mn, (3 * k.Groups) + g)), tg, t3);
            }
        }

        d0 = TWidth.Sum(a0) + t0;
        d1 = TWidth.Sum(a1) + t1;
        d2 = TWidth.Sum(a2) + t2;
        d3 = TWidth.Sum(a3) + t3;
    }

    /// <summary>Plain loops on the codes in input order: digits by division, Σ d · (q − z) per group in int32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScalarRows(in Shape k, ref byte x, ref float ts, ref byte blk, ref ushort mn, ref ushort rg, int rc, out float d0, out float d1, out float d2, out float d3)
    {
        Span<float> d = stackalloc float[4];
        d.Clear();
        for (int r = 0; r < rc; r++)
        {
            ref byte row = ref Unsafe.Add(ref blk, (nint)r * k.RowBytes);
            float a = 0f, t = 0f;
            for (int g = 0; g < k.Groups; g++)
            {
                int start = g * k.GroupSize;
                int len = Math.Min(k.GroupSize, k.In - start);
                ref byte words = ref Unsafe.Add(ref row, (nint)g * k.GroupBytes);
                int s = 0;
                for (int i = 0; i < len; i += DigitsPerWord)
                {
                    uint word = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref words, (i / DigitsPerWord) * 4));
                    int n = Math.Min(DigitsPerWord, len - i);
                    for (int j = 0; j < n; j++)
                    {
                        uint q = word / 11;
                        s += (int)(word - (11 * q)) * (Unsafe.Add(ref x, start + i + j) - k.Zero);
                        word = q;
                    }
                }

                a = float.MultiplyAddEstimate(s, Step * PackedDecode.HalfToSingle(Unsafe.Add(ref rg, (r * k.Groups) + g)), a);
                t = float.MultiplyAddEstimate(PackedDecode.HalfToSingle(Unsafe.Add(ref mn, (r * k.Groups) + g)), Unsafe.Add(ref ts, g), t);
            }

            d[r] = a + t;
        }

        d0 = d[0];
        d1 = d[1];
        d2 = d[2];
        d3 = d[3];
    }
}
