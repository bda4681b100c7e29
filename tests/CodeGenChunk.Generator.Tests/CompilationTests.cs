using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Generator.Tests;

/// <summary>The generated model classes compile cleanly against CodeGenChunk.Runtime.</summary>
[TestClass]
public sealed class CompilationTests
{
    [TestMethod]
    [DataRow("samples/BigNet/bignet.f32.cgc.json")]
    [DataRow("samples/BigNet/bignet.int8.cgc.json")]
    [DataRow("tests/CodeGenChunk.Generator.Tests/Manifests/odd.f32.cgc.json")]
    [DataRow("tests/CodeGenChunk.Generator.Tests/Manifests/small.int8.cgc.json")]
    [DataRow("tests/CodeGenChunk.Generator.Tests/Manifests/cnn.f32.cgc.json")]
    [DataRow("tests/CodeGenChunk.Models.Tests/Models/conv.odd.cgc.json")]
    [DataRow("tests/CodeGenChunk.Models.Tests/Models/conv.mixed.cgc.json")]
    [DataRow("tests/CodeGenChunk.Models.Tests/Models/conv.routed.cgc.json")]
    public void GeneratedSourceCompilesWithoutErrorsOrWarnings(string manifest)
    {
        var outcome = GeneratorHarness.RunFile(RepoPaths.InRoot(manifest.Split('/')));
        GeneratorAssert.DidNotCrash(outcome);
        Assert.IsNotEmpty(outcome.Sources);

        var compilation = GeneratorHarness.CreateCompilation(outcome.Sources.Select(s => s.SyntaxTree).ToArray());
        using var image = new MemoryStream();
        var emit = compilation.Emit(image);

        var problems = compilation.GetDiagnostics().Concat(emit.Diagnostics)
            .Where(d => d.Severity >= DiagnosticSeverity.Warning)
            .Select(d => d.ToString())
            .Distinct()
            .ToList();
        Assert.IsEmpty(problems, string.Join("\n", problems.Take(20)));
        Assert.IsTrue(emit.Success);
    }

    [TestMethod]
    [DataRow("conv.odd", "scalar")]
    [DataRow("conv.odd", "v128")]
    [DataRow("conv.odd", "v256")]
    [DataRow("conv.odd", "v512")]
    [DataRow("cnn.int8", "scalar")]
    [DataRow("cnn.int8", "v128")]
    [DataRow("cnn.int8", "v256")]
    [DataRow("cnn.int8", "v512")]
    public void ConvolutionalModelCompilesForEverySimdChoice(string model, string simd)
    {
        var text = File.ReadAllText(RepoPaths.InRoot("tests", "CodeGenChunk.Models.Tests", "Models", model + ".cgc.json"))
            .Replace("\"input\":", "\"target\": { \"simd\": \"" + simd + "\" },\n  \"input\":", System.StringComparison.Ordinal);
        var outcome = GeneratorHarness.Run(text);
        GeneratorAssert.DidNotCrash(outcome);
        Assert.IsEmpty(outcome.Diagnostics, string.Join("\n", outcome.Diagnostics));
        Assert.IsTrue(outcome.SourceTexts.Any(s => s.HintName.EndsWith(".ConvKernels.g.cs", System.StringComparison.Ordinal)));

        var compilation = GeneratorHarness.CreateCompilation(outcome.Sources.Select(s => s.SyntaxTree).ToArray());
        using var image = new MemoryStream();
        var emit = compilation.Emit(image);
        var problems = compilation.GetDiagnostics().Concat(emit.Diagnostics).Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(d => d.ToString()).Distinct().ToList();
        Assert.IsEmpty(problems, string.Join("\n", problems.Take(20)));
    }

    [TestMethod]
    public void OddNamesStayInsideCommentsAndStrings()
    {
        // A layer name with XML characters lands in a doc comment; a file name with braces and a quote
        // in an interpolated string. Both must be escaped: compile with documentation diagnostics on.
        const string Manifest = """
            {
              "model": "M", "namespace": "N",
              "weights": { "source": "w.safetensors" },
              "input": { "shape": [4] },
              "layers": [
                { "op": "linear", "name": "a<b>&c", "in": 4, "out": 64 },
                { "op": "linear", "name": "d", "in": 64, "out": 2 }
              ]
            }
            """;
        var outcome = GeneratorHarness.Run(Manifest, "/models/we{ird}\"na me.cgc.json");
        GeneratorAssert.DidNotCrash(outcome);
        Assert.IsNotEmpty(outcome.Sources);

        var options = new Microsoft.CodeAnalysis.CSharp.CSharpParseOptions(Microsoft.CodeAnalysis.CSharp.LanguageVersion.Latest, DocumentationMode.Diagnose);
        var trees = outcome.Sources.Select(s => Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(s.SourceText, options, s.HintName)).ToArray();
        var compilation = GeneratorHarness.CreateCompilation(trees);
        var problems = compilation.GetDiagnostics()
            .Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Id != "CS1591")
            .Select(d => d.ToString())
            .ToList();
        Assert.IsEmpty(problems, string.Join("\n", problems.Take(20)));
        Assert.IsTrue(outcome.Sources.Any(s => s.SourceText.ToString().Contains("a&lt;b&gt;&amp;c", System.StringComparison.Ordinal)), "the layer name is XML-escaped in the doc comment");
    }
}
