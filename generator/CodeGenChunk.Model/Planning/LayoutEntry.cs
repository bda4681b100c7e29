namespace CodeGenChunk.Model.Planning;

/// <summary>What the bytes of a chunk-file entry are.</summary>
public enum EntryKind
{
    /// <summary>
    /// float32 values of the source tensor; a matrix (Rows &gt; 1) is stored in row blocks of four, each block
    /// slice by slice (16 floats) with the four rows' slices side by side (the order its kernel reads them),
    /// a vector (bias, LayerNorm gamma/beta) as it is.
    /// </summary>
    F32,

    /// <summary>
    /// int8 values, symmetric, one scale per group of GroupSize inputs; stored in row blocks of four,
    /// each block group by group with the four rows' slices of a group side by side (the rows past
    /// the last whole block row by row), the order in which the kernel reads them.
    /// </summary>
    Int8Values,

    /// <summary>float32 scales of an <see cref="Int8Values"/> entry, [Rows][ceil(Cols / GroupSize)].</summary>
    Int8Scales,

    /// <summary>IEEE binary16 values, row-major [Rows][Cols].</summary>
    F16Values,

    /// <summary>Packed blocks of a block format (int4, ternary, int1: see docs/formats.md), [Rows][RowBytes].</summary>
    BlockValues,

    /// <summary>float32 scales of a <see cref="BlockValues"/> entry, [Rows][groups].</summary>
    BlockScales,

    /// <summary>base11 words (seed 004 layout), [Rows][groups][4 * ceil(groupLength / 9)], plus 64 bytes of zeros that SIMD loads may read past the last row.</summary>
    Base11Values,

    /// <summary>binary16 group minimum of base11, [Rows][groups].</summary>
    Base11Min,

    /// <summary>binary16 group range of base11, [Rows][groups].</summary>
    Base11Range,

    /// <summary>
    /// The int8 codes as eight bit-planes, sign plane first, each <c>Rows · 16·ceil(Cols/128)</c> bytes
    /// (<c>BitPlaneFormat</c>, docs/formats.md "bitplanes"): a chunk of a layer with a per-input precision policy.
    /// </summary>
    BitPlaneValues,

    /// <summary>float32 scales of a <see cref="BitPlaneValues"/> entry (those of int8), [Rows][ceil(Cols / GroupSize)].</summary>
    BitPlaneScales,
}

/// <summary>One entry of the chunk file: which tensor it comes from, how it is encoded, where it lies.</summary>
public sealed record LayoutEntry(
    string Name,
    string TensorName,
    EntryKind Kind,
    int Rows,
    int Cols,
    int GroupSize,
    long Length)
{
    public long Offset { get; init; }

    /// <summary>The weight format of the layer (f32, f16, int8, int4, base11, ternary, int1).</summary>
    public string Format { get; init; } = "f32";

    /// <summary>The manifest layer this entry belongs to.</summary>
    public string Layer { get; init; } = string.Empty;

    /// <summary>First row and column of the source tensor this entry holds (a chunk is a block of the layer's matrix).</summary>
    public int RowStart { get; init; }

    public int ColStart { get; init; }

    /// <summary>Shape of the whole source tensor (0: the entry's own Rows x Cols).</summary>
    public int SourceRows { get; init; }

    public int SourceCols { get; init; }

    /// <summary>
    /// Empty for values taken from the source tensor; "sketch:{count}:{rank}" for the proxy sketch of an
    /// output-chunked layer, "lowrank-v:{rank}" and "lowrank-u:{rank}" for the factors of its "lowrank" estimator,
    /// derived from its weights at pack time (see docs/routing.md).
    /// </summary>
    public string Derived { get; init; } = string.Empty;

    /// <summary>The whole source tensor's shape [rows, cols].</summary>
    public int TensorRows => SourceRows > 0 ? SourceRows : Rows;

    public int TensorCols => SourceCols > 0 ? SourceCols : Cols;

    /// <summary>Whether the entry holds only part of its source tensor (or something derived from it).</summary>
    public bool IsPartial => Derived.Length > 0 || TensorRows != Rows || TensorCols != Cols;

    /// <summary>
    /// The matrix is stored row by row in its format's own layout, not in row blocks of four: a conv2d
    /// filter bank [OutC, InC·KH·KW], whose kernel reads (or decodes) whole filters.
    /// </summary>
    public bool RowMajor { get; init; }

    /// <summary>
    /// 0, or the int8 values are stored in column panels of this many rows (an input chunk of a layer whose chunks
    /// are all int8, see <see cref="Chunking.PanelRows"/>): panel after panel, and in a panel column after column,
    /// the panel's rows' codes of that column side by side; the scales panel after panel, group after group, the
    /// panel's rows' scales of that group side by side.
    /// </summary>
    public int PanelRows { get; init; }

    /// <summary>base11 values in the "pairs" layout (Base11PairsFormat) rather than the seed's words.</summary>
    public bool Pairs { get; init; }
}
