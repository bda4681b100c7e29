using System;
using System.CommandLine;
using System.IO;
using CodeGenChunk.Tool.Commands;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Tool.Tests;

/// <summary>`cgc import` as a command line: exit codes and messages (redirects the console, so not in parallel).</summary>
[TestClass]
[DoNotParallelize]
public sealed class ImportCommandTests
{
    [TestMethod]
    public void Unsupported_model_exits_with_2_and_says_why_on_stderr()
    {
        var dir = RepoPaths.NewTempDirectory();
        var model = Path.Combine(dir, "odd.txt");
        File.WriteAllText(model, "not a model");
        var (exit, output, error) = Invoke("import", model, "--out-dir", dir);
        Assert.AreEqual(ImportCommand.UsageError, exit);
        Assert.AreEqual(string.Empty, output);
        Assert.AreEqual("cgc import: error: odd.txt: unknown model format '.txt' (supported: .onnx, .safetensors)", error.Trim());
        Assert.IsFalse(File.Exists(Path.Combine(dir, "odd.cgc.json")));
    }

    [TestMethod]
    public void Imports_mnist8_with_exit_code_0_and_prints_the_layers()
    {
        var dir = RepoPaths.NewTempDirectory();
        var (exit, output, error) = Invoke("import", Path.Combine(RepoPaths.Mnist8, "model.onnx"), "--out-dir", dir, "--name", "mnist-8");
        Assert.AreEqual(0, exit, error);
        StringAssert.Contains(output, "(8 layers)");
        StringAssert.Contains(output, """{"op": "flatten"} -> [256]""");
        StringAssert.Contains(File.ReadAllText(Path.Combine(dir, "mnist-8.cgc.json")), "\"model\": \"Mnist8\",\n  \"namespace\": \"Models\",");
        Assert.IsTrue(File.Exists(Path.Combine(dir, "mnist-8.safetensors")));
    }

    [TestMethod]
    [DataRow("mnist-8", "Mnist8")]
    [DataRow("mlp.f32", "MlpF32")]
    [DataRow("8bit", "Model8bit")]
    [DataRow("my_model", "MyModel")]
    public void Class_name_from_file_name(string name, string expected) => Assert.AreEqual(expected, ImportCommand.ToIdentifier(name));

    private static (int Exit, string Output, string Error) Invoke(params string[] args)
    {
        var (oldOut, oldError) = (Console.Out, Console.Error);
        using var output = new StringWriter();
        using var error = new StringWriter();
        try
        {
            Console.SetOut(output);
            Console.SetError(error);
            var exit = new RootCommand { ImportCommand.Create() }.Parse(args).Invoke();
            return (exit, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
    }
}
