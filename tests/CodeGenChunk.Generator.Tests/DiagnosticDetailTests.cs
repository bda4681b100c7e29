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
    [DataRow("CGC0017", 6, 26, """
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
        """, DisplayName = "CGC0017 stream placement")]
    public void AcceptedButNotGeneratedFeatureWarnsAndStillGenerates(string id, int line, int column, string manifest)
    {
        var outcome = GeneratorHarness.Run(manifest);

        GeneratorAssert.DidNotCrash(outcome);
        var d = GeneratorAssert.Single(outcome);
        Assert.AreEqual(id, d.Id, d.ToString());
        Assert.AreEqual(DiagnosticSeverity.Warning, d.Severity, d.ToString());
        GeneratorAssert.At(d, line, column);
        GeneratorAssert.WellFormedMessage(d);
        CollectionAssert.AreEqual(
            new[] { "CGC.M.Model.g.cs", "CGC.M.Kernels.g.cs" },
            outcome.Sources.Select(s => s.HintName).ToArray(),
            "A warning must not stop generation.");
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
