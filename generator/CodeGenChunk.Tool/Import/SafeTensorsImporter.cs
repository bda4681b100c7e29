using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using CodeGenChunk.Tool.SafeTensors;

namespace CodeGenChunk.Tool.Import;

/// <summary>
/// Builds a manifest over the tensors of a safetensors file: an MLP from a list of sizes (tensors fc1, fc2, ...) or any
/// layer list from a skeleton whose layers name their tensors. Every tensor's shape is checked, and the sizes the
/// skeleton leaves out (in, out, dim, channels, kernel) are taken from the tensors.
/// </summary>
public static class SafeTensorsImporter
{
    private const string SkeletonOps = "linear, conv2d, layernorm, relu, softmax, flatten, maxpool, residual";

    /// <summary>An MLP "784-512-512-10": linear fc{i} (weights [out, in], bias [out] when present), <paramref name="activation"/> between them.</summary>
    public static ImportedModel FromArch(string path, string arch, string activation)
    {
        var sizes = ParseArch(arch);
        if (activation is not ("relu" or "none"))
        {
            throw new ImportException($"--activation {activation} is not supported (supported: relu, none)");
        }

        var file = Open(path);
        var name = Path.GetFileName(path);
        var layers = new List<ImportedLayer>();
        for (var i = 1; i < sizes.Length; i++)
        {
            var layer = new ImportedLayer("linear") { Name = "fc" + i.ToString(CultureInfo.InvariantCulture), In = sizes[i - 1], Out = sizes[i] };
            var where = $"layer {layer.Name} (--arch {arch}: {layer.In} -> {layer.Out})";
            layer.Weight = Tensor(file, name, layer.Name + ".weight", new long[] { layer.Out, layer.In }, where);
            layer.WeightShape = new long[] { layer.Out, layer.In };
            if (file.Tensors.ContainsKey(layer.Name + ".bias"))
            {
                layer.BiasValues = Tensor(file, name, layer.Name + ".bias", new long[] { layer.Out }, where);
            }
            else
            {
                layer.Bias = false;
            }

            layers.Add(layer);
            if (i < sizes.Length - 1 && activation == "relu")
            {
                layers.Add(new ImportedLayer("relu"));
            }
        }

        var input = new[] { sizes[0] };
        LayerShapes.Infer(input, layers);
        return new ImportedModel(input, layers, $"Imported by cgc import from {name}: MLP {arch}, {activation} between the layers.");
    }

    /// <summary>
    /// A skeleton: a manifest-like JSON object with "layers" (and optionally "input" and "quant"); each layer with
    /// weights names its tensors by "name" (or "weights"). Returns the model and the top-level properties to keep (quant).
    /// </summary>
    public static (ImportedModel Model, List<KeyValuePair<string, string>> TopLevel) FromSkeleton(string path, string skeletonPath)
    {
        var file = Open(path);
        var name = Path.GetFileName(path);
        var skeletonName = Path.GetFileName(skeletonPath);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(skeletonPath), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new ImportException($"{skeletonName}: {ex.Message}");
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("layers", out var layersJson) || layersJson.ValueKind != JsonValueKind.Array)
            {
                throw new ImportException($"{skeletonName}: a skeleton is a JSON object with a \"layers\" array");
            }

            var topLevel = new List<KeyValuePair<string, string>>();
            foreach (var p in root.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "quant":
                        topLevel.Add(new(p.Name, JsonSerializer.Serialize(p.Value)));
                        break;
                    case "layers" or "input" or "$schema" or "description" or "model" or "namespace" or "target" or "weights":
                        break;
                    default:
                        throw new ImportException($"{skeletonName}: property \"{p.Name}\" is not supported in a skeleton (supported: layers, input, quant; model, namespace, target, weights and description are replaced)");
                }
            }

            var layers = new List<ImportedLayer>();
            var index = 0;
            foreach (var element in layersJson.EnumerateArray())
            {
                layers.Add(SkeletonLayer(file, name, skeletonName, index++, element));
            }

            int[] input;
            if (root.TryGetProperty("input", out var inputJson))
            {
                input = inputJson.ValueKind == JsonValueKind.Object && inputJson.TryGetProperty("shape", out var shape)
                    ? IntArray(shape, $"{skeletonName}: input.shape")
                    : throw new ImportException($"{skeletonName}: \"input\" must be an object with \"shape\"");
            }
            else if (layers.Count > 0 && layers[0].Op == "linear")
            {
                input = new[] { layers[0].In };
            }
            else
            {
                throw new ImportException($"{skeletonName}: the skeleton needs \"input\": {{\"shape\": [...]}} (only a first linear layer tells the input size)");
            }

            try
            {
                LayerShapes.Infer(input, layers);
            }
            catch (ImportException ex)
            {
                throw new ImportException($"{skeletonName}: {ex.Message}");
            }

            return (new ImportedModel(input, layers, $"Imported by cgc import from {name} with the skeleton {skeletonName}."), topLevel);
        }
    }

    private static ImportedLayer SkeletonLayer(SafeTensorsFile file, string fileName, string skeletonName, int index, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("op", out var opJson) || opJson.ValueKind != JsonValueKind.String)
        {
            throw new ImportException($"{skeletonName}: layer {index} is not an object with an \"op\"");
        }

        var op = opJson.GetString()!;
        if (!SkeletonOps.Split(", ").Contains(op))
        {
            throw new ImportException($"{skeletonName}: layer {index}: op '{op}' is not supported (supported: {SkeletonOps})");
        }

        var layer = new ImportedLayer(op);
        var where = $"{skeletonName}: layer {index} ({op})";
        var given = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var p in element.EnumerateObject())
        {
            switch (p.Name)
            {
                case "op":
                    break;
                case "name":
                    layer.Name = p.Value.GetString();
                    where = $"{skeletonName}: layer {index} ({op} '{layer.Name}')";
                    break;
                case "weights":
                    layer.WeightsPrefix = p.Value.GetString();
                    break;
                case "from":
                    layer.From = p.Value.GetString();
                    break;
                case "bias":
                    layer.Bias = p.Value.ValueKind != JsonValueKind.False;
                    break;
                case "eps":
                    layer.Eps = p.Value.GetSingle();
                    break;
                case "in" or "out" or "dim" or "inChannels" or "outChannels" or "kernel" or "stride" or "pad":
                    given[p.Name] = p.Value.Clone();
                    break;
                default:
                    layer.Extra.Add(new(p.Name, JsonSerializer.Serialize(p.Value)));
                    break;
            }
        }

        int Given(string key, int actual, string tensor, long[] shape)
        {
            if (given.TryGetValue(key, out var v) && (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var n) || n != actual))
            {
                throw new ImportException($"{where}: {key} = {v.GetRawText()} but {tensor} has shape {LayerShapes.Text(shape)}");
            }

            return actual;
        }

        int[]? Ints(string key) => given.TryGetValue(key, out var v) ? IntArray(v, $"{where}: {key}") : null;

        switch (op)
        {
            case "linear":
            {
                var prefix = Prefix(layer, where);
                var (w, shape) = Any(file, fileName, prefix + ".weight", 2, where);
                layer.Out = Given("out", (int)shape[0], prefix + ".weight", shape);
                layer.In = Given("in", (int)shape[1], prefix + ".weight", shape);
                layer.Weight = w;
                layer.WeightShape = shape;
                if (layer.Bias)
                {
                    layer.BiasValues = Tensor(file, fileName, prefix + ".bias", new long[] { layer.Out }, where);
                }

                break;
            }

            case "conv2d":
            {
                var prefix = Prefix(layer, where);
                var (w, shape) = Any(file, fileName, prefix + ".weight", 4, where);
                layer.OutChannels = Given("outChannels", (int)shape[0], prefix + ".weight", shape);
                layer.InChannels = Given("inChannels", (int)shape[1], prefix + ".weight", shape);
                layer.Kernel = new[] { (int)shape[2], (int)shape[3] };
                if (Ints("kernel") is { } kernel && !kernel.SequenceEqual(layer.Kernel))
                {
                    throw new ImportException($"{where}: kernel = {LayerShapes.Text(kernel)} but {prefix}.weight has shape {LayerShapes.Text(shape)}");
                }

                layer.Stride = Ints("stride");
                layer.Pad = Ints("pad");
                layer.Weight = w;
                layer.WeightShape = shape;
                if (layer.Bias)
                {
                    layer.BiasValues = Tensor(file, fileName, prefix + ".bias", new long[] { layer.OutChannels }, where);
                }

                break;
            }

            case "layernorm":
            {
                var prefix = Prefix(layer, where);
                var (w, shape) = Any(file, fileName, prefix + ".weight", 1, where);
                layer.Dim = Given("dim", (int)shape[0], prefix + ".weight", shape);
                layer.Weight = w;
                layer.WeightShape = shape;
                layer.BiasValues = Tensor(file, fileName, prefix + ".bias", new long[] { layer.Dim }, where);
                break;
            }

            case "maxpool":
                layer.Kernel = Ints("kernel") ?? throw new ImportException($"{where}: \"kernel\" is required");
                layer.Stride = Ints("stride");
                layer.Pad = Ints("pad");
                break;
            case "residual" when layer.From is null:
                throw new ImportException($"{where}: \"from\" is required");
        }

        return layer;
    }

    private static string Prefix(ImportedLayer layer, string where) =>
        layer.WeightsPrefix ?? layer.Name ?? throw new ImportException($"{where}: \"name\" (or \"weights\") is required: it names the tensors");

    private static int[] ParseArch(string arch)
    {
        var parts = arch.Split('-');
        var sizes = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] < 1)
            {
                sizes = Array.Empty<int>();
                break;
            }
        }

        if (sizes.Length < 2)
        {
            throw new ImportException($"--arch '{arch}' is not a list of at least two sizes joined by '-', like 784-512-512-10");
        }

        return sizes;
    }

    private static int[] IntArray(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Array)
        {
            throw new ImportException($"{where} must be an array of integers");
        }

        return e.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) && n >= 0 ? n : throw new ImportException($"{where} must be an array of integers ≥ 0")).ToArray();
    }

    private static SafeTensorsFile Open(string path)
    {
        try
        {
            return SafeTensorsFile.Read(path);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new ImportException($"{Path.GetFileName(path)}: not a readable safetensors file ({ex.Message})");
        }
    }

    private static float[] Tensor(SafeTensorsFile file, string fileName, string tensorName, long[] expected, string where)
    {
        var (values, shape) = Any(file, fileName, tensorName, expected.Length, where);
        if (!shape.SequenceEqual(expected))
        {
            throw new ImportException($"{fileName}: tensor '{tensorName}' has shape {LayerShapes.Text(shape)}, but {where} needs {LayerShapes.Text(expected)}");
        }

        return values;
    }

    private static (float[] Values, long[] Shape) Any(SafeTensorsFile file, string fileName, string tensorName, int rank, string where)
    {
        if (!file.Tensors.TryGetValue(tensorName, out var info))
        {
            var names = file.Tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
            var list = string.Join(", ", names.Take(12)) + (names.Count > 12 ? $", ... ({names.Count} tensors)" : string.Empty);
            throw new ImportException($"{fileName}: tensor '{tensorName}' for {where} is missing (the file has: {(names.Count == 0 ? "no tensors" : list)})");
        }

        if (info.Shape.Length != rank)
        {
            throw new ImportException($"{fileName}: tensor '{tensorName}' has shape {info.ShapeText}, but {where} needs a rank-{rank} tensor");
        }

        try
        {
            return (file.ToFloatArray(info), info.Shape);
        }
        catch (InvalidDataException ex)
        {
            throw new ImportException($"{fileName}: {ex.Message}");
        }
    }
}
