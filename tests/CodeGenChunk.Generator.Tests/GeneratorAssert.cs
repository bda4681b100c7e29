using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Generator.Tests;

/// <summary>Assertions shared by the generator tests.</summary>
internal static partial class GeneratorAssert
{
    /// <summary>No exception escaped the generator: no CS8785 (or any other compiler diagnostic) from the driver.</summary>
    public static void DidNotCrash(GeneratorOutcome outcome)
    {
        Assert.IsNull(outcome.Result.Exception, outcome.Result.Exception?.ToString());
        var driverProblems = outcome.DriverDiagnostics.Where(d => d.Id.StartsWith("CS", System.StringComparison.Ordinal)).ToList();
        Assert.IsEmpty(driverProblems, string.Join("\n", driverProblems));
        Assert.IsFalse(outcome.Diagnostics.Any(d => d.Id == "CGC0099"), "Internal generator error: " + string.Join("\n", outcome.Diagnostics));
    }

    /// <summary>The one diagnostic of the run.</summary>
    public static Diagnostic Single(GeneratorOutcome outcome)
    {
        Assert.HasCount(1, outcome.Diagnostics, "Expected exactly one diagnostic:\n" + string.Join("\n", outcome.Diagnostics));
        return outcome.Diagnostics[0];
    }

    /// <summary>The diagnostic points into the manifest file at the given 1-based line and column.</summary>
    public static void At(Diagnostic d, int line, int column, string path = GeneratorHarness.ManifestPath)
    {
        var span = d.Location.GetLineSpan();
        Assert.AreEqual(path, span.Path, d.ToString());
        Assert.AreEqual(line, span.StartLinePosition.Line + 1, "line of " + d);
        Assert.AreEqual(column, span.StartLinePosition.Character + 1, "column of " + d);
    }

    /// <summary>The message is filled in (no "{0}" holes left), says something, and the id has a help link.</summary>
    public static void WellFormedMessage(Diagnostic d)
    {
        var message = d.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.IsFalse(string.IsNullOrWhiteSpace(message), d.Id + " has an empty message.");
        Assert.DoesNotMatchRegex(Placeholder(), message, d.Id + " message has an unfilled placeholder.");
        Assert.IsFalse(string.IsNullOrEmpty(d.Descriptor.HelpLinkUri), d.Id + " has no help link.");
        Assert.EndsWith("#" + d.Id.ToLowerInvariant(), d.Descriptor.HelpLinkUri);
    }

    [GeneratedRegex(@"\{\d+\}")]
    private static partial Regex Placeholder();
}
