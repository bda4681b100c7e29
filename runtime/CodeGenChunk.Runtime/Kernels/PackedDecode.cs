using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>
/// Decodes the packed weight formats (layouts in docs/formats.md) into float lanes, sixteen
/// consecutive weights per output, straight from the packed bytes. Each format has a
/// <see cref="Vector512{T}"/> decoder, a portable <see cref="Lanes16"/> twin (arm64 AdvSimd) and
/// a scalar per-element accessor. The block formats are stored row-blocked (see the packer): a
/// row's consecutive blocks lie <c>blockStride</c> bytes apart (16 × rows in the row block). Decoders return the stored code as a float (nibble 0..15,
/// trit 0..2, bit 0..1); the kernels fold the offset and the group scale in afterwards.
/// </summary>
public static class PackedDecode
{
    // ---- int4: block of 32 in 16 bytes; low nibble of byte j = element j, high nibble = element 16 + j ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Int4V512(ref byte p, out Vector512<float> low, out Vector512<float> high)
    {
        var v = WidenBytes512(ref p);
        low = Vector512.ConvertToSingle(v & Vector512.Create(15));
        high = Vector512.ConvertToSingle(Vector512.ShiftRightLogical(v, 4));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Int4L16(ref byte p, out Lanes16 low, out Lanes16 high)
    {
        var bytes = Vector128.LoadUnsafe(ref p);
        low = BytesToLanes(bytes & Vector128.Create((byte)15));
        high = BytesToLanes(Vector128.ShiftRightLogical(bytes, 4));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Int4At(ref byte row, nint element, nint blockStride)
    {
        var block = element >> 5;
        var k = (int)(element & 31);
        var b = Unsafe.Add(ref row, (block * blockStride) + (k & 15));
        return k < 16 ? b & 15 : b >> 4;
    }

    // ---- ternary: block of 80 in 16 bytes; byte j = sum over i of t(16 i + j) * 3^i ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void TernaryV512(ref byte p, out Vector512<float> t0, out Vector512<float> t1, out Vector512<float> t2, out Vector512<float> t3, out Vector512<float> t4)
    {
        var v = WidenBytes512(ref p);
        t0 = NextTrit(ref v);
        t1 = NextTrit(ref v);
        t2 = NextTrit(ref v);
        t3 = NextTrit(ref v);
        t4 = Vector512.ConvertToSingle(v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void TernaryL16(ref byte p, out Lanes16 t0, out Lanes16 t1, out Lanes16 t2, out Lanes16 t3, out Lanes16 t4)
    {
        var bytes = Vector128.LoadUnsafe(ref p);
        var lo = Vector128.WidenLower(bytes);
        var hi = Vector128.WidenUpper(bytes);
        t0 = NextTrit(ref lo, ref hi);
        t1 = NextTrit(ref lo, ref hi);
        t2 = NextTrit(ref lo, ref hi);
        t3 = NextTrit(ref lo, ref hi);
        t4 = ShortsToLanes(lo, hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int TernaryAt(ref byte row, nint element, nint blockStride)
    {
        var block = element / 80;
        var k = (int)(element - (block * 80));
        int b = Unsafe.Add(ref row, (block * blockStride) + (k & 15));
        for (var i = k >> 4; i > 0; i--)
        {
            b /= 3;
        }

        return b % 3;
    }

    // ---- int1: block of 128 in 16 bytes; bit i of byte j = element 16 i + j ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> BitPlaneV512(Vector512<int> bytes, int plane) =>
        Vector512.ConvertToSingle(Vector512.ShiftRightLogical(bytes, plane) & Vector512.Create(1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> BytesV512(ref byte p) => WidenBytes512(ref p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16 BitPlaneL16(Vector128<byte> bytes, int plane) =>
        BytesToLanes(Vector128.ShiftRightLogical(bytes, plane) & Vector128.Create((byte)1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> BytesL16(ref byte p) => Vector128.LoadUnsafe(ref p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Int1At(ref byte row, nint element, nint blockStride)
    {
        var block = element >> 7;
        var k = (int)(element & 127);
        return (Unsafe.Add(ref row, (block * blockStride) + (k & 15)) >> (k >> 4)) & 1;
    }

    // ---- f16: IEEE binary16, row-major; 16 halves (32 bytes) per call ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> HalfV512(ref byte p)
    {
        var halves = Vector256.LoadUnsafe(ref Unsafe.As<byte, ushort>(ref p));
        var h = Avx512F.IsSupported
            ? Avx512F.ConvertToVector512UInt32(halves)
            : Vector512.Create(Vector256.WidenLower(halves), Vector256.WidenUpper(halves));
        return HalfBits(h);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16 HalfL16(ref byte p)
    {
        ref var u = ref Unsafe.As<byte, ushort>(ref p);
        var a = Vector128.LoadUnsafe(ref u);
        var b = Vector128.LoadUnsafe(ref u, 8);
        return new Lanes16(
            HalfBits(Vector128.WidenLower(a)),
            HalfBits(Vector128.WidenUpper(a)),
            HalfBits(Vector128.WidenLower(b)),
            HalfBits(Vector128.WidenUpper(b)));
    }

    // ---- f16, rebias folded into the input: w · 2^-112 by moving bits only ----
    //
    // A binary16 value's bits moved into a binary32's places (sign to bit 31, exponent and mantissa 13 places up, the
    // exponent not rebiased) read as the float w · 2^-112 exactly, subnormals included (they become binary32
    // subnormals): a sign-extending widening, a shift and a mask instead of the six operations of an exact widening. The kernel multiplies the input by 2^112
    // instead (HalfInputScale), so every product (w · 2^-112)(x · 2^112) is the real product w · x and the sums are
    // those of the exact widening.

    /// <summary>Sixteen binary16 weights (32 bytes) as w · 2^-112.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> HalfScaledV512(ref byte p)
    {
        var halves = Vector256.LoadUnsafe(ref Unsafe.As<byte, short>(ref p));
        var h = Avx512F.IsSupported
            ? Avx512F.ConvertToVector512Int32(halves)
            : Vector512.Create(Vector256.WidenLower(halves), Vector256.WidenUpper(halves));
        return HalfMoved(h);
    }

    /// <summary>Sixteen binary16 weights (32 bytes) as w · 2^-112, two Vector256.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16W HalfScaledW256(ref byte p)
    {
        var h = Vector256.LoadUnsafe(ref Unsafe.As<byte, short>(ref p));
        return new Lanes16W(HalfMoved(Vector256.WidenLower(h)), HalfMoved(Vector256.WidenUpper(h)));
    }

    /// <summary>Sixteen binary16 weights (32 bytes) as w · 2^-112, four Vector128.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16 HalfScaledL16(ref byte p)
    {
        ref var u = ref Unsafe.As<byte, short>(ref p);
        var a = Vector128.LoadUnsafe(ref u);
        var b = Vector128.LoadUnsafe(ref u, 8);
        return new Lanes16(
            HalfMoved(Vector128.WidenLower(a)),
            HalfMoved(Vector128.WidenUpper(a)),
            HalfMoved(Vector128.WidenLower(b)),
            HalfMoved(Vector128.WidenUpper(b)));
    }

    /// <summary>
    /// The factor an f16 kernel multiplies its input by (2^112 / 2^e) and the factor its row sums are multiplied by
    /// afterwards (2^e): e = 0 while max |x| &lt; 2^15, so that x · 2^112 stays finite and every product is exact;
    /// a larger input lowers the first factor by the power of two it needs (e ≤ 112, so the input is never scaled
    /// down and no input underflows).
    /// </summary>
    public static float HalfInputScale(ref float x, int length, out float post)
    {
        float max = 0f;
        nint i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256<float>.Zero;
            for (; i + 8 <= length; i += 8)
            {
                m = Vector256.Max(m, Vector256.Abs(Vector256.LoadUnsafe(ref x, (nuint)i)));
            }

            var m4 = Vector128.Max(m.GetLower(), m.GetUpper());
            max = MathF.Max(MathF.Max(m4[0], m4[1]), MathF.Max(m4[2], m4[3]));
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var m = Vector128<float>.Zero;
            for (; i + 4 <= length; i += 4)
            {
                m = Vector128.Max(m, Vector128.Abs(Vector128.LoadUnsafe(ref x, (nuint)i)));
            }

            max = MathF.Max(MathF.Max(m[0], m[1]), MathF.Max(m[2], m[3]));
        }

        for (; i < length; i++)
        {
            max = MathF.Max(max, MathF.Abs(Unsafe.Add(ref x, i)));
        }

        // max < 2^15 (or NaN, which poisons the sums whatever the factor): e = 0.
        int e = max < 32768f ? 0 : Math.Min(112, Math.ILogB(max) - 14);
        post = BitConverter.Int32BitsToSingle((127 + e) << 23);
        return BitConverter.Int32BitsToSingle((127 + 112 - e) << 23);
    }

    // The halves are sign-extended to 32 bits, so a negative one has ones in bits 31..15; shifted 13 places up, the
    // sign lands in bit 31 and its copies in bits 30..28, which the mask clears (two operations after the widening).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> HalfMoved(Vector512<int> h) =>
        (Vector512.ShiftLeft(h, 13) & Vector512.Create(unchecked((int)0x8FFFFFFFu))).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> HalfMoved(Vector256<int> h) =>
        (Vector256.ShiftLeft(h, 13) & Vector256.Create(unchecked((int)0x8FFFFFFFu))).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> HalfMoved(Vector128<int> h) =>
        (Vector128.ShiftLeft(h, 13) & Vector128.Create(unchecked((int)0x8FFFFFFFu))).AsSingle();

    /// <summary>A binary16 value as float, exact for finite values (the packer rejects Inf/NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HalfAt(ref byte row, nint element) => HalfToSingle(Unsafe.Add(ref Unsafe.As<byte, ushort>(ref row), element));

    /// <summary>
    /// binary16 to binary32 by bit arithmetic: the magnitude bits shifted into place and scaled by
    /// 2^112 rebias the exponent and normalise subnormals in one multiply; the sign is or-ed back.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HalfToSingle(ushort bits)
    {
        var magnitude = BitConverter.Int32BitsToSingle((bits & 0x7FFF) << 13) * 5.192296858534828E+33f;
        return BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(magnitude) | ((bits & 0x8000) << 16));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> HalfBits(Vector512<uint> h)
    {
        var magnitude = (h & Vector512.Create(0x7FFFu)) << 13;
        var value = magnitude.AsSingle() * Vector512.Create(5.192296858534828E+33f);
        return (value.AsUInt32() | ((h & Vector512.Create(0x8000u)) << 16)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> HalfBits(Vector128<uint> h)
    {
        var magnitude = (h & Vector128.Create(0x7FFFu)) << 13;
        var value = magnitude.AsSingle() * Vector128.Create(5.192296858534828E+33f);
        return (value.AsUInt32() | ((h & Vector128.Create(0x8000u)) << 16)).AsSingle();
    }

    // ---- base11 (seed 004): 9 indices per little-endian uint32, index i at place 11^i ----

    /// <summary>
    /// The nine base11 indices (as floats 0..10) of sixteen words: output i holds index i of the
    /// sixteen words. A word is split as hi · 11^4 + lo (one float estimate, one exact integer
    /// correction); then the quotients q_k = ⌊lo / 11^k⌋ and ⌊hi / 11^k⌋ are each one multiply and
    /// floor, and every index is q_k − 11·q_(k+1). All values stay below 2^24, so every step is
    /// exact in float arithmetic; no division and no serial digit chain.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Base11V512(ref byte p, out Vector512<float> f0, out Vector512<float> f1, out Vector512<float> f2, out Vector512<float> f3, out Vector512<float> f4, out Vector512<float> f5, out Vector512<float> f6, out Vector512<float> f7, out Vector512<float> f8)
    {
        var v = Vector512.LoadUnsafe(ref Unsafe.As<byte, uint>(ref p));
        var hi = Vector512.ConvertToUInt32(Vector512.Floor(Vector512.ConvertToSingle(v) * Vector512.Create(1f / 14641f)));
        var lo = (v - (hi * Vector512.Create(14641u))).AsInt32();
        var under = Vector512.LessThan(lo, Vector512<int>.Zero);
        lo += under & Vector512.Create(14641);
        hi += under.AsUInt32();
        var over = Vector512.GreaterThanOrEqual(lo, Vector512.Create(14641));
        lo -= over & Vector512.Create(14641);
        hi -= over.AsUInt32();
        var l0 = Vector512.ConvertToSingle(lo);
        var h0 = Vector512.ConvertToSingle(hi.AsInt32());
        var l1 = Quotient(l0, 1f / 11f);
        var l2 = Quotient(l0, 1f / 121f);
        f3 = Quotient(l0, 1f / 1331f);
        var h1 = Quotient(h0, 1f / 11f);
        var h2 = Quotient(h0, 1f / 121f);
        var h3 = Quotient(h0, 1f / 1331f);
        f8 = Quotient(h0, 1f / 14641f);
        var eleven = Vector512.Create(-11f);
        f0 = Vector512.MultiplyAddEstimate(l1, eleven, l0);
        f1 = Vector512.MultiplyAddEstimate(l2, eleven, l1);
        f2 = Vector512.MultiplyAddEstimate(f3, eleven, l2);
        f4 = Vector512.MultiplyAddEstimate(h1, eleven, h0);
        f5 = Vector512.MultiplyAddEstimate(h2, eleven, h1);
        f6 = Vector512.MultiplyAddEstimate(h3, eleven, h2);
        f7 = Vector512.MultiplyAddEstimate(f8, eleven, h3);
    }

    /// <summary>The portable twin of <see cref="Base11V512"/> (four Vector128 at a time; arm64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Base11L16(ref byte p, out Lanes16 f0, out Lanes16 f1, out Lanes16 f2, out Lanes16 f3, out Lanes16 f4, out Lanes16 f5, out Lanes16 f6, out Lanes16 f7, out Lanes16 f8)
    {
        ref var w = ref Unsafe.As<byte, uint>(ref p);
        Base11Quarter(Vector128.LoadUnsafe(ref w), out var a0, out var a1, out var a2, out var a3, out var a4, out var a5, out var a6, out var a7, out var a8);
        Base11Quarter(Vector128.LoadUnsafe(ref w, 4), out var b0, out var b1, out var b2, out var b3, out var b4, out var b5, out var b6, out var b7, out var b8);
        Base11Quarter(Vector128.LoadUnsafe(ref w, 8), out var c0, out var c1, out var c2, out var c3, out var c4, out var c5, out var c6, out var c7, out var c8);
        Base11Quarter(Vector128.LoadUnsafe(ref w, 12), out var e0, out var e1, out var e2, out var e3, out var e4, out var e5, out var e6, out var e7, out var e8);
        f0 = new Lanes16(a0, b0, c0, e0);
        f1 = new Lanes16(a1, b1, c1, e1);
        f2 = new Lanes16(a2, b2, c2, e2);
        f3 = new Lanes16(a3, b3, c3, e3);
        f4 = new Lanes16(a4, b4, c4, e4);
        f5 = new Lanes16(a5, b5, c5, e5);
        f6 = new Lanes16(a6, b6, c6, e6);
        f7 = new Lanes16(a7, b7, c7, e7);
        f8 = new Lanes16(a8, b8, c8, e8);
    }

    /// <summary>⌊f / d⌋ for an exact float f &lt; 2^24, as ⌊(f + 1/2) · (1/d)⌋: the half keeps the product away from integers by more than its rounding error.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Quotient(Vector512<float> f, float reciprocal) =>
        Vector512.Floor((f + Vector512.Create(0.5f)) * Vector512.Create(reciprocal));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Quotient(Vector128<float> f, float reciprocal) =>
        Vector128.Floor((f + Vector128.Create(0.5f)) * Vector128.Create(reciprocal));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Base11Quarter(Vector128<uint> v, out Vector128<float> f0, out Vector128<float> f1, out Vector128<float> f2, out Vector128<float> f3, out Vector128<float> f4, out Vector128<float> f5, out Vector128<float> f6, out Vector128<float> f7, out Vector128<float> f8)
    {
        // Signed conversions only (x64 has no unsigned ones before AVX-512): v / 2 fits an int, and the
        // estimate only needs to be within one of the quotient, which the correction below repairs.
        var hi = Vector128.ConvertToInt32(Vector128.Floor(Vector128.ConvertToSingle((v >> 1).AsInt32()) * Vector128.Create(2f / 14641f))).AsUInt32();
        var lo = (v - (hi * Vector128.Create(14641u))).AsInt32();
        var under = Vector128.LessThan(lo, Vector128<int>.Zero);
        lo += under & Vector128.Create(14641);
        hi += under.AsUInt32();
        var over = Vector128.GreaterThanOrEqual(lo, Vector128.Create(14641));
        lo -= over & Vector128.Create(14641);
        hi -= over.AsUInt32();
        var l0 = Vector128.ConvertToSingle(lo);
        var h0 = Vector128.ConvertToSingle(hi.AsInt32());
        var l1 = Quotient(l0, 1f / 11f);
        var l2 = Quotient(l0, 1f / 121f);
        f3 = Quotient(l0, 1f / 1331f);
        var h1 = Quotient(h0, 1f / 11f);
        var h2 = Quotient(h0, 1f / 121f);
        var h3 = Quotient(h0, 1f / 1331f);
        f8 = Quotient(h0, 1f / 14641f);
        var eleven = Vector128.Create(-11f);
        f0 = Vector128.MultiplyAddEstimate(l1, eleven, l0);
        f1 = Vector128.MultiplyAddEstimate(l2, eleven, l1);
        f2 = Vector128.MultiplyAddEstimate(f3, eleven, l2);
        f4 = Vector128.MultiplyAddEstimate(h1, eleven, h0);
        f5 = Vector128.MultiplyAddEstimate(h2, eleven, h1);
        f6 = Vector128.MultiplyAddEstimate(h3, eleven, h2);
        f7 = Vector128.MultiplyAddEstimate(f8, eleven, h3);
    }

    /// <summary>The base11 index of element <paramref name="element"/> of a group starting at <paramref name="group"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Base11At(ref byte group, nint element)
    {
        var word = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref group, (element / 9) * 4));
        for (var i = element % 9; i > 0; i--)
        {
            word /= 11;
        }

        return (int)(word % 11);
    }

    // ---- the 256-bit twins (two Vector256 per sixteen weights) ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Int4W256(ref byte p, out Lanes16W low, out Lanes16W high)
    {
        var bytes = Vector128.LoadUnsafe(ref p);
        low = BytesToLanesW(bytes & Vector128.Create((byte)15));
        high = BytesToLanesW(Vector128.ShiftRightLogical(bytes, 4));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void TernaryW256(ref byte p, out Lanes16W t0, out Lanes16W t1, out Lanes16W t2, out Lanes16W t3, out Lanes16W t4)
    {
        var v = Vector256.WidenLower(Vector128.LoadUnsafe(ref p).ToVector256Unsafe());
        t0 = NextTrit(ref v);
        t1 = NextTrit(ref v);
        t2 = NextTrit(ref v);
        t3 = NextTrit(ref v);
        t4 = ShortsToLanesW(v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> BytesW256(ref byte p) => Vector128.LoadUnsafe(ref p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16W BitPlaneW256(Vector128<byte> bytes, int plane) =>
        BytesToLanesW(Vector128.ShiftRightLogical(bytes, plane) & Vector128.Create((byte)1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16W HalfW256(ref byte p)
    {
        var h = Vector256.LoadUnsafe(ref Unsafe.As<byte, ushort>(ref p));
        return new Lanes16W(HalfBits(Vector256.WidenLower(h)), HalfBits(Vector256.WidenUpper(h)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Base11W256(ref byte p, out Lanes16W f0, out Lanes16W f1, out Lanes16W f2, out Lanes16W f3, out Lanes16W f4, out Lanes16W f5, out Lanes16W f6, out Lanes16W f7, out Lanes16W f8)
    {
        ref var w = ref Unsafe.As<byte, uint>(ref p);
        Base11Eighth(Vector256.LoadUnsafe(ref w), out var a0, out var a1, out var a2, out var a3, out var a4, out var a5, out var a6, out var a7, out var a8);
        Base11Eighth(Vector256.LoadUnsafe(ref w, 8), out var b0, out var b1, out var b2, out var b3, out var b4, out var b5, out var b6, out var b7, out var b8);
        f0 = new Lanes16W(a0, b0);
        f1 = new Lanes16W(a1, b1);
        f2 = new Lanes16W(a2, b2);
        f3 = new Lanes16W(a3, b3);
        f4 = new Lanes16W(a4, b4);
        f5 = new Lanes16W(a5, b5);
        f6 = new Lanes16W(a6, b6);
        f7 = new Lanes16W(a7, b7);
        f8 = new Lanes16W(a8, b8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Base11Eighth(Vector256<uint> v, out Vector256<float> f0, out Vector256<float> f1, out Vector256<float> f2, out Vector256<float> f3, out Vector256<float> f4, out Vector256<float> f5, out Vector256<float> f6, out Vector256<float> f7, out Vector256<float> f8)
    {
        // Signed conversions only (see Base11Quarter).
        var hi = Vector256.ConvertToInt32(Vector256.Floor(Vector256.ConvertToSingle((v >> 1).AsInt32()) * Vector256.Create(2f / 14641f))).AsUInt32();
        var lo = (v - (hi * Vector256.Create(14641u))).AsInt32();
        var under = Vector256.LessThan(lo, Vector256<int>.Zero);
        lo += under & Vector256.Create(14641);
        hi += under.AsUInt32();
        var over = Vector256.GreaterThanOrEqual(lo, Vector256.Create(14641));
        lo -= over & Vector256.Create(14641);
        hi -= over.AsUInt32();
        var l0 = Vector256.ConvertToSingle(lo);
        var h0 = Vector256.ConvertToSingle(hi.AsInt32());
        var l1 = Quotient(l0, 1f / 11f);
        var l2 = Quotient(l0, 1f / 121f);
        f3 = Quotient(l0, 1f / 1331f);
        var h1 = Quotient(h0, 1f / 11f);
        var h2 = Quotient(h0, 1f / 121f);
        var h3 = Quotient(h0, 1f / 1331f);
        f8 = Quotient(h0, 1f / 14641f);
        var eleven = Vector256.Create(-11f);
        f0 = Vector256.MultiplyAddEstimate(l1, eleven, l0);
        f1 = Vector256.MultiplyAddEstimate(l2, eleven, l1);
        f2 = Vector256.MultiplyAddEstimate(f3, eleven, l2);
        f4 = Vector256.MultiplyAddEstimate(h1, eleven, h0);
        f5 = Vector256.MultiplyAddEstimate(h2, eleven, h1);
        f6 = Vector256.MultiplyAddEstimate(h3, eleven, h2);
        f7 = Vector256.MultiplyAddEstimate(f8, eleven, h3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Quotient(Vector256<float> f, float reciprocal) =>
        Vector256.Floor((f + Vector256.Create(0.5f)) * Vector256.Create(reciprocal));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Lanes16W NextTrit(ref Vector256<ushort> v)
    {
        var q = Vector256.ShiftRightLogical(v * Vector256.Create((ushort)171), 9);
        var t = v - (q * Vector256.Create((ushort)3));
        v = q;
        return ShortsToLanesW(t);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Lanes16W BytesToLanesW(Vector128<byte> bytes) =>
        ShortsToLanesW(Vector256.WidenLower(bytes.ToVector256Unsafe()));

    // Below 2^16: signed conversion is exact and one instruction (see ShortsToLanes).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Lanes16W ShortsToLanesW(Vector256<ushort> v) => new(
        Vector256.ConvertToSingle(Vector256.WidenLower(v).AsInt32()),
        Vector256.ConvertToSingle(Vector256.WidenUpper(v).AsInt32()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> HalfBits(Vector256<uint> h)
    {
        var magnitude = (h & Vector256.Create(0x7FFFu)) << 13;
        var value = magnitude.AsSingle() * Vector256.Create(5.192296858534828E+33f);
        return (value.AsUInt32() | ((h & Vector256.Create(0x8000u)) << 16)).AsSingle();
    }

    // ---- shared widening ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> WidenBytes512(ref byte p)
    {
        var bytes = Vector128.LoadUnsafe(ref p);
        if (Avx512F.IsSupported)
        {
            return Avx512F.ConvertToVector512Int32(bytes);
        }

        var shorts = Vector256.WidenLower(bytes.ToVector256Unsafe());
        return Vector512.Create(Vector256.WidenLower(shorts), Vector256.WidenUpper(shorts)).AsInt32();
    }

    /// <summary>v mod 3 as floats, and v /= 3, for v &lt; 256: (v * 171) >> 9 is v / 3 there.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> NextTrit(ref Vector512<int> v)
    {
        var q = Vector512.ShiftRightLogical(v * Vector512.Create(171), 9);
        var t = v - (q * Vector512.Create(3));
        v = q;
        return Vector512.ConvertToSingle(t);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Lanes16 NextTrit(ref Vector128<ushort> lo, ref Vector128<ushort> hi)
    {
        var qlo = Vector128.ShiftRightLogical(lo * Vector128.Create((ushort)171), 9);
        var qhi = Vector128.ShiftRightLogical(hi * Vector128.Create((ushort)171), 9);
        var tlo = lo - (qlo * Vector128.Create((ushort)3));
        var thi = hi - (qhi * Vector128.Create((ushort)3));
        lo = qlo;
        hi = qhi;
        return ShortsToLanes(tlo, thi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Lanes16 BytesToLanes(Vector128<byte> bytes) =>
        ShortsToLanes(Vector128.WidenLower(bytes), Vector128.WidenUpper(bytes));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    // The values are below 2^16: converting them as signed ints is exact and one instruction everywhere
    // (an unsigned conversion has no x64 instruction before AVX-512 and falls back to software).
    private static Lanes16 ShortsToLanes(Vector128<ushort> lo, Vector128<ushort> hi) => new(
        Vector128.ConvertToSingle(Vector128.WidenLower(lo).AsInt32()),
        Vector128.ConvertToSingle(Vector128.WidenUpper(lo).AsInt32()),
        Vector128.ConvertToSingle(Vector128.WidenLower(hi).AsInt32()),
        Vector128.ConvertToSingle(Vector128.WidenUpper(hi).AsInt32()));
}
