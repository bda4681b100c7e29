using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Tool.Calibration;
using CodeGenChunk.Tool.Commands;
using CodeGenChunk.Tool.Packing;
using CodeGenChunk.Tool.Reordering;
using CodeGenChunk.Tool.SafeTensors;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Tool.Tests;

/// <summary>
/// `cgc reorder`: the committed samples/Mnist/mlp.reordered.safetensors is what the command writes, byte for byte; the
/// reordered weights are the original ones permuted and compute the same function; the output is deterministic; the
/// command refuses what it cannot reorder (redirects the console, so not in parallel).
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class ReorderCommandTests
{
    public TestContext TestContext { get; set; } = null!;

    private static string MnistManifest => Path.Combine(RepoPaths.MnistSample, "mlp.f32.cgc.json");

    private static string CommittedReordered => Path.Combine(RepoPaths.MnistSample, "mlp.reordered.safetensors");

    [TestMethod]
    public void Committed_mnist_weights_are_what_cgc_reorder_writes_from_the_training_digits()
    {
        // samples/Mnist/README.md: `--write-calibration FILE --count 2000 --stride 4` (every 4th training digit), then
        // `cgc reorder mlp.f32.cgc.json --inputs FILE --groups 32 --top-k 8 --out mlp.reordered.safetensors`.
        var dir = RepoPaths.NewTempDirectory();
        var calibration = Path.Combine(dir, "mnist-reorder.f32");
        using (var file = File.Create(calibration))
        {
            int seen = 0, written = 0;
            for (var d = 0; d < 10_000 && written < 2000; d++)
            {
                if (d % 5 == 4 || seen++ % 4 != 0)
                {
                    continue;
                }

                file.Write(MemoryMarshal.AsBytes(MnistDigits.Scaled(d).AsSpan()));
                written++;
            }
        }

        var output = Path.Combine(dir, "mlp.reordered.safetensors");
        var (exit, stdout, stderr) = Invoke("reorder", MnistManifest, "--inputs", calibration, "--groups", "32", "--top-k", "8", "--out", output);
        TestContext.WriteLine(stdout);
        Assert.AreEqual(0, exit, stderr);
        StringAssert.Contains(stdout, "fc1 -> fc2: 512 units in 32 groups");
        StringAssert.Contains(stdout, "fc2 -> fc3: 512 units in 32 groups");
        CollectionAssert.AreEqual(File.ReadAllBytes(CommittedReordered), File.ReadAllBytes(output), "the committed file is the command's output");
    }

    [TestMethod]
    public void Reordered_mnist_weights_are_a_permutation_of_the_original_ones()
    {
        var original = Tensors(SafeTensorsFile.Read(Path.Combine(RepoPaths.MnistSample, "mlp.safetensors")));
        var reordered = Tensors(SafeTensorsFile.Read(CommittedReordered));
        CollectionAssert.AreEqual(original.Keys.ToArray(), reordered.Keys.ToArray(), "same tensors, same order");

        // Hidden layer 1: fc1's rows (784 weights each) identify the permutation; hidden layer 2: fc3's columns with fc2's bias.
        var p1 = Recover(Rows(original["fc1.weight"], 512, 784), Rows(reordered["fc1.weight"], 512, 784));
        var p2 = Recover(
            Enumerable.Range(0, 512).Select(j => Column(original["fc3.weight"], 10, 512, j).Append(original["fc2.bias"][j]).ToArray()).ToArray(),
            Enumerable.Range(0, 512).Select(j => Column(reordered["fc3.weight"], 10, 512, j).Append(reordered["fc2.bias"][j]).ToArray()).ToArray());
        Assert.IsFalse(p1.SequenceEqual(Enumerable.Range(0, 512)), "fc1's units moved");
        Assert.IsFalse(p2.SequenceEqual(Enumerable.Range(0, 512)), "fc2's units moved");
        for (var j = 0; j < 512; j++)
        {
            Assert.AreEqual(original["fc1.bias"][p1[j]], reordered["fc1.bias"][j]);
            for (var i = 0; i < 512; i++)
            {
                Assert.AreEqual(original["fc2.weight"][(p2[j] * 512) + p1[i]], reordered["fc2.weight"][(j * 512) + i]);
            }
        }

        CollectionAssert.AreEqual(original["fc3.bias"], reordered["fc3.bias"]);
    }

    [TestMethod]
    public void Reordered_mnist_mlp_computes_the_same_function_on_the_held_out_digits()
    {
        var before = new ReferenceForward(MnistManifest);
        var after = new ReferenceForward(Path.Combine(RepoPaths.MnistSample, "mlp.reord.zeroskip.cgc.json"));
        var maxAbs = 0.0;
        for (var d = 4; d < 10_000; d += 5)
        {
            var x = MnistDigits.Scaled(d);
            var a = before.Run(x);
            var b = after.Run(x);
            Assert.AreEqual(MnistDigits.ArgMax(a), MnistDigits.ArgMax(b), $"digit {d}");
            for (var k = 0; k < 10; k++)
            {
                maxAbs = Math.Max(maxAbs, Math.Abs(a[k] - b[k]));
            }
        }

        TestContext.WriteLine($"max |logit difference| over the 2,000 held-out digits: {maxAbs:E2}");
        Assert.IsLessThanOrEqualTo(1e-5, maxAbs, "only the order of fc2's and fc3's float sums changed");
    }

    [TestMethod]
    public void Small_mlp_reorders_deterministically_and_keeps_its_function()
    {
        var (manifest, weights) = SmallMlp();
        var dir = Path.GetDirectoryName(manifest)!;
        var inputs = Path.Combine(dir, "inputs.f32");
        WriteInputs(inputs, ChunkCalibrator.RandomInputs(24, 300, 11).Select(x => x.Select(v => MathF.Max(v, 0)).ToArray()).ToList());
        var first = Path.Combine(dir, "first.safetensors");
        var second = Path.Combine(dir, "second.safetensors");
        var (exit1, out1, err1) = Invoke("reorder", manifest, "--inputs", inputs, "--groups", "4", "--out", first);
        var (exit2, _, err2) = Invoke("reorder", manifest, "--inputs", inputs, "--groups", "4", "--out", second);
        Assert.AreEqual(0, exit1, err1);
        Assert.AreEqual(0, exit2, err2);
        StringAssert.Contains(out1, "h1 -> h2: 32 units in 4 groups; activation inside the top 1 groups per input");
        StringAssert.Contains(out1, "h2 -> head: 32 units in 4 groups");
        CollectionAssert.AreEqual(File.ReadAllBytes(first), File.ReadAllBytes(second), "same weights and inputs, same bytes");
        CollectionAssert.AreNotEqual(File.ReadAllBytes(weights), File.ReadAllBytes(first), "the units moved");

        var spec = ManifestParser.Parse(manifest, File.ReadAllText(manifest)).Spec!;
        var original = new FloatForward(spec, SafeTensorsFile.Read(weights));
        var permuted = new FloatForward(spec, SafeTensorsFile.Read(first));
        foreach (var x in ChunkCalibrator.RandomInputs(24, 50, 99))
        {
            var a = original.Run(x);
            var b = permuted.Run(x);
            for (var k = 0; k < a.Length; k++)
            {
                Assert.AreEqual(a[k], b[k], 1e-5f * Math.Max(1, Math.Abs(a[k])));
            }
        }
    }

    [TestMethod]
    public void Only_layers_between_linear_layers_with_relus_and_no_residual_are_reordered()
    {
        var path = Path.Combine(RepoPaths.NewTempDirectory(), "net.cgc.json");
        File.WriteAllText(path, """
            { "model": "Net", "namespace": "T", "weights": { "source": "net.safetensors" }, "input": { "shape": [8] },
              "layers": [
                { "op": "linear", "name": "a", "in": 8, "out": 16 }, { "op": "relu" },
                { "op": "linear", "name": "b", "in": 16, "out": 16 }, { "op": "relu", "name": "hb" },
                { "op": "linear", "name": "c", "in": 16, "out": 16 }, { "op": "residual", "from": "hb" },
                { "op": "linear", "name": "d", "in": 16, "out": 16 }, { "op": "layernorm", "name": "ln", "dim": 16 },
                { "op": "linear", "name": "e", "in": 16, "out": 4 } ] }
            """);
        var spec = ManifestParser.Parse(path, File.ReadAllText(path)).Spec!;
        var found = HiddenUnitReorder.Find(spec).Select(h => h.Producer.Name + "->" + h.Consumer.Name).ToArray();

        // b's ReLU output feeds the residual, c is added to it, d is followed by a layernorm: only a -> b can move.
        CollectionAssert.AreEqual(new[] { "a->b" }, found);
    }

    [TestMethod]
    public void Refuses_to_overwrite_the_source_weights_or_to_reorder_what_it_cannot()
    {
        var (manifest, weights) = SmallMlp();
        var inputs = Path.Combine(Path.GetDirectoryName(manifest)!, "inputs.f32");
        WriteInputs(inputs, ChunkCalibrator.RandomInputs(24, 10, 3));

        var (exit, _, error) = Invoke("reorder", manifest, "--inputs", inputs, "--out", weights);
        Assert.AreEqual(2, exit);
        StringAssert.Contains(error, "--out is the model's own weights file");

        (exit, _, error) = Invoke("reorder", manifest, "--inputs", inputs, "--layers", "head", "--out", weights + ".x");
        Assert.AreEqual(2, exit);
        StringAssert.Contains(error, "cannot reorder the outputs of 'head'; reorderable layers: h1, h2");

        (exit, _, error) = Invoke("reorder", manifest, "--inputs", inputs, "--groups", "4", "--top-k", "4", "--out", weights + ".x");
        Assert.AreEqual(2, exit);
        StringAssert.Contains(error, "--groups 4 --top-k 4: need at least 2 groups and --top-k between 1 and the number of groups less one (3)");

        (exit, _, error) = Invoke("reorder", manifest, "--out", weights + ".x");
        Assert.AreEqual(2, exit);
        StringAssert.Contains(error, "no calibration inputs");
        Assert.IsFalse(File.Exists(weights + ".x"));
    }

    /// <summary>24 → 32 → 32 → 4 with ReLUs, seeded weights from `cgc synth`.</summary>
    private static (string Manifest, string Weights) SmallMlp()
    {
        var dir = RepoPaths.NewTempDirectory();
        var manifest = Path.Combine(dir, "small.cgc.json");
        File.WriteAllText(manifest, """
            { "model": "Small", "namespace": "T", "weights": { "source": "small.safetensors" }, "input": { "shape": [24] },
              "layers": [
                { "op": "linear", "name": "h1", "in": 24, "out": 32 }, { "op": "relu" },
                { "op": "linear", "name": "h2", "in": 32, "out": 32 }, { "op": "relu" },
                { "op": "linear", "name": "head", "in": 32, "out": 4 } ] }
            """);
        var spec = ManifestParser.Parse(manifest, File.ReadAllText(manifest)).Spec!;
        var weights = Path.Combine(dir, "small.safetensors");
        SafeTensorsWriter.Write(weights, SyntheticWeights.Create(spec, 5));
        return (manifest, weights);
    }

    private static void WriteInputs(string path, IEnumerable<float[]> inputs)
    {
        using var file = File.Create(path);
        foreach (var x in inputs)
        {
            file.Write(MemoryMarshal.AsBytes(x.AsSpan()));
        }
    }

    private static Dictionary<string, float[]> Tensors(SafeTensorsFile file) =>
        file.Tensors.Values.OrderBy(t => t.Begin).ToDictionary(t => t.Name, t => file.ToFloatArray(t));

    private static float[][] Rows(float[] matrix, int rows, int cols) =>
        Enumerable.Range(0, rows).Select(r => matrix.AsSpan(r * cols, cols).ToArray()).ToArray();

    private static IEnumerable<float> Column(float[] matrix, int rows, int cols, int column) =>
        Enumerable.Range(0, rows).Select(r => matrix[(r * cols) + column]);

    /// <summary>p[j] = the index of the original vector equal to reordered vector j (each used once).</summary>
    private static int[] Recover(float[][] original, float[][] reordered)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < original.Length; i++)
        {
            index.Add(Key(original[i]), i);
        }

        var p = reordered.Select(v => index.TryGetValue(Key(v), out var i) ? i : -1).ToArray();
        CollectionAssert.DoesNotContain(p, -1, "every reordered vector is an original one");
        CollectionAssert.AllItemsAreUnique(p);
        return p;

        static string Key(float[] v) => Convert.ToBase64String(MemoryMarshal.AsBytes(v.AsSpan()));
    }

    private static (int Exit, string Output, string Error) Invoke(params string[] args)
    {
        var (oldOut, oldError) = (Console.Out, Console.Error);
        using var output = new StringWriter();
        using var error = new StringWriter();
        try
        {
            Console.SetOut(output);
            Console.SetError(error);
            var exit = new RootCommand { ReorderCommand.Create() }.Parse(args).Invoke();
            return (exit, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
    }
}
