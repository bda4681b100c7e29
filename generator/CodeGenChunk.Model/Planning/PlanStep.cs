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
}
