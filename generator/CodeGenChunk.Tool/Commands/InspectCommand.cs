using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Model.Planning;

namespace CodeGenChunk.Tool.Commands;

internal static class InspectCommand
{
    public static Command Create()
    {
        var manifest = new Argument<string>("manifest") { Description = "The *.cgc.json manifest." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var command = new Command("inspect", "Print each layer's format, bits per weight and bytes, the total weight bytes and the peak RAM.")
        {
            manifest, json,
        };
        command.SetAction(parse =>
        {
            var loaded = ManifestLoader.Load(parse.GetValue(manifest)!, Console.Error);
            if (loaded is null)
            {
                return 1;
            }

            var report = Build(loaded.Value.Spec, loaded.Value.Plan);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(report, InspectJsonContext.Default.InspectReport));
            }
            else
            {
                Print(report, Console.Out);
            }

            return 0;
        });
        return command;
    }

    public static InspectReport Build(ManifestSpec spec, ModelPlan plan)
    {
        var layers = spec.Layers
            .Where(l => l.Op is Ops.Linear or Ops.LayerNorm or Ops.Conv2d)
            .Select(l =>
            {
                var entries = plan.Layout.Entries.Where(e => e.Layer == l.Name).ToList();
                var weightBytes = entries.Where(e => !e.Name.EndsWith(".bias", StringComparison.Ordinal)).Sum(e => e.Length);
                var weights = l.Op switch
                {
                    Ops.Linear => (long)l.In * l.Out,
                    Ops.Conv2d => (long)l.OutChannels * l.FilterLength,
                    _ => l.Dim,
                };
                var format = l.Op is Ops.Linear or Ops.Conv2d ? l.Quant!.Format : "f32";
                InspectChunk[] chunks;
                if (Chunking.IsChunked(l))
                {
                    var parts = Chunking.Split(l, l.Chunks!);
                    chunks = parts.Select((p, i) =>
                    {
                        var prefix = Chunking.ChunkPrefix(l, i) + ".";
                        var bytes = entries.Where(e => e.Name.StartsWith(prefix, StringComparison.Ordinal)).Sum(e => e.Length);
                        var chunkWeights = (long)p.Length * (l.Op == Ops.Conv2d ? l.FilterLength : l.Chunks!.Axis == "input" ? l.Out : l.In);
                        return new InspectChunk(i, Chunking.FormatOf(l, i).Format, p.Length, bytes) { BitsPerWeight = Math.Round(bytes * 8.0 / chunkWeights, 4) };
                    }).ToArray();
                    var formats = chunks.Select(c => c.Format).Distinct().ToArray();
                    format = formats.Length == 1 ? formats[0] : "mixed";
                }
                else
                {
                    chunks = new[] { new InspectChunk(0, format, l.Op switch { Ops.Linear => l.Out, Ops.Conv2d => l.OutChannels, _ => 1 }, weightBytes) { BitsPerWeight = Math.Round(weightBytes * 8.0 / weights, 4) } };
                }

                return new InspectLayer(l.Name, l.Op, format, Math.Round(weightBytes * 8.0 / weights, 4), entries.Sum(e => e.Length), chunks);
            })
            .ToArray();
        return new InspectReport(spec.Model, plan.Layout.FileLength, plan.PeakRamBytes, plan.ScratchFloats * 4L, plan.Macs, plan.Layout.HashHex, layers)
        {
            WeightScratchBytes = plan.WeightScratchBytes,
            MaxBytesReadPerRun = plan.MaxBytesReadPerRun,
        };
    }

    private static void Print(InspectReport r, TextWriter o)
    {
        o.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0,-24} {1,-10} {2,-7} {3,8} {4,14}", "layer", "op", "format", "bits/w", "bytes"));
        foreach (var l in r.Layers)
        {
            o.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0,-24} {1,-10} {2,-7} {3,8:0.###} {4,14:N0}", l.Name, l.Op, l.Format, l.BitsPerWeight, l.Bytes));
            if (l.Chunks.Length > 1)
            {
                foreach (var c in l.Chunks)
                {
                    o.WriteLine(string.Format(CultureInfo.InvariantCulture, "  chunk {0,-16} {1,-10} {2,-7} {3,8:0.###} {4,14:N0}", c.Index, c.Rows.ToString(CultureInfo.InvariantCulture) + " wide", c.Format, c.BitsPerWeight, c.Bytes));
                }
            }
        }

        o.WriteLine(string.Format(CultureInfo.InvariantCulture, "total weight bytes (chunk file): {0:N0}", r.TotalWeightBytes));
        o.WriteLine(string.Format(CultureInfo.InvariantCulture, "scratch bytes: {0:N0}", r.ScratchBytes));
        if (r.WeightScratchBytes > 0)
        {
            o.WriteLine(string.Format(CultureInfo.InvariantCulture, "weight scratch bytes (stream placement): {0:N0}", r.WeightScratchBytes));
            o.WriteLine(string.Format(CultureInfo.InvariantCulture, "most weight bytes read per inference: {0:N0}", r.MaxBytesReadPerRun));
        }

        o.WriteLine(string.Format(CultureInfo.InvariantCulture, "peak RAM bytes: {0:N0}", r.PeakRamBytes));
        o.WriteLine(string.Format(CultureInfo.InvariantCulture, "MACs per inference: {0:N0}", r.Macs));
        o.WriteLine("layout hash: " + r.LayoutHash);
    }
}

/// <summary>One chunk: its index, format, extent along the chunked axis ("rows"), bytes including metadata.</summary>
public sealed record InspectChunk(int Index, string Format, int Rows, long Bytes)
{
    public double BitsPerWeight { get; init; }
}

public sealed record InspectLayer(string Name, string Op, string Format, double BitsPerWeight, long Bytes, InspectChunk[] Chunks);

public sealed record InspectReport(string Model, long TotalWeightBytes, long PeakRamBytes, long ScratchBytes, long Macs, string LayoutHash, InspectLayer[] Layers)
{
    /// <summary>Stream placement: the weight scratch (the most weight bytes read at once), else 0.</summary>
    public long WeightScratchBytes { get; init; }

    /// <summary>Stream placement: the most weight bytes one inference reads, else 0.</summary>
    public long MaxBytesReadPerRun { get; init; }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(InspectReport))]
internal sealed partial class InspectJsonContext : System.Text.Json.Serialization.JsonSerializerContext
{
}
