using System;
using System.Collections.Generic;
using CodeGenChunk.Model.Manifest;

namespace CodeGenChunk.Tool.Packing;

/// <summary>
/// Deterministic, seeded float32 weights for every tensor a manifest needs — for samples and
/// tests that must not commit megabytes of weights. Linear and conv2d layers get PyTorch's default
/// initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)); LayerNorm gets gamma near 1 and beta near 0.
/// SplitMix64 makes the values identical on every machine and runtime.
/// </summary>
public static class SyntheticWeights
{
    public static List<(string Name, long[] Shape, float[] Values)> Create(ManifestSpec spec, ulong seed) => Create(spec, seed, kaiming: false);

    /// <summary>
    /// As <see cref="Create(ManifestSpec, ulong)"/>; with <paramref name="kaiming"/> linear layers get He's uniform
    /// initialisation U(-sqrt(6/fan_in), sqrt(6/fan_in)) and zero biases instead, so that activations keep their scale
    /// through a deep stack of ReLU layers (PyTorch's default shrinks them by about 0.4 per layer until the biases
    /// dominate and the output no longer depends on the input).
    /// </summary>
    public static List<(string Name, long[] Shape, float[] Values)> Create(ManifestSpec spec, ulong seed, bool kaiming)
    {
        var tensors = new List<(string, long[], float[])>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var rng = new SplitMix64(seed);
        foreach (var l in spec.Layers)
        {
            if (!seen.Add(l.WeightsPrefix))
            {
                continue;
            }

            switch (l.Op)
            {
                case Ops.Linear:
                {
                    var bound = kaiming ? MathF.Sqrt(6f / l.In) : 1f / MathF.Sqrt(l.In);
                    tensors.Add((l.WeightsPrefix + ".weight", new long[] { l.Out, l.In }, Uniform(ref rng, (long)l.Out * l.In, -bound, bound)));
                    if (l.Bias)
                    {
                        tensors.Add((l.WeightsPrefix + ".bias", new long[] { l.Out }, kaiming ? new float[l.Out] : Uniform(ref rng, l.Out, -bound, bound)));
                    }

                    break;
                }

                case Ops.Conv2d:
                {
                    // PyTorch's default for Conv2d too: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = inChannels * kH * kW.
                    var bound = 1f / MathF.Sqrt(l.FilterLength);
                    tensors.Add((l.WeightsPrefix + ".weight", new long[] { l.OutChannels, l.InChannels, l.KernelH, l.KernelW }, Uniform(ref rng, (long)l.OutChannels * l.FilterLength, -bound, bound)));
                    if (l.Bias)
                    {
                        tensors.Add((l.WeightsPrefix + ".bias", new long[] { l.OutChannels }, Uniform(ref rng, l.OutChannels, -bound, bound)));
                    }

                    break;
                }

                case Ops.LayerNorm:
                    tensors.Add((l.WeightsPrefix + ".weight", new long[] { l.Dim }, Uniform(ref rng, l.Dim, 0.9f, 1.1f)));
                    tensors.Add((l.WeightsPrefix + ".bias", new long[] { l.Dim }, Uniform(ref rng, l.Dim, -0.1f, 0.1f)));
                    break;
            }
        }

        return tensors;
    }

    private static float[] Uniform(ref SplitMix64 rng, long count, float low, float high)
    {
        var values = new float[count];
        for (long i = 0; i < count; i++)
        {
            values[i] = low + ((high - low) * rng.NextUnitFloat());
        }

        return values;
    }

    /// <summary>SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, identical everywhere.</summary>
    public struct SplitMix64
    {
        private ulong _state;

        public SplitMix64(ulong seed) => _state = seed;

        public ulong Next()
        {
            var z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>A float in [0, 1) from the top 24 bits.</summary>
        public float NextUnitFloat() => (Next() >> 40) * (1f / (1 << 24));
    }
}
