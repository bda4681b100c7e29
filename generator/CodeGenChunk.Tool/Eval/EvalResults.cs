using System.Collections.Generic;
using System.Text.Json.Serialization;

namespace CodeGenChunk.Tool.Eval;

/// <summary>What one <c>cgc eval</c> call measured: written with <c>--json</c>, read by <c>cgc report</c>.</summary>
public sealed record EvalRun(
    string Command,
    string Dataset,
    int Samples,
    string? Onnx,
    IReadOnlyList<VariantResult> Variants);

/// <summary>One manifest variant over the dataset.</summary>
/// <param name="Top1">Top-1 accuracy in percent.</param>
/// <param name="FloatTop1">Top-1 of the variant's float twin (same layers and weights, f32, no chunks).</param>
/// <param name="DropPp">FloatTop1 − Top1, in percentage points.</param>
/// <param name="AgreeFloat">Percent of samples whose top-1 equals the float twin's.</param>
/// <param name="AgreeOrt">Percent of samples whose top-1 equals ONNX Runtime's on the original model (with --onnx).</param>
/// <param name="MaxAbsDiffFloat">Largest |output − float twin's output| over all samples.</param>
/// <param name="MacsMean">Multiply-adds executed per sample, mean (routing skips chunks; estimation counts).</param>
/// <param name="MacsDense">Multiply-adds of the float twin (dense).</param>
/// <param name="MacCut">1 − MacsMean / MacsDense, in percent.</param>
/// <param name="WeightBytes">Bytes of the packed weights.</param>
/// <param name="FloatWeightBytes">Bytes of the float twin's packed weights.</param>
/// <param name="SizeCut">1 − WeightBytes / FloatWeightBytes, in percent.</param>
public sealed record VariantResult(
    string Label,
    string Manifest,
    string Model,
    int Correct,
    double Top1,
    double FloatTop1,
    double DropPp,
    double AgreeFloat,
    double? AgreeOrt,
    double MaxAbsDiffFloat,
    double MacsMean,
    long MacsDense,
    double MacCut,
    long WeightBytes,
    long FloatWeightBytes,
    double SizeCut,
    long PeakRamBytes,
    IReadOnlyList<ChunkedLayerResult> Layers)
{
    /// <summary>Integer activations, when the variant has some.</summary>
    public ActivationResult? Activations { get; init; }
}

/// <summary>Integer activations of a variant (docs/activations.md): intermediate memory and each layer's clip rate.</summary>
/// <param name="IntermediateBytes">Float scratch plus u8 codes of one inference.</param>
/// <param name="FloatIntermediateBytes">Float scratch of the same model with f32 activations.</param>
public sealed record ActivationResult(long IntermediateBytes, long FloatIntermediateBytes, IReadOnlyList<ActivationLayerResult> Layers);

/// <summary>An integer-activation layer: its parameters and the percent of its input values clipped over the samples.</summary>
public sealed record ActivationLayerResult(string Name, string Params, double ClipPercent);

/// <summary>A chunked layer: each chunk's format and the fraction of samples on which it ran.</summary>
public sealed record ChunkedLayerResult(string Name, IReadOnlyList<string> Formats, IReadOnlyList<double> HitRate);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EvalRun))]
internal sealed partial class EvalJsonContext : JsonSerializerContext
{
}
