using System.Globalization;

namespace CodeGenChunk.Model.Planning;

public enum BufferKind
{
    None,
    Input,
    Output,
    Scratch,
}

/// <summary>A tensor's place at run time: the caller's input or output, or a slice of the scratch buffer.</summary>
public sealed record BufferRef(BufferKind Kind, int Offset, int Length)
{
    public static readonly BufferRef None = new(BufferKind.None, 0, 0);

    /// <summary>The C# expression of this buffer inside the generated Run method.</summary>
    public string Expression => Kind switch
    {
        BufferKind.Input => "input",
        BufferKind.Output => "output",
        BufferKind.Scratch => string.Format(CultureInfo.InvariantCulture, "scratch.Slice({0}, {1})", Offset, Length),
        _ => "default",
    };

    /// <summary>The C# expression of elements [start, start + length) of this buffer.</summary>
    public string Slice(int start, int length) => Kind switch
    {
        BufferKind.Scratch => string.Format(CultureInfo.InvariantCulture, "scratch.Slice({0}, {1})", Offset + start, length),
        BufferKind.None => "default",
        _ => start == 0 && length == Length ? Expression : string.Format(CultureInfo.InvariantCulture, "{0}.Slice({1}, {2})", Expression, start, length),
    };

    public string Describe => Kind switch
    {
        BufferKind.Scratch => string.Format(CultureInfo.InvariantCulture, "scratch[{0}..{1}]", Offset, Offset + Length),
        _ => Kind.ToString().ToLowerInvariant(),
    };
}
