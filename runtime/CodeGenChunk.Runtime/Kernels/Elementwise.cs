using System;
using System.Numerics.Tensors;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>
/// The element-wise layers (ReLU, residual add, LayerNorm, softmax). They are a vanishing share of the
/// time next to the matrix kernels, so they are plain vectorised primitives, not generated code.
/// Source and destination may be the same span (in place).
/// </summary>
public static class Elementwise
{
    public static void Relu(ReadOnlySpan<float> source, Span<float> destination) =>
        TensorPrimitives.Max(source, 0f, destination);

    public static void Add(ReadOnlySpan<float> source, ReadOnlySpan<float> residual, Span<float> destination) =>
        TensorPrimitives.Add(source, residual, destination);

    /// <summary>y = (x - mean) / sqrt(var + eps) * gamma + beta, with the biased variance (as PyTorch).</summary>
    public static void LayerNorm(ReadOnlySpan<float> source, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps, Span<float> destination)
    {
        var n = source.Length;
        var mean = TensorPrimitives.Sum(source) / n;
        TensorPrimitives.Subtract(source, mean, destination);
        var variance = TensorPrimitives.SumOfSquares(destination) / n;
        var inv = 1f / MathF.Sqrt(variance + eps);
        TensorPrimitives.Multiply(destination, inv, destination);
        TensorPrimitives.MultiplyAdd(destination, gamma, beta, destination);
    }

    /// <summary>
    /// y = exp(x - max x) / sum exp(x - max x): the largest value is subtracted first, so no exp overflows
    /// and at least one term of the sum is 1.
    /// </summary>
    public static void Softmax(ReadOnlySpan<float> source, Span<float> destination)
    {
        var max = TensorPrimitives.Max(source);
        TensorPrimitives.Subtract(source, max, destination);
        TensorPrimitives.Exp(destination, destination);
        var sum = TensorPrimitives.Sum(destination);
        TensorPrimitives.Multiply(destination, 1f / sum, destination);
    }
}
