using System.Globalization;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Generator.Tests;

/// <summary>A manifest yields the same bytes on every run and under every current culture.</summary>
[TestClass]
public sealed class DeterminismTests
{
    [TestMethod]
    public void GeneratingTwiceGivesByteIdenticalSources()
    {
        foreach (var path in TestManifests.All)
        {
            var first = GeneratorHarness.RunFile(path);
            var second = GeneratorHarness.RunFile(path);

            GeneratorAssert.DidNotCrash(first);
            Assert.IsNotEmpty(first.Sources, path);
            Assert.HasCount(first.Sources.Length, second.Sources);
            for (var i = 0; i < first.Sources.Length; i++)
            {
                Assert.AreEqual(first.Sources[i].HintName, second.Sources[i].HintName);
                CollectionAssert.AreEqual(
                    System.Text.Encoding.UTF8.GetBytes(first.Sources[i].SourceText.ToString()),
                    System.Text.Encoding.UTF8.GetBytes(second.Sources[i].SourceText.ToString()),
                    first.Sources[i].HintName);
                CollectionAssert.AreEqual(first.Sources[i].SourceText.GetChecksum(), second.Sources[i].SourceText.GetChecksum());
            }
        }
    }

    [TestMethod]
    [DataRow("de-DE")]
    [DataRow("tr-TR")]
    public void CurrentCultureDoesNotChangeTheOutput(string cultureName)
    {
        var invariant = GeneratorHarness.Run(TestManifests.Epsilons).SourceTexts;
        var saved = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        GeneratorOutcome localized;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = new CultureInfo(cultureName);

            // The culture must be real (InvariantGlobalization is off in this project), or the test proves nothing.
            Assert.AreEqual("0,5", 0.5.ToString(CultureInfo.CurrentCulture), "Culture " + cultureName + " is not active.");
            localized = GeneratorHarness.Run(TestManifests.Epsilons);
        }
        finally
        {
            (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture) = saved;
        }

        GeneratorAssert.DidNotCrash(localized);
        Assert.IsEmpty(localized.Diagnostics, string.Join("\n", localized.Diagnostics));
        Assert.HasCount(invariant.Count, localized.SourceTexts);
        for (var i = 0; i < invariant.Count; i++)
        {
            Assert.AreEqual(invariant[i].HintName, localized.SourceTexts[i].HintName);
            if (invariant[i].Text != localized.SourceTexts[i].Text)
            {
                Assert.Fail(Baseline.FirstDifference(invariant[i].HintName + " under " + cultureName, invariant[i].Text, localized.SourceTexts[i].Text));
            }
        }

        var model = localized.SourceTexts.Single(s => s.HintName == "CGC.Epsilons.Model.g.cs").Text;
        Assert.Contains("1E-05f", model);
        Assert.Contains("0.001f", model);
        Assert.DoesNotContain("0,001", model);
    }
}
