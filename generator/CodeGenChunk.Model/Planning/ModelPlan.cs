namespace CodeGenChunk.Model.Planning;

/// <summary>Everything the templates need to write one model class: a pure function of the manifest.</summary>
public sealed record ModelPlan(
    string Namespace,
    string ClassName,
    string BaseName,
    string Placement,
    string Simd,
    int InputLength,
    int OutputLength,
    int ScratchFloats,
    WeightLayout Layout,
    long PeakRamBytes,
    string PeakLayer,
    long Macs,
    EquatableArray<PlanStep> Steps,
    EquatableArray<KernelSpec> Kernels)
{
    /// <summary>The distinct convolution kernels (empty for a model without conv2d).</summary>
    public EquatableArray<ConvKernelSpec> ConvKernels { get; init; } = EquatableArray<ConvKernelSpec>.Empty;

    /// <summary>The distinct max-pooling kernels.</summary>
    public EquatableArray<PoolKernelSpec> PoolKernels { get; init; } = EquatableArray<PoolKernelSpec>.Empty;

    public string WeightsFileName => BaseName + ".cgcw";

    /// <summary>Chunks of all chunked layers: the length of the model's per-chunk selection counters.</summary>
    public int ChunkCounters { get; init; }

    /// <summary>Layers with integer activations (the length of the clip counters).</summary>
    public int ActivationLayers { get; init; }

    /// <summary>Whether a LayerNorm reads and writes u8 codes (the residual stream in codes).</summary>
    public bool HasCodeNorm { get; init; }

    /// <summary>Bytes of the u8 code buffer of the integer-activation layers.</summary>
    public int ActivationBufferBytes { get; init; }

    /// <summary>Floats of per-row weight statistics the integer-activation layers compute when the model loads.</summary>
    public int ActivationRowFloats { get; init; }

    /// <summary>Scratch floats the same model would need with f32 activations throughout.</summary>
    public int FloatScratchFloats { get; init; }

    /// <summary>Multiply-accumulates of the layers that always run whole (every layer but the chunked ones).</summary>
    public long FixedMacs { get; init; }

    /// <summary>Stream placement: bytes of the weight scratch (the most any one step reads at once), else 0.</summary>
    public long WeightScratchBytes { get; init; }

    /// <summary>Stream placement: the most weight bytes one inference reads (every routed layer selecting its largest chunks), else 0.</summary>
    public long MaxBytesReadPerRun { get; init; }

    /// <summary>Bytes of weight matrices (values and metadata) of the layers that always run whole.</summary>
    public long FixedBytesRead { get; init; }

    /// <summary>Some layer stores its chunks as bit-planes with per-input bits.</summary>
    public bool HasPlanes { get; init; }
}
