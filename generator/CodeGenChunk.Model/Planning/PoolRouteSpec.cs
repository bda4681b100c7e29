using System.Globalization;

namespace CodeGenChunk.Model.Planning;

/// <summary>
/// A pool-routed conv2d layer (docs/routing.md, "Pool routing"): conv2d [InC, H, W] → OutC channels, an optional ReLU
/// and a max pool of PoolH x PoolW windows (stride the same, no padding) as one step, computing the convolution only at
/// the TopK positions of each window and channel that the layer's proxy of Taps filter taps ranks highest
/// (<c>PoolRouting.Conv2dMaxPool</c>, called with these values as constants).
/// </summary>
public sealed record PoolRouteSpec(
    int InC,
    int H,
    int W,
    int OutC,
    int KH,
    int KW,
    int SH,
    int SW,
    int PadTop,
    int PadLeft,
    int PadBottom,
    int PadRight,
    int PoolH,
    int PoolW,
    int TopK,
    int Taps,
    bool Bias,
    bool Relu)
{
    /// <summary>Offsets of the row-major f32 filter bank, the bias and the proxy rows in the chunk file.</summary>
    public long WeightOffset { get; init; }

    public long BiasOffset { get; init; }

    public long ProxyOffset { get; init; }

    public int Filter => InC * KH * KW;

    /// <summary>The dense convolution's output planes (some rows and columns of which the pool may never read).</summary>
    public int ConvH => ((H + PadTop + PadBottom - KH) / SH) + 1;

    public int ConvW => ((W + PadLeft + PadRight - KW) / SW) + 1;

    /// <summary>The pooled output planes.</summary>
    public int OutH => ConvH / PoolH;

    public int OutW => ConvW / PoolW;

    public int Window => PoolH * PoolW;

    /// <summary>Floats of the step's scratch: the zero-padded input, then the proxy's tap offsets (<c>PoolRouting.TempFloats</c>).</summary>
    public int TempFloats => (InC * (H + PadTop + PadBottom) * (W + PadLeft + PadRight)) + (OutC * Taps);

    /// <summary>Multiply-adds of one run: the proxy at every position the pool reads, TopK exact outputs per window and channel (<c>PoolRouting.Macs</c>).</summary>
    public long Macs => ((long)OutC * OutH * PoolH * OutW * PoolW * Taps) + ((long)OutC * OutH * OutW * TopK * Filter);

    /// <summary>Multiply-adds of the dense layer, every output of the convolution (what <c>MacsPerRun</c> counts).</summary>
    public long DenseMacs => (long)OutC * ConvH * ConvW * Filter;

    /// <summary>Multiply-adds of a dense convolution of only the positions the pool reads.</summary>
    public long WindowedMacs => (long)OutC * OutH * PoolH * OutW * PoolW * Filter;

    /// <summary>Floats of the proxy rows (weights, then indices, per channel).</summary>
    public int ProxyFloats => OutC * 2 * Taps;

    public string Describe() => string.Format(
        CultureInfo.InvariantCulture,
        "top {0} of {1} positions per {2}x{3} window and channel, ranked by {4} of {5} filter taps",
        TopK,
        Window,
        PoolH,
        PoolW,
        Taps,
        Filter);
}
