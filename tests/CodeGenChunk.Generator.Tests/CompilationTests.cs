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
}
