using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Text.Json;
using CodeGenChunk.Tool.Eval;
using ScottPlot;

namespace CodeGenChunk.Tool.Commands;

/// <summary>
/// <c>cgc report</c>: the results of one or more <c>cgc eval --json</c> runs as plots — top-1 against MACs executed,
/// top-1 against weight bytes (one series per run), and a heat map per routed variant of how often each chunk ran.
/// </summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var inputs = new Argument<string[]>("results") { Description = "JSON files written by `cgc eval --json`.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out", "-o") { Description = "The folder to write the plots into.", Required = true };
        var format = new Option<string>("--format") { Description = "png or svg.", DefaultValueFactory = _ => "png" };
        format.AcceptOnlyFromAmong("png", "svg");
        var command = new Command("report", "Plot `cgc eval --json` results: accuracy vs MACs executed, accuracy vs weight bytes, and a per-layer chunk activity heat map of each chunked variant.")
        {
            inputs, output, format,
        };
        command.SetAction(parse =>
        {
            try
            {
                var runs = new List<(string Name, EvalRun Run)>();
                foreach (var path in parse.GetValue(inputs)!)
                {
                    var run = JsonSerializer.Deserialize(File.ReadAllText(path), EvalJsonContext.Default.EvalRun)
                        ?? throw new InvalidDataException($"{path}: empty results");
                    if (run.Variants is null || run.Variants.Count == 0)
                    {
                        throw new InvalidDataException($"{path}: no variants; is it a `cgc eval --json` file?");
                    }

                    runs.Add((Path.GetFileNameWithoutExtension(path), run));
                }

                var written = Write(runs, parse.GetValue(output)!, parse.GetValue(format)!);
                foreach (var file in written)
                {
                    Console.WriteLine($"cgc report: wrote {file}");
                }

                return 0;
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or JsonException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"cgc report: error: {ex.Message}");
                return 2;
            }
            catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException)
            {
                Console.Error.WriteLine($"cgc report: error: the plotting library's native part (SkiaSharp) is not available to cgc: {ex.GetBaseException().Message.Split('\n')[0].Trim()}. "
                    + "The repository build of cgc carries it; the CodeGenChunk package leaves it out to stay small.");
                return 2;
            }
        });
        return command;
    }

    /// <summary>Writes every plot into <paramref name="directory"/> and returns the files written.</summary>
    public static IReadOnlyList<string> Write(IReadOnlyList<(string Name, EvalRun Run)> runs, string directory, string format)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>
        {
            Scatter(runs, directory, format, "accuracy-vs-macs", "MACs executed per sample, % of the dense float model", v => 100.0 * v.MacsMean / v.MacsDense),
            Scatter(runs, directory, format, "accuracy-vs-bytes", "weight bytes, % of the float model", v => 100.0 * v.WeightBytes / v.FloatWeightBytes),
        };
        foreach (var (name, run) in runs)
        {
            foreach (var v in run.Variants.Where(v => v.Layers.Count > 0))
            {
                written.Add(HeatMap(v, directory, format, Safe(name + "-" + v.Label)));
            }
        }

        return written;
    }

    private static string Scatter(IReadOnlyList<(string Name, EvalRun Run)> runs, string directory, string format, string file, string xLabel, Func<VariantResult, double> x)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (var r = 0; r < runs.Count; r++)
        {
            var (name, run) = runs[r];
            var xs = run.Variants.Select(x).ToArray();
            var ys = run.Variants.Select(v => v.Top1).ToArray();
            var points = plot.Add.ScatterPoints(xs, ys, palette.GetColor(r));
            points.MarkerSize = 8;
            points.LegendText = $"{name} ({run.Samples:N0} samples)";
            for (var i = 0; i < xs.Length; i++)
            {
                var label = plot.Add.Text(run.Variants[i].Label, xs[i], ys[i]);
                label.LabelFontSize = 10;
                label.LabelFontColor = palette.GetColor(r);
                label.LabelOffsetX = 5;
                label.LabelOffsetY = -5;
            }
        }

        // Room on the right for the point labels (text does not count in autoscaling).
        var all = runs.SelectMany(r => r.Run.Variants).ToArray();
        var (low, high) = (all.Min(x), all.Max(x));
        var span = Math.Max(high - low, 1);
        plot.Axes.SetLimitsX(low - (0.05 * span), high + (0.22 * span));
        var (bottom, top) = (all.Min(v => v.Top1), all.Max(v => v.Top1));
        var rise = Math.Max(top - bottom, 1);
        plot.Axes.SetLimitsY(bottom - (0.06 * rise), top + (0.06 * rise));
        plot.Title("top-1 accuracy vs " + xLabel.Split(',')[0]);
        plot.XLabel(xLabel);
        plot.YLabel("top-1 accuracy (%)");
        plot.ShowLegend(Edge.Bottom);
        return Save(plot, directory, file, format, 900, 600);
    }

    private static string HeatMap(VariantResult v, string directory, string format, string file)
    {
        var chunks = v.Layers.Max(l => l.HitRate.Count);
        var values = new double[v.Layers.Count, chunks];
        for (var l = 0; l < v.Layers.Count; l++)
        {
            for (var c = 0; c < chunks; c++)
            {
                values[l, c] = c < v.Layers[l].HitRate.Count ? v.Layers[l].HitRate[c] : double.NaN;
            }
        }

        var plot = new Plot();
        var map = plot.Add.Heatmap(values);
        map.Colormap = new ScottPlot.Colormaps.Viridis();
        map.ManualRange = new ScottPlot.Range(0, 1);
        plot.Add.ColorBar(map).Label = "share of samples run";
        plot.Title($"{v.Label}: chunk activity (top-1 {v.Top1:0.00}%, MAC cut {v.MacCut:0.0}%)");
        plot.XLabel("chunk");
        plot.YLabel("layer");
        plot.Axes.Left.SetTicks(Enumerable.Range(0, v.Layers.Count).Select(i => (double)(v.Layers.Count - 1 - i)).ToArray(), v.Layers.Select(l => l.Name).ToArray());
        return Save(plot, directory, file, format, 900, 140 + (70 * v.Layers.Count));
    }

    private static string Save(Plot plot, string directory, string file, string format, int width, int height)
    {
        var path = Path.Combine(directory, file + "." + format);
        if (format == "svg")
        {
            plot.SaveSvg(path, width, height);
        }
        else
        {
            plot.SavePng(path, width, height);
        }

        return path;
    }

    private static string Safe(string name) =>
        new(name.Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '.' or '_' ? ch : '_').ToArray());
}
