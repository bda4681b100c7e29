using System.Globalization;

namespace CodeGenChunk.Model.Planning;

/// <summary>
/// One generated max-pooling kernel over a [C, H, W] tensor: window, stride and padding
/// [top, left, bottom, right] folded into constants. Padded cells never win: a window is clipped
/// to the input (the manifest guarantees every window holds at least one input cell).
/// </summary>
public sealed record PoolKernelSpec(int C, int H, int W, int KH, int KW, int SH, int SW, int PadTop, int PadLeft, int PadBottom, int PadRight)
{
    public string Name => string.Format(
        CultureInfo.InvariantCulture,
        "MaxPool_{0}x{1}x{2}_k{3}x{4}_s{5}x{6}{7}",
        C,
        H,
        W,
        KH,
        KW,
        SH,
        SW,
        HasPadding ? string.Format(CultureInfo.InvariantCulture, "_p{0}_{1}_{2}_{3}", PadTop, PadLeft, PadBottom, PadRight) : string.Empty);

    public int OutH => ((H + PadTop + PadBottom - KH) / SH) + 1;

    public int OutW => ((W + PadLeft + PadRight - KW) / SW) + 1;

    public int InPlane => H * W;

    public int OutPlane => OutH * OutW;

    public bool HasPadding => PadTop + PadLeft + PadBottom + PadRight > 0;

    /// <summary>Windows small enough to unroll (at most 16 cells).</summary>
    public bool Unrolled => !HasPadding && KH * KW <= 16;

    /// <summary>
    /// Windows two columns wide, two apart, unpadded (the usual 2x2 stride-2 pooling): vector paths take the
    /// maximum of a column pair inside a 64-bit lane and narrow the lanes, so a row is pooled a vector at a time.
    /// </summary>
    public bool PairColumns => !HasPadding && KW == 2 && SW == 2 && OutW >= 4;

    /// <summary>Outputs per vector of the pair-column code on a path of <paramref name="lanes"/> floats: the widest of 16, 8, 4 that fits it and the row, or 0 (scalar).</summary>
    public int PairLanes(int lanes)
    {
        if (!PairColumns)
        {
            return 0;
        }

        foreach (var l in new[] { 16, 8, 4 })
        {
            if (l <= lanes && l <= OutW)
            {
                return l;
            }
        }

        return 0;
    }
}
