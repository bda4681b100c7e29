using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>
/// Sixteen float lanes as four <see cref="Vector128{T}"/>: the portable twin of
/// <see cref="Vector512{T}"/> for kernels whose formats decode sixteen weights at a time
/// (int4, ternary, int1, base11, f16). Its static members mirror Vector512's, so one template
/// serves both; on arm64 every operation is an AdvSimd instruction on four registers.
/// </summary>
public struct Lanes16
{
    public Vector128<float> A;
    public Vector128<float> B;
    public Vector128<float> C;
    public Vector128<float> D;

    public Lanes16(Vector128<float> a, Vector128<float> b, Vector128<float> c, Vector128<float> d)
    {
        A = a;
        B = b;
        C = c;
        D = d;
    }

    public static Lanes16 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16 LoadUnsafe(ref float source, nuint index) => new(
        Vector128.LoadUnsafe(ref source, index),
        Vector128.LoadUnsafe(ref source, index + 4),
        Vector128.LoadUnsafe(ref source, index + 8),
        Vector128.LoadUnsafe(ref source, index + 12));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16 Create(float value)
    {
        var v = Vector128.Create(value);
        return new Lanes16(v, v, v, v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16 MultiplyAddEstimate(Lanes16 a, Lanes16 b, Lanes16 c) => new(
        Vector128.MultiplyAddEstimate(a.A, b.A, c.A),
        Vector128.MultiplyAddEstimate(a.B, b.B, c.B),
        Vector128.MultiplyAddEstimate(a.C, b.C, c.C),
        Vector128.MultiplyAddEstimate(a.D, b.D, c.D));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16 Multiply(Lanes16 a, Lanes16 b) => new(a.A * b.A, a.B * b.B, a.C * b.C, a.D * b.D);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16 Add(Lanes16 a, Lanes16 b) => new(a.A + b.A, a.B + b.B, a.C + b.C, a.D + b.D);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Lanes16 a) => Vector128.Sum((a.A + a.B) + (a.C + a.D));
}
