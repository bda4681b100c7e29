using System.Collections.Generic;

namespace CodeGenChunk.Tool.Import;

/// <summary>What an importer produces: the input shape (CHW for a CNN, [N] for a vector), the layers and a description.</summary>
public sealed record ImportedModel(int[] InputShape, IReadOnlyList<ImportedLayer> Layers, string Description)
{
    /// <summary>All tensors, layer by layer (weight, then bias), for the safetensors file.</summary>
    public List<(string Name, long[] Shape, float[] Values)> Tensors()
    {
        var list = new List<(string, long[], float[])>();
        foreach (var layer in Layers)
        {
            list.AddRange(layer.Tensors());
        }

        return list;
    }
}
