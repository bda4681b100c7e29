using System;
using System.Globalization;
using System.Linq;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Model.Planning;
using Microsoft.CodeAnalysis;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Generator.Tests;

/// <summary>Warnings that still generate code, and the content of the peak-RAM error.</summary>
[TestClass]
public sealed class DiagnosticDetailTests
{
    private const string BudgetManifest = """
        {
          "model": "Budgeted",
          "namespace": "N",
          "target": { "ramBudgetBytes": BUDGET },
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "wide", "in": 4, "out": 1000 },
            { "op": "linear", "name": "narrow", "in": 1000, "out": 2 }
          ]
        }
        """;

    [TestMethod]
    [DataRow("""
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [32] },
          "layers": [
            { "op": "linear", "name": "a", "in": 32, "out": 2,
              "quant": { "format": "int8", "groupSize": 16,
                         "policy": { "by": "runtime-activity", "thresholds": [0.5], "bits": [4, 8] } },
              "chunks": { "count": 2, "axis": "output", "topK": 1, "activity": "exact" } }
          ]
        }
        """, DisplayName = "per-input precision policy")]
    [DataRow("""
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "target": { "weights": "stream" },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 }
          ]
        }
        """, DisplayName = "stream placement")]
    public void FormerlyAcceptedButNotGeneratedFeaturesGenerateWithoutWarning(string manifest)
    {
        // CGC0017 (accepted but not generated) stays in the catalog for features to come; these two once raised it.
        var outcome = GeneratorHarness.Run(manifest);

        GeneratorAssert.DidNotCrash(outcome);
        Assert.IsEmpty(outcome.Diagnostics, string.Join("\n", outcome.Diagnostics));
        Assert.Contains("CGC.M.Model.g.cs", outcome.Sources.Select(s => s.HintName).ToArray());
    }

    [TestMethod]
    public void EveryFormatOfTheSchemaIsGeneratedWithoutDiagnostics()
    {
        // CGC0016 (format described but not generated) stays in the catalog for formats to come;
        // today every format of the schema must generate, so none may report it.
        foreach (var format in Ops.Formats)
        {
            var outcome = GeneratorHarness.Run($$"""
                {
                  "model": "M", "namespace": "N",
                  "weights": { "source": "w.safetensors" },
                  "input": { "shape": [640] },
                  "layers": [
                    { "op": "linear", "name": "a", "in": 640, "out": 2, "quant": { "format": "{{format}}" } }
                  ]
                }
                """);

            GeneratorAssert.DidNotCrash(outcome);
            Assert.IsEmpty(outcome.Diagnostics, format);
            Assert.IsTrue(outcome.Sources.Any(s => s.HintName == "CGC.M.Model.g.cs"), format);
        }
    }

    [TestMethod]
    public void OverBudgetNamesThePeakLayerAndTheExcessInBytes()
    {
        // Plan without a budget to learn the peak, then ask for 1000 bytes less.
        var unbounded = ModelPlanner.Plan(ManifestParser.Parse("budget.cgc.json", BudgetManifest.Replace("\"target\": { \"ramBudgetBytes\": BUDGET },", string.Empty)).Spec!).Plan!;
        Assert.AreEqual("wide", unbounded.PeakLayer, "4 -> 1000 keeps 1004 floats live, 1000 -> 2 only 1002.");
        var budget = unbounded.PeakRamBytes - 1000;

        var outcome = GeneratorHarness.Run(BudgetManifest.Replace("BUDGET", budget.ToString(CultureInfo.InvariantCulture)));

        GeneratorAssert.DidNotCrash(outcome);
        var d = GeneratorAssert.Single(outcome);
        Assert.AreEqual("CGC0014", d.Id);
        GeneratorAssert.At(d, 4, 33);
        var message = d.GetMessage(CultureInfo.InvariantCulture);
        Assert.Contains("layer 'wide'", message);
        Assert.Contains("1000 bytes over", message);
        Assert.Contains("Peak RAM is " + unbounded.PeakRamBytes.ToString(CultureInfo.InvariantCulture) + " bytes", message);
        Assert.Contains("ramBudgetBytes = " + budget.ToString(CultureInfo.InvariantCulture), message);
        Assert.IsEmpty(outcome.Sources);
    }

    [TestMethod]
    public void PeakLayerOfAFusedStepIsTheLinearLayer()
    {
        // The linear layer's ReLU is fused into its kernel; the peak is still reported at the linear layer.
        var manifest = """
            {
              "model": "M", "namespace": "N",
              "weights": { "source": "w.safetensors" },
              "input": { "shape": [4] },
              "layers": [
                { "op": "linear", "name": "wide", "in": 4, "out": 1000 },
                { "op": "relu" },
                { "op": "linear", "name": "narrow", "in": 1000, "out": 2 }
              ]
            }
            """;
        var plan = ModelPlanner.Plan(ManifestParser.Parse("fused.cgc.json", manifest).Spec!).Plan!;
        Assert.AreEqual("wide", plan.PeakLayer);
    }
}
