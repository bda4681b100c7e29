using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Model.Planning;
using CodeGenChunk.Tool.SafeTensors;

namespace CodeGenChunk.Tool.Calibration;

/// <summary>
/// Static mixed precision (docs/routing.md, "Precision per chunk"): runs the float model over the
/// calibration inputs, measures each chunk's mean activity — output chunks: mean |W_i x| over the
/// chunk's rows (seed 001), input chunks: mean |x| over the chunk's slice of the input (seed 000), conv2d
/// chunks of output channels: mean |W_i * x| over the chunk's planes (no bias) —
/// averages it over the inputs, divides by the layer's largest chunk activity (so the most active
/// chunk is 1) and maps it through the policy's thresholds to a format.
/// </summary>
public static class ChunkCalibrator
{
    public sealed record LayerChoice(string Layer, double[] Activity, string[] Formats, PolicySpec Policy);

    public static List<LayerChoice> Calibrate(ManifestSpec spec, SafeTensorsFile weights, IReadOnlyList<float[]> inputs, Action<int>? progress = null)
    {
        var layers = spec.Layers.Where(l => l.Quant?.Policy is { By: "activity" } && Chunking.IsChunked(l)).ToList();
        var sums = layers.ToDictionary(l => l.Name, l => new double[l.Chunks!.Count], StringComparer.Ordinal);
        var forward = new FloatForward(spec, weights);
        for (var n = 0; n < inputs.Count; n++)
        {
            forward.Run(inputs[n], (layer, x) =>
            {
                if (layer.Op == Ops.Conv2d || !sums.TryGetValue(layer.Name, out var sum))
                {
                    return;
                }

                var c = layer.Chunks!;
                var parts = Chunking.Split(layer, c);
                for (var i = 0; i < parts.Length; i++)
                {
                    sum[i] += c.Axis == "input"
                        ? MeanAbs(x, parts[i].Start, parts[i].Length)
                        : forward.MeanAbsRows(layer, x, parts[i].Start, parts[i].Length);
                }
            },
            (layer, y) =>
            {
                if (layer.Op != Ops.Conv2d || !sums.TryGetValue(layer.Name, out var sum))
                {
                    return;
                }

                // Output-channel chunks of a conv2d: mean |y| over the chunk's planes, y the convolution without its bias.
                var parts = Chunking.Split(layer, layer.Chunks!);
                var plane = y.Length / layer.OutChannels;
                var bias = layer.Bias ? forward.Tensor(layer.WeightsPrefix + ".bias") : null;
                for (var i = 0; i < parts.Length; i++)
                {
                    double s = 0;
                    for (var o = parts[i].Start; o < parts[i].Start + parts[i].Length; o++)
                    {
                        var b = bias?[o] ?? 0f;
                        for (var p = 0; p < plane; p++)
                        {
                            s += Math.Abs((double)y[(o * plane) + p] - b);
                        }
                    }

                    sum[i] += s / ((double)parts[i].Length * plane);
                }
            });
            progress?.Invoke(n + 1);
        }

        var result = new List<LayerChoice>();
        foreach (var l in layers)
        {
            var sum = sums[l.Name];
            var max = sum.Max();
            var activity = sum.Select(s => max > 0 ? Math.Round(s / max, 4) : 0).ToArray();
            var policy = l.Quant!.Policy!;
            result.Add(new LayerChoice(l.Name, activity, activity.Select(a => Chunking.Choose(policy, a)).ToArray(), policy));
        }

        return result;
    }

    private static double MeanAbs(float[] x, int start, int length)
    {
        double s = 0;
        for (var i = 0; i < length; i++)
        {
            s += Math.Abs(x[start + i]);
        }

        return s / length;
    }

    /// <summary>
    /// The manifest text with each calibrated policy's "chosen" and "activity" written in (the policy
    /// object is rewritten in place; the rest of the file keeps its bytes).
    /// </summary>
    public static string Apply(string manifestText, IEnumerable<LayerChoice> choices)
    {
        var bytes = Encoding.UTF8.GetBytes(manifestText);
        var edits = choices.OrderByDescending(c => c.Policy.Span.StartOffset).ToList();
        var result = new List<byte>(bytes);
        foreach (var c in edits)
        {
            var p = c.Policy;
            var text = new StringBuilder("{ \"by\": \"activity\", \"thresholds\": [");
            text.Append(string.Join(", ", p.Thresholds.Select(t => t.ToString("R", CultureInfo.InvariantCulture))));
            text.Append("], \"formats\": [").Append(string.Join(", ", p.Formats.Select(f => "\"" + f + "\"")));
            text.Append("],\n      \"chosen\": [").Append(string.Join(", ", c.Formats.Select(f => "\"" + f + "\"")));
            text.Append("],\n      \"activity\": [").Append(string.Join(", ", c.Activity.Select(a => a.ToString("0.####", CultureInfo.InvariantCulture))));
            text.Append("] }");
            result.RemoveRange(p.Span.StartOffset, p.Span.Length);
            result.InsertRange(p.Span.StartOffset, Encoding.UTF8.GetBytes(text.ToString()));
        }

        return Encoding.UTF8.GetString(result.ToArray());
    }

    /// <summary>Calibration inputs: a file of little-endian float32 vectors of the model's input length.</summary>
    public static List<float[]> ReadInputs(string path, int inputLength, int limit)
    {
        var bytes = File.ReadAllBytes(path);
        var vector = 4 * inputLength;
        if (bytes.Length == 0 || bytes.Length % vector != 0)
        {
            throw new InvalidDataException($"'{path}' has {bytes.Length} bytes, which is not a whole number of float32 vectors of {inputLength} values ({vector} bytes each).");
        }

        var count = Math.Min(bytes.Length / vector, limit);
        var inputs = new List<float[]>(count);
        for (var n = 0; n < count; n++)
        {
            var x = new float[inputLength];
            Buffer.BlockCopy(bytes, n * vector, x, 0, vector);
            if (Array.FindIndex(x, v => !float.IsFinite(v)) is var bad && bad >= 0)
            {
                throw new InvalidDataException($"'{path}': vector {n} holds {x[bad]} at index {bad}.");
            }

            inputs.Add(x);
        }

        return inputs;
    }

    /// <summary>Seeded synthetic inputs, uniform in [-2, 2) (for models without real data, such as BigNet).</summary>
    public static List<float[]> RandomInputs(int inputLength, int count, ulong seed)
    {
        var rng = new Packing.SyntheticWeights.SplitMix64(seed);
        var inputs = new List<float[]>(count);
        for (var n = 0; n < count; n++)
        {
            var x = new float[inputLength];
            for (var i = 0; i < x.Length; i++)
            {
                x[i] = (4 * rng.NextUnitFloat()) - 2;
            }

            inputs.Add(x);
        }

        return inputs;
    }
}
