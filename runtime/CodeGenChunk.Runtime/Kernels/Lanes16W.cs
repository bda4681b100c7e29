using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>
/// Sixteen float lanes as two <see cref="Vector256{T}"/>: the AVX2 twin of <see cref="Vector512{T}"/>
/// and <see cref="Lanes16"/> for the packed-format kernels (x64 machines without AVX-512, and
/// NativeAOT builds for x86-64-v3). Its static members mirror Vector512's.
/// </summary>
public struct Lanes16W
{
    public Vector256<float> A;
    public Vector256<float> B;

    public Lanes16W(Vector256<float> a, Vector256<float> b)
    {
        A = a;
        B = b;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16W LoadUnsafe(ref float source, nuint index) => new(
        Vector256.LoadUnsafe(ref source, index),
        Vector256.LoadUnsafe(ref source, index + 8));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16W Create(float value)
    {
        var v = Vector256.Create(value);
        return new Lanes16W(v, v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16W MultiplyAddEstimate(Lanes16W a, Lanes16W b, Lanes16W c) => new(
        Vector256.MultiplyAddEstimate(a.A, b.A, c.A),
        Vector256.MultiplyAddEstimate(a.B, b.B, c.B));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16W Multiply(Lanes16W a, Lanes16W b) => new(a.A * b.A, a.B * b.B);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes16W Add(Lanes16W a, Lanes16W b) => new(a.A + b.A, a.B + b.B);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Lanes16W a) => Vector256.Sum(a.A + a.B);
}
