using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using CodeGenChunk.Tool.Calibration;
using CodeGenChunk.Tool.Reordering;
using CodeGenChunk.Tool.SafeTensors;

namespace CodeGenChunk.Tool.Commands;

internal static class ReorderCommand
{
    public static Command Create()
    {
        var manifest = new Argument<string>("manifest") { Description = "The *.cgc.json manifest of the model (its weights.source is read; the manifest is not changed)." };
        var inputs = new Option<string?>("--inputs") { Description = "Calibration inputs: little-endian float32 vectors of the model's input length (default: the manifest's weights.calibration). Use training data, never the data you evaluate on." };
        var output = new Option<string>("--out") { Description = "The safetensors file to write: the same tensors, hidden units reordered.", Required = true };
        var groups = new Option<int>("--groups") { Description = "Groups per hidden layer: the chunk count the reordered layers will be routed with (chunk i of an 'input' split of the next layer holds group i).", DefaultValueFactory = _ => 16 };
        var topK = new Option<int?>("--top-k") { Description = "The routing k the refinement maximises the captured activation for (default: groups / 4)." };
        var layers = new Option<string?>("--layers") { Description = "Comma-separated names of the layers whose outputs (hidden units) to reorder (default: every linear layer followed, through ReLUs only, by another linear layer)." };
        var limit = new Option<int>("--limit") { Description = "Use at most this many inputs.", DefaultValueFactory = _ => 10000 };
        var command = new Command("reorder", "Reorder the hidden units of an MLP so that units active together share a chunk: permutes each layer's rows and the next layer's columns, which leaves the function unchanged, and writes a new safetensors file.")
        {
            manifest, inputs, output, groups, topK, layers, limit,
        };
        command.SetAction(parse =>
        {
            var path = Path.GetFullPath(parse.GetValue(manifest)!);
            var spec = ManifestLoader.Parse(path, Console.Error);
            if (spec is null)
            {
                return 1;
            }

            var dir = Path.GetDirectoryName(path) ?? ".";
            try
            {
                var source = Path.GetFullPath(Path.Combine(dir, spec.Weights.Source));
                var outPath = Path.GetFullPath(parse.GetValue(output)!);
                if (string.Equals(source, outPath, StringComparison.Ordinal))
                {
                    Console.Error.WriteLine($"{path}: error: --out is the model's own weights file ({source}); write the reordered weights to a new file");
                    return 2;
                }

                var weights = SafeTensorsFile.Read(source);
                var inputFile = parse.GetValue(inputs) ?? (spec.Weights.Calibration is { } c ? Path.Combine(dir, c) : null);
                if (inputFile is null)
                {
                    Console.Error.WriteLine($"{path}: error: no calibration inputs; set weights.calibration in the manifest, or pass --inputs FILE");
                    return 2;
                }

                var data = ChunkCalibrator.ReadInputs(inputFile, spec.InputLength, parse.GetValue(limit));
                var hidden = HiddenUnitReorder.Find(spec);
                if (parse.GetValue(layers) is { } names)
                {
                    var wanted = names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    var unknown = wanted.Where(w => hidden.All(h => h.Producer.Name != w)).ToList();
                    if (unknown.Count > 0)
                    {
                        Console.Error.WriteLine($"{path}: error: cannot reorder the outputs of {string.Join(", ", unknown.Select(u => "'" + u + "'"))}; reorderable layers: {string.Join(", ", hidden.Select(h => h.Producer.Name))}");
                        return 2;
                    }

                    hidden = hidden.Where(h => wanted.Contains(h.Producer.Name)).ToList();
                }

                if (hidden.Count == 0)
                {
                    Console.Error.WriteLine($"{path}: error: no hidden layer to reorder: cgc reorder needs a linear layer followed (through ReLUs only) by another linear layer");
                    return 2;
                }

                var g = parse.GetValue(groups);
                var k = parse.GetValue(topK) ?? Math.Max(1, g / 4);
                if (g < 2 || k < 1 || k >= g)
                {
                    Console.Error.WriteLine($"{path}: error: --groups {g} --top-k {k}: need at least 2 groups and --top-k between 1 and the number of groups less one ({g - 1})");
                    return 2;
                }
                var results = HiddenUnitReorder.Plan(spec, weights, hidden, data, g, k);
                SafeTensorsWriter.Write(outPath, HiddenUnitReorder.Apply(weights, results));
                foreach (var r in results)
                {
                    Console.WriteLine($"{r.Layer.Producer.Name} -> {r.Layer.Consumer.Name}: {r.Order.Length} units in {r.Groups} groups; activation inside the top {r.TopK} groups per input: {100 * r.CapturedBefore:0.0}% before, {100 * r.CapturedAfter:0.0}% after ({r.KMeansRounds} k-means rounds, {r.RefineRounds} refinement rounds)");
                }

                Console.WriteLine($"cgc reorder: {path}: wrote {outPath} ({results.Count} hidden layer(s) reordered, {data.Count} inputs)");
                return 0;
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or InvalidOperationException or NotSupportedException)
            {
                Console.Error.WriteLine($"{path}: error: {ex.Message}");
                return 2;
            }
        });
        return command;
    }
}
