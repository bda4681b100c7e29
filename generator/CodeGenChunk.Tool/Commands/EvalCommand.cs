using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using CodeGenChunk.Tool.Eval;
using Spectre.Console;

namespace CodeGenChunk.Tool.Commands;

internal static class EvalCommand
{
    public static Command Create()
    {
        var manifests = new Argument<string[]>("manifests") { Description = "Manifest variants to evaluate, each 'path.cgc.json' or 'label=path.cgc.json'.", Arity = ArgumentArity.OneOrMore };
        var samples = new Option<string>("--samples") { Description = "The samples, one after another (raw, or gzip); each the model's input length of --dtype values.", Required = true };
        var labels = new Option<string>("--labels") { Description = "The labels, one per sample (u8 bytes, or int32 with --label-dtype i32).", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "Sample element type: u8 or f32.", DefaultValueFactory = _ => "u8" };
        dtype.AcceptOnlyFromAmong("u8", "f32");
        var labelDtype = new Option<string>("--label-dtype") { Description = "Label type: u8 or i32.", DefaultValueFactory = _ => "u8" };
        labelDtype.AcceptOnlyFromAmong("u8", "i32");
        var scale = new Option<float>("--scale") { Description = "Divide every sample value by this (255 turns grey levels into [0, 1]).", DefaultValueFactory = _ => 1f };
        var every = new Option<int>("--every") { Description = "Evaluate every N-th sample ...", DefaultValueFactory = _ => 1 };
        var start = new Option<int>("--start") { Description = "... starting at this index (--every 5 --start 4: indices 4, 9, 14, ...).", DefaultValueFactory = _ => 0 };
        var limit = new Option<int>("--limit") { Description = "Evaluate at most this many samples (0: all selected)." };
        var onnx = new Option<string?>("--onnx") { Description = "The original ONNX model: ONNX Runtime (one thread) runs it on the same samples, and the agreement of top-1 is reported." };
        var json = new Option<string?>("--json") { Description = "Write the results as JSON (what `cgc report` plots)." };
        var markdown = new Option<string?>("--markdown") { Description = "Write the table, under this command, into a Markdown file: FILE or FILE#SECTION (between '<!-- cgc eval: SECTION -->' markers; other text is kept)." };
        var command = new Command("eval", "Build each manifest variant in-process (pack, generate, compile), run it over a labelled dataset, and report top-1 accuracy, agreement with its float twin and with ONNX Runtime, MACs executed and weight bytes.")
        {
            manifests, samples, labels, dtype, labelDtype, scale, every, start, limit, onnx, json, markdown,
        };
        command.SetAction(parse =>
        {
            var variants = parse.GetValue(manifests)!.Select(ParseVariant).ToList();
            var missing = variants.FirstOrDefault(v => !File.Exists(v.Path));
            if (missing is not null)
            {
                Console.Error.WriteLine($"{missing.Path}: error CGC0018: the manifest does not exist");
                return 1;
            }

            try
            {
                var first = ModelCompiler.Compile(variants[0].Path);
                var inputLength = first.Plan.InputLength;
                first.Context.Unload();
                var data = LabelledData.Load(
                    parse.GetValue(samples)!, parse.GetValue(labels)!, inputLength, parse.GetValue(dtype)!, parse.GetValue(labelDtype)!,
                    parse.GetValue(scale), parse.GetValue(every), parse.GetValue(start), parse.GetValue(limit));
                var onnxPath = parse.GetValue(onnx);
                var commandLine = EvalMarkdown.CommandLine("cgc", parse.Tokens.Select(t => t.Value).ToArray());
                var runner = new EvalRunner();
                EvalRun run = null!;
                if (Console.IsOutputRedirected)
                {
                    // A log, not a terminal: one line per finished model instead of redrawn bars, and a table wide enough to read.
                    AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    run = runner.Run(commandLine, variants, data, onnxPath, (v, done) =>
                    {
                        if (done == data.Count)
                        {
                            Console.WriteLine($"cgc eval: {(v < 0 ? "ONNX Runtime reference" : variants[v].Label)}: {done:N0} samples ({clock.Elapsed.TotalSeconds:0.0} s)");
                        }
                    });
                }
                else
                {
                    AnsiConsole.Progress()
                        .AutoClear(false)
                        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                        .Start(ctx =>
                        {
                            var tasks = new Dictionary<int, ProgressTask>();
                            if (onnxPath is not null)
                            {
                                tasks[-1] = ctx.AddTask("ONNX Runtime reference", maxValue: data.Count);
                            }

                            for (var v = 0; v < variants.Count; v++)
                            {
                                tasks[v] = ctx.AddTask(Markup.Escape(variants[v].Label), maxValue: data.Count);
                            }

                            run = runner.Run(commandLine, variants, data, onnxPath, (v, done) => tasks[v].Value = done);
                        });
                }

                Print(run);
                if (parse.GetValue(json) is { } jsonPath)
                {
                    CreateDirectoryFor(jsonPath);
                    File.WriteAllText(jsonPath, JsonSerializer.Serialize(run, EvalJsonContext.Default.EvalRun) + "\n");
                    Console.WriteLine($"cgc eval: wrote {jsonPath}");
                }

                if (parse.GetValue(markdown) is { } target)
                {
                    var hash = target.LastIndexOf('#');
                    var (file, section) = hash > 0 ? (target[..hash], target[(hash + 1)..]) : (target, "accuracy");
                    EvalMarkdown.WriteSection(file, section, EvalMarkdown.Table(run));
                    Console.WriteLine($"cgc eval: wrote the table into {file} (section '{section}')");
                }

                return 0;
            }
            catch (Exception ex) when (ex is EvalException or IOException or InvalidDataException or InvalidOperationException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"cgc eval: error: {ex.Message}");
                return 2;
            }
        });
        return command;
    }

    private static EvalRunner.Variant ParseVariant(string text)
    {
        // "label=path": the last '=' splits, so labels may hold one ("k=6/12"); an existing file is always a path.
        var eq = text.LastIndexOf('=');
        if (eq > 0 && !File.Exists(text))
        {
            return new EvalRunner.Variant(text[..eq], text[(eq + 1)..]);
        }

        var name = Path.GetFileName(text);
        return new EvalRunner.Variant(name.EndsWith(".cgc.json", StringComparison.OrdinalIgnoreCase) ? name[..^".cgc.json".Length] : name, text);
    }

    private static void CreateDirectoryFor(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
    }

    private static void Print(EvalRun run)
    {
        var c = CultureInfo.InvariantCulture;
        var ort = run.Onnx is not null;
        var table = new Table().Title($"{run.Samples:N0} samples of {Markup.Escape(run.Dataset)}");
        table.AddColumn("variant");
        foreach (var h in new[] { "top-1", "drop pp", "agree f32", ort ? "agree ORT" : null, "max |Δ| f32", "MACs/sample", "MAC cut", "weight bytes", "size cut" })
        {
            if (h is not null)
            {
                table.AddColumn(new TableColumn(h).RightAligned());
            }
        }

        foreach (var v in run.Variants)
        {
            var cells = new List<string>
            {
                Markup.Escape(v.Label),
                v.Top1.ToString("0.00", c) + "%",
                v.DropPp.ToString("0.00", c),
                v.AgreeFloat.ToString("0.00", c) + "%",
            };
            if (ort)
            {
                cells.Add(v.AgreeOrt!.Value.ToString("0.00", c) + "%");
            }

            cells.Add(v.MaxAbsDiffFloat.ToString("G3", c));
            cells.Add(v.MacsMean.ToString("N0", c));
            cells.Add(v.MacCut.ToString("0.0", c) + "%");
            cells.Add(v.WeightBytes.ToString("N0", c));
            cells.Add(v.SizeCut.ToString("0.0", c) + "%");
            table.AddRow(cells.ToArray());
        }

        AnsiConsole.Write(table);
        foreach (var v in run.Variants)
        {
            if (v.Activations is { } a)
            {
                // integer activations (docs/activations.md): intermediate memory and each layer's clip rate
                var layers = string.Join(", ", a.Layers.Select(l => $"{l.Name} {l.Params} {l.ClipPercent.ToString("0.####", c)}%"));
                Console.WriteLine($"cgc eval: {v.Label}: intermediate bytes {a.IntermediateBytes.ToString("N0", c)} (f32 activations {a.FloatIntermediateBytes.ToString("N0", c)}); clipped inputs: {layers}");
            }
        }
    }
}
