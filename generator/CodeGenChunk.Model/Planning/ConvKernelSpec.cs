using System.Globalization;

namespace CodeGenChunk.Model.Planning;

/// <summary>
/// One generated 2-D convolution kernel: weight format, input shape [InC, H, W], filters
/// [OutC, InC, KH, KW], stride, padding [top, left, bottom, right] and fused epilogue. Layers
/// with equal specs share the kernel.
/// </summary>
/// <remarks>
/// The kernel first copies its input into a zero-bordered buffer (<see cref="PaddedFloats"/>),
/// so the inner loop never tests for padding. A horizontal stride s splits each padded row into s
/// phases (phase p holds the columns p, p + s, p + 2s, ...): the inputs of consecutive output
/// columns are then consecutive floats for every stride, and each tap is a plain vector load.
/// </remarks>
public sealed record ConvKernelSpec(
    string Format,
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
    int GroupSize,
    bool Bias,
    bool Relu)
{
    /// <summary>
    /// An f32 kernel that reads its filters [OutC, Filter] from its scratch (after the padded input, see
    /// <see cref="FilterBufferOffset"/>) instead of the weights file: a conv2d layer in chunks of output channels that
    /// computes every chunk decodes each chunk's filters there in the chunk's format, then runs this kernel once.
    /// </summary>
    public bool FilterBank { get; init; }

    /// <summary>
    /// A <see cref="FilterBank"/> kernel for routed chunks: it computes the first <c>channels</c> (a run-time count) of
    /// its OutC filters, with biases read from its scratch too (<see cref="GatherBiasOffset"/>); the caller packs the
    /// selected chunks' filters and biases there, one after another, and spreads the output planes afterwards.
    /// </summary>
    public bool Gather { get; init; }

    /// <summary>Offset of a <see cref="Gather"/> kernel's biases in its scratch (after the filters).</summary>
    public int GatherBiasOffset => (FilterBufferOffset + FilterBufferFloats + 15) & ~15;

    /// <summary>Largest vector width (floats) of a generated path: reads past a row end stay inside the padded buffer.</summary>
    public const int MaxLanes = 16;

    public string Name => string.Format(
        CultureInfo.InvariantCulture,
        "Conv2d_{0}_{1}x{2}_k{3}x{4}_in{5}x{6}{7}{8}{9}{10}{11}{12}",
        Format.ToUpperInvariant(),
        OutC,
        InC,
        KH,
        KW,
        H,
        W,
        SH != 1 || SW != 1 ? "_s" + SH.ToString(CultureInfo.InvariantCulture) + "x" + SW.ToString(CultureInfo.InvariantCulture) : string.Empty,
        PadTop + PadLeft + PadBottom + PadRight > 0
            ? string.Format(CultureInfo.InvariantCulture, "_p{0}_{1}_{2}_{3}", PadTop, PadLeft, PadBottom, PadRight)
            : string.Empty,
        GroupSize > 0 ? "_g" + GroupSize.ToString(CultureInfo.InvariantCulture) : string.Empty,
        Bias ? "_Bias" : string.Empty,
        Relu ? "_Relu" : string.Empty,
        Gather ? "_Gather" : FilterBank ? "_Bank" : string.Empty);

    /// <summary>Output height: (H + top + bottom - KH) / SH + 1.</summary>
    public int OutH => ((H + PadTop + PadBottom - KH) / SH) + 1;

    /// <summary>Output width: (W + left + right - KW) / SW + 1.</summary>
    public int OutW => ((W + PadLeft + PadRight - KW) / SW) + 1;

    public int OutPlane => OutH * OutW;

    public int OutLength => OutC * OutPlane;

    public int InPlane => H * W;

    /// <summary>Weights per output channel: InC · KH · KW, one row of the [OutC, F] weight matrix.</summary>
    public int Filter => InC * KH * KW;

    /// <summary>Rows of the padded input per channel.</summary>
    public int PaddedH => H + PadTop + PadBottom;

    /// <summary>Columns of one stride phase of a padded row: ceil((W + left + right) / SW).</summary>
    public int PhaseW => (W + PadLeft + PadRight + SW - 1) / SW;

    /// <summary>Floats of one padded row (all its phases).</summary>
    public int PaddedRow => SW * PhaseW;

    public int PaddedPlane => PaddedH * PaddedRow;

    /// <summary>The padded input plus <see cref="MaxLanes"/> floats that a partial vector may read past the last row.</summary>
    public int PaddedFloats => (InC * PaddedPlane) + MaxLanes;

    public bool IsQuantized => Format != "f32";

    public bool HasPadding => PadTop + PadLeft + PadBottom + PadRight > 0;

    /// <summary>Where each tap kx of a kernel row reads, relative to its padded row (see <see cref="TapOffset"/>).</summary>
    public int[] TapOffsets
    {
        get
        {
            var taps = new int[KW];
            for (var kx = 0; kx < KW; kx++)
            {
                taps[kx] = TapOffset(kx);
            }

            return taps;
        }
    }

    /// <summary>Offset of the decoded filters in the kernel's scratch (after the padded input, 64-byte aligned).</summary>
    public int FilterBufferOffset => (PaddedFloats + 15) & ~15;

    /// <summary>Floats of decoded filters a quantized kernel keeps at a time (one block of output channels).</summary>
    public int FilterBufferFloats
    {
        get
        {
            if (FilterBank)
            {
                return OutC * Filter;
            }

            if (!IsQuantized)
            {
                return 0;
            }

            var block = 1;
            foreach (var lanes in new[] { 16, 8, 4 })
            {
                block = System.Math.Max(block, Blocking(lanes).OcBlock);
            }

            return block * Filter;
        }
    }

    /// <summary>Scratch the kernel needs besides its input and output: the padded input, then the decoded filters.</summary>
    public int TempFloats => Gather ? GatherBiasOffset + OutC : FilterBufferOffset + FilterBufferFloats;

    public long Macs => (long)OutLength * Filter;

    /// <summary>Offset of (channel 0, padded row 0, phase p, column j) of the tap kx in the padded buffer, relative to its row.</summary>
    public int TapOffset(int kx) => ((kx % SW) * PhaseW) + (kx / SW);

    /// <summary>How a path of <paramref name="lanes"/> floats per vector tiles the output (see <see cref="ConvBlocking"/>).</summary>
    public ConvBlocking Blocking(int lanes)
    {
        var outW = OutW;
        if (outW < lanes)
        {
            // One vector covers the whole row; its lanes past the row are computed and dropped.
            var block1 = System.Math.Min(OutC, Budget(lanes));
            return new ConvBlocking(lanes, true, 1, 0, 0, new EquatableArray<int>(new[] { 0 }), block1, OutC - (OutC % block1), OutC % block1);
        }

        var full = outW / lanes;
        var tail = outW % lanes != 0;
        var perChunk = System.Math.Min(4, full + (tail ? 1 : 0));
        var loopChunks = full / perChunk;
        var loopEnd = loopChunks * perChunk * lanes;
        var rest = new System.Collections.Generic.List<int>();
        for (var v = loopChunks * perChunk; v < full; v++)
        {
            rest.Add(v * lanes);
        }

        if (tail)
        {
            // The last vector ends at the row's end and overlaps the one before: no lane is wasted on padding.
            rest.Add(outW - lanes);
        }

        var block = System.Math.Min(OutC, System.Math.Max(1, Budget(lanes) / perChunk));
        return new ConvBlocking(lanes, false, perChunk, loopChunks, loopEnd, new EquatableArray<int>(rest.ToArray()), block, OutC - (OutC % block), OutC % block);
    }

    /// <summary>Accumulator registers a path may hold: 16 where 32 vector registers exist (AVX-512, arm64), 8 for AVX2's 16.</summary>
    private static int Budget(int lanes) => lanes == 8 ? 8 : 16;

    public string Epilogue => (Bias ? "+ bias" : "no bias") + (Relu ? ", ReLU" : string.Empty);

    /// <summary>"[outC, outH, outW], kernel KHxKW, stride SHxSW, pad [t, l, b, r]": the geometry the planner's step comments name.</summary>
    public string Geometry => string.Format(
        System.Globalization.CultureInfo.InvariantCulture,
        "[{0}, {1}, {2}], kernel {3}x{4}, stride {5}x{6}, pad [{7}, {8}, {9}, {10}]",
        OutC,
        OutH,
        OutW,
        KH,
        KW,
        SH,
        SW,
        PadTop,
        PadLeft,
        PadBottom,
        PadRight);
}

/// <summary>
/// The register tiling of a conv kernel on one vector width: per output row, runs of
/// <see cref="VectorsPerChunk"/> vectors of output columns, for <see cref="OcBlock"/> output
/// channels at once (each input load feeds OcBlock multiply-adds, each weight VectorsPerChunk).
/// </summary>
/// <param name="Lanes">Floats per vector.</param>
/// <param name="Partial">The row is narrower than one vector: one vector, stored through a register copy.</param>
/// <param name="VectorsPerChunk">Vectors of a full run.</param>
/// <param name="LoopChunks">Full runs at the start of a row (columns 0 to <paramref name="LoopEnd"/>).</param>
/// <param name="LoopEnd">First column after the full runs.</param>
/// <param name="Rest">Starting columns of the vectors after the full runs (the last may overlap its neighbour).</param>
/// <param name="OcBlock">Output channels computed together.</param>
/// <param name="OcMain">Output channels in whole blocks.</param>
/// <param name="OcTail">Output channels left over (computed as one smaller block).</param>
public sealed record ConvBlocking(int Lanes, bool Partial, int VectorsPerChunk, int LoopChunks, int LoopEnd, EquatableArray<int> Rest, int OcBlock, int OcMain, int OcTail);
