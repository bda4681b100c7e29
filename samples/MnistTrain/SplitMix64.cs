namespace Samples.MnistTrain;

/// <summary>
/// SplitMix64: a tiny seeded generator whose sequence is fixed by its definition (System.Random's seeded
/// sequence is not promised to stay the same across .NET versions), so the trained weights depend on the seed only.
/// </summary>
internal sealed class SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A float in [0, 1) from the top 24 bits.</summary>
    public float NextFloat() => (Next() >> 40) * (1.0f / (1 << 24));

    /// <summary>An integer in [0, n) (rejection sampling, no modulo bias).</summary>
    public int NextInt(int n)
    {
        var limit = ulong.MaxValue - (ulong.MaxValue % (ulong)n);
        ulong r;
        do
        {
            r = Next();
        }
        while (r >= limit);
        return (int)(r % (ulong)n);
    }
}
