using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>
/// Decodes the packed weight formats (layouts in docs/formats.md) into float lanes, sixteen
/// consecutive weights per output, straight from the packed bytes. Each format has a
/// <see cref="Vector512{T}"/> decoder, a portable <see cref="Lanes16"/> twin (arm64 AdvSimd) and
/// a scalar per-element accessor. Decoders return the stored code as a float (nibble 0..15,
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
    public static int Int4At(ref byte row, nint element)
    {
        var block = element >> 5;
        var k = (int)(element & 31);
        var b = Unsafe.Add(ref row, (block << 4) + (k & 15));
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
    public static int TernaryAt(ref byte row, nint element)
    {
        var block = element / 80;
        var k = (int)(element - (block * 80));
        int b = Unsafe.Add(ref row, (block << 4) + (k & 15));
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
    public static int Int1At(ref byte row, nint element)
    {
        var block = element >> 7;
        var k = (int)(element & 127);
        return (Unsafe.Add(ref row, (block << 4) + (k & 15)) >> (k >> 4)) & 1;
    }

    // ---- f16: IEEE binary16, row-major; 16 halves (32 bytes) per call ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> HalfV512(ref byte p)
    {
        var h = Vector512.WidenLower(Vector256.LoadUnsafe(ref Unsafe.As<byte, ushort>(ref p)).ToVector512Unsafe());
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
    private static Lanes16 ShortsToLanes(Vector128<ushort> lo, Vector128<ushort> hi) => new(
        Vector128.ConvertToSingle(Vector128.WidenLower(lo)),
        Vector128.ConvertToSingle(Vector128.WidenUpper(lo)),
        Vector128.ConvertToSingle(Vector128.WidenLower(hi)),
        Vector128.ConvertToSingle(Vector128.WidenUpper(hi)));
}
