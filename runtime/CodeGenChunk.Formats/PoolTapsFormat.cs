using System;

namespace CodeGenChunk.Formats;

/// <summary>
/// The proxy of a pool-routed conv2d layer (docs/routing.md, "Pool routing"): for each output channel o, its own filter
/// restricted to its <c>taps</c> largest-|w| weights. Stored as one f32 entry of <c>[outC][2·taps]</c>: row o holds the
/// chosen weights, then their flat filter indices <c>(ic·kH + ky)·kW + kx</c> as floats (exact: indices are below
/// 2²⁴), both in ascending index order. The packer builds it with <see cref="Build"/>; the kernel
/// (<c>PoolRouting.Conv2dMaxPool</c>) reads it.
/// </summary>
public static class PoolTapsFormat
{
    /// <summary>Largest filter length whose indices floats hold exactly.</summary>
    public const int MaxFilterLength = 1 << 24;

    /// <summary>Floats per output channel: the weights, then the indices.</summary>
    public static int RowFloats(int taps) => 2 * taps;

    /// <summary>
    /// The proxy rows of a filter bank <paramref name="filters"/> [outC][filterLength] (row-major): per channel the
    /// <paramref name="taps"/> weights of largest |w|, ties to the lower flat index, stored in ascending index order.
    /// Deterministic: the same filters give the same floats on every framework.
    /// </summary>
    public static float[] Build(ReadOnlySpan<float> filters, int outC, int filterLength, int taps)
    {
        if (outC < 1 || filterLength < 1 || filterLength > MaxFilterLength || (long)outC * filterLength != filters.Length)
        {
            throw new ArgumentException("The filter bank is not outC x filterLength floats.", nameof(filters));
        }

        if (taps < 1 || taps > filterLength)
        {
            throw new ArgumentOutOfRangeException(nameof(taps), taps, "Use 1 to filterLength taps.");
        }

        var result = new float[outC * 2 * taps];
        var order = new int[filterLength];
        var chosen = new int[taps];
        for (var o = 0; o < outC; o++)
        {
            var row = filters.Slice(o * filterLength, filterLength).ToArray();
            for (var t = 0; t < filterLength; t++)
            {
                order[t] = t;
            }

            // |w| descending, then index ascending: a total order, so the (unstable) sort is deterministic
            Array.Sort(order, (a, b) =>
            {
                var c = Math.Abs(row[b]).CompareTo(Math.Abs(row[a]));
                return c != 0 ? c : a.CompareTo(b);
            });
            Array.Copy(order, chosen, taps);
            Array.Sort(chosen);
            for (var t = 0; t < taps; t++)
            {
                result[(o * 2 * taps) + t] = row[chosen[t]];
                result[(o * 2 * taps) + taps + t] = chosen[t];
            }
        }

        return result;
    }
}
