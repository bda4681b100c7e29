using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>
/// Loads int8 weights straight into float vectors, one vector's worth of lanes at a time.
/// x64 uses the sign-extending load (vpmovsxbd) where it exists; every other machine, arm64
/// included, takes the portable widening path, which the JIT turns into sxtl/scvtf on AdvSimd.
/// </summary>
public static class SByteVectors
{
    /// <summary>16 int8 at <paramref name="p"/>[<paramref name="i"/>] as 16 floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadV512(ref sbyte p, nuint i)
    {
        var bytes = Vector128.LoadUnsafe(ref p, i);
        if (Avx512F.IsSupported)
        {
            return Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(bytes));
        }

        var shorts = Vector256.WidenLower(bytes.ToVector256Unsafe());
        return Vector512.Create(
            Vector256.ConvertToSingle(Vector256.WidenLower(shorts)),
            Vector256.ConvertToSingle(Vector256.WidenUpper(shorts)));
    }

    /// <summary>8 int8 at <paramref name="p"/>[<paramref name="i"/>] as 8 floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadV256(ref sbyte p, nuint i)
    {
        var bytes = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref p, i)))).AsSByte();
        if (Avx2.IsSupported)
        {
            return Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(bytes));
        }

        var shorts = Vector128.WidenLower(bytes);
        return Vector256.Create(
            Vector128.ConvertToSingle(Vector128.WidenLower(shorts)),
            Vector128.ConvertToSingle(Vector128.WidenUpper(shorts)));
    }

    /// <summary>4 int8 at <paramref name="p"/>[<paramref name="i"/>] as 4 floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadV128(ref sbyte p, nuint i)
    {
        var bytes = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<int>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref p, i)))).AsSByte();
        if (Sse41.IsSupported)
        {
            return Sse2.ConvertToVector128Single(Sse41.ConvertToVector128Int32(bytes));
        }

        return Vector128.ConvertToSingle(Vector128.WidenLower(Vector128.WidenLower(bytes)));
    }
}
