using System.Collections.Generic;
using CodeGenChunk.Model.Diagnostics;
using CodeGenChunk.Model.Json;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace CodeGenChunk.Generator;

/// <summary>Roslyn descriptors for the catalog in <see cref="DiagnosticCatalog"/> (the one place they are defined).</summary>
internal static class DiagnosticDescriptors
{
    private static readonly Dictionary<string, DiagnosticDescriptor> ById = Build();

    public static Diagnostic ToDiagnostic(ManifestDiagnostic d)
    {
        var descriptor = ById[d.Info.Id];
        return Diagnostic.Create(descriptor, ToLocation(d.Span), d.Arguments.ToArrayOfObjects());
    }

    public static Location ToLocation(TextSpanInfo span) =>
        Location.Create(
            span.FilePath,
            new TextSpan(span.StartOffset, span.Length),
            new LinePositionSpan(new LinePosition(span.StartLine, span.StartColumn), new LinePosition(span.EndLine, span.EndColumn)));

    private static object[] ToArrayOfObjects(this CodeGenChunk.Model.EquatableArray<string> args)
    {
        var result = new object[args.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = args[i];
        }

        return result;
    }

    private static Dictionary<string, DiagnosticDescriptor> Build()
    {
        var map = new Dictionary<string, DiagnosticDescriptor>();
        foreach (var info in DiagnosticCatalog.All)
        {
            map[info.Id] = new DiagnosticDescriptor(
                info.Id,
                info.Title,
                info.MessageFormat,
                "CodeGenChunk",
                info.Severity == Severity.Error ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
                isEnabledByDefault: true,
                helpLinkUri: info.HelpLink);
        }

        return map;
    }
}
