using System.Collections.Generic;

namespace CodeGenChunk.Tool.Import;

/// <summary>
/// One layer of an imported manifest, with the float tensors it owns. Only the properties of its op are written
/// (<see cref="ManifestWriter"/>); <see cref="Extra"/> carries properties of a skeleton layer the importer does not
/// interpret (quant, chunks), as compact JSON, after the others.
/// </summary>
public sealed class ImportedLayer(string op)
{
    public string Op { get; } = op;

    public string? Name { get; set; }

    /// <summary>Tensor name prefix when it differs from <see cref="Name"/> (the manifest's "weights").</summary>
    public string? WeightsPrefix { get; set; }

    public int In { get; set; }

    public int Out { get; set; }

    public bool Bias { get; set; } = true;

    public int InChannels { get; set; }

    public int OutChannels { get; set; }

    public int[]? Kernel { get; set; }

    public int[]? Stride { get; set; }

    public int[]? Pad { get; set; }

    public int Dim { get; set; }

    public float? Eps { get; set; }

    public string? From { get; set; }

    /// <summary>The float weight tensor (linear [out, in], conv2d [outC, inC, kH, kW], layernorm [dim]), or null.</summary>
    public float[]? Weight { get; set; }

    public long[]? WeightShape { get; set; }

    /// <summary>The bias (linear, conv2d) or shift (layernorm), or null.</summary>
    public float[]? BiasValues { get; set; }

    public List<KeyValuePair<string, string>> Extra { get; } = new();

    /// <summary>The ONNX node the layer comes from (names a layer a residual refers to).</summary>
    public string? SourceNode { get; set; }

    public string TensorPrefix => WeightsPrefix ?? Name ?? string.Empty;

    /// <summary>The tensors of this layer in file order: weight, then bias.</summary>
    public IEnumerable<(string Name, long[] Shape, float[] Values)> Tensors()
    {
        if (Weight is not null)
        {
            yield return (TensorPrefix + ".weight", WeightShape!, Weight);
        }

        if (BiasValues is not null)
        {
            yield return (TensorPrefix + ".bias", new long[] { BiasValues.Length }, BiasValues);
        }
    }
}
