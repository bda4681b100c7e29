namespace CodeGenChunk.Model.Planning;

/// <summary>One call in the generated Run method (a layer, or a linear layer with fused ReLU/residual).</summary>
public sealed record PlanStep(
    string Op,
    string Comment,
    BufferRef Source,
    BufferRef Destination,
    BufferRef Residual,
    KernelSpec? Kernel)
{
    public long WeightOffset { get; init; }

    public long ScaleOffset { get; init; }

    /// <summary>Second metadata entry (base11: the group ranges; ScaleOffset holds the minima).</summary>
    public long Scale2Offset { get; init; }

    public long BiasOffset { get; init; }

    public long GammaOffset { get; init; }

    public long BetaOffset { get; init; }

    public int Length { get; init; }

    public string EpsLiteral { get; init; } = "0f";

    /// <summary>conv2d: the generated convolution kernel this step calls.</summary>
    public ConvKernelSpec? Conv { get; init; }

    /// <summary>linear with int8 activations: the integer kernel's constants (the step has no generated kernel).</summary>
    public ActivationStep? Act { get; init; }

    /// <summary>layernorm on u8 codes (the residual stream in codes): the step's constants.</summary>
    public NormCodesStep? Norm { get; init; }

    /// <summary>maxpool of u8 codes (after an integer-activation conv2d): the shape pooled in place at <see cref="CodeOffset"/> of the code buffer.</summary>
    public PoolKernelSpec? CodePool { get; init; }

    public int CodeOffset { get; init; }

    /// <summary>conv2d with pool routing: the conv, its ReLU and the max pool after it, computed by <c>PoolRouting.Conv2dMaxPool</c>.</summary>
    public PoolRouteSpec? PoolRoute { get; init; }

    /// <summary>maxpool: the generated pooling kernel this step calls.</summary>
    public PoolKernelSpec? Pool { get; init; }

    /// <summary>Scratch the step uses while it runs (conv2d: padded input and decoded filters), or none.</summary>
    public BufferRef Temp { get; init; } = BufferRef.None;

    /// <summary>The step writes where it reads (a flatten then moves no data).</summary>
    public bool InPlace => Source == Destination;

    /// <summary>The chunks of a chunked linear layer (empty otherwise), in order.</summary>
    public EquatableArray<ChunkCall> Chunks { get; init; } = EquatableArray<ChunkCall>.Empty;

    /// <summary>How a chunked linear or conv2d layer routes its chunks (null otherwise).</summary>
    public ChunkRoute? Route { get; init; }

    /// <summary>The output-channel chunks of a chunked conv2d layer (empty otherwise), in order.</summary>
    public EquatableArray<ConvChunkCall> ConvChunks { get; init; } = EquatableArray<ConvChunkCall>.Empty;

    /// <summary>The manifest layer the step runs (a fused epilogue's layer is named by its linear or conv2d).</summary>
    public string Layer { get; init; } = string.Empty;

    /// <summary>Stream placement: weight reads into the weight scratch before the step (whole-layer weights, the chunked layer's bias).</summary>
    public EquatableArray<StreamRead> StreamReads { get; init; } = EquatableArray<StreamRead>.Empty;
}

/// <summary>
/// One output-channel chunk of a chunked conv2d layer: channels [Start, Start + Length), its filters in its own format
/// at the given offsets. <see cref="Kernel"/> describes them (format, group size, filter length, output plane); the
/// layer's filter-bank kernel (<see cref="ChunkRoute.ConvBank"/>) computes them after <see cref="Decode"/>.
/// </summary>
public sealed record ConvChunkCall(
    int Index,
    int Start,
    int Length,
    ConvKernelSpec Kernel,
    long WeightOffset,
    long ScaleOffset,
    long Scale2Offset,
    long BiasOffset,
    long Macs)
{
    /// <summary>C# expression of the chunk's output planes (channels Start.. of the layer's output).</summary>
    public string Destination { get; init; } = "default";

    /// <summary>C# expression of the chunk's bias values, or "default" without bias.</summary>
    public string Bias { get; init; } = "default";

    /// <summary>The C# statement that decodes the chunk's filters into the layer's filter bank (<see cref="ChunkRoute.ConvBank"/>).</summary>
    public string Decode { get; init; } = string.Empty;
}

/// <summary>One read of weight bytes from the chunk file into the weight scratch (stream placement).</summary>
public sealed record StreamRead(long FileOffset, int Length, int ScratchOffset);

/// <summary>One chunk of a chunked linear layer: its range, kernel, entry offsets and the spans it reads and writes.</summary>
public sealed record ChunkCall(
    int Index,
    int Start,
    int Length,
    KernelSpec Kernel,
    long WeightOffset,
    long ScaleOffset,
    long Scale2Offset,
    long BiasOffset,
    long Macs)
{
    /// <summary>C# expressions of the chunk's input, output, residual and bias spans in the generated Run method.</summary>
    public string Source { get; init; } = "default";

    public string Destination { get; init; } = "default";

    public string Residual { get; init; } = "default";

    public string Bias { get; init; } = "default";

    /// <summary>Stream placement: the chunk's weights, read to the start of the weight scratch just before its kernel runs, or null.</summary>
    public StreamRead? Read { get; init; }

    /// <summary>The chunk is stored as bit-planes (per-input precision): the generated code calls <c>BitPlanes.Rows</c>, not <see cref="Kernel"/>.</summary>
    public bool Planes { get; init; }

    /// <summary>Bytes of the chunk's matrix entries (values and metadata): what computing it reads.</summary>
    public long Bytes { get; init; }

    /// <summary>Bit-planes: bytes of one plane (rows · RowBytes), and of the scales.</summary>
    public long PlaneBytes { get; init; }

    public long ScaleBytes { get; init; }
}

/// <summary>How a chunked layer picks the chunks it computes for an input (docs/routing.md).</summary>
public sealed record ChunkRoute(
    string Axis,
    string Activity,
    int Count,
    int Limit,
    bool HasMinActivity,
    string MinActivityLiteral,
    int HitOffset,
    int Out,
    bool Relu,
    bool HasResidual)
{
    /// <summary>The proxy sketch (activity "proxy"): Count x Rank rows, one kernel call; or the factor V (activity "lowrank"): Rank rows.</summary>
    public KernelSpec? ProxyKernel { get; init; }

    public long ProxyWeightOffset { get; init; }

    public long ProxyScaleOffset { get; init; }

    public long ProxyScale2Offset { get; init; }

    public int ProxyRank { get; init; }

    /// <summary>Activity "lowrank": the factor U (Out x Rank, f32) with the layer's bias and ReLU, writing the estimate of every output.</summary>
    public KernelSpec? LowRankUKernel { get; init; }

    public long LowRankUOffset { get; init; }

    public long LowRankBiasOffset { get; init; }

    /// <summary>The manifest layer.</summary>
    public string Layer { get; init; } = string.Empty;

    /// <summary>Multiply-accumulates of all chunks together (the dense layer).</summary>
    public long AllMacs { get; init; }

    /// <summary>Whether chunks are skipped for some inputs (top-k or threshold) rather than all run.</summary>
    public bool Routed { get; init; }

    /// <summary>0, or the input chunks are int8 column panels of this many rows, computed by one panel kernel (<see cref="Chunking.PanelRows"/>).</summary>
    public int PanelRows { get; init; }

    public string Destination { get; init; } = "default";

    public string Residual { get; init; } = "default";

    /// <summary>The whole layer's bias span expression, or "default" without bias.</summary>
    public string Bias { get; init; } = "default";

    /// <summary>conv2d: floats of one output channel plane (skipped channels are filled plane by plane).</summary>
    public int Plane { get; init; }

    /// <summary>conv2d: the layer's scratch (the padded input first, then the filter bank; for "lowrank" also z, U's scratch and the compact planes).</summary>
    public string Temp { get; init; } = "default";

    /// <summary>
    /// conv2d: the f32 kernel over the filters the chunks decode into its scratch (<see cref="ConvKernelSpec.FilterBank"/>):
    /// all channels when every chunk runs (no routing, or "exact"), the selected ones packed together for "lowrank"
    /// (<see cref="ConvKernelSpec.Gather"/>).
    /// </summary>
    public ConvKernelSpec? ConvBank { get; init; }

    /// <summary>conv2d "lowrank": V as a conv of rank output channels, U as a 1x1 conv of rank input channels with bias and ReLU.</summary>
    public ConvKernelSpec? ConvV { get; init; }

    public ConvKernelSpec? ConvU { get; init; }

    /// <summary>conv2d "lowrank": the rank planes z = V * x, and the U kernel's own scratch.</summary>
    public string LowRankZ { get; init; } = "default";

    public string LowRankUTemp { get; init; } = "default";

    /// <summary>conv2d "lowrank": the gathered kernel's filter bank and biases, and the compact planes it writes.</summary>
    public string GatherBank { get; init; } = "default";

    public string GatherBias { get; init; } = "default";

    public string Compact { get; init; } = "default";

    /// <summary>Stream placement: the estimator's weights (proxy sketch or low-rank factors), read before it runs, or null.</summary>
    public StreamRead? EstimatorRead { get; init; }

    /// <summary>
    /// Stream placement, every chunk runs and all are alike (output axis, one kernel, one length, evenly spaced in the
    /// file): the chunks run as one loop instead of one call each, or null.
    /// </summary>
    public StreamLoop? Loop { get; init; }

    /// <summary>
    /// Weights in memory, every chunk runs, output axis: the chunks of each kernel (format) run as one loop over a
    /// constant table of their offsets instead of one call site each (a layer of 16 chunks in three formats is three
    /// call sites, not sixteen). Each loop still calls its chunks' kernel directly: no dispatch on the format at run
    /// time. Empty otherwise.
    /// </summary>
    public EquatableArray<ChunkLoop> Loops { get; init; } = EquatableArray<ChunkLoop>.Empty;

    /// <summary>Bytes of all chunks' matrices (what running every chunk reads).</summary>
    public long AllBytes { get; init; }

    /// <summary>Bytes of the estimator's matrices (proxy sketch; lowrank V and U).</summary>
    public long ProxyBytes { get; init; }

    /// <summary>The chunks are bit-planes whose bits are chosen per input (<c>by: "runtime-activity"</c>).</summary>
    public bool Planes { get; init; }

    /// <summary>Bit-planes: the thresholds (float literals) on the normalised score, and the bits of each class.</summary>
    public EquatableArray<string> Thresholds { get; init; } = EquatableArray<string>.Empty;

    public EquatableArray<int> Bits { get; init; } = EquatableArray<int>.Empty;

    /// <summary>Bit-planes: the C# expression of a selected chunk's bits from its normalised <c>score</c>.</summary>
    public string BitsExpression { get; init; } = "8";

    public int PlaneGroupSize { get; init; }

    public int PlaneGroups { get; init; }

    /// <summary>Bit-planes: the layer's input padded to whole 128-column blocks, and its length.</summary>
    public int PaddedIn { get; init; }

    /// <summary>Bit-planes: one plane of every chunk, and every chunk's scales (what the "exact" estimator's 8-plane pass adds to them).</summary>
    public long AllPlaneBytes { get; init; }

    public long AllScaleBytes { get; init; }

    public int In { get; init; }
}

/// <summary>
/// A loop over alike output chunks: chunk c reads <see cref="ReadLength"/> bytes at <see cref="FileOffset"/> + c ×
/// <see cref="FileStride"/>, then runs the first chunk's kernel on rows [c × <see cref="Rows"/>, (c + 1) × <see cref="Rows"/>).
/// </summary>
/// <summary>
/// The chunks of one kernel in a layer whose chunks all run (<see cref="ChunkRoute.Loops"/>): <see cref="Table"/> holds
/// five longs per chunk, its first output row and its weight, scale, second-scale and bias offsets.
/// </summary>
public sealed record ChunkLoop(KernelSpec Kernel, int Rows, EquatableArray<long> Table)
{
    public int Count => Table.Count / 5;
}

public sealed record StreamLoop(long FileOffset, long FileStride, int ReadLength, int Rows, string Destination, string Residual);
