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

    /// <summary>maxpool: the generated pooling kernel this step calls.</summary>
    public PoolKernelSpec? Pool { get; init; }

    /// <summary>Scratch the step uses while it runs (conv2d: padded input and decoded filters), or none.</summary>
    public BufferRef Temp { get; init; } = BufferRef.None;

    /// <summary>The step writes where it reads (a flatten then moves no data).</summary>
    public bool InPlace => Source == Destination;

    /// <summary>The chunks of a chunked linear layer (empty otherwise), in order.</summary>
    public EquatableArray<ChunkCall> Chunks { get; init; } = EquatableArray<ChunkCall>.Empty;

    /// <summary>How a chunked linear layer routes its chunks (null otherwise).</summary>
    public ChunkRoute? Route { get; init; }
}

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
