using System;
using System.Globalization;
using System.Linq;
using CodeGenChunk.Model.Json;

namespace CodeGenChunk.Model.Diagnostics;

/// <summary>A diagnostic as a value: catalog entry, message arguments and place in the manifest.</summary>
public sealed record ManifestDiagnostic(DiagnosticInfo Info, EquatableArray<string> Arguments, TextSpanInfo Span)
{
    public static ManifestDiagnostic Create(DiagnosticInfo info, TextSpanInfo span, params object[] args) =>
        new(info, args.Select(a => Convert.ToString(a, CultureInfo.InvariantCulture) ?? string.Empty).ToEquatableArray(), span);

    public string Message => string.Format(CultureInfo.InvariantCulture, Info.MessageFormat, Arguments.Cast<object>().ToArray());

    /// <summary>The canonical "file(line,col): error CGC0001: message" form that MSBuild recognises.</summary>
    public string ToCanonicalString() =>
        string.Format(
            CultureInfo.InvariantCulture,
            "{0}({1},{2}): {3} {4}: {5}",
            Span.FilePath,
            Span.StartLine + 1,
            Span.StartColumn + 1,
            Info.Severity == Severity.Error ? "error" : "warning",
            Info.Id,
            Message);
}
