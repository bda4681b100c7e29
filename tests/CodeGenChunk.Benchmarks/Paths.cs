using System;
using System.IO;

namespace CodeGenChunk.Benchmarks;

/// <summary>Finds the repository and the BigNet float weights from wherever BenchmarkDotNet runs us.</summary>
internal static class Paths
{
    /// <summary>Environment variable naming bignet.safetensors explicitly.</summary>
    public const string SafeTensorsVariable = "CGC_BENCH_SAFETENSORS";

    /// <summary>The repository root (the folder holding CodeGenChunk.sln), or null.</summary>
    public static string? RepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "CodeGenChunk.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }

    /// <summary>bignet.safetensors: the override, beside the program, or samples/BigNet in the repository.</summary>
    public static string SafeTensors()
    {
        var forced = Environment.GetEnvironmentVariable(SafeTensorsVariable);
        if (!string.IsNullOrEmpty(forced))
        {
            return forced;
        }

        var beside = Path.Combine(AppContext.BaseDirectory, "bignet.safetensors");
        if (File.Exists(beside))
        {
            return beside;
        }

        var root = RepositoryRoot();
        var inSample = root is null ? null : Path.Combine(root, "samples", "BigNet", "bignet.safetensors");
        if (inSample is not null && File.Exists(inSample))
        {
            return inSample;
        }

        throw new FileNotFoundException(
            $"bignet.safetensors not found beside the program or in samples/BigNet: build the sample first " +
            $"(dotnet build samples/BigNet -c Release) or set {SafeTensorsVariable}.");
    }
}
