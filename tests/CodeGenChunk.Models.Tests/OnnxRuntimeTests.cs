using System;
using System.Collections.Generic;
using CodeGenChunk.Runtime;
using Microsoft.ML.OnnxRuntime;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Models.Tests;

/// <summary>
/// The generated convolutional models against ONNX Runtime (single-threaded) running the same graph over the same
/// weights (<see cref="OnnxGraph"/>), on every kernel path.
/// </summary>
[TestClass]
public sealed class OnnxRuntimeTests
{
    /// <summary>Largest |generated − ONNX Runtime| allowed on any output.</summary>
    public const float Tolerance = 1e-4f;

    public TestContext TestContext { get; set; } = null!;

    public static IEnumerable<object[]> ModelsAndPaths()
    {
        foreach (var name in new[] { "cnn.f32", "cnn.int8", "cnn.int4", "conv.odd", "conv.wide" })
        {
            foreach (var path in new[] { KernelPath.Vector512, KernelPath.Vector256, KernelPath.Vector128, KernelPath.Scalar })
            {
                yield return new object[] { name, path };
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(ModelsAndPaths))]
    public void Generated_model_matches_onnx_runtime(string model, KernelPath path)
    {
        using var harness = ModelHarness.Create(model);
        harness.SetKernelPath(path);
        var graph = OnnxGraph.Build(harness.ManifestPath, harness.OutputLength, out var inputShape);
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        using var session = new InferenceSession(graph, options);

        using var runOptions = new RunOptions();
        var output = new float[harness.OutputLength];
        var worst = 0f;
        var largest = 0f;
        for (var seed = 0; seed < 16; seed++)
        {
            var input = ModelHarness.RandomInput(harness.InputLength, 1000 + seed);
            harness.RunModel(input, output);

            using var x = OrtValue.CreateTensorValueFromMemory(input, inputShape);
            using var results = session.Run(runOptions, new[] { "x" }, new[] { x }, new[] { "y" });
            var expected = results[0].GetTensorDataAsSpan<float>();
            Assert.AreEqual(output.Length, expected.Length);
            for (var i = 0; i < output.Length; i++)
            {
                worst = MathF.Max(worst, MathF.Abs(output[i] - expected[i]));
                largest = MathF.Max(largest, MathF.Abs(expected[i]));
            }
        }

        TestContext.WriteLine($"{model} on {path}: max |generated - ONNX Runtime| = {worst:E2} over 16 inputs (outputs up to {largest:F3})");
        Assert.IsGreaterThan(0f, largest, "the outputs are all zero: the comparison would prove nothing");
        Assert.IsLessThanOrEqualTo(Tolerance, worst, $"{model} on {path}");
    }
}
