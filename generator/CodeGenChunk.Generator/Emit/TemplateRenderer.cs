using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using CodeGenChunk.Model.Planning;
using Scriban;
using Scriban.Runtime;

namespace CodeGenChunk.Generator.Emit;

/// <summary>
/// Renders a <see cref="ModelPlan"/> through the Scriban templates embedded in this assembly.
/// Templates are parsed once; members keep their C# names; a loop limit guards runaway templates.
/// </summary>
internal static class TemplateRenderer
{
    public const string Version = "0.1.0";

    private static readonly Lazy<Template> ModelTemplate = new(() => Load("Model.sbntxt"));
    private static readonly Lazy<Template> KernelsTemplate = new(() => Load("Kernels.sbntxt"));
    private static readonly Lazy<Template> PackedKernelsTemplate = new(() => Load("PackedKernels.sbntxt"));
    private static readonly Lazy<Template> ConvKernelsTemplate = new(() => Load("ConvKernels.sbntxt"));

    public static IEnumerable<(string HintName, string Source)> Render(ModelPlan plan, CancellationToken cancellationToken)
    {
        var paths = KernelPathView.For(plan.Simd);
        var view = new ScriptObject();
        var packedPaths = KernelPathView.ForPacked(plan.Simd);
        var levels = new List<string>();
        foreach (var level in CodeGenChunk.Formats.Base11Format.HalfPlusOneTable)
        {
            levels.Add(FloatLiteral.Format(level));
        }

        var convKernels = ConvKernelView.For(plan.ConvKernels, paths);
        var poolKernels = PoolKernelView.For(plan.PoolKernels, paths);
        view.Import(new { plan, paths, packed_paths = packedPaths, conv_kernels = convKernels, pool_kernels = poolKernels, base11_levels = levels, version = Version, hash = plan.Layout.HashHex + "UL", stream = plan.Placement == "stream" }, renamer: static m => m.Name);
        view.Import("long", new Func<long, string>(static v => v.ToString(CultureInfo.InvariantCulture) + "L"));
        view.Import("int", new Func<long, string>(static v => v.ToString(CultureInfo.InvariantCulture)));
        view.Import("str", new Func<string, string>(static v => "\"" + v.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\""));
        view.Import("xml", new Func<string, string>(static v => System.Security.SecurityElement.Escape(v) ?? string.Empty));
        view.Import("interp", new Func<string, string>(static v => v.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("{", "{{").Replace("}", "}}")));
        view.Import("rows", new Func<int, int[]>(static n =>
        {
            var r = new int[n];
            for (var i = 0; i < n; i++)
            {
                r[i] = i;
            }

            return r;
        }));

        cancellationToken.ThrowIfCancellationRequested();
        yield return ("CGC." + plan.ClassName + ".Model.g.cs", RenderOne(ModelTemplate.Value, view));
        cancellationToken.ThrowIfCancellationRequested();
        yield return ("CGC." + plan.ClassName + ".Kernels.g.cs", RenderOne(KernelsTemplate.Value, view));
        if (plan.Kernels.Any(static k => k.Format is not "f32" and not "int8"))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return ("CGC." + plan.ClassName + ".PackedKernels.g.cs", RenderOne(PackedKernelsTemplate.Value, view));
        }

        if (plan.ConvKernels.Count > 0 || plan.PoolKernels.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return ("CGC." + plan.ClassName + ".ConvKernels.g.cs", RenderOne(ConvKernelsTemplate.Value, view));
        }
    }

    private static string RenderOne(Template template, ScriptObject view)
    {
        var context = new TemplateContext
        {
            MemberRenamer = static m => m.Name,
            LoopLimit = 1_000_000,
            StrictVariables = true,
            EnableRelaxedMemberAccess = false,
        };
        context.PushCulture(CultureInfo.InvariantCulture);
        context.PushGlobal(view);
        var text = template.Render(context);
        return text.Replace("\r\n", "\n");
    }

    private static Template Load(string name)
    {
        using var stream = typeof(TemplateRenderer).Assembly.GetManifestResourceStream("CodeGenChunk.Templates." + name)
            ?? throw new InvalidOperationException("Template " + name + " is not embedded.");
        using var reader = new StreamReader(stream);
        var template = Template.Parse(reader.ReadToEnd(), name);
        if (template.HasErrors)
        {
            throw new InvalidOperationException("Template " + name + ": " + string.Join("; ", template.Messages));
        }

        return template;
    }
}
