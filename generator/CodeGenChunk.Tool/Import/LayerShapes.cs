using System;
using System.Collections.Generic;
using System.Linq;

namespace CodeGenChunk.Tool.Import;

/// <summary>
/// Runs the shapes through a layer list the way the manifest defines them (vectors [N], CNN activations [C, H, W])
/// and checks that each layer fits its input: an importer's last check before it writes anything.
/// </summary>
public static class LayerShapes
{
    public const string SupportedOps = "linear, relu, residual, layernorm, softmax, conv2d, maxpool, flatten";

    /// <summary>The output shape of every layer.</summary>
    /// <exception cref="ImportException">A layer does not fit its input.</exception>
    public static IReadOnlyList<int[]> Infer(int[] inputShape, IReadOnlyList<ImportedLayer> layers)
    {
        var shapes = new List<int[]>();
        var byName = new Dictionary<string, int[]>(StringComparer.Ordinal) { ["input"] = inputShape };
        var current = inputShape;
        for (var i = 0; i < layers.Count; i++)
        {
            var l = layers[i];
            string Where() => $"layer {i} ({l.Op}{(l.Name is null ? string.Empty : " '" + l.Name + "'")})";
            var size = current.Aggregate(1, (a, b) => a * b);
            switch (l.Op)
            {
                case "linear":
                    if (current.Length != 1 || l.In != size)
                    {
                        throw new ImportException($"{Where()}: in = {l.In} does not match its input {Text(current)}");
                    }

                    current = new[] { l.Out };
                    break;
                case "layernorm":
                    if (current.Length != 1 || l.Dim != size)
                    {
                        throw new ImportException($"{Where()}: dim = {l.Dim} does not match its input {Text(current)}");
                    }

                    break;
                case "relu":
                case "softmax":
                    break;
                case "flatten":
                    current = new[] { size };
                    break;
                case "residual":
                    if (l.From is null || !byName.TryGetValue(l.From, out var from))
                    {
                        throw new ImportException($"{Where()}: from '{l.From}' is not an earlier layer's name or \"input\"");
                    }

                    if (!from.SequenceEqual(current))
                    {
                        throw new ImportException($"{Where()}: '{l.From}' is {Text(from)} but the current tensor is {Text(current)}");
                    }

                    break;
                case "conv2d":
                case "maxpool":
                    if (current.Length != 3)
                    {
                        throw new ImportException($"{Where()}: needs a [C, H, W] input, got {Text(current)}");
                    }

                    var k = l.Kernel!;
                    var s = l.Stride ?? (l.Op == "conv2d" ? new[] { 1, 1 } : k);
                    var p = l.Pad ?? new[] { 0, 0, 0, 0 };
                    if (l.Op == "conv2d" && l.InChannels != current[0])
                    {
                        throw new ImportException($"{Where()}: inChannels = {l.InChannels} does not match its input {Text(current)}");
                    }

                    var h = ((current[1] + p[0] + p[2] - k[0]) / s[0]) + 1;
                    var w = ((current[2] + p[1] + p[3] - k[1]) / s[1]) + 1;
                    if (current[1] + p[0] + p[2] < k[0] || current[2] + p[1] + p[3] < k[1])
                    {
                        throw new ImportException($"{Where()}: kernel {Text(k)} is larger than its padded input {Text(current)}");
                    }

                    current = new[] { l.Op == "conv2d" ? l.OutChannels : current[0], h, w };
                    break;
                default:
                    throw new ImportException($"{Where()}: op '{l.Op}' is not supported (supported: {SupportedOps})");
            }

            shapes.Add(current);
            if (l.Name is not null)
            {
                byName[l.Name] = current;
            }
        }

        return shapes;
    }

    public static string Text(IEnumerable<int> shape) => "[" + string.Join(", ", shape) + "]";

    public static string Text(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
}
