using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.Loader;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading;
using CodeGenChunk.Generator;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Model.Planning;
using CodeGenChunk.Tool.Packing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace CodeGenChunk.Tool.Eval;

/// <summary>
/// Builds a manifest the way <c>dotnet build</c> does — parse, plan, pack the weights, run the source generator — but in
/// this process: the generated class is compiled with Roslyn into a collectible load context, with a small adapter that
/// exposes it as <see cref="IEvaluatedModel"/>. The weights are packed in memory and opened with the generated
/// <c>FromBytes</c>, whatever the manifest's placement.
/// </summary>
public static class ModelCompiler
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(LoadReferences);

    /// <summary>Compiles the manifest at <paramref name="path"/> as written.</summary>
    public static CompiledModel Compile(string path) => CompileText(Path.GetFullPath(path), File.ReadAllText(path));

    /// <summary>
    /// The manifest's float twin: the same layers and weights with every layer in f32, no chunks and no precision policy
    /// — the float model a quantized or routed variant is compared with.
    /// </summary>
    public static string FloatTwin(string manifestText)
    {
        var root = JsonNode.Parse(manifestText, documentOptions: new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true })
            ?? throw new InvalidDataException("The manifest is empty.");
        if (root is not JsonObject model)
        {
            throw new InvalidDataException("The manifest is not a JSON object.");
        }

        model.Remove("quant");
        model.Remove("activations");
        if (model["layers"] is JsonArray layers)
        {
            foreach (var layer in layers.OfType<JsonObject>())
            {
                layer.Remove("quant");
                layer.Remove("chunks");
                layer.Remove("activations");
            }
        }

        return model.ToJsonString();
    }

    /// <summary>Compiles manifest text as if it were the file at <paramref name="path"/> (weights resolve beside it).</summary>
    public static CompiledModel CompileText(string path, string text, CancellationToken cancellationToken = default)
    {
        var parsed = ManifestParser.Parse(path, text, cancellationToken);
        var problems = parsed.Diagnostics.Where(d => d.Info.Severity == CodeGenChunk.Model.Diagnostics.Severity.Error).Select(d => d.ToCanonicalString()).ToList();
        if (parsed.Spec is null || problems.Count > 0)
        {
            throw new EvalException(path, "the manifest has errors:\n" + string.Join("\n", problems));
        }

        var planned = ModelPlanner.Plan(parsed.Spec, cancellationToken);
        problems = planned.Diagnostics.Where(d => d.Info.Severity == CodeGenChunk.Model.Diagnostics.Severity.Error).Select(d => d.ToCanonicalString()).ToList();
        if (planned.Plan is null || problems.Count > 0)
        {
            throw new EvalException(path, "the manifest cannot be planned:\n" + string.Join("\n", problems));
        }

        var plan = planned.Plan;
        var packed = WeightPacker.Pack(parsed.Spec, plan);
        if (packed.File is null)
        {
            throw new EvalException(path, "the weights cannot be packed:\n" + string.Join("\n", packed.Diagnostics.Select(d => d.ToCanonicalString())));
        }

        var driver = CSharpGeneratorDriver.Create(
            new[] { new ModelGenerator().AsSourceGenerator() },
            additionalTexts: new AdditionalText[] { new ManifestAdditionalText(path, text) },
            parseOptions: new CSharpParseOptions(LanguageVersion.Latest));
        var parseOptions = new CSharpParseOptions(LanguageVersion.Latest);
        var adapter = CSharpSyntaxTree.ParseText(AdapterSource(plan), parseOptions, "CgcEvalAdapter.cs", Encoding.UTF8, cancellationToken);
        var compilation = CSharpCompilation.Create(
            "CgcEval." + plan.ClassName,
            new[] { adapter },
            References.Value,
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                optimizationLevel: OptimizationLevel.Release,
                nullableContextOptions: NullableContextOptions.Enable,
                deterministic: true));
        driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics, cancellationToken);
        var generatorErrors = generatorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
        if (generatorErrors.Count > 0)
        {
            throw new EvalException(path, "the generator failed:\n" + string.Join("\n", generatorErrors));
        }

        using var image = new MemoryStream();
        var emit = output.Emit(image, cancellationToken: cancellationToken);
        if (!emit.Success)
        {
            var errors = emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(10).Select(d => d.ToString());
            throw new EvalException(path, "the generated code does not compile:\n" + string.Join("\n", errors));
        }

        image.Position = 0;
        var context = new AssemblyLoadContext("cgc-eval:" + plan.ClassName, isCollectible: true);
        var assembly = context.LoadFromStream(image);
        var type = assembly.GetType("CgcEval.Adapter", throwOnError: true)!;
        var weightsName = plan.WeightsFileName;
        var bytes = packed.File;
        return new CompiledModel(path, parsed.Spec, plan, bytes, context, () => (IEvaluatedModel)Activator.CreateInstance(type, bytes, weightsName)!);
    }

    /// <summary>C# of the adapter: the generated class's constants and members behind <see cref="IEvaluatedModel"/>.</summary>
    internal static string AdapterSource(ModelPlan plan)
    {
        var model = "global::" + (string.IsNullOrEmpty(plan.Namespace) ? string.Empty : plan.Namespace + ".") + plan.ClassName;
        var chunked = plan.ChunkCounters > 0;
        var s = new StringBuilder();
        s.AppendLine("namespace CgcEval;");
        s.AppendLine("public sealed class Adapter : global::CodeGenChunk.Tool.Eval.IEvaluatedModel");
        s.AppendLine("{");
        s.AppendLine($"    private readonly {model} _model;");
        s.AppendLine($"    public Adapter(byte[] weights, string name) => _model = {model}.FromBytes(weights, name);");
        s.AppendLine($"    public int InputLength => {model}.InputLength;");
        s.AppendLine($"    public int OutputLength => {model}.OutputLength;");
        s.AppendLine($"    public long WeightBytes => {model}.WeightBytes;");
        s.AppendLine($"    public long MacsPerRun => {model}.MacsPerRun;");
        s.AppendLine($"    public long PeakRamBytes => {model}.PeakRamBytes;");
        s.AppendLine("    public long LastRunMacs => _model.LastRunMacs;");
        if (chunked)
        {
            s.AppendLine($"    public string[] ChunkedLayerNames => (string[]){model}.ChunkedLayerNames.Clone();");
            s.AppendLine($"    public int[] ChunkedLayerOffsets => {model}.ChunkedLayerOffsets.ToArray();");
            s.AppendLine($"    public string[] ChunkFormats => (string[]){model}.ChunkFormats.Clone();");
            s.AppendLine("    public long[] ChunkHits() => _model.ChunkHits.ToArray();");
        }
        else
        {
            s.AppendLine("    public string[] ChunkedLayerNames => new string[0];");
            s.AppendLine("    public int[] ChunkedLayerOffsets => new int[0];");
            s.AppendLine("    public string[] ChunkFormats => new string[0];");
            s.AppendLine("    public long[] ChunkHits() => new long[0];");
        }

        if (plan.ActivationLayers > 0)
        {
            s.AppendLine("    public long[] ClipCounts() => _model.ClipCounts.ToArray();");
            s.AppendLine($"    public long IntermediateBytes => {model}.IntermediateBytes;");
            s.AppendLine($"    public long FloatIntermediateBytes => {model}.FloatIntermediateBytes;");
        }

        s.AppendLine("    public void Run(float[] input, float[] output) => _model.Run(input, output);");
        s.AppendLine("    public void Dispose() => _model.Dispose();");
        s.AppendLine("}");
        return s.ToString();
    }

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        // The platform and this tool's own assemblies (CodeGenChunk.Runtime, .Formats, System.Numerics.Tensors, cgc).
        var paths = new SortedSet<string>(StringComparer.Ordinal);
        var tpa = (string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? string.Empty;
        foreach (var p in tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            paths.Add(p);
        }

        paths.Add(typeof(CodeGenChunk.Runtime.WeightFile).Assembly.Location);
        paths.Add(typeof(IEvaluatedModel).Assembly.Location);
        return paths.Where(File.Exists).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    }

    private sealed class ManifestAdditionalText(string path, string text) : AdditionalText
    {
        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text, Encoding.UTF8);
    }
}

/// <summary>A manifest compiled in this process; <see cref="Create"/> opens a fresh instance of its model.</summary>
public sealed class CompiledModel(string path, ManifestSpec spec, ModelPlan plan, byte[] weights, AssemblyLoadContext context, Func<IEvaluatedModel> create)
{
    public string Path { get; } = path;

    public ManifestSpec Spec { get; } = spec;

    public ModelPlan Plan { get; } = plan;

    /// <summary>The packed chunk file, exactly as <c>cgc pack</c> writes it.</summary>
    public byte[] Weights { get; } = weights;

    public AssemblyLoadContext Context { get; } = context;

    public IEvaluatedModel Create() => create();
}

/// <summary>A manifest that cannot be evaluated, with the reason.</summary>
public sealed class EvalException(string path, string message) : Exception(path + ": " + message);
