using System.Globalization;

namespace CodeGenChunk.Model.Planning;

/// <summary>
/// One generated matrix-vector kernel: format, shape and fused epilogue. Layers with equal specs
/// share the kernel (BigNet's 18 layers need two per format).
/// </summary>
public sealed record KernelSpec(string Format, int In, int Out, int GroupSize, bool Bias, bool Relu, bool Residual)
{
    /// <summary>
    /// base11 weights in the "pairs" layout (Base11PairsFormat): the layer calls the runtime kernel Base11PairsFloat
    /// instead of a generated body.
    /// </summary>
    public bool Pairs { get; init; }

    /// <summary>The format in kernel names: BASE11P for the pairs layout.</summary>
    private string NameFormat => Pairs ? "BASE11P" : Format.ToUpperInvariant();

    /// <summary>base11 pairs: bytes of one row (56 per block of 128 inputs of a group; Base11PairsActivations.RowBytes).</summary>
    public int PairsRowBytes => Pairs ? (FullGroups * (((GroupSize + 127) / 128) * 56)) + (((LastGroupLength + 127) / 128) * 56) : 0;

    /// <summary>
    /// base11 pairs: floats of the per-call scratch (Base11PairsFloat.ScratchFloats: the zero-padded input unless every group
    /// is whole blocks, the Vector512 path's lane-ordered copy, then Σ x per group).
    /// </summary>
    public int PairsScratchFloats => Pairs
        ? (GroupSize % 128 == 0 && In % 128 == 0 ? 0 : PairsPaddedIn) + PairsPaddedIn + Groups
        : 0;

    /// <summary>base11 pairs: the input padded to whole blocks of 128 per group.</summary>
    private int PairsPaddedIn => (FullGroups * (((GroupSize + 127) / 128) * 128)) + (((LastGroupLength + 127) / 128) * 128);

    public string Name => string.Format(
        CultureInfo.InvariantCulture,
        "Linear_{0}_{1}x{2}{3}{4}{5}{6}",
        NameFormat,
        Out,
        In,
        GroupSize > 0 ? "_g" + GroupSize.ToString(CultureInfo.InvariantCulture) : string.Empty,
        Bias ? "_Bias" : string.Empty,
        Relu ? "_Relu" : string.Empty,
        Residual ? "_Residual" : string.Empty);

    /// <summary>
    /// The name of the kernel's bodies (one per SIMD path) and their store: the name without the ReLU and residual
    /// parts. Kernels that differ only there share the bodies, which take the epilogue as <see cref="EpilogueFlags"/>
    /// (a branch per output row instead of a second copy of every unrolled body: BigNet's ReLU and residual layers).
    /// </summary>
    public string BodyName => string.Format(
        CultureInfo.InvariantCulture,
        "Linear_{0}_{1}x{2}{3}{4}",
        NameFormat,
        Out,
        In,
        GroupSize > 0 ? "_g" + GroupSize.ToString(CultureInfo.InvariantCulture) : string.Empty,
        Bias ? "_Bias" : string.Empty);

    /// <summary>The epilogue as the bodies' flags: 1 = ReLU, 2 = add the residual (after the ReLU).</summary>
    public int EpilogueFlags => (Relu ? 1 : 0) | (Residual ? 2 : 0);

    /// <summary>Quantization groups per row (0 for f32).</summary>
    public int Groups => GroupSize > 0 ? (In + GroupSize - 1) / GroupSize : 0;

    /// <summary>Groups of full length per row.</summary>
    public int FullGroups => GroupSize > 0 ? In / GroupSize : 0;

    /// <summary>Length of the last, shorter group of a row, or 0 when groups divide the row.</summary>
    public int LastGroupLength => GroupSize > 0 ? In % GroupSize : 0;

    public int LastGroupStart => FullGroups * GroupSize;

    /// <summary>Rows computed (and, for int8 and the block formats, stored) together.</summary>
    public int RowBlock => KernelSpecShape.RowBlock;

    /// <summary>Rows handled in blocks of <see cref="KernelSpecShape.RowBlock"/>; the rest one by one.</summary>
    public int RowMain => Out - (Out % KernelSpecShape.RowBlock);

    /// <summary>Weights per 16-byte block of a block format (int4 32, ternary 80, int1 128); 16 for f16; 0 otherwise.</summary>
    public int BlockElements => Format switch
    {
        "int4" => 32,
        "ternary" => 80,
        "int1" => 128,
        "f16" => 16,
        _ => 0,
    };

    /// <summary>Float lanes one block decodes into, in 16-lane vectors (int4 2, ternary 5, int1 8).</summary>
    public int Digits => BlockElements / 16;

    public bool IsBlockFormat => Format is "int4" or "ternary" or "int1";

    /// <summary>Packed bytes per row of a block format.</summary>
    public int RowBytes => Format == "base11" ? (FullGroups * Base11GroupBytes) + (LastGroupLength > 0 ? 4 * ((LastGroupLength + 8) / 9) : 0) : IsBlockFormat ? 16 * ((In + BlockElements - 1) / BlockElements) : 0;

    /// <summary>Blocks in a full group, and in the shorter last group.</summary>
    public int BlocksPerGroup => IsBlockFormat ? GroupSize / BlockElements : 0;

    public int LastGroupBlocks => IsBlockFormat && LastGroupLength > 0 ? (LastGroupLength + BlockElements - 1) / BlockElements : 0;

    /// <summary>Input length padded to whole blocks (the kernel reads x in whole blocks).</summary>
    public int PaddedIn => IsBlockFormat ? BlockElements * ((In + BlockElements - 1) / BlockElements) : In;

    /// <summary>Code offset subtracted after decoding: int4 nibble - 8, ternary trit - 1, int1 2 bit - 1.</summary>
    public int CodeOffset => Format switch
    {
        "int4" => 8,
        _ => 1,
    };

    /// <summary>Multiplier of the decoded code: 2 for int1 (2 bit - 1), else 1.</summary>
    public int CodeScale => Format == "int1" ? 2 : 1;

    /// <summary>base11: uint32 words of a full group, of the last group, bytes of a full group.</summary>
    public int Base11Words => Format == "base11" ? (GroupSize + 8) / 9 : 0;

    public int Base11LastWords => Format == "base11" && LastGroupLength > 0 ? (LastGroupLength + 8) / 9 : 0;

    public int Base11GroupBytes => 4 * Base11Words;

    /// <summary>base11: words per group rounded up to 16 (the digit-major copy of x is padded to this).</summary>
    public int Base11PaddedWords => (Base11Words + 15) & ~15;

    public int Base11LastPaddedWords => (Base11LastWords + 15) & ~15;

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
