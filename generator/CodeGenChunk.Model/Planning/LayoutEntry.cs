namespace CodeGenChunk.Model.Planning;

/// <summary>What the bytes of a chunk-file entry are.</summary>
public enum EntryKind
{
    /// <summary>float32 values, row-major [Rows][Cols], copied from the source tensor.</summary>
    F32,

    /// <summary>int8 values, row-major [Rows][Cols], symmetric, one scale per group of GroupSize inputs.</summary>
    Int8Values,

    /// <summary>float32 scales of an <see cref="Int8Values"/> entry, [Rows][ceil(Cols / GroupSize)].</summary>
    Int8Scales,
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

    /// <summary>The manifest layer this entry belongs to.</summary>
    public string Layer { get; init; } = string.Empty;
}
