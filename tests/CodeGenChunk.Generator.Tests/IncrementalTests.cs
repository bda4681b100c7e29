using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Generator.Tests;

/// <summary>The pipeline's named steps cache: unrelated edits and position-only edits regenerate nothing.</summary>
[TestClass]
public sealed class IncrementalTests
{
    [TestMethod]
    public void UnrelatedCSharpEditLeavesEveryStepCached()
    {
        var manifest = new InMemoryAdditionalText(TestManifests.SmallInt8Path, File.ReadAllText(TestManifests.SmallInt8Path));
        var compilation = GeneratorHarness.CreateCompilation();
        var driver = GeneratorHarness.CreateDriver(manifest).RunGenerators(compilation);
        Assert.IsNotEmpty(driver.GetRunResult().Results[0].GeneratedSources);

        driver = driver.RunGenerators(compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace User { internal sealed class Unrelated { } }")));

        var steps = driver.GetRunResult().Results[0].TrackedSteps;
        CollectionAssert.IsSubsetOf(StepNames.All, steps.Keys.ToList(), "Every named step should run for a valid manifest.");
        foreach (var name in StepNames.All.Where(steps.ContainsKey))
        {
            AssertReasons(steps[name], name, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        }
    }

    [TestMethod]
    public void WhitespaceEditOfTheManifestLeavesTheModelUnchanged()
    {
        var text = File.ReadAllText(TestManifests.SmallInt8Path);
        var (driver, steps) = RunEdited(text, text.Replace("\": ", "\":    ", System.StringComparison.Ordinal).Replace("\n", "\n\n", System.StringComparison.Ordinal));

        AssertReasons(steps[StepNames.Manifests], StepNames.Manifests, IncrementalStepRunReason.Modified);
        AssertReasons(steps[StepNames.Parse], StepNames.Parse, IncrementalStepRunReason.Modified);
        AssertReasons(steps[StepNames.Model], StepNames.Model, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        Assert.HasCount(2, driver.GetRunResult().Results[0].GeneratedSources);
    }

    [TestMethod]
    public void ChangingALayerSizeModifiesTheModel()
    {
        var text = File.ReadAllText(TestManifests.SmallInt8Path);
        Assert.Contains("\"out\": 24", text);
        var (driver, steps) = RunEdited(text, text.Replace("\"out\": 24", "\"out\": 25", System.StringComparison.Ordinal));

        AssertReasons(steps[StepNames.Model], StepNames.Model, IncrementalStepRunReason.Modified);
        var model = driver.GetRunResult().Results[0].GeneratedSources.Single(s => s.HintName == "CGC.SmallInt8.Model.g.cs");
        Assert.Contains("OutputLength = 25;", model.SourceText.ToString());
    }

    /// <summary>Runs the original manifest, replaces its text, runs again, and returns the second run's steps.</summary>
    private static (GeneratorDriver Driver, IReadOnlyDictionary<string, System.Collections.Immutable.ImmutableArray<IncrementalGeneratorRunStep>> Steps) RunEdited(string original, string edited)
    {
        Assert.AreNotEqual(original, edited);
        var before = new InMemoryAdditionalText(TestManifests.SmallInt8Path, original);
        var compilation = GeneratorHarness.CreateCompilation();
        var driver = GeneratorHarness.CreateDriver(before).RunGenerators(compilation);
        driver = driver.ReplaceAdditionalText(before, new InMemoryAdditionalText(TestManifests.SmallInt8Path, edited)).RunGenerators(compilation);
        var result = driver.GetRunResult().Results[0];
        Assert.IsNull(result.Exception, result.Exception?.ToString());
        Assert.IsEmpty(result.Diagnostics);
        return (driver, result.TrackedSteps);
    }

    private static void AssertReasons(System.Collections.Immutable.ImmutableArray<IncrementalGeneratorRunStep> runs, string name, params IncrementalStepRunReason[] allowed)
    {
        var outputs = runs.SelectMany(r => r.Outputs).ToList();
        Assert.IsNotEmpty(outputs, name + " has no outputs.");
        var reasons = outputs.Select(o => o.Reason).ToList();
        Assert.IsTrue(reasons.All(r => allowed.Contains(r)), name + ": expected " + string.Join("/", allowed) + ", got " + string.Join(", ", reasons));
    }
}
