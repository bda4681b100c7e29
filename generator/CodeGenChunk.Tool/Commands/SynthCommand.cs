using System;
using System.CommandLine;
using CodeGenChunk.Tool.Packing;
using CodeGenChunk.Tool.SafeTensors;

namespace CodeGenChunk.Tool.Commands;

internal static class SynthCommand
{
    public static Command Create()
    {
        var manifest = new Argument<string>("manifest") { Description = "The *.cgc.json manifest whose tensors to create." };
        var output = new Option<string?>("--out", "-o") { Description = "The safetensors file to write (default: the manifest's weights.source)." };
        var seed = new Option<ulong>("--seed") { Description = "Random seed (same seed, same bytes).", DefaultValueFactory = _ => 42UL };
        var kaiming = new Option<bool>("--kaiming") { Description = "Linear layers: He's uniform initialisation U(±sqrt(6/fan_in)) and zero biases (activations keep their scale through deep ReLU stacks), instead of PyTorch's default." };
        var command = new Command("synth", "Write deterministic seeded float32 weights for every tensor a manifest needs (for samples and tests).")
        {
            manifest, output, seed, kaiming,
        };
        command.SetAction(parse =>
        {
            var spec = ManifestLoader.Parse(parse.GetValue(manifest)!, Console.Error);
            if (spec is null)
            {
                return 1;
            }

            var path = parse.GetValue(output)
                ?? System.IO.Path.Combine(System.IO.Path.GetDirectoryName(spec.FilePath) ?? ".", spec.Weights.Source);
            var tensors = SyntheticWeights.Create(spec, parse.GetValue(seed), parse.GetValue(kaiming));
            SafeTensorsWriter.Write(path, tensors);
            Console.WriteLine($"cgc synth: {path}: {tensors.Count} tensors, seed {parse.GetValue(seed)}");
            return 0;
        });
        return command;
    }
}
