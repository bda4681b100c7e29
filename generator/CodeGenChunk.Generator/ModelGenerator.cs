using System;
using System.Collections.Immutable;
using CodeGenChunk.Generator.Emit;
using CodeGenChunk.Model;
using CodeGenChunk.Model.Diagnostics;
using CodeGenChunk.Model.Json;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Model.Planning;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace CodeGenChunk.Generator;

/// <summary>
/// Turns each <c>*.cgc.json</c> manifest of the project's AdditionalFiles into a model class with
/// specialised kernels. Pipeline: text → parse (values with positions) → plan (layout, buffers,
/// kernels; no positions, so moving an error leaves the code cached) → render. Sources and
/// diagnostics are separate outputs.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ModelGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var manifests = context.AdditionalTextsProvider
            .Where(static t => t.Path.EndsWith(".cgc.json", StringComparison.OrdinalIgnoreCase))
            .Select(static (t, ct) => new ManifestText(t.Path, t.GetText(ct)?.ToString() ?? string.Empty))
            .WithTrackingName(StepNames.Manifests);

        var parsed = manifests
            .Select(static (m, ct) => SafeParse(m, ct))
            .WithTrackingName(StepNames.Parse);

        var planned = parsed
            .Select(static (p, ct) => SafePlan(p, ct))
            .WithTrackingName(StepNames.Plan);

        var models = planned
            .Select(static (p, _) => p.Plan)
            .Where(static p => p is not null)
            .WithTrackingName(StepNames.Model);

        var diagnostics = planned
            .Select(static (p, _) => p.Diagnostics)
            .WithTrackingName(StepNames.Diagnostics);

        context.RegisterSourceOutput(models, static (spc, plan) => Emit(spc, plan!));
        context.RegisterSourceOutput(diagnostics, static (spc, list) =>
        {
            foreach (var d in list)
            {
                spc.ReportDiagnostic(DiagnosticDescriptors.ToDiagnostic(d));
            }
        });
    }

    private static ParseResult SafeParse(ManifestText m, System.Threading.CancellationToken ct)
    {
        try
        {
            return ManifestParser.Parse(m.Path, m.Text, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new ParseResult(null, new EquatableArray<ManifestDiagnostic>(new[] { Internal(m.Path, ex) }));
        }
    }

    private static PlanResult SafePlan(ParseResult parsed, System.Threading.CancellationToken ct)
    {
        if (parsed.Spec is null)
        {
            return new PlanResult(null, parsed.Diagnostics);
        }

        try
        {
            var plan = ModelPlanner.Plan(parsed.Spec, ct);
            var all = ImmutableArray.CreateBuilder<ManifestDiagnostic>();
            all.AddRange(parsed.Diagnostics);
            all.AddRange(plan.Diagnostics);
            return new PlanResult(plan.Plan, new EquatableArray<ManifestDiagnostic>(all.ToArray()));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new PlanResult(null, new EquatableArray<ManifestDiagnostic>(new[] { Internal(parsed.Spec.FilePath, ex) }));
        }
    }

    private static ManifestDiagnostic Internal(string path, Exception ex) =>
        ManifestDiagnostic.Create(DiagnosticCatalog.Internal, TextSpanInfo.Start(path), ex.GetType().Name + ": " + ex.Message);

    private static void Emit(SourceProductionContext spc, ModelPlan plan)
    {
        try
        {
            foreach (var (hintName, source) in TemplateRenderer.Render(plan, spc.CancellationToken))
            {
                spc.AddSource(hintName, SourceText.From(source, System.Text.Encoding.UTF8));
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            spc.ReportDiagnostic(DiagnosticDescriptors.ToDiagnostic(Internal(plan.BaseName + ".cgc.json", ex)));
        }
    }

    /// <summary>A manifest's path and text, as a value.</summary>
    private sealed record ManifestText(string Path, string Text);
}
