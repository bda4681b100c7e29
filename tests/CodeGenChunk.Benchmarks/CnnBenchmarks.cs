using System;
using System.Collections.Generic;
using System.IO;
using BenchmarkDotNet.Attributes;
using CodeGenChunk.Benchmarks.Models;
using CodeGenChunk.Onnx;
using Microsoft.ML.OnnxRuntime;
using DataType = CodeGenChunk.Onnx.Ir.TensorProto.Types.DataType;

namespace CodeGenChunk.Benchmarks;

/// <summary>
/// The mnist-8-shaped CNN (tests/CodeGenChunk.Benchmarks.Models/mnist8.f32.cgc.json: conv 1->8 5x5 pad 2 + ReLU, maxpool 2x2,
/// conv 8->16 5x5 pad 2 + ReLU, maxpool 3x3 stride 3, flatten, linear 256->10) at batch 1: the generated f32 model
/// against ONNX Runtime running the same graph over the same weights on one thread (IoBinding over pinned arrays, so
/// neither side allocates per call). Setup checks that both give the same logits (max |diff| &lt;= 1e-4) and prints it.
/// Run: <c>dotnet run -c Release --project tests/CodeGenChunk.Benchmarks -- --cnn --filter '*Cnn*'</c>.
/// </summary>
[MemoryDiagnoser]
public class CnnBenchmarks
{
    private const int Classes = 10;

    private readonly float[] _input = CreateInput();
    private readonly float[] _output = new float[Classes];
    private readonly float[] _ortOutput = new float[Classes];
    private Mnist8F32? _generated;
    private Mnist8Pool2T16? _pooled;
    private InferenceSession? _session;
    private RunOptions? _runOptions;
    private OrtIoBinding? _binding;
    private OrtValue? _inputValue;
    private OrtValue? _outputValue;

    [GlobalSetup]
    public void Setup()
    {
        _generated = new Mnist8F32();
        _pooled = new Mnist8Pool2T16();
        using var options = OrtBigNet.CreateOptions();
        _session = new InferenceSession(BuildOnnx(OrtBigNet.ReadTensors(SafeTensors())), options);
        _runOptions = new RunOptions();
        _inputValue = OrtValue.CreateTensorValueFromMemory(_input, new long[] { 1, 1, 28, 28 });
        _outputValue = OrtValue.CreateTensorValueFromMemory(_ortOutput, new long[] { 1, Classes });
        _binding = _session.CreateIoBinding();
        _binding.BindInput("x", _inputValue);
        _binding.BindOutput("y", _outputValue);

        _generated.Run(_input, _output);
        _session.RunWithBinding(_runOptions, _binding);
        var diff = 0f;
        for (var i = 0; i < Classes; i++)
        {
            diff = MathF.Max(diff, MathF.Abs(_output[i] - _ortOutput[i]));
        }

        Console.WriteLine($"// mnist-8 CNN: max |generated - ONNX Runtime| = {diff:E2} (kernel path {_generated.KernelPath})");
        if (!(diff <= 1e-4f))
        {
            throw new InvalidOperationException($"The generated CNN and ONNX Runtime disagree: max |diff| = {diff}.");
        }
    }

    [Benchmark(Baseline = true, Description = "ONNX Runtime f32 (1 thread)")]
    public float Cnn_Ort_F32()
    {
        _session!.RunWithBinding(_runOptions!, _binding!);
        return _ortOutput[0];
    }

    [Benchmark(Description = "Generated f32")]
    public float Cnn_Generated_F32()
    {
        _generated!.Run(_input, _output);
        return _output[0];
    }

    /// <summary>The same model with conv2 routed over its pool windows (top 2 of 9 positions by a 16-tap proxy): 62% fewer MACs.</summary>
    [Benchmark(Description = "Generated f32, conv2 pool-routed k=2/9, 16 taps")]
    public float Cnn_Generated_Pool2T16()
    {
        _pooled!.Run(_input, _output);
        return _output[0];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pooled?.Dispose();
        _binding?.Dispose();
        _inputValue?.Dispose();
        _outputValue?.Dispose();
        _runOptions?.Dispose();
        _session?.Dispose();
        _generated?.Dispose();
    }

    /// <summary>The manifest's graph in ONNX (opset 17): input "x" [1, 1, 28, 28], output "y" [1, 10].</summary>
    public static byte[] BuildOnnx(IReadOnlyDictionary<string, float[]> tensors)
    {
        var b = new OnnxModelBuilder("Mnist8F32", opset: 17);
        b.AddInput("x", DataType.Float, 1, 1, 28, 28);
        b.AddInitializer("conv1.weight", tensors["conv1.weight"], 8, 1, 5, 5);
        b.AddInitializer("conv1.bias", tensors["conv1.bias"], 8);
        b.AddInitializer("conv2.weight", tensors["conv2.weight"], 16, 8, 5, 5);
        b.AddInitializer("conv2.bias", tensors["conv2.bias"], 16);
        b.AddInitializer("fc.weight", tensors["fc.weight"], Classes, 256);
        b.AddInitializer("fc.bias", tensors["fc.bias"], Classes);
        var t = b.Conv("x", "conv1.weight", "conv1.bias", "c1", new[] { 5, 5 }, new[] { 1, 1 }, new[] { 2, 2, 2, 2 });
        t = b.Relu(t, "r1");
        t = b.MaxPool(t, "p1", new[] { 2, 2 }, new[] { 2, 2 }, new[] { 0, 0, 0, 0 });
        t = b.Conv(t, "conv2.weight", "conv2.bias", "c2", new[] { 5, 5 }, new[] { 1, 1 }, new[] { 2, 2, 2, 2 });
        t = b.Relu(t, "r2");
        t = b.MaxPool(t, "p2", new[] { 3, 3 }, new[] { 3, 3 }, new[] { 0, 0, 0, 0 });
        t = b.Reshape(t, "flat", 1, 256);
        b.Gemm(t, "fc.weight", "fc.bias", "y");
        b.AddOutput("y", DataType.Float, 1, Classes);
        return b.ToByteArray();
    }

    /// <summary>mnist8.safetensors, written by the build of tests/CodeGenChunk.Benchmarks.Models.</summary>
    private static string SafeTensors()
    {
        var root = Paths.RepositoryRoot() ?? throw new DirectoryNotFoundException("The repository (CodeGenChunk.sln) was not found above the working directory.");
        var path = Path.Combine(root, "tests", "CodeGenChunk.Benchmarks.Models", "mnist8.safetensors");
        return File.Exists(path) ? path : throw new FileNotFoundException("Build tests/CodeGenChunk.Benchmarks.Models first: it writes the weights.", path);
    }

    /// <summary>A digit-like input: values in [0, 1), a quarter of them zero, deterministic.</summary>
    private static float[] CreateInput()
    {
        var rng = new Random(28);
        var x = new float[28 * 28];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = rng.Next(4) == 0 ? 0f : (float)rng.NextDouble();
        }

        return x;
    }
}
