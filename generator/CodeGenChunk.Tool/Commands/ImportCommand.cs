using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Text;
using CodeGenChunk.Tool.Import;
using CodeGenChunk.Tool.SafeTensors;

namespace CodeGenChunk.Tool.Commands;

internal static class ImportCommand
{
    /// <summary>The exit code of a model or option the importer cannot use.</summary>
    public const int UsageError = 2;

    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The model to import: an .onnx file, or a .safetensors file with --arch or --skeleton." };
        var outDir = new Option<string>("--out-dir") { Description = "The folder to write {name}.cgc.json and the weights into.", Required = true };
        var name = new Option<string?>("--name") { Description = "Base name of the files written (default: the model's file name without extension)." };
        var className = new Option<string?>("--model") { Description = "The generated class name (default: --name as a C# identifier, e.g. mnist-8 -> Mnist8)." };
        var ns = new Option<string>("--namespace") { Description = "The generated class's namespace.", DefaultValueFactory = _ => "Models" };
        var weights = new Option<string?>("--weights") { Description = "File name of the float weights written beside the manifest (default: {name}.safetensors)." };
        var arch = new Option<string?>("--arch") { Description = "safetensors only: an MLP's sizes, e.g. 784-512-512-10 (tensors fc1.weight [512, 784], fc1.bias, fc2.*, ...)." };
        var activation = new Option<string>("--activation") { Description = "safetensors with --arch: the activation between the linear layers (relu or none).", DefaultValueFactory = _ => "relu" };
        var skeleton = new Option<string?>("--skeleton") { Description = "safetensors only: a manifest-like JSON whose layers name their tensors; in/out/dim/channels/kernel are filled in from the tensors and checked." };
        var command = new Command("import", "Turn an ONNX model (or a safetensors file and an architecture) into a manifest and its float32 safetensors weights.")
        {
            model, outDir, name, className, ns, weights, arch, activation, skeleton,
        };
        command.SetAction(parse =>
        {
            try
            {
                return Run(
                    parse.GetValue(model)!,
                    parse.GetValue(outDir)!,
                    parse.GetValue(name),
                    parse.GetValue(className),
                    parse.GetValue(ns)!,
                    parse.GetValue(weights),
                    parse.GetValue(arch),
                    parse.GetValue(activation)!,
                    parse.GetValue(skeleton),
                    Console.Out);
            }
            catch (ImportException ex)
            {
                Console.Error.WriteLine("cgc import: error: " + ex.Message);
                return UsageError;
            }
        });
        return command;
    }

    /// <summary>Imports <paramref name="modelPath"/> and writes the manifest and the weights; returns 0.</summary>
    /// <exception cref="ImportException">Anything the importer cannot use, with the file, node and what is supported.</exception>
    public static int Run(string modelPath, string outDir, string? name, string? className, string ns, string? weightsName, string? arch, string activation, string? skeleton, TextWriter log)
    {
        if (!File.Exists(modelPath))
        {
            throw new ImportException($"{modelPath}: the file does not exist");
        }

        name ??= StripExtension(Path.GetFileName(modelPath));
        className ??= ToIdentifier(name);
        weightsName ??= name + ".safetensors";
        if (!IsIdentifier(className))
        {
            throw new ImportException($"--model '{className}' is not a C# identifier (letters, digits and '_', not starting with a digit, not a keyword)");
        }

        if (ns.Split('.').Any(part => !IsIdentifier(part)))
        {
            throw new ImportException($"--namespace '{ns}' is not C# identifiers joined by '.'");
        }

        if (name.Length == 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.Contains('/') || name.Contains('\\'))
        {
            throw new ImportException($"--name '{name}' is not a file name");
        }

        if (weightsName.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || weightsName.Contains('/') || weightsName.Contains('\\') || !weightsName.EndsWith(".safetensors", StringComparison.Ordinal))
        {
            throw new ImportException($"--weights '{weightsName}' is not a file name ending in .safetensors");
        }

        ImportedModel imported;
        IReadOnlyList<KeyValuePair<string, string>>? topLevel = null;
        var extension = Path.GetExtension(modelPath).ToLowerInvariant();
        if (extension == ".onnx")
        {
            if (arch is not null || skeleton is not null)
            {
                throw new ImportException("--arch and --skeleton are for safetensors input; an ONNX model carries its own graph");
            }

            imported = OnnxImporter.Import(modelPath);
        }
        else if (extension == ".safetensors")
        {
            if (arch is null && skeleton is null)
            {
                throw new ImportException($"{Path.GetFileName(modelPath)}: a safetensors file has no graph: give --arch (e.g. 784-512-512-10) or --skeleton (a manifest-like JSON naming the tensors)");
            }

            if (arch is not null && skeleton is not null)
            {
                throw new ImportException("--arch and --skeleton both describe the layers: give one of them");
            }

            if (arch is not null)
            {
                imported = SafeTensorsImporter.FromArch(modelPath, arch, activation);
            }
            else
            {
                if (!File.Exists(skeleton))
                {
                    throw new ImportException($"{skeleton}: the skeleton does not exist");
                }

                (imported, var extra) = SafeTensorsImporter.FromSkeleton(modelPath, skeleton!);
                topLevel = extra;
            }
        }
        else
        {
            throw new ImportException($"{Path.GetFileName(modelPath)}: unknown model format '{extension}' (supported: .onnx, .safetensors)");
        }

        Directory.CreateDirectory(outDir);
        var manifestPath = Path.Combine(outDir, name + ".cgc.json");
        var weightsPath = Path.Combine(outDir, weightsName);
        var tensors = imported.Tensors();
        if (Path.GetFullPath(weightsPath) == Path.GetFullPath(modelPath))
        {
            throw new ImportException($"--weights {weightsName} in {outDir} is the input file itself; choose another --weights or --out-dir");
        }

        SafeTensorsWriter.Write(weightsPath, tensors);
        var text = ManifestWriter.Write(imported, className, ns, weightsName, topLevel);
        var temp = manifestPath + ".tmp";
        File.WriteAllText(temp, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        File.Move(temp, manifestPath, overwrite: true);

        var shapes = LayerShapes.Infer(imported.InputShape, imported.Layers);
        log.WriteLine($"cgc import: {Path.GetFileName(modelPath)} -> {manifestPath} ({imported.Layers.Count} layers), {weightsPath} ({tensors.Count} tensors, {tensors.Sum(t => t.Values.Length * 4L):N0} bytes)");
        log.WriteLine($"  input {LayerShapes.Text(imported.InputShape)}");
        for (var i = 0; i < imported.Layers.Count; i++)
        {
            log.WriteLine($"  {ManifestWriter.Layer(imported.Layers[i])} -> {LayerShapes.Text(shapes[i])}");
        }

        return 0;
    }

    /// <summary>"mnist-8" -> "Mnist8", "mlp.f32" -> "MlpF32": words capitalised and joined; a leading digit gets "Model".</summary>
    public static string ToIdentifier(string name)
    {
        var sb = new StringBuilder();
        var upper = true;
        foreach (var c in name)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                sb.Append(upper ? char.ToUpperInvariant(c) : c);
                upper = false;
            }
            else
            {
                upper = true;
            }
        }

        if (sb.Length == 0 || char.IsAsciiDigit(sb[0]))
        {
            sb.Insert(0, "Model");
        }

        return sb.ToString();
    }

    private static string StripExtension(string fileName)
    {
        var dot = fileName.LastIndexOf('.');
        return dot > 0 ? fileName[..dot] : fileName;
    }

    private static bool IsIdentifier(string s) =>
        s.Length > 0 && (char.IsLetter(s[0]) || s[0] == '_') && s.All(c => char.IsLetterOrDigit(c) || c == '_') && Array.IndexOf(Keywords, s) < 0;

    private static readonly string[] Keywords =
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const",
        "continue", "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern",
        "false", "finally", "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface",
        "internal", "is", "lock", "long", "namespace", "new", "null", "object", "operator", "out", "override",
        "params", "private", "protected", "public", "readonly", "ref", "return", "sbyte", "sealed", "short",
        "sizeof", "stackalloc", "static", "string", "struct", "switch", "this", "throw", "true", "try", "typeof",
        "uint", "ulong", "unchecked", "unsafe", "ushort", "using", "virtual", "void", "volatile", "while",
    };
}
