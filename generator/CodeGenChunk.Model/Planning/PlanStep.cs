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
}
