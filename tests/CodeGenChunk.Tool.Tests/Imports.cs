using System.IO;
using CodeGenChunk.Tool.Commands;

namespace CodeGenChunk.Tool.Tests;

/// <summary>Runs `cgc import` (the command's code, not a process) into a fresh folder.</summary>
internal static class Imports
{
    public static (string Manifest, string Weights) Run(string model, string name, string? className = null, string ns = "Models", string? weights = null, string? arch = null, string? skeleton = null, string? outDir = null)
    {
        outDir ??= RepoPaths.NewTempDirectory();
        ImportCommand.Run(model, outDir, name, className, ns, weights, arch, "relu", skeleton, TextWriter.Null);
        return (Path.Combine(outDir, name + ".cgc.json"), Path.Combine(outDir, weights ?? name + ".safetensors"));
    }

    /// <summary>Writes an ONNX model to a temporary file named <paramref name="fileName"/> and returns its path.</summary>
    public static string WriteModel(byte[] model, string fileName)
    {
        var path = Path.Combine(RepoPaths.NewTempDirectory(), fileName);
        File.WriteAllBytes(path, model);
        return path;
    }
}
