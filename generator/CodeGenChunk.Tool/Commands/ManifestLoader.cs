using System;
using System.Collections.Generic;
using System.IO;
using CodeGenChunk.Model.Diagnostics;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Model.Planning;

namespace CodeGenChunk.Tool.Commands;

/// <summary>Reads, checks and plans a manifest exactly as the generator does, printing diagnostics as MSBuild reads them.</summary>
internal static class ManifestLoader
{
    public static (ManifestSpec Spec, ModelPlan Plan)? Load(string path, TextWriter errors)
    {
        if (!File.Exists(path))
        {
            errors.WriteLine($"{path}: error CGC0018: the manifest does not exist");
            return null;
        }

        var full = Path.GetFullPath(path);
        var parsed = ManifestParser.Parse(full, File.ReadAllText(full));
        Print(parsed.Diagnostics, errors);
        if (parsed.Spec is null)
        {
            return null;
        }

        var planned = ModelPlanner.Plan(parsed.Spec);
        Print(planned.Diagnostics, errors);
        return planned.Plan is null ? null : (parsed.Spec, planned.Plan);
    }

    /// <summary>Reads and checks a manifest without planning it (for commands that run before it can be planned).</summary>
    public static ManifestSpec? Parse(string path, TextWriter errors)
    {
        if (!File.Exists(path))
        {
            errors.WriteLine($"{path}: error CGC0018: the manifest does not exist");
            return null;
        }

        var full = Path.GetFullPath(path);
        var parsed = ManifestParser.Parse(full, File.ReadAllText(full));
        Print(parsed.Diagnostics, errors);
        return parsed.Spec;
    }

    public static void Print(IEnumerable<ManifestDiagnostic> diagnostics, TextWriter errors)
    {
        foreach (var d in diagnostics)
        {
            errors.WriteLine(d.ToCanonicalString());
        }
    }
}
