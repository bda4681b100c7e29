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

    /// <summary>
    /// The input of a base11 layer rearranged digit-major, once per call: for each group, nine
    /// runs (one per digit position i) of <paramref name="paddedWords"/> floats, run i holding
    /// x[9·j + i] for word j (zero past the group's end and in the padding). Index i of sixteen
    /// consecutive words (see <see cref="PackedDecode.Base11V512"/>) then meets sixteen
    /// consecutive floats.
    /// </summary>
    public static void Base11DigitMajor(ReadOnlySpan<float> x, int groupSize, int paddedWords, int lastPaddedWords, Span<float> destination)
    {
        destination.Clear();
        var offset = 0;
        for (var start = 0; start < x.Length; start += groupSize)
        {
            var length = Math.Min(groupSize, x.Length - start);
            var padded = length == groupSize ? paddedWords : lastPaddedWords;
            var group = x.Slice(start, length);
            var run = destination.Slice(offset, 9 * padded);
            for (int j = 0, e = 0; e < length; j++)
            {
                for (var i = 0; i < 9 && e < length; i++, e++)
                {
                    run[(i * padded) + j] = group[e];
                }
            }

            offset += 9 * padded;
        }
    }
}
