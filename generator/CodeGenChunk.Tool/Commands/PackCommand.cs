using System;
using System.CommandLine;
using System.IO;
using CodeGenChunk.Tool.Packing;

namespace CodeGenChunk.Tool.Commands;

internal static class PackCommand
{
    public static Command Create()
    {
        var manifest = new Argument<string>("manifest") { Description = "The *.cgc.json manifest." };
        var output = new Option<string>("--out", "-o") { Description = "The chunk file to write (.cgcw).", Required = true };
        var source = new Option<string?>("--source") { Description = "Read the float weights from this safetensors file instead of weights.source." };
        var command = new Command("pack", "Quantize the manifest's float weights and write the chunk file the generated model reads.")
        {
            manifest, output, source,
        };
        command.SetAction(parse => Run(parse.GetValue(manifest)!, parse.GetValue(output)!, parse.GetValue(source)));
        return command;
    }

    private static int Run(string manifestPath, string outputPath, string? source)
    {
        var loaded = ManifestLoader.Load(manifestPath, Console.Error);
        if (loaded is null)
        {
            return 1;
        }

        var (spec, plan) = loaded.Value;
        var result = WeightPacker.Pack(spec, plan, source);
        ManifestLoader.Print(result.Diagnostics, Console.Error);
        if (result.File is null)
        {
            return 1;
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(outputPath));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        // Write to a temporary file first, so an interrupted build never leaves a half file behind.
        var temp = outputPath + ".tmp";
        File.WriteAllBytes(temp, result.File);
        File.Move(temp, outputPath, overwrite: true);
        File.WriteAllText(outputPath + ".placement", plan.Placement + "\n");
        Console.WriteLine($"cgc pack: {Path.GetFileName(outputPath)}: {result.File.Length:N0} bytes, {plan.Layout.Entries.Count} entries, layout {plan.Layout.HashHex}, {plan.Placement}");
        return 0;
    }
}
