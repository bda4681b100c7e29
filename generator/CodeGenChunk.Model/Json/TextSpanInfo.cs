using System;

namespace CodeGenChunk.Model.Json;

/// <summary>A place in a manifest file: path and 0-based line/character of start and end, as a value.</summary>
public sealed record TextSpanInfo(string FilePath, int StartOffset, int Length, int StartLine, int StartColumn, int EndLine, int EndColumn)
{
    public static TextSpanInfo Start(string filePath) => new(filePath, 0, 0, 0, 0, 0, 0);

    /// <summary>"file(line,col)" with 1-based numbers, as compilers print them.</summary>
    public override string ToString() => FormattableString.Invariant($"{FilePath}({StartLine + 1},{StartColumn + 1})");
}
