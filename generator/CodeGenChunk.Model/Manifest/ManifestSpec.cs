using CodeGenChunk.Model.Json;

namespace CodeGenChunk.Model.Manifest;

/// <summary>A parsed manifest (*.cgc.json): immutable, value-equatable, positions kept for diagnostics.</summary>
public sealed record ManifestSpec(
    string FilePath,
    string BaseName,
    string Model,
    string Namespace,
    TargetSpec Target,
    WeightsSpec Weights,
    EquatableArray<int> InputShape,
    EquatableArray<LayerSpec> Layers)
{
    public int InputLength
    {
        get
        {
            var n = 1;
            foreach (var d in InputShape)
            {
                n *= d;
            }

            return n;
        }
    }

    /// <summary>The manifest file name without ".cgc.json": it names the packed weights file ("{BaseName}.cgcw").</summary>
    public static string BaseNameOf(string filePath)
    {
        var name = System.IO.Path.GetFileName(filePath);
        const string suffix = ".cgc.json";
        return name.EndsWith(suffix, System.StringComparison.OrdinalIgnoreCase) ? name.Substring(0, name.Length - suffix.Length) : name;
    }
}

/// <summary>Where the model runs: RAM budget, SIMD choice, weights placement.</summary>
public sealed record TargetSpec(long? RamBudgetBytes, TextSpanInfo Span, string Simd, string Placement);

/// <summary>Where the float weights come from.</summary>
public sealed record WeightsSpec(string Source, TextSpanInfo SourceSpan, string? Calibration);

/// <summary>How a layer's weights are stored.</summary>
public sealed record QuantSpec(string Format, int GroupSize, TextSpanInfo FormatSpan, TextSpanInfo GroupSizeSpan, bool HasPolicy, TextSpanInfo PolicySpan)
{
    /// <summary>The per-chunk precision policy, when the layer has one.</summary>
    public PolicySpec? Policy { get; init; }

    /// <summary>
    /// base11 only: how the indices are arranged, "words" (the seed's nine per uint32, the default) or "pairs" (two indices
    /// per 7-bit code, 64 codes in 56 bytes per block of 128: Base11PairsFormat; linear layers with int8 or f32 activations, CGC0047).
    /// </summary>
    public string Layout { get; init; } = "words";

    /// <summary>Where the layout is written (the quant object when it is not).</summary>
    public TextSpanInfo? LayoutSpan { get; init; }

    /// <summary>Whether the weights are base11 in the "pairs" layout.</summary>
    public bool IsPairs => Format == "base11" && Layout == "pairs";
}

/// <summary>
/// A per-chunk precision policy: <c>by: "activity"</c> chooses each chunk's format once, from its
/// mean activity over calibration inputs (<c>cgc calibrate</c> records the choice in <see cref="Chosen"/>);
/// <c>by: "runtime-activity"</c> chooses, for each input, the bits each selected chunk runs at (<see cref="Bits"/>) from
/// its normalised activity score; such a layer stores its chunks as bit-planes (docs/routing.md).
/// </summary>
public sealed record PolicySpec(
    string By,
    EquatableArray<double> Thresholds,
    EquatableArray<string> Formats,
    EquatableArray<string> Chosen,
    EquatableArray<double> Activity,
    TextSpanInfo Span,
    TextSpanInfo FormatsSpan,
    TextSpanInfo ChosenSpan)
{
    /// <summary><c>by: "runtime-activity"</c>: the bits (planes read, 1..8) of each activity class, lowest first.</summary>
    public EquatableArray<int> Bits { get; init; } = EquatableArray<int>.Empty;

    public TextSpanInfo? BitsSpan { get; init; }

    public bool HasFormats { get; init; }

    /// <summary>Whether the precision is chosen per input (bit-planes), not once at calibration.</summary>
    public bool IsRuntime => By == "runtime-activity";
}

/// <summary>
/// How a linear layer's input activations are represented (docs/activations.md): <c>f32</c> (the default), or
/// <c>int8</c> u8 codes with a scale and zero point whose parameters come from the input itself (<c>dynamic</c>),
/// from calibration (<c>static</c>: <see cref="Range"/>, written by <c>cgc calibrate</c>) or from a prediction the
/// previous layer makes before it runs (<c>predicted</c>: <see cref="Z"/>, written by <c>cgc calibrate</c>).
/// </summary>
public sealed record ActivationsSpec(string Format, string Params, double Percentile, TextSpanInfo Span, TextSpanInfo ParamsSpan)
{
    /// <summary>static: the calibrated input range [lo, hi], or null before calibration.</summary>
    public EquatableArray<double> Range { get; init; } = EquatableArray<double>.Empty;

    /// <summary>predicted: the calibrated number of standard deviations the predicted range spans, or null before calibration.</summary>
    public double? Z { get; init; }

    /// <summary>Whether the layer computes with integer activations.</summary>
    public bool IsInt8 => Format == "int8";

    /// <summary>int16: symmetric signed int16 codes (zero point 0) times int8 weights (docs/activations.md, "int16 activations").</summary>
    public bool IsInt16 => Format == "int16";

    /// <summary>Whether the layer computes with integer activations of either width (int8 or int16).</summary>
    public bool IsInteger => IsInt8 || IsInt16;
}

/// <summary>How a layer is split into chunks for partial computation.</summary>
public sealed record ChunksSpec(int Count, string Axis, int? TopK, double? MinActivity, int? MaxK, string Activity, TextSpanInfo Span)
{
    /// <summary>Format of the proxy sketch (activity "proxy") or of the low-rank factor V (activity "lowrank").</summary>
    public string ProxyFormat { get; init; } = "int1";

    /// <summary>Sketch rows per chunk (activity "proxy", default 4), or the rank of the layer's factorization (activity "lowrank", default 16).</summary>
    public int ProxyRank { get; init; } = 2;

    public TextSpanInfo? ActivitySpan { get; init; }

    public TextSpanInfo? CountSpan { get; init; }

    public TextSpanInfo? AxisSpan { get; init; }

    /// <summary>Axis "pool": taps of each channel's filter in its proxy (activity "taps"); 0 when not given.</summary>
    public int ProxyTaps { get; init; }

    public TextSpanInfo? ProxyTapsSpan { get; init; }

    public TextSpanInfo? TopKSpan { get; init; }

    /// <summary>Axis "pool": the first of minActivity, maxK, proxyFormat, proxyRank given (none applies to pool routing), or null.</summary>
    public TextSpanInfo? ExtraSpan { get; init; }

    /// <summary>Axis "pool": a conv2d layer computes only the top-k positions of each window of the max pool after it (docs/routing.md).</summary>
    public bool IsPool => Axis == "pool";

    /// <summary>Whether some inputs skip chunks (top-k or a threshold), rather than every chunk always running.</summary>
    public bool Routed => (TopK is { } k && k < Count) || MinActivity is not null || (MaxK is { } m && m < Count);
}

/// <summary>One layer of the manifest. Fields that an op does not use keep their defaults.</summary>
public sealed record LayerSpec(
    int Index,
    string Op,
    string Name,
    TextSpanInfo Span,
    TextSpanInfo NameSpan)
{
    public int In { get; init; }

    public TextSpanInfo? InSpan { get; init; }

    public int Out { get; init; }

    public TextSpanInfo? OutSpan { get; init; }

    public bool Bias { get; init; } = true;

    public string WeightsPrefix { get; init; } = string.Empty;

    public int Dim { get; init; }

    public TextSpanInfo? DimSpan { get; init; }

    public float Eps { get; init; } = 1e-5f;

    public string? From { get; init; }

    public TextSpanInfo? FromSpan { get; init; }

    public QuantSpec? Quant { get; init; }

    public ChunksSpec? Chunks { get; init; }

    /// <summary>The model's placement is "stream": the layer's weights are read from the file per inference.</summary>
    public bool Streamed { get; init; }

    /// <summary>linear and conv2d: how the layer's input activations are represented (null: f32).</summary>
    public ActivationsSpec? Activations { get; init; }

    /// <summary>
    /// linear: the layer's own <c>"activations": { "format": "f32" }</c>, or null. With int8 weights, before a layer with
    /// int8 activations and static or calibrated predicted params, the layer reads its float input in place and writes
    /// that layer's u8 codes (docs/activations.md, "A float input writing the next layer's codes").
    /// </summary>
    public ActivationsSpec? FloatActivations { get; init; }

    /// <summary>conv2d: channels in and out.</summary>
    public int InChannels { get; init; }

    public TextSpanInfo? InChannelsSpan { get; init; }

    public int OutChannels { get; init; }

    /// <summary>conv2d and maxpool: window height and width.</summary>
    public int KernelH { get; init; }

    public int KernelW { get; init; }

    public TextSpanInfo? KernelSpan { get; init; }

    /// <summary>conv2d and maxpool: step between windows (default 1 for conv2d, the kernel for maxpool).</summary>
    public int StrideH { get; init; } = 1;

    public int StrideW { get; init; } = 1;

    /// <summary>conv2d and maxpool: padding in ONNX order [top, left, bottom, right].</summary>
    public int PadTop { get; init; }

    public int PadLeft { get; init; }

    public int PadBottom { get; init; }

    public int PadRight { get; init; }

    public TextSpanInfo? PadSpan { get; init; }

    /// <summary>conv2d: weights per output channel (inChannels · kernel height · kernel width).</summary>
    public int FilterLength => InChannels * KernelH * KernelW;
}
