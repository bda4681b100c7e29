using System;
using System.IO;
using System.Runtime.CompilerServices;

namespace CodeGenChunk.Generator.Tests;

/// <summary>Paths of the source tree, found from this file's own location at compile time (no copying to bin).</summary>
internal static class RepoPaths
{
    /// <summary>The folder of this test project's sources.</summary>
    public static string TestProjectDirectory { get; } = Path.GetDirectoryName(ThisFile())!;

    /// <summary>The repository root: the nearest folder above the tests that holds CodeGenChunk.sln.</summary>
    public static string Root { get; } = FindRoot(TestProjectDirectory);

    public static string Baselines => Path.Combine(TestProjectDirectory, "Baselines");

    public static string TestManifests => Path.Combine(TestProjectDirectory, "Manifests");

    public static string Schema => Path.Combine(Root, "schemas", "codegenchunk.manifest.schema.json");

    public static string BigNetF32 => Path.Combine(Root, "samples", "BigNet", "bignet.f32.cgc.json");

    public static string BigNetInt8 => Path.Combine(Root, "samples", "BigNet", "bignet.int8.cgc.json");

    public static string InRoot(params string[] parts) => Path.Combine(Root, Path.Combine(parts));

    private static string ThisFile([CallerFilePath] string path = "") => path;

    private static string FindRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CodeGenChunk.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException(
            "No CodeGenChunk.sln above " + start + "; the tests need the real source path from [CallerFilePath] (DeterministicSourcePaths=false).");
    }
}
