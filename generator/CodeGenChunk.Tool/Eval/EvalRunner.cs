using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace CodeGenChunk.Tool.Eval;

/// <summary>
/// Runs manifest variants over a labelled dataset: each variant and its float twin are built in this process
/// (<see cref="ModelCompiler"/>), every sample goes through both (and through ONNX Runtime when a reference model is
/// given), and the results are counted.
/// </summary>
public sealed class EvalRunner
{
    private readonly Dictionary<string, int[]> _floatTop1 = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (IEvaluatedModel Model, CompiledModel Compiled)> _floatModels = new(StringComparer.Ordinal);
    private int _ortOutputLength;

    /// <summary>A variant to evaluate: its label in tables and plots, and its manifest.</summary>
    public sealed record Variant(string Label, string Path);

    /// <summary>
    /// Evaluates every variant. <paramref name="progress"/> gets (variant index, samples done) as work goes on; the ONNX
    /// reference, when given, is run first as variant −1.
    /// </summary>
    public EvalRun Run(string command, IReadOnlyList<Variant> variants, LabelledData data, string? onnx, Action<int, int>? progress = null)
    {
        int[]? ortTop1 = null;
        if (onnx is not null)
        {
            using var ort = OrtReference.Open(onnx);
            if (ort.InputLength != data.SampleLength)
            {
                throw new InvalidDataException($"{onnx}: the model takes {ort.InputLength} values per sample, the dataset has {data.SampleLength}");
            }

            ortTop1 = new int[data.Count];
            var x = new float[data.SampleLength];
            _ortOutputLength = ort.OutputLength;
            var y = new float[ort.OutputLength];
            for (var n = 0; n < data.Count; n++)
            {
                data.Copy(data.Indices[n], x);
                ort.Run(x, y);
                ortTop1[n] = ArgMax(y);
                Report(progress, -1, n + 1, data.Count);
            }
        }

        var results = new List<VariantResult>();
        try
        {
            for (var v = 0; v < variants.Count; v++)
            {
                results.Add(Evaluate(v, variants[v], data, ortTop1, progress));
            }
        }
        finally
        {
            foreach (var (model, compiled) in _floatModels.Values)
            {
                model.Dispose();
                compiled.Context.Unload();
            }

            _floatModels.Clear();
        }

        return new EvalRun(command, data.Name, data.Count, onnx is null ? null : Path.GetFileName(onnx), results);
    }

    private VariantResult Evaluate(int index, Variant variant, LabelledData data, int[]? ortTop1, Action<int, int>? progress)
    {
        var text = File.ReadAllText(variant.Path);
        var fullPath = Path.GetFullPath(variant.Path);
        var compiled = ModelCompiler.CompileText(fullPath, text);
        var twinText = ModelCompiler.FloatTwin(text);
        var twinKey = Path.GetDirectoryName(fullPath) + "\n" + twinText;
        if (!_floatModels.TryGetValue(twinKey, out var twin))
        {
            var twinCompiled = ModelCompiler.CompileText(fullPath, twinText);
            twin = (twinCompiled.Create(), twinCompiled);
            _floatModels[twinKey] = twin;
        }

        try
        {
            using var model = compiled.Create();
            if (model.InputLength != data.SampleLength)
            {
                throw new EvalException(variant.Path, $"the model takes {model.InputLength} values per sample, the dataset has {data.SampleLength}");
            }

            if (ortTop1 is not null && model.OutputLength != _ortOutputLength)
            {
                throw new EvalException(variant.Path, $"the model has {model.OutputLength} outputs, the ONNX reference {_ortOutputLength}");
            }

            var known = _floatTop1.TryGetValue(twinKey, out var floatTop1);
            floatTop1 ??= new int[data.Count];
            var x = new float[data.SampleLength];
            var y = new float[model.OutputLength];
            var f = new float[model.OutputLength];
            int correct = 0, floatCorrect = 0, agreeFloat = 0, agreeOrt = 0;
            double macs = 0, maxDiff = 0;
            for (var n = 0; n < data.Count; n++)
            {
                var i = data.Indices[n];
                data.Copy(i, x);
                model.Run(x, y);
                macs += model.LastRunMacs;
                twin.Model.Run(x, f);
                for (var o = 0; o < y.Length; o++)
                {
                    maxDiff = Math.Max(maxDiff, Math.Abs((double)y[o] - f[o]));
                }

                if (!known)
                {
                    floatTop1[n] = ArgMax(f);
                }

                var top = ArgMax(y);
                var label = data.Labels[i];
                correct += top == label ? 1 : 0;
                floatCorrect += floatTop1[n] == label ? 1 : 0;
                agreeFloat += top == floatTop1[n] ? 1 : 0;
                agreeOrt += ortTop1 is not null && top == ortTop1[n] ? 1 : 0;
                Report(progress, index, n + 1, data.Count);
            }

            _floatTop1[twinKey] = floatTop1;
            var hits = model.ChunkHits();
            var names = model.ChunkedLayerNames;
            var offsets = model.ChunkedLayerOffsets;
            var formats = model.ChunkFormats;
            var layers = new List<ChunkedLayerResult>();
            for (var l = 0; l < names.Length; l++)
            {
                var end = l + 1 < offsets.Length ? offsets[l + 1] : hits.Length;
                layers.Add(new ChunkedLayerResult(
                    names[l],
                    formats[offsets[l]..end],
                    hits[offsets[l]..end].Select(h => Math.Round((double)h / data.Count, 4)).ToArray()));
            }

            ActivationResult? activations = null;
            var acts = compiled.Plan.Steps.Where(s => s.Act is not null).Select(s => s.Act!).ToList();
            if (acts.Count > 0)
            {
                var clips = model.ClipCounts();
                activations = new ActivationResult(
                    model.IntermediateBytes,
                    model.FloatIntermediateBytes,
                    acts.Select((a, l) => new ActivationLayerResult(
                        a.Layer,
                        a.QuantizeEntry && a.Params == "predicted" ? "dynamic (first)" : a.Params,
                        Math.Round(100.0 * clips[l] / ((double)data.Count * a.In), 4))).ToList());
            }

            double Percent(int k) => Math.Round(100.0 * k / data.Count, 2);
            var top1 = Percent(correct);
            var floatAccuracy = Percent(floatCorrect);
            var meanMacs = macs / data.Count;
            var dense = twin.Model.MacsPerRun;
            return new VariantResult(
                variant.Label,
                variant.Path,
                compiled.Plan.ClassName,
                correct,
                top1,
                floatAccuracy,
                Math.Round(floatAccuracy - top1, 2),
                Percent(agreeFloat),
                ortTop1 is null ? null : Percent(agreeOrt),
                maxDiff,
                Math.Round(meanMacs, 1),
                dense,
                Math.Round(100 * (1 - (meanMacs / dense)), 2),
                model.WeightBytes,
                twin.Model.WeightBytes,
                Math.Round(100 * (1 - ((double)model.WeightBytes / twin.Model.WeightBytes)), 2),
                model.PeakRamBytes,
                layers)
            {
                Activations = activations,
            };
        }
        finally
        {
            compiled.Context.Unload();
        }
    }

    private static void Report(Action<int, int>? progress, int variant, int done, int total)
    {
        if (progress is not null && (done == total || done % 64 == 0))
        {
            progress(variant, done);
        }
    }

    internal static int ArgMax(float[] v)
    {
        var best = 0;
        for (var i = 1; i < v.Length; i++)
        {
            if (v[i] > v[best])
            {
                best = i;
            }
        }

        return best;
    }
}
