using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Generator.Tests.Schema;

/// <summary>
/// schemas/codegenchunk.manifest.schema.json: well formed, accepts every manifest of the repository,
/// and agrees with the generator on the broken manifests of <see cref="DiagnosticTests"/>.
/// </summary>
[TestClass]
public sealed class SchemaTests
{
    /// <summary>
    /// Broken manifests whose problem only the generator can see: it involves more than one value
    /// (sizes along the layers, names, budgets, group size against the layer). The schema must
    /// accept these; it must reject every other broken manifest.
    /// </summary>
    private static readonly HashSet<string> GeneratorOnly = new(StringComparer.Ordinal)
    {
        // pool routing: the layers around the conv, its shapes, format and placement (CGC0046, CGC0044)
        "CGC0046 taps estimator on output chunks",
        "CGC0046 pool routing of a linear layer",
        "CGC0046 pool routing ranked by exact",
        "CGC0046 pool routing with maxK",
        "CGC0046 pool routing of int8 weights",
        "CGC0046 pool routing under stream placement",
        "CGC0046 pool routing without a max pool after",
        "CGC0046 pool routing over overlapping windows",
        "CGC0046 pool routing over padded windows",
        "CGC0046 pool routing count not the window",
        "CGC0046 pool routing topK above the window",
        "CGC0046 pool routing proxyTaps above the filter",
        "CGC0046 pool routing window above 64 positions",
        "CGC0046 pool routing of a conv a residual reads",
        "CGC0044 pool routing with int8 activations",
        "CGC0005 topK larger than count",
        "CGC0047 base11 pairs layout on conv2d",
        "CGC0047 base11 pairs layout with chunks",
        "CGC0047 pairs layout on int8 weights",
        "CGC0007 linear in does not match",
        "CGC0007 layernorm dim does not match",
        "CGC0008 residual from unknown layer",
        "CGC0009 residual of incompatible size",
        "CGC0010 duplicate layer name",
        "CGC0014 peak RAM over budget",
        "CGC0014 streamed peak RAM over budget",
        "CGC0050 layer too large to stream within the budget",
        "CGC0015 groupSize larger than in",
        "CGC0015 groupSize on f32",
        "CGC0023 layer too large",
        "CGC0025 input estimator on output chunks",
        "CGC0025 more chunks than rows",
        "CGC0025 lowrank estimator on input chunks",
        "CGC0025 lowrank rank (default 16) above the matrix's rank",
        "CGC0025 conv2d chunks of input channels",
        "CGC0025 input estimator on conv2d output chunks",
        "CGC0025 conv2d output chunks under stream placement",
        "CGC0026 per-input precision under stream placement",
        "CGC0044 int8 activations under stream placement",
        "CGC0025 proxy estimator on conv2d chunks",
        "CGC0025 more chunks than output channels",
        "CGC0026 policy without chunks",
        "CGC0026 formats do not match thresholds",
        "CGC0026 runtime-activity bits do not match thresholds",
        "CGC0026 runtime-activity bits do not increase",
        "CGC0026 runtime-activity on input chunks",
        "CGC0026 runtime-activity with formats",
        "CGC0026 bits with calibration activity",
        "CGC0026 runtime-activity without chunks",
        "CGC0026 runtime-activity groupSize not a multiple of 16",
        "CGC0027 policy not calibrated",
        "CGC0044 int8 activations without int8 weights",
        "CGC0044 group too long for int32 sums",
        "CGC0044 chunked conv2d with int8 activations",
        "CGC0044 conv2d int8 activations without int8 weights",
        "CGC0044 conv2d group too long for int32 sums",
        "CGC0044 int4 group too long for int32 sums",
        "CGC0044 conv2d int8 activations on ternary weights (ternary x int8 is for linear layers)",
        "CGC0044 ternary group too long for int32 sums",
        "CGC0044 int8 activations on int1 weights",
        "CGC0044 int16 activations on int4 weights",
        "CGC0044 int16 activations on a conv2d layer",
        "CGC0044 int16 group too long for int32 sums",
        "CGC0044 int16 activations on a layernorm",
        "CGC0044 layernorm on codes after an int16 linear layer",
        "CGC0044 int16 linear layer reading layernorm codes",
        "CGC0044 base11 conv2d group too long for exact float sums",
        "CGC0044 base11 group too long for exact float sums",
        "CGC0045 static activations not calibrated",
        "CGC0044 layernorm on codes with dynamic params",
        "CGC0044 layernorm on codes as the last layer",
        "CGC0044 layernorm on codes without a fused residual before",
        "CGC0044 residual from layernorm codes not fused",
        "CGC0045 layernorm on codes not calibrated",
        "CGC0044 residual from an older layernorm's codes",
        "CGC0044 layernorm on codes after an int4 linear layer (no int4 residual-from-codes epilogue)",
        "CGC0040 non-CHW input for conv2d",
        "CGC0040 maxpool after flatten",
        "CGC0041 conv2d inChannels does not match",
        "CGC0042 window larger than the padded input",
        "CGC0043 maxpool padding as large as the window",
        "CGC0007 linear in does not match a flattened [C, H, W]",
        "CGC0015 conv2d groupSize larger than a filter",
    };

    private static readonly Lazy<SchemaValidator> Validator = new(() => SchemaValidator.Parse(File.ReadAllText(RepoPaths.Schema)));

    [TestMethod]
    public void SchemaIsDraft202012AndDescribesEveryProperty()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(RepoPaths.Schema));
        var root = schema.RootElement;
        Assert.AreEqual("https://json-schema.org/draft/2020-12/schema", root.GetProperty("$schema").GetString());
        Assert.IsFalse(string.IsNullOrEmpty(root.GetProperty("$id").GetString()));
        Assert.IsFalse(string.IsNullOrEmpty(root.GetProperty("title").GetString()));

        var problems = new List<string>();
        foreach (var (pointer, keyword, value) in SchemaValidator.Keywords(root))
        {
            if (keyword == "properties")
            {
                problems.AddRange(value.EnumerateObject()
                    .Where(p => !p.Value.TryGetProperty("description", out var d) || string.IsNullOrWhiteSpace(d.GetString()))
                    .Select(p => pointer + "/properties/" + p.Name + " has no description"));
            }

            if (keyword == "type" && value.GetString() == "object")
            {
                var owner = Resolve(root, pointer);
                if (!owner.TryGetProperty("additionalProperties", out var additional) || additional.ValueKind != JsonValueKind.False)
                {
                    problems.Add(pointer + " is an object without \"additionalProperties\": false");
                }
            }

            if (keyword == "$ref" && Resolve(root, value.GetString()!).ValueKind == JsonValueKind.Undefined)
            {
                problems.Add(pointer + " refers to the missing " + value.GetString());
            }
        }

        Assert.IsEmpty(problems, string.Join("\n", problems));
    }

    [TestMethod]
    public void EveryManifestInTheRepositoryValidates()
    {
        var manifests = RepositoryManifests();
        Assert.IsTrue(manifests.Contains(RepoPaths.BigNetF32), "The walk must find the BigNet sample: " + string.Join(", ", manifests));

        var problems = new List<string>();
        foreach (var path in manifests)
        {
            var text = File.ReadAllText(path);
            problems.AddRange(Validator.Value.Validate(text).Select(e => Path.GetRelativePath(RepoPaths.Root, path) + ": " + e));

            // A relative "$schema" must lead editors to this schema.
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.TryGetProperty("$schema", out var reference) && !reference.GetString()!.Contains("://", StringComparison.Ordinal))
            {
                var target = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, reference.GetString()!));
                if (target != Path.GetFullPath(RepoPaths.Schema))
                {
                    problems.Add(Path.GetRelativePath(RepoPaths.Root, path) + ": \"$schema\" leads to " + target);
                }
            }
        }

        Assert.IsEmpty(problems, string.Join("\n", problems));
    }

    [TestMethod]
    public void SchemaRejectsTheBrokenManifestsThatNeedNoCrossChecks()
    {
        var rows = DataRows(typeof(DiagnosticTests), nameof(DiagnosticTests.BrokenManifestReportsOneDiagnosticAtTheOffendingValue));
        Assert.IsGreaterThanOrEqualTo(24, rows.Count);
        var problems = new List<string>();
        var rejected = 0;
        foreach (var (name, manifest) in rows)
        {
            if (name.StartsWith("CGC0001", StringComparison.Ordinal))
            {
                continue; // not JSON: nothing for a schema to look at
            }

            var errors = Validator.Value.Validate(manifest);
            if (GeneratorOnly.Contains(name))
            {
                if (errors.Count != 0)
                {
                    problems.Add(name + ": the schema rejects a manifest only the generator should: " + string.Join("; ", errors));
                }
            }
            else if (errors.Count == 0)
            {
                problems.Add(name + ": the schema accepts it");
            }
            else
            {
                rejected++;
            }
        }

        Assert.IsEmpty(problems, string.Join("\n", problems));
        Assert.IsGreaterThanOrEqualTo(20, rejected);
        Assert.IsEmpty(GeneratorOnly.Except(rows.Select(r => r.Name)), "GeneratorOnly names a row that no longer exists.");
    }

    [TestMethod]
    public void SchemaAcceptsManifestsOfFeaturesThatOnceOnlyWarned()
    {
        foreach (var (name, manifest) in DataRows(typeof(DiagnosticDetailTests), nameof(DiagnosticDetailTests.FormerlyAcceptedButNotGeneratedFeaturesGenerateWithoutWarning)))
        {
            var errors = Validator.Value.Validate(manifest);
            Assert.IsEmpty(errors, name + ": " + string.Join("; ", errors));
        }
    }

    [TestMethod]
    [DataRow("""{ "model": "M", "namespace": "N", "weights": { "source": "w" }, "input": { "shape": [4] }, "layers": [ { "op": "relu" } ], "modle": "X" }""", "$.modle: property 'modle' is not allowed")]
    [DataRow("""{ "model": "M", "namespace": "N", "weights": { "source": "w" }, "input": { "shape": [4] }, "layers": [ { "op": "relu" } ], "target": { "simd": "avx2" } }""", "$.target.simd: \"avx2\" is not one of")]
    [DataRow("""{ "namespace": "N", "weights": { "source": "w" }, "input": { "shape": [4] }, "layers": [ { "op": "relu" } ] }""", "$: required property 'model' is missing")]
    [DataRow("""{ "model": "M", "namespace": "N", "weights": { "source": "w" }, "input": { "shape": [4] }, "layers": [ { "op": "relu", "inplace": true } ] }""", "$.layers[0]: matches 0 of oneOf")]
    [DataRow("""{ "model": "M", "namespace": "N", "weights": { "source": "w" }, "input": { "shape": [4] }, "quant": { "format": "int8", "policy": { "by": "luck" } }, "layers": [ { "op": "relu" } ] }""", "$.quant.policy.by: \"luck\" is not one of")]
    [DataRow("""{ "model": "M", "namespace": "N", "weights": { "source": "w" }, "input": { "shape": [4] }, "layers": [ { "op": "linear", "name": "a", "in": 4, "out": 2, "chunks": { "count": 2, "activity": "guess" } } ] }""", "$.layers[0]: matches 0 of oneOf")]
    [DataRow("""{ "model": "M", "namespace": "N", "weights": { "source": "w" }, "input": { "shape": [1, 8, 8] }, "layers": [ { "op": "conv2d", "name": "c", "inChannels": 1, "outChannels": 2, "kernel": [3, 3], "pad": [1, 1] } ] }""", "$.layers[0]: matches 0 of oneOf")]
    [DataRow("""{ "model": "M", "namespace": "N", "weights": { "source": "w" }, "input": { "shape": [1, 8, 8] }, "layers": [ { "op": "maxpool", "kernel": [2, 0] } ] }""", "$.layers[0]: matches 0 of oneOf")]
    [DataRow("""{ "model": "M", "namespace": "N", "weights": { "source": "w" }, "input": { "shape": [1, 8, 8] }, "layers": [ { "op": "flatten", "axis": 1 } ] }""", "$.layers[0]: matches 0 of oneOf")]
    public void SchemaNamesTheOffendingValue(string manifest, string expected)
    {
        var errors = Validator.Value.Validate(manifest);
        Assert.IsTrue(errors.Any(e => e.StartsWith(expected, StringComparison.Ordinal)), "Expected '" + expected + "' among:\n" + string.Join("\n", errors));
    }

    [TestMethod]
    public void DocumentedExampleValidatesAndGenerates()
    {
        var doc = File.ReadAllText(RepoPaths.InRoot("docs", "manifest.md"));
        var start = doc.IndexOf("```json\n", StringComparison.Ordinal) + "```json\n".Length;
        var example = doc[start..doc.IndexOf("```", start, StringComparison.Ordinal)];

        var errors = Validator.Value.Validate(example);
        Assert.IsEmpty(errors, string.Join("\n", errors));
        var outcome = GeneratorHarness.Run(example);
        GeneratorAssert.DidNotCrash(outcome);
        Assert.IsTrue(outcome.Diagnostics.All(d => d.Id == "CGC0017"), string.Join("\n", outcome.Diagnostics));
        Assert.HasCount(2, outcome.Sources);
        Assert.Contains("public const int InputLength = 784;", outcome.Sources[0].SourceText.ToString());
    }

    [TestMethod]
    public void EveryDocumentedManifestValidatesAndGenerates()
    {
        var doc = File.ReadAllText(RepoPaths.InRoot("docs", "manifest.md"));
        var count = 0;
        for (var start = doc.IndexOf("```json\n", StringComparison.Ordinal); start >= 0; start = doc.IndexOf("```json\n", start, StringComparison.Ordinal))
        {
            start += "```json\n".Length;
            var example = doc[start..doc.IndexOf("```", start, StringComparison.Ordinal)];
            if (!example.TrimStart().StartsWith("{\n  \"$schema\"", StringComparison.Ordinal))
            {
                continue; // a fragment, not a whole manifest
            }

            count++;
            var errors = Validator.Value.Validate(example);
            Assert.IsEmpty(errors, string.Join("\n", errors));
            var outcome = GeneratorHarness.Run(example);
            GeneratorAssert.DidNotCrash(outcome);
            Assert.IsTrue(outcome.Diagnostics.All(d => d.Severity != Microsoft.CodeAnalysis.DiagnosticSeverity.Error), string.Join("\n", outcome.Diagnostics));
            Assert.IsNotEmpty(outcome.Sources);
        }

        Assert.IsGreaterThanOrEqualTo(2, count, "docs/manifest.md shows an MLP and a CNN manifest");
    }

    /// <summary>Every *.cgc.json of the source tree (not under bin/ or obj/).</summary>
    internal static List<string> RepositoryManifests() =>
        Directory.EnumerateFiles(RepoPaths.Root, "*.cgc.json", SearchOption.AllDirectories)
            .Where(p => !Path.GetRelativePath(RepoPaths.Root, p).Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar)
                .Any(part => part is "bin" or "obj" or ".git"))
            .OrderBy(p => p, StringComparer.Ordinal)
            .ToList();

    private static List<(string Name, string Manifest)> DataRows(Type type, string method) =>
        type.GetMethod(method)!.GetCustomAttributes<DataRowAttribute>()
            .Select(a => (a.DisplayName ?? string.Empty, (string)a.Data[^1]!))
            .ToList();

    private static JsonElement Resolve(JsonElement root, string pointer)
    {
        var node = root;
        foreach (var token in pointer.TrimStart('#').Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (node.ValueKind == JsonValueKind.Array && int.TryParse(token, out var i) && i < node.GetArrayLength())
            {
                node = node[i];
            }
            else if (node.ValueKind != JsonValueKind.Object || !node.TryGetProperty(token, out node))
            {
                return default;
            }
        }

        return node;
    }
}
