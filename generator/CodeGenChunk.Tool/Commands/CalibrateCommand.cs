using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using CodeGenChunk.Tool.Calibration;
using CodeGenChunk.Tool.SafeTensors;
using Spectre.Console;

namespace CodeGenChunk.Tool.Commands;

internal static class CalibrateCommand
{
    public static Command Create()
    {
        var manifest = new Argument<string>("manifest") { Description = "The *.cgc.json manifest whose precision policies to calibrate (rewritten in place)." };
        var inputs = new Option<string?>("--inputs") { Description = "Calibration inputs: little-endian float32 vectors of the model's input length (default: the manifest's weights.calibration)." };
        var random = new Option<int>("--random") { Description = "Use this many seeded synthetic inputs, uniform in [-2, 2), instead of a file (for models without data)." };
        var limit = new Option<int>("--limit") { Description = "Use at most this many inputs.", DefaultValueFactory = _ => 1000 };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the choice without writing the manifest." };
        var command = new Command("calibrate", "Measure each chunk's activity over calibration inputs and record the format its layer's precision policy chooses (quant.policy.chosen).")
        {
            manifest, inputs, random, limit, dryRun,
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
                var weights = SafeTensorsFile.Read(Path.Combine(dir, spec.Weights.Source));
                var count = parse.GetValue(random);
                var inputFile = parse.GetValue(inputs) ?? (spec.Weights.Calibration is { } c ? Path.Combine(dir, c) : null);
                var data = count > 0
                    ? ChunkCalibrator.RandomInputs(spec.InputLength, Math.Min(count, parse.GetValue(limit)), 7)
                    : inputFile is not null
                        ? ChunkCalibrator.ReadInputs(inputFile, spec.InputLength, parse.GetValue(limit))
                        : null;
                if (data is null)
                {
                    Console.Error.WriteLine($"{path}: error: no calibration inputs; set weights.calibration in the manifest, or pass --inputs FILE or --random N");
                    return 2;
                }

                var choices = AnsiConsole.Progress().AutoClear(true).Start(ctx =>
                {
                    var task = ctx.AddTask("calibrating", maxValue: data.Count);
                    return ChunkCalibrator.Calibrate(spec, weights, data, n => task.Value = n);
                });
                var activationChoices = ActivationCalibrator.Calibrate(spec, weights, data);
                if (choices.Count == 0 && activationChoices.Count == 0)
                {
                    Console.Error.WriteLine($"{path}: error: no layer has a precision policy with \"by\": \"activity\" and chunks, or \"static\" or \"predicted\" int8 or int16 activations, to calibrate");
                    return 2;
                }

                foreach (var a in activationChoices)
                {
                    Console.WriteLine(a.Range is { } r
                        ? string.Format(CultureInfo.InvariantCulture, "{0}: static input range [{1}, {2}] ({3}th percentile)", a.Layer.Name, r[0], r[1], a.Spec.Percentile)
                        : string.Format(CultureInfo.InvariantCulture, "{0}: predicted, z = {1} ({2}th percentile)", a.Layer.Name, a.Z, a.Spec.Percentile));
                }

                foreach (var choice in choices)
                {
                    var counts = choice.Formats.GroupBy(f => f).Select(g => g.Count().ToString(CultureInfo.InvariantCulture) + " " + g.Key);
                    Console.WriteLine($"{choice.Layer}: {string.Join(", ", counts)} (activity relative to the most active chunk: {string.Join(" ", choice.Activity.Select(a => a.ToString("0.00", CultureInfo.InvariantCulture)))})");
                }

                if (!parse.GetValue(dryRun))
                {
                    var text = File.ReadAllText(path);
                    if (choices.Count > 0)
                    {
                        text = ChunkCalibrator.Apply(text, choices);
                    }

                    if (activationChoices.Count > 0)
                    {
                        // re-parse: the precision policies' edits moved the offsets
                        var again = choices.Count > 0 ? CodeGenChunk.Model.Manifest.ManifestParser.Parse(path, text).Spec ?? spec : spec;
                        text = ActivationCalibrator.Apply(text, activationChoices.Select(a => a with { Layer = again.Layers[a.Layer.Index], Spec = again.Layers[a.Layer.Index].Activations ?? a.Spec }));
                    }

                    File.WriteAllText(path, text);
                    Console.WriteLine($"cgc calibrate: {path}: recorded the choice of {choices.Count + activationChoices.Count} layer(s) from {data.Count} inputs");
                }

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
