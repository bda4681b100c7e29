using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CodeGenChunk.Generator.Tests;

/// <summary>Runs <see cref="ModelGenerator"/> in memory over manifests given as text.</summary>
internal static class GeneratorHarness
{
    /// <summary>The path bad manifests are given under; diagnostics must point into it.</summary>
    public const string ManifestPath = "/virtual/manifests/model.cgc.json";

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(LoadReferences);

    /// <summary>The running runtime's assemblies plus CodeGenChunk.Runtime and System.Numerics.Tensors.</summary>
    public static ImmutableArray<MetadataReference> PlatformReferences => References.Value;

    public static CSharpCompilation CreateCompilation(params SyntaxTree[] trees) =>
        CSharpCompilation.Create(
            "GeneratorTestAssembly",
            trees,
            PlatformReferences,
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                warningLevel: 9999,
                deterministic: true));

    public static GeneratorDriver CreateDriver(params AdditionalText[] manifests) =>
        CSharpGeneratorDriver.Create(
            new[] { new ModelGenerator().AsSourceGenerator() },
            additionalTexts: manifests,
            parseOptions: new CSharpParseOptions(LanguageVersion.Latest),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator once over one manifest.</summary>
    public static GeneratorOutcome Run(string manifestText, string path = ManifestPath)
    {
        var driver = CreateDriver(new InMemoryAdditionalText(path, manifestText));
        driver = driver.RunGeneratorsAndUpdateCompilation(CreateCompilation(), out var output, out var driverDiagnostics);
        var result = driver.GetRunResult().Results.Single();
        return new GeneratorOutcome(result, driverDiagnostics, output);
    }

    /// <summary>Runs the generator over a manifest file of the repository (read here, as the compiler would).</summary>
    public static GeneratorOutcome RunFile(string path) => Run(File.ReadAllText(path), path);

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        var paths = new SortedSet<string>(StringComparer.Ordinal);
        var tpa = (string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? string.Empty;
        foreach (var path in tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            paths.Add(path);
        }

        paths.Add(typeof(CodeGenChunk.Runtime.WeightFile).Assembly.Location);
        paths.Add(typeof(System.Numerics.Tensors.TensorPrimitives).Assembly.Location);
        return paths.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    }
}

/// <summary>What one generator run produced.</summary>
internal sealed record GeneratorOutcome(GeneratorRunResult Result, ImmutableArray<Diagnostic> DriverDiagnostics, Compilation OutputCompilation)
{
    public ImmutableArray<Diagnostic> Diagnostics => Result.Diagnostics;

    public ImmutableArray<GeneratedSourceResult> Sources => Result.GeneratedSources;

    /// <summary>Hint name → text, in the order the generator added them.</summary>
    public IReadOnlyList<(string HintName, string Text)> SourceTexts =>
        Sources.Select(s => (s.HintName, s.SourceText.ToString())).ToList();
}
