namespace CodeGenChunk.Model.Manifest;

public static class Ops
{
    public const string Linear = "linear";
    public const string Relu = "relu";
    public const string Residual = "residual";
    public const string LayerNorm = "layernorm";
    public const string Conv2d = "conv2d";
    public const string MaxPool = "maxpool";
    public const string Flatten = "flatten";
    public const string Softmax = "softmax";

    public static readonly string[] All = { Linear, Relu, Residual, LayerNorm, Conv2d, MaxPool, Flatten, Softmax };

    /// <summary>Every weight format of the schema: the shared format library's list.</summary>
    public static readonly string[] Formats = System.Linq.Enumerable.ToArray(CodeGenChunk.Formats.WeightFormats.Names);

    /// <summary>The formats this version generates kernels for.</summary>
    public static readonly string[] ImplementedFormats = { "f32", "f16", "int8", "int4", "base11", "ternary", "int1" };

    public static readonly string[] Simd = { "auto", "v512", "v256", "v128", "scalar" };

    public static readonly string[] Placements = { "embedded", "file", "stream" };
}
