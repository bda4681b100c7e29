namespace CodeGenChunk.Generator;

/// <summary>The tracking names of the generator's pipeline stages (tested for caching).</summary>
public static class StepNames
{
    public const string Manifests = "CGC.Manifests";
    public const string Parse = "CGC.Parse";
    public const string Plan = "CGC.Plan";
    public const string Model = "CGC.Model";
    public const string Diagnostics = "CGC.Diagnostics";

    public static readonly string[] All = { Manifests, Parse, Plan, Model, Diagnostics };
}
