using System;
using System.IO;
using System.Linq;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Model.Planning;
using CodeGenChunk.Tool.Calibration;
using CodeGenChunk.Tool.SafeTensors;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Models.Tests;

/// <summary>cgc calibrate: activity per chunk, the policy's choice, and the manifest rewrite.</summary>
[TestClass]
public sealed class CalibrationTests
{
    private static readonly string MixedPath = Path.Combine(AppContext.BaseDirectory, "Models", "mixed.cgc.json");

    private static (ManifestSpec Spec, SafeTensorsFile Weights, string Text) Uncalibrated()
    {
        // The test model with its recorded choices removed, as a user writes it before calibrating.
        var text = File.ReadAllText(MixedPath);
        var spec = ManifestParser.Parse(MixedPath, text).Spec!;
        var weights = SafeTensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "Models", spec.Weights.Source));
        return (spec, weights, text);
    }

    [TestMethod]
    public void Each_chunk_gets_the_format_its_relative_activity_falls_in()
    {
        var (spec, weights, _) = Uncalibrated();

        // fc2 splits its 70 inputs (ReLU outputs of fc1) into 3 chunks; inputs are random, so
        // fc1's output and fc2's chunk activities are what they are: check the mapping itself.
        var inputs = ChunkCalibrator.RandomInputs(spec.InputLength, 32, 1);
        var choices = ChunkCalibrator.Calibrate(spec, weights, inputs);
        Assert.HasCount(2, choices);
        foreach (var c in choices)
        {
            var layer = spec.Layers.Single(l => l.Name == c.Layer);
            Assert.HasCount(layer.Chunks!.Count, c.Formats);
            Assert.AreEqual(1.0, c.Activity.Max(), 1e-9, "activity is relative to the most active chunk");
            for (var i = 0; i < c.Formats.Length; i++)
            {
                Assert.AreEqual(Chunking.Choose(c.Policy, c.Activity[i]), c.Formats[i]);
            }

            Assert.AreEqual(c.Policy.Formats[^1], c.Formats[Array.IndexOf(c.Activity, c.Activity.Max())], "the most active chunk gets the widest format");
        }
    }

    [TestMethod]
    public void Output_chunk_activity_is_the_mean_absolute_output_of_its_rows()
    {
        var (spec, weights, _) = Uncalibrated();
        var fc1 = spec.Layers.Single(l => l.Name == "fc1");
        var x = ChunkCalibrator.RandomInputs(spec.InputLength, 1, 5)[0];
        var w = weights.GetFloats(weights.Tensors["fc1.weight"]).ToArray();
        var parts = Chunking.Split(fc1, fc1.Chunks!);
        var expected = new double[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            for (var r = parts[i].Start; r < parts[i].Start + parts[i].Length; r++)
            {
                double s = 0;
                for (var k = 0; k < fc1.In; k++)
                {
                    s += (double)w[(r * fc1.In) + k] * x[k];
                }

                expected[i] += Math.Abs(s) / parts[i].Length;
            }
        }

        var max = expected.Max();
        var choice = ChunkCalibrator.Calibrate(spec, weights, new[] { x }).Single(c => c.Layer == "fc1");
        for (var i = 0; i < parts.Length; i++)
        {
            Assert.AreEqual(expected[i] / max, choice.Activity[i], 1e-4, $"chunk {i}");
        }
    }

    [TestMethod]
    public void Conv_chunk_activity_is_the_mean_absolute_output_of_its_channels_without_bias()
    {
        // conv.mixed: conv1 [1, 28, 28] -> [8, 28, 28] in 3 chunks (3, 3, 2 channels), 5x5, pad 2; conv2 in 5 chunks.
        var path = Path.Combine(AppContext.BaseDirectory, "Models", "conv.mixed.cgc.json");
        var spec = ManifestParser.Parse(path, File.ReadAllText(path)).Spec!;
        var weights = SafeTensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "Models", spec.Weights.Source));
        var conv1 = spec.Layers.Single(l => l.Name == "conv1");
        var w = weights.GetFloats(weights.Tensors["conv1.weight"]).ToArray();
        var inputs = ChunkCalibrator.RandomInputs(spec.InputLength, 2, 11);
        var parts = Chunking.Split(conv1, conv1.Chunks!);
        CollectionAssert.AreEqual(new[] { (0, 3), (3, 3), (6, 2) }, parts);
        var expected = new double[parts.Length];
        foreach (var x in inputs)
        {
            for (var i = 0; i < parts.Length; i++)
            {
                double sum = 0;
                for (var o = parts[i].Start; o < parts[i].Start + parts[i].Length; o++)
                {
                    for (var r = 0; r < 28; r++)
                    {
                        for (var col = 0; col < 28; col++)
                        {
                            double s = 0;
                            for (var ky = 0; ky < 5; ky++)
                            {
                                for (var kx = 0; kx < 5; kx++)
                                {
                                    int y = r + ky - 2, xx = col + kx - 2;
                                    if (y >= 0 && y < 28 && xx >= 0 && xx < 28)
                                    {
                                        s += (double)w[(o * 25) + (ky * 5) + kx] * x[(y * 28) + xx];
                                    }
                                }
                            }

                            sum += Math.Abs(s);
                        }
                    }
                }

                expected[i] += sum / (parts[i].Length * 784.0);
            }
        }

        var choices = ChunkCalibrator.Calibrate(spec, weights, inputs);
        Assert.HasCount(2, choices);
        var choice = choices.Single(c => c.Layer == "conv1");
        var max = expected.Max();
        for (var i = 0; i < parts.Length; i++)
        {
            Assert.AreEqual(expected[i] / max, choice.Activity[i], 1e-3, $"chunk {i}");
            Assert.AreEqual(Chunking.Choose(choice.Policy, choice.Activity[i]), choice.Formats[i]);
        }

        Assert.HasCount(5, choices.Single(c => c.Layer == "conv2").Formats);
    }

    [TestMethod]
    public void Apply_rewrites_only_the_policy_and_the_result_plans()
    {
        var (spec, weights, text) = Uncalibrated();
        var choices = ChunkCalibrator.Calibrate(spec, weights, ChunkCalibrator.RandomInputs(spec.InputLength, 8, 3));
        var rewritten = ChunkCalibrator.Apply(text, choices);
        var parsed = ManifestParser.Parse(MixedPath, rewritten);
        Assert.IsNotNull(parsed.Spec, string.Join("\n", parsed.Diagnostics));
        foreach (var c in choices)
        {
            var policy = parsed.Spec.Layers.Single(l => l.Name == c.Layer).Quant!.Policy!;
            CollectionAssert.AreEqual(c.Formats, policy.Chosen.ToArray());
        }

        var plan = ModelPlanner.Plan(parsed.Spec);
        Assert.IsNotNull(plan.Plan, string.Join("\n", plan.Diagnostics));

        // Outside the two policy objects the text is unchanged.
        var first = spec.Layers.Single(l => l.Name == "fc1").Quant!.Policy!.Span.StartOffset;
        Assert.AreEqual(text[..first], rewritten[..first]);
        Assert.IsTrue(rewritten.EndsWith(text[(spec.Layers.Single(l => l.Name == "fc2").Quant!.Policy!.Span.StartOffset + spec.Layers.Single(l => l.Name == "fc2").Quant!.Policy!.Span.Length)..], StringComparison.Ordinal));
    }

    [TestMethod]
    public void A_policy_without_a_recorded_choice_is_CGC0027()
    {
        var text = File.ReadAllText(MixedPath).Replace("\"chosen\": [\"f32\", \"int1\", \"int8\", \"int8\", \"f32\", \"int1\"]", "\"chosen\": []", StringComparison.Ordinal);
        var parsed = ManifestParser.Parse(MixedPath, text);
        var plan = ModelPlanner.Plan(parsed.Spec!);
        Assert.IsNull(plan.Plan);
        Assert.AreEqual("CGC0027", plan.Diagnostics.Single().Info.Id);
    }

    [TestMethod]
    public void Calibration_file_of_the_wrong_size_is_refused_with_its_name()
    {
        var path = Path.Combine(Path.GetTempPath(), "cgc-calibration-" + Guid.NewGuid().ToString("N") + ".f32");
        File.WriteAllBytes(path, new byte[(4 * 160) + 3]);
        try
        {
            var ex = Assert.ThrowsExactly<InvalidDataException>(() => ChunkCalibrator.ReadInputs(path, 160, 10));
            StringAssert.Contains(ex.Message, path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
