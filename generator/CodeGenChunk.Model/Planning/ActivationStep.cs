namespace CodeGenChunk.Model.Planning;

/// <summary>
/// A linear layer with int8, int4, ternary or base11 weights, or a conv2d layer with int8 or base11 weights, and integer activations (docs/activations.md): the generated Run calls
/// <c>Int8Activations</c> with these constants. Its input is u8 codes at <see cref="InOffset"/> of the model's
/// code buffer, either quantized by this step from its float input (<see cref="QuantizeEntry"/>) or written by
/// the previous step (which then has <see cref="QuantizeOutput"/>).
/// </summary>
public sealed record ActivationStep(int Index, string Layer, int In, int Out, int GroupSize, bool Bias, bool Relu, bool Residual, string Params)
{
    /// <summary>The weights' format: "int8" (Int8Activations), "int4" (Int4Activations, nibbles in 16-byte blocks of 32 inputs), "ternary" (TernaryActivations, five trits per byte in 16-byte blocks of 80 inputs) or "base11" (Base11Activations, nine indices per word, binary16 min and range).</summary>
    public string Format { get; init; } = "int8";

    /// <summary>
    /// The activations' codes: "int8" (u8 codes with a zero point) or "int16" (symmetric int16 codes, zero point 0, int8
    /// weights only: Int16Activations). A step reads its input and writes its output codes in this format.
    /// </summary>
    public string ActFormat { get; init; } = "int8";

    /// <summary>Bytes per code in the code buffer: 1 for u8 codes, 2 for int16 codes.</summary>
    public int CodeBytes => ActFormat == "int16" ? 2 : 1;

    /// <summary>The runtime class whose Linear and RowStats the generated code calls.</summary>
    public string KernelClass => Format switch { "int4" => "Int4Activations", "ternary" => "TernaryActivations", "base11" => Pairs ? "Base11PairsActivations" : "Base11Activations", _ => "Int8Activations" };

    /// <summary>
    /// The kernel-path argument of the generated call: the int8-weight kernels take the resolved <c>Int8DotPath</c>
    /// (<c>intPath</c>); int4, ternary and base11 take the <c>KernelPath</c> (<c>path</c>), which also chooses their
    /// 512-bit paths.
    /// </summary>
    public string PathArgument => Format == "int8" ? "intPath" : "path";

    /// <summary>base11 weights in the "pairs" layout (Base11PairsActivations: 56 bytes per block of 128 inputs of a group).</summary>
    public bool Pairs { get; init; }

    /// <summary>Bytes of the packed weight codes: int8 one per weight; int4 ceil(in / 32) · 16 per row; ternary ceil(in / 80) · 16 per row; base11 ceil(len / 9) · 4 per group.</summary>
    public long WeightBytes => Format switch
    {
        "int4" => (long)Out * ((In + 31) / 32) * 16,
        "ternary" => (long)Out * ((In + 79) / 80) * 16,
        "base11" when Pairs => (long)Out * (((Cols / GroupSize) * PairsPackBytes(GroupSize)) + PairsPackBytes(Cols % GroupSize)),
        "base11" => (long)Out * (((Cols / GroupSize) * Base11PackBytes(GroupSize)) + Base11PackBytes(Cols % GroupSize)),
        _ => (long)In * Out,
    };

    /// <summary>base11: bytes of a group of <paramref name="length"/> inputs (nine indices per uint32).</summary>
    private static int Base11PackBytes(int length) => ((length + 8) / 9) * 4;

    /// <summary>base11 pairs: bytes of a group of <paramref name="length"/> inputs (56 per block of 128).</summary>
    private static int PairsPackBytes(int length) => ((length + 127) / 128) * 56;

    /// <summary>base11 pairs: a group's codes padded to whole blocks of 128.</summary>
    private static int PairsPadded(int length) => ((length + 127) / 128) * 128;

    /// <summary>base11: a group's words rounded up to a multiple of 16 (one run of the kernel's digit-major copy).</summary>
    private static int Base11PaddedWords(int length) => ((((length + 8) / 9) + 15) / 16) * 16;

    /// <summary>
    /// The step reads its float input in place (int8 weights, <c>Int8FloatInput.Linear</c>) and writes the next layer's
    /// codes (<see cref="QuantizeOutput"/>): no input codes (<see cref="InCode"/> -1), no float output.
    /// </summary>
    public bool FloatInput { get; init; }

    /// <summary>The step quantizes its float input itself: "dynamic" (its range) or "static" (the constants below).</summary>
    public bool QuantizeEntry { get; init; }

    public string EntryMode { get; init; } = "dynamic";

    public string InScaleLiteral { get; init; } = "1f";

    public int InZero { get; init; }

    /// <summary>Byte offset of the input codes in the code buffer.</summary>
    public int InOffset { get; init; }

    /// <summary>The step writes u8 codes of the next layer's input, not floats: "static" or "predicted" parameters.</summary>
    public bool QuantizeOutput { get; init; }

    public string OutMode { get; init; } = string.Empty;

    public string OutScaleLiteral { get; init; } = "1f";

    public int OutZero { get; init; }

    /// <summary>predicted: standard deviations the predicted range spans (the next layer's calibrated z).</summary>
    public string ZLiteral { get; init; } = "0f";

    public int OutOffset { get; init; }

    /// <summary>Offset of the per-row weight sums (then <see cref="Out"/> row norms) in the model's row statistics.</summary>
    public int RowStatsOffset { get; init; }

    /// <summary>The fused residual is read from u8 codes (a LayerNorm's output written as codes), at <see cref="ResidualOffset"/>.</summary>
    public bool ResidualCodes { get; init; }

    public int ResidualOffset { get; init; }

    /// <summary>Offset and bytes of the residual's 2-bit refinement plane (a code LayerNorm's output), with <see cref="ResidualCodes"/>.</summary>
    public int ResidualPlaneOffset { get; init; }

    public int ResidualPlaneBytes => (Out + 3) / 4;

    /// <summary>Planner bookkeeping: the code tensors this step reads (input, residual) and writes, or -1.</summary>
    public int InCode { get; init; } = -1;

    public int ResidualCode { get; init; } = -1;

    public int OutCode { get; init; } = -1;

    /// <summary>Planner bookkeeping: a conv2d step's scratch as a code tensor live only while the step runs, or -1.</summary>
    public int ScratchCode { get; init; } = -1;

    /// <summary>conv2d: the layer's geometry (the step calls <c>Int8Activations.Conv2d</c> or <c>Base11Activations.Conv2d</c>; <see cref="Out"/> is its output channels, <see cref="In"/> its input codes).</summary>
    public ConvKernelSpec? Conv { get; init; }

    /// <summary>Byte offset of a conv2d step's scratch (tap offsets and the zero-point-bordered input) in the code buffer.</summary>
    public int ScratchOffset { get; init; }

    /// <summary>
    /// Bytes of a conv2d step's scratch (Int8Activations.ConvScratchBytes; base11 filters: Base11Activations.ConvScratchBytes,
    /// one filter's digits rounded to 64 bytes and 16 bytes per group more), or of a base11 linear step's
    /// (Base11Activations.ScratchBytes: the input codes digit-major, nine runs of PaddedWords bytes per group, then one
    /// float per group), or of a ternary linear step's (TernaryActivations.ScratchBytes: the input codes padded to whole blocks
    /// of 80, none when the input is whole blocks, then one int per group).
    /// </summary>
    public int ScratchBytes => Conv is { } c
        ? (((4 * c.Filter) + 63) & ~63) + (c.InC * c.PaddedH * (c.W + c.PadLeft + c.PadRight)) + 64 + (Format == "base11" ? ((c.Filter + 63) & ~63) + (16 * Groups) : 0)
        : Format == "base11" && Pairs ? (GroupSize % 128 == 0 && In % 128 == 0 ? 0 : ((In / GroupSize) * PairsPadded(GroupSize)) + PairsPadded(In % GroupSize)) + (4 * Groups)
        : Format == "ternary" ? (In % 80 == 0 ? 0 : ((In + 79) / 80) * 80) + (4 * Groups)
        : Format == "base11" ? ((In / GroupSize) * 9 * Base11PaddedWords(GroupSize)) + (In % GroupSize > 0 ? 9 * Base11PaddedWords(In % GroupSize) : 0) + (4 * Groups)
        : 0;

    /// <summary>Weights per row: the input length, or a conv2d filter's taps.</summary>
    public int Cols => Conv?.Filter ?? In;

    /// <summary>Codes the step writes when it quantizes its output (a conv2d: every output plane, before any pooling).</summary>
    public int OutCodes => Conv?.OutLength ?? Out;

    public long Macs => Conv?.Macs ?? ((long)In * Out);

    public int Groups => (Cols + GroupSize - 1) / GroupSize;
}

/// <summary>
/// A LayerNorm on u8 codes (docs/activations.md, the residual stream in codes): it adds the residual (codes at
/// <see cref="ResidualOffset"/>, or the step's float residual) and the linear step's output codes (at
/// <see cref="InOffset"/>), normalises with the sum's exact moments and writes its output as codes at the output's
/// exact range, for the next linear step's input and later fused residuals.
/// </summary>
public sealed record NormCodesStep(int Index, string Layer, int Dim)
{
    public int InOffset { get; init; }

    public bool ResidualCodes { get; init; }

    public int ResidualOffset { get; init; }

    public int ResidualCode { get; init; } = -1;

    public int OutOffset { get; init; }

    public int InCode { get; init; } = -1;

    public int OutCode { get; init; } = -1;

    /// <summary>Offset of the 2-bit refinement plane the step writes with its output codes (and reads with residual codes: in place).</summary>
    public int PlaneOffset { get; init; }

    public int PlaneBytes => (Dim + 3) / 4;
}
