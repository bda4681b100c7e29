using System.Globalization;

namespace CodeGenChunk.Model.Planning;

/// <summary>
/// One generated matrix-vector kernel: format, shape and fused epilogue. Layers with equal specs
/// share the kernel (BigNet's 18 layers need two per format).
/// </summary>
public sealed record KernelSpec(string Format, int In, int Out, int GroupSize, bool Bias, bool Relu, bool Residual)
{
    public string Name => string.Format(
        CultureInfo.InvariantCulture,
        "Linear_{0}_{1}x{2}{3}{4}{5}{6}",
        Format.ToUpperInvariant(),
        Out,
        In,
        GroupSize > 0 ? "_g" + GroupSize.ToString(CultureInfo.InvariantCulture) : string.Empty,
        Bias ? "_Bias" : string.Empty,
        Relu ? "_Relu" : string.Empty,
        Residual ? "_Residual" : string.Empty);

    /// <summary>Quantization groups per row (0 for f32).</summary>
    public int Groups => GroupSize > 0 ? (In + GroupSize - 1) / GroupSize : 0;

    /// <summary>Groups of full length per row.</summary>
    public int FullGroups => GroupSize > 0 ? In / GroupSize : 0;

    /// <summary>Length of the last, shorter group of a row, or 0 when groups divide the row.</summary>
    public int LastGroupLength => GroupSize > 0 ? In % GroupSize : 0;

    public int LastGroupStart => FullGroups * GroupSize;

    /// <summary>Rows handled in blocks of <see cref="KernelSpecShape.RowBlock"/>; the rest one by one.</summary>
    public int RowMain => Out - (Out % KernelSpecShape.RowBlock);

    public string Epilogue
    {
        get
        {
            var parts = new System.Collections.Generic.List<string>();
            if (Bias)
            {
                parts.Add("+ bias");
            }

            if (Relu)
            {
                parts.Add("ReLU");
            }

            if (Residual)
            {
                parts.Add("+ residual");
            }

            return parts.Count == 0 ? "none" : string.Join(", ", parts);
        }
    }
}

public static class KernelSpecShape
{
    /// <summary>Rows computed together (they share each load of x).</summary>
    public const int RowBlock = 4;
}
