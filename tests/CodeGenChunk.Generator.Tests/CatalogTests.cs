using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using CodeGenChunk.Model.Diagnostics;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Generator.Tests;

/// <summary>The diagnostic catalog, its release tracking file and its documentation agree.</summary>
[TestClass]
public sealed class CatalogTests
{
    [TestMethod]
    public void CatalogIdsAreUniqueAndWellFormed()
    {
        var ids = DiagnosticCatalog.All.Select(d => d.Id).ToList();
        Assert.HasCount(ids.Count, ids.Distinct(StringComparer.Ordinal), "Duplicate ids: " + string.Join(", ", ids.GroupBy(i => i).Where(g => g.Count() > 1).Select(g => g.Key)));
        foreach (var d in DiagnosticCatalog.All)
        {
            Assert.MatchesRegex(@"^CGC\d{4}$", d.Id);
            Assert.IsFalse(string.IsNullOrWhiteSpace(d.Title), d.Id);
            Assert.IsFalse(string.IsNullOrWhiteSpace(d.MessageFormat), d.Id);
        }
    }

    [TestMethod]
    public void EveryIdTheGeneratorReportsHasADiagnosticTest()
    {
        // Reported by the packer (cgc pack reads the weights) or only on a generator bug; CGC0016 only
        // while some format is not generated, CGC0017 only while some manifest feature is not (DiagnosticDetailTests
        // covers them then).
        var notFromManifestText = new[] { "CGC0012", "CGC0013", "CGC0016", "CGC0017", "CGC0018", "CGC0020", "CGC0021", "CGC0022", "CGC0024", "CGC0099" };
        var tested = typeof(DiagnosticTests).GetMethod(nameof(DiagnosticTests.BrokenManifestReportsOneDiagnosticAtTheOffendingValue))!
            .GetCustomAttributes<DataRowAttribute>()
            .Select(a => (string)a.Data[0]!)
            .ToHashSet(StringComparer.Ordinal);

        var untested = DiagnosticCatalog.All.Select(d => d.Id).Except(notFromManifestText).Where(id => !tested.Contains(id)).ToList();
        Assert.IsEmpty(untested, "No broken manifest in DiagnosticTests for: " + string.Join(", ", untested));
    }

    [TestMethod]
    public void EveryIdIsTrackedOnceInAnalyzerReleasesUnshippedWithItsSeverity()
    {
        var rows = File.ReadAllLines(RepoPaths.InRoot("generator", "CodeGenChunk.Generator", "AnalyzerReleases.Unshipped.md"))
            .Select(l => l.Split('|').Select(c => c.Trim()).ToArray())
            .Where(c => c.Length == 4 && c[0].StartsWith("CGC", StringComparison.Ordinal))
            .ToList();

        var problems = new List<string>();
        foreach (var d in DiagnosticCatalog.All)
        {
            var matching = rows.Where(r => r[0] == d.Id).ToList();
            if (matching.Count != 1)
            {
                problems.Add(d.Id + " appears " + matching.Count + " times");
                continue;
            }

            var row = matching[0];
            if (row[1] != "CodeGenChunk" || row[2] != d.Severity.ToString() || row[3] != d.Title)
            {
                problems.Add(d.Id + " is tracked as '" + string.Join(" | ", row) + "', expected 'CodeGenChunk | " + d.Severity + " | " + d.Title + "'");
            }
        }

        problems.AddRange(rows.Select(r => r[0]).Except(DiagnosticCatalog.All.Select(d => d.Id)).Select(id => id + " is tracked but not in the catalog"));
        Assert.IsEmpty(problems, string.Join("\n", problems));
    }

    [TestMethod]
    public void DocsHaveOneSectionPerIdWithTitleExampleAndFix()
    {
        var lines = File.ReadAllLines(RepoPaths.InRoot("docs", "diagnostics.md"));
        var sections = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        List<string>? current = null;
        var problems = new List<string>();
        foreach (var line in lines)
        {
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                // The heading is the id alone, so the catalog's help link anchor (#cgc0001) lands on it.
                var id = line[3..].Trim();
                if (!sections.TryAdd(id, current = new List<string>()))
                {
                    problems.Add(id + " has two sections");
                }
            }
            else
            {
                current?.Add(line);
            }
        }

        foreach (var d in DiagnosticCatalog.All)
        {
            if (!sections.TryGetValue(d.Id, out var body))
            {
                problems.Add(d.Id + " has no '## " + d.Id + "' section");
                continue;
            }

            var text = string.Join("\n", body);
            foreach (var needed in new[] { d.Title, d.Severity.ToString().ToLowerInvariant(), "When", "Example", "Fix" })
            {
                if (!text.Contains(needed, StringComparison.Ordinal))
                {
                    problems.Add(d.Id + " section lacks '" + needed + "'");
                }
            }
        }

        problems.AddRange(sections.Keys.Except(DiagnosticCatalog.All.Select(d => d.Id)).Select(id => "Section '" + id + "' is not a catalog id"));
        Assert.IsEmpty(problems, string.Join("\n", problems));
    }
}
