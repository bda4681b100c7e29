using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Generator.Tests;

/// <summary>
/// Checked-in snapshots of generated sources: Baselines/{hintName}.txt beside these sources.
/// Run the tests with CGC_ACCEPT_BASELINES=1 to write them instead of comparing.
/// </summary>
internal static class Baseline
{
    public const string AcceptVariable = "CGC_ACCEPT_BASELINES";

    public static bool Accepting => Environment.GetEnvironmentVariable(AcceptVariable) == "1";

    /// <summary>Compares (or, when accepting, writes) every source generated for the model class <paramref name="className"/>.</summary>
    public static void Verify(string className, IReadOnlyList<(string HintName, string Text)> sources)
    {
        var prefix = "CGC." + className + ".";
        Assert.IsNotEmpty(sources, "The generator produced no source for " + className + ".");
        Assert.IsTrue(sources.All(s => s.HintName.StartsWith(prefix, StringComparison.Ordinal)), "Unexpected hint names: " + string.Join(", ", sources.Select(s => s.HintName)));

        var existing = Directory.Exists(RepoPaths.Baselines)
            ? Directory.GetFiles(RepoPaths.Baselines, prefix + "*.txt").Select(Path.GetFileName).OfType<string>().ToList()
            : new List<string>();

        if (Accepting)
        {
            Directory.CreateDirectory(RepoPaths.Baselines);
            foreach (var stale in existing)
            {
                File.Delete(Path.Combine(RepoPaths.Baselines, stale));
            }

            foreach (var (hintName, text) in sources)
            {
                File.WriteAllText(FileFor(hintName), text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            }

            Assert.Inconclusive("Wrote " + sources.Count + " baselines for " + className + " (" + AcceptVariable + "=1); review and commit them.");
        }

        var expectedNames = existing.Select(f => f[..^".txt".Length]).OrderBy(n => n, StringComparer.Ordinal).ToList();
        var actualNames = sources.Select(s => s.HintName).OrderBy(n => n, StringComparer.Ordinal).ToList();
        Assert.AreEqual(
            string.Join(", ", expectedNames),
            string.Join(", ", actualNames),
            "Generated hint names differ from the baselines in " + RepoPaths.Baselines + "; run with " + AcceptVariable + "=1 to accept.");

        foreach (var (hintName, text) in sources)
        {
            var expected = File.ReadAllText(FileFor(hintName)).Replace("\r\n", "\n", StringComparison.Ordinal);
            if (!string.Equals(expected, text, StringComparison.Ordinal))
            {
                Assert.Fail(FirstDifference(hintName, expected, text));
            }
        }
    }

    /// <summary>"line N" with both versions of the first line that differs.</summary>
    public static string FirstDifference(string hintName, string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (var i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            var el = i < e.Length ? e[i] : "<end of baseline>";
            var al = i < a.Length ? a[i] : "<end of generated source>";
            if (!string.Equals(el, al, StringComparison.Ordinal))
            {
                return hintName + " differs from its baseline at line " + (i + 1) + ":\n" +
                    "  baseline:  " + el + "\n" +
                    "  generated: " + al + "\n" +
                    "If the change is intended, run the tests with " + AcceptVariable + "=1 and commit the new baselines.";
            }
        }

        return hintName + " differs from its baseline only in line endings.";
    }

    private static string FileFor(string hintName) => Path.Combine(RepoPaths.Baselines, hintName + ".txt");
}
