using System;
using System.Numerics.Tensors;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>Per-call preparation shared by the packed-format kernels.</summary>
public static class PackedKernelSupport
{
    /// <summary>
    /// The sum of the inputs of every quantization group (the last group may be shorter). Codes
    /// are stored with an offset (nibble − 8, trit − 1, 2·bit − 1, base11's group minimum); the
    /// kernels subtract offset × scale × this sum once per group instead of once per weight.
    /// </summary>
    public static void GroupSums(ReadOnlySpan<float> x, int groupSize, Span<float> sums)
    {
        for (var g = 0; g < sums.Length; g++)
        {
            var start = g * groupSize;
            sums[g] = TensorPrimitives.Sum(x.Slice(start, Math.Min(groupSize, x.Length - start)));
        }
    }
}
