using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Tool.SafeTensors;

namespace CodeGenChunk.Tool.Calibration;

/// <summary>A layer's calibrated activation parameters: a static range or a predicted z (docs/activations.md).</summary>
public sealed record ActivationChoice(LayerSpec Layer, ActivationsSpec Spec, double[]? Range, double? Z, int Samples);

/// <summary>
/// Calibrates integer activations on the float model: <c>static</c> layers get the
/// [(100 − p)-th, p-th] percentile of their input values over all calibration inputs (p = <c>percentile</c>);
/// <c>predicted</c> layers get z, the p-th percentile over inputs of the smallest z for which the previous
/// layer's predicted range max_o(μ_o + z σ_o) (and, without a ReLU, min_o(μ_o − z σ_o)) covers the actual outputs.
/// </summary>
public static class ActivationCalibrator
{
    public static List<ActivationChoice> Calibrate(ManifestSpec spec, SafeTensorsFile weights, IReadOnlyList<float[]> inputs)
    {
        var layers = spec.Layers;
        var targets = layers.Where(l => l.Activations is { Params: "static" or "predicted" }).ToList();
        if (targets.Count == 0)
        {
            return new List<ActivationChoice>();
        }

        var forward = new FloatForward(spec, weights);
        var referenced = new HashSet<string>(layers.Where(l => l.Op == Ops.Residual && l.From is not null).Select(l => l.From!), StringComparer.Ordinal);
        var producers = targets.ToDictionary(l => l.Index, l => ProducerOf(layers, l.Index, referenced));
        var values = targets.Where(l => l.Activations!.Params == "static").ToDictionary(l => l.Index, _ => new List<float>());
        var zs = targets.Where(l => l.Activations!.Params == "predicted" && producers[l.Index] >= 0).ToDictionary(l => l.Index, _ => new List<double>());
        var rowStats = zs.Keys.ToDictionary(i => i, i => RowStats(forward, layers[producers[i]]));

        // LayerNorms on codes: z of the output (before the residual add) the linear layer before them predicts (docs/activations.md)
        var norms = targets.Where(l => l.Op == Ops.LayerNorm && l.Activations!.Params == "predicted" && SumProducer(layers, l.Index) >= 0)
            .ToDictionary(l => l.Index, _ => new List<double>());
        var normRows = norms.Keys.ToDictionary(i => i, i => RowStats(forward, layers[SumProducer(layers, i)]));
        foreach (var x in inputs)
        {
            var seen = new Dictionary<int, float[]>();
            forward.Run(x, (l, v) => seen[l.Index] = v);
            foreach (var (i, list) in values)
            {
                list.AddRange(seen[i]);
            }

            foreach (var (i, list) in norms)
            {
                // the linear layer's output before the residual add (after its ReLU) is the residual layer's input
                var p = layers[SumProducer(layers, i)];
                var relu = layers[p.Index + 1].Op == Ops.Relu;
                list.Add(NeededZ(seen[p.Index], seen[i - 1], normRows[i], relu));
            }

            foreach (var (i, list) in zs)
            {
                var p = layers[producers[i]];
                var relu = layers[p.Index + 1].Op == Ops.Relu;
                list.Add(NeededZ(seen[p.Index], seen[i], rowStats[i], relu));
            }
        }

        var result = new List<ActivationChoice>();
        foreach (var l in targets)
        {
            var a = l.Activations!;
            if (values.TryGetValue(l.Index, out var v))
            {
                var sorted = v.ToArray();
                Array.Sort(sorted);
                var lo = Percentile(sorted, 100 - a.Percentile);
                var hi = Percentile(sorted, a.Percentile);
                result.Add(new ActivationChoice(l, a, new[] { Round(Math.Min(lo, 0)), Round(Math.Max(hi, 0)) }, null, inputs.Count));
            }
            else if (zs.TryGetValue(l.Index, out var z) || norms.TryGetValue(l.Index, out z))
            {
                var sorted = z.ToArray();
                Array.Sort(sorted);
                result.Add(new ActivationChoice(l, a, null, Round(Percentile(sorted, a.Percentile)), inputs.Count));
            }
        }

        return result;
    }

    private static double Round(double v) => double.Parse(v.ToString("G6", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>The p-th percentile of sorted values (nearest rank).</summary>
    public static double Percentile<T>(T[] sorted, double p)
        where T : IConvertible
    {
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
        return Convert.ToDouble(sorted[Math.Clamp(rank, 0, sorted.Length - 1)], CultureInfo.InvariantCulture);
    }

    /// <summary>The planner's rule (ModelPlanner.ProducerOf): the linear or conv2d layer before with integer activations (a ReLU, then max pools and flattens between allowed).</summary>
    /// <remarks>
    /// A linear layer with <c>"format": "f32"</c> activations that writes the next layer's codes from its float input
    /// counts too before that layer's z is recorded (the planner needs the z to choose that plan): its prediction uses the
    /// float input's moments, which is what <see cref="NeededZ"/> measures.
    /// </remarks>
    private static int ProducerOf(IReadOnlyList<LayerSpec> layers, int i, HashSet<string> referenced) =>
        CodeGenChunk.Model.Planning.ModelPlanner.ProducerOf(layers, i, referenced) is var p && p >= 0
            ? p
            : CodeGenChunk.Model.Planning.ModelPlanner.FloatInputProducerOf(layers, i, referenced, requireCalibrated: false);

    /// <summary>A LayerNorm's residual-sum producer: layer i − 1 a residual add right after a linear layer with integer activations (a ReLU between allowed); or -1.</summary>
    private static int SumProducer(IReadOnlyList<LayerSpec> layers, int i)
    {
        var j = i - 2;
        if (j >= 0 && layers[j].Op == Ops.Relu)
        {
            j--;
        }

        return i >= 1 && layers[i - 1].Op == Ops.Residual && j >= 0 && layers[j].Op == Ops.Linear && layers[j].Activations is not null ? j : -1;
    }

    /// <summary>Per row: Σ w, ‖w‖, bias.</summary>
    private static (double[] Sums, double[] Norms, double[] Bias) RowStats(FloatForward forward, LayerSpec l)
    {
        var w = forward.Tensor(l.WeightsPrefix + ".weight");
        var b = l.Bias ? forward.Tensor(l.WeightsPrefix + ".bias") : null;
        // a conv2d filter bank [OutC, InC, KH, KW] is a matrix [OutC, InC · KH · KW]: each output is a window's dot with a row
        var rows = l.Op == Ops.Conv2d ? l.OutChannels : l.Out;
        var cols = l.Op == Ops.Conv2d ? l.FilterLength : l.In;
        var sums = new double[rows];
        var norms = new double[rows];
        var bias = new double[rows];
        for (var o = 0; o < rows; o++)
        {
            double s = 0, s2 = 0;
            for (var i = 0; i < cols; i++)
            {
                double v = w[(o * cols) + i];
                s += v;
                s2 += v * v;
            }

            sums[o] = s;
            norms[o] = Math.Sqrt(s2);
            bias[o] = b?[o] ?? 0;
        }

        return (sums, norms, bias);
    }

    /// <summary>The smallest z whose predicted range covers the actual outputs <paramref name="y"/> of input <paramref name="x"/>.</summary>
    private static double NeededZ(float[] x, float[] y, (double[] Sums, double[] Norms, double[] Bias) rows, bool relu)
    {
        double m = 0, e2 = 0;
        foreach (var v in x)
        {
            m += v;
            e2 += (double)v * v;
        }

        m /= x.Length;
        var sd = Math.Sqrt(Math.Max((e2 / x.Length) - (m * m), 0));
        double yMax = 0, yMin = 0;
        foreach (var v in y)
        {
            yMax = Math.Max(yMax, v);
            yMin = Math.Min(yMin, v);
        }

        double needed = 0;
        if (sd <= 0)
        {
            return needed;
        }

        // per row, the z at which μ_o ± z σ_o reaches the extreme; the range needs the smallest over rows
        double zHi = double.PositiveInfinity, zLo = double.PositiveInfinity;
        for (var o = 0; o < rows.Sums.Length; o++)
        {
            var mu = (m * rows.Sums[o]) + rows.Bias[o];
            var sigma = sd * rows.Norms[o];
            if (sigma <= 0)
            {
                continue;
            }

            zHi = Math.Min(zHi, Math.Max((yMax - mu) / sigma, 0));
            zLo = Math.Min(zLo, Math.Max((mu - yMin) / sigma, 0));
        }

        needed = double.IsPositiveInfinity(zHi) ? 0 : zHi;
        if (!relu && !double.IsPositiveInfinity(zLo))
        {
            needed = Math.Max(needed, zLo);
        }

        return needed;
    }

    /// <summary>Writes each choice into the layer's "activations" object (added to the layer when it inherits the model's default).</summary>
    public static string Apply(string manifestText, IEnumerable<ActivationChoice> choices)
    {
        var bytes = Encoding.UTF8.GetBytes(manifestText);
        var result = new List<byte>(bytes);
        var edits = choices.Select(c =>
        {
            var own = c.Spec.Span.StartOffset > c.Layer.Span.StartOffset && c.Spec.Span.StartOffset < c.Layer.Span.StartOffset + c.Layer.Span.Length;
            var text = new StringBuilder("{ \"format\": \"").Append(c.Spec.Format).Append("\", \"params\": \"").Append(c.Spec.Params).Append("\", \"percentile\": ")
                .Append(c.Spec.Percentile.ToString("R", CultureInfo.InvariantCulture));
            if (c.Range is { } r)
            {
                text.Append(", \"range\": [").Append(r[0].ToString("R", CultureInfo.InvariantCulture)).Append(", ").Append(r[1].ToString("R", CultureInfo.InvariantCulture)).Append(']');
            }

            if (c.Z is { } z)
            {
                text.Append(", \"z\": ").Append(z.ToString("R", CultureInfo.InvariantCulture));
            }

            text.Append(" }");
            return own
                ? (Start: c.Spec.Span.StartOffset, Length: c.Spec.Span.Length, Text: text.ToString())
                : (Start: c.Layer.Span.StartOffset + 1, Length: 0, Text: "\n      \"activations\": " + text + ",");
        }).OrderByDescending(e => e.Start).ToList();
        foreach (var e in edits)
        {
            result.RemoveRange(e.Start, e.Length);
            result.InsertRange(e.Start, Encoding.UTF8.GetBytes(e.Text));
        }

        return Encoding.UTF8.GetString(result.ToArray());
    }
}
