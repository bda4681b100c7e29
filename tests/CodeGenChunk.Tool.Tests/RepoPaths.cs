using System;
using System.Collections.Concurrent;
using System.IO;
using System.Runtime.CompilerServices;

namespace CodeGenChunk.Tool.Tests;

/// <summary>Paths of the source tree, found from this file's own location at compile time (no copying to bin).</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot(Path.GetDirectoryName(ThisFile())!);

    public static string Mnist8 => Path.Combine(Root, "samples", "data", "mnist-8");

    public static string MnistData => Path.Combine(Root, "samples", "data", "mnist");

    public static string MnistSample => Path.Combine(Root, "samples", "Mnist");

    private static readonly ConcurrentBag<string> TempDirectories = new();

    /// <summary>A new empty folder under the system temp folder, deleted when the test run ends.</summary>
    public static string NewTempDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "cgc-import-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        TempDirectories.Add(path);
        return path;
    }

    public static void DeleteTempDirectories()
    {
        foreach (var path in TempDirectories)
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
    }

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

        throw new InvalidOperationException("No CodeGenChunk.sln above " + start + " (the tests need the real source path from [CallerFilePath]).");
    }
}
