using System;
using System.IO;

namespace CodeGenChunk.Formats;

/// <summary>
/// A weights (chunk) file is missing, unreadable or not the one the model needs. The message always starts
/// with <c>Weights file '&lt;FileName&gt;': </c> and says what is wrong, with the numbers, and what to do.
/// </summary>
/// <remarks>
/// Derives from <see cref="IOException"/> because <see cref="InvalidDataException"/> is sealed; it covers
/// missing and unreadable files as well as invalid contents.
/// </remarks>
public sealed class WeightFileException : IOException
{
    /// <summary>Creates the exception; <paramref name="detail"/> is the text after the <c>Weights file '…': </c> prefix.</summary>
    public WeightFileException(string fileName, WeightFileProblem problem, string detail)
        : this(fileName, problem, detail, null)
    {
    }

    /// <summary>Creates the exception with the exception that caused it.</summary>
    public WeightFileException(string fileName, WeightFileProblem problem, string detail, Exception? innerException)
        : base(FormatMessage(fileName, detail), innerException)
    {
        FileName = fileName ?? string.Empty;
        Problem = problem;
    }

    /// <summary>The file path or embedded resource name the problem was found in.</summary>
    public string FileName { get; }

    /// <summary>What is wrong.</summary>
    public WeightFileProblem Problem { get; }

    /// <summary>The message prefix for <paramref name="fileName"/>: <c>Weights file '&lt;fileName&gt;': </c>.</summary>
    public static string MessagePrefix(string fileName) => "Weights file '" + fileName + "': ";

    private static string FormatMessage(string fileName, string detail) => MessagePrefix(fileName ?? string.Empty) + detail;
}
