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
    public string WeightsFileName => BaseName + ".cgcw";
}
