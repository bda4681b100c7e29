using System.IO;

namespace CodeGenChunk.Generator.Tests;

/// <summary>The manifests the behaviour tests use: the BigNet samples and the small ones of this project.</summary>
internal static class TestManifests
{
    public static string OddF32Path => Path.Combine(RepoPaths.TestManifests, "odd.f32.cgc.json");

    public static string SmallInt8Path => Path.Combine(RepoPaths.TestManifests, "small.int8.cgc.json");

    public static string CnnF32Path => Path.Combine(RepoPaths.TestManifests, "cnn.f32.cgc.json");

    public static string[] All => new[] { RepoPaths.BigNetF32, RepoPaths.BigNetInt8, OddF32Path, SmallInt8Path, CnnF32Path };

    /// <summary>Two layernorms with small and fractional eps, for culture checks of float literals.</summary>
    public const string Epsilons = """
        {
          "model": "Epsilons",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [8] },
          "quant": { "format": "int8", "groupSize": 8 },
          "layers": [
            { "op": "layernorm", "name": "n0", "dim": 8, "eps": 1e-5 },
            { "op": "linear", "name": "fc", "in": 8, "out": 8 },
            { "op": "layernorm", "name": "n1", "dim": 8, "eps": 0.001 }
          ]
        }
        """;
}
