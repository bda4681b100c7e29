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
        var output = new Option<string>("--out", "-o") { Description = "The safetensors file to write.", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Random seed (same seed, same bytes).", DefaultValueFactory = _ => 42UL };
        var command = new Command("synth", "Write deterministic seeded float32 weights for every tensor a manifest needs (for samples and tests).")
        {
            manifest, output, seed,
        };
        command.SetAction(parse =>
        {
            var loaded = ManifestLoader.Load(parse.GetValue(manifest)!, Console.Error);
            if (loaded is null)
            {
                return 1;
            }

            var tensors = SyntheticWeights.Create(loaded.Value.Spec, parse.GetValue(seed));
            SafeTensorsWriter.Write(parse.GetValue(output)!, tensors);
            Console.WriteLine($"cgc synth: {parse.GetValue(output)}: {tensors.Count} tensors, seed {parse.GetValue(seed)}");
            return 0;
        });
        return command;
    }
}
