using System;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Samples.MnistTrain;

/// <summary>
/// The few float kernels training needs, written so their results do not depend on the machine: 128-bit vectors
/// (SSE on x64, AdvSimd on arm64, the same lanes everywhere), multiply then add (never fused), a fixed summation
/// order, and an exponential of our own instead of the C library's.
/// </summary>
internal static class VectorMath
{
    /// <summary>y += a · x.</summary>
    public static void Axpy(Span<float> y, float a, ReadOnlySpan<float> x)
    {
        var n = y.Length;
        var i = 0;
        var va = Vector128.Create(a);
        ref var ry = ref MemoryMarshal.GetReference(y);
        ref var rx = ref MemoryMarshal.GetReference(x);
        for (; i <= n - 4; i += 4)
        {
            var v = Vector128.Add(Vector128.LoadUnsafe(ref ry, (nuint)i), Vector128.Multiply(va, Vector128.LoadUnsafe(ref rx, (nuint)i)));
            v.StoreUnsafe(ref ry, (nuint)i);
        }

        for (; i < n; i++)
        {
            y[i] += a * x[i];
        }
    }

    /// <summary>Σ x·y, four lanes at a time, lanes summed in a fixed order.</summary>
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        var n = x.Length;
        var i = 0;
        var acc = Vector128<float>.Zero;
        ref var rx = ref MemoryMarshal.GetReference(x);
        ref var ry = ref MemoryMarshal.GetReference(y);
        for (; i <= n - 4; i += 4)
        {
            acc = Vector128.Add(acc, Vector128.Multiply(Vector128.LoadUnsafe(ref rx, (nuint)i), Vector128.LoadUnsafe(ref ry, (nuint)i)));
        }

        var sum = (acc.GetElement(0) + acc.GetElement(1)) + (acc.GetElement(2) + acc.GetElement(3));
        for (; i < n; i++)
        {
            sum += x[i] * y[i];
        }

        return sum;
    }

    /// <summary>
    /// e^x for x ≤ 0 (softmax after subtracting the maximum), in double: x = k·ln 2 + r with |r| ≤ ln2/2, a degree-11
    /// Taylor polynomial for e^r (error below 1e-15, far under float precision), times 2^k built from its bits.
    /// </summary>
    public static double ExpNonPositive(double x)
    {
        if (x < -700)
        {
            return 0;
        }

        const double Ln2 = 0.6931471805599453;
        var k = Math.Round(x / Ln2);
        var r = x - (k * Ln2);
        var term = 1.0;
        var sum = 1.0;
        for (var n = 1; n <= 11; n++)
        {
            term = term * r / n;
            sum += term;
        }

        return sum * BitConverter.Int64BitsToDouble((long)(1023 + (int)k) << 52);
    }
}
