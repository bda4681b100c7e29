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
}
