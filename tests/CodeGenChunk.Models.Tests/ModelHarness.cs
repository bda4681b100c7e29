using System;
using System.IO;
using CodeGenChunk.Models.Tests.Generated;
using CodeGenChunk.Runtime;

namespace CodeGenChunk.Models.Tests;

/// <summary>Uniform access to the generated test models, so every test runs over all of them.</summary>
internal sealed class ModelHarness : IDisposable
{
    private readonly IDisposable _model;
    private readonly Action<KernelPath> _setPath;

    private ModelHarness(string baseName, IDisposable model, int inputLength, int outputLength, Run run, Action<KernelPath> setPath)
    {
        BaseName = baseName;
        _model = model;
        InputLength = inputLength;
        OutputLength = outputLength;
        RunModel = run;
        _setPath = setPath;
    }

    public delegate void Run(ReadOnlySpan<float> input, Span<float> output);

    public static string[] Names { get; } = { "odd.f32", "odd.int8", "wide.mixed", "tiny.file", "formats.a", "formats.b", "formats.c", "formats.p", "routed", "routed.lowrank", "planes", "panels", "mixed", "cnn.f32", "cnn.int8", "cnn.int4", "conv.odd", "conv.wide", "conv.mixed", "conv.routed", "stream", "stream.file", "cnn.stream" };

    public string BaseName { get; }

    public int InputLength { get; }

    public int OutputLength { get; }

    public Run RunModel { get; }

    public string ManifestPath => Path.Combine(AppContext.BaseDirectory, "Models", BaseName + ".cgc.json");

    public void SetKernelPath(KernelPath path) => _setPath(path);

    public static ModelHarness Create(string name)
    {
        switch (name)
        {
            case "odd.f32":
            {
                var m = new OddF32();
                return new ModelHarness(name, m, OddF32.InputLength, OddF32.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "odd.int8":
            {
                var m = new OddInt8();
                return new ModelHarness(name, m, OddInt8.InputLength, OddInt8.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "wide.mixed":
            {
                var m = new WideMixed();
                return new ModelHarness(name, m, WideMixed.InputLength, WideMixed.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "tiny.file":
            {
                var m = TinyFile.Open();
                return new ModelHarness(name, m, TinyFile.InputLength, TinyFile.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "formats.a":
            {
                var m = new FormatsA();
                return new ModelHarness(name, m, FormatsA.InputLength, FormatsA.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "formats.b":
            {
                var m = new FormatsB();
                return new ModelHarness(name, m, FormatsB.InputLength, FormatsB.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "formats.c":
            {
                var m = new FormatsC();
                return new ModelHarness(name, m, FormatsC.InputLength, FormatsC.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "formats.p":
            {
                var m = new FormatsP();
                return new ModelHarness(name, m, FormatsP.InputLength, FormatsP.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "stream":
            {
                var m = Streamed.Open();
                return new ModelHarness(name, m, Streamed.InputLength, Streamed.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "cnn.stream":
            {
                var m = CnnStream.Open();
                return new ModelHarness(name, m, CnnStream.InputLength, CnnStream.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "stream.file":
            {
                var m = StreamedFile.Open();
                return new ModelHarness(name, m, StreamedFile.InputLength, StreamedFile.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "routed":
            {
                var m = new Routed();
                return new ModelHarness(name, m, Routed.InputLength, Routed.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "panels":
            {
                var m = new Panels();
                return new ModelHarness(name, m, Panels.InputLength, Panels.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "planes":
            {
                var m = new Planes();
                return new ModelHarness(name, m, Planes.InputLength, Planes.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "routed.lowrank":
            {
                var m = new RoutedLowRank();
                return new ModelHarness(name, m, RoutedLowRank.InputLength, RoutedLowRank.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "mixed":
            {
                var m = new Mixed();
                return new ModelHarness(name, m, Mixed.InputLength, Mixed.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "cnn.f32":
            {
                var m = new CnnF32();
                return new ModelHarness(name, m, CnnF32.InputLength, CnnF32.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "cnn.int8":
            {
                var m = new CnnInt8();
                return new ModelHarness(name, m, CnnInt8.InputLength, CnnInt8.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "cnn.int4":
            {
                var m = new CnnInt4();
                return new ModelHarness(name, m, CnnInt4.InputLength, CnnInt4.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "conv.odd":
            {
                var m = new ConvOdd();
                return new ModelHarness(name, m, ConvOdd.InputLength, ConvOdd.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "conv.wide":
            {
                var m = new ConvWide();
                return new ModelHarness(name, m, ConvWide.InputLength, ConvWide.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "conv.mixed":
            {
                var m = new ConvMixed();
                return new ModelHarness(name, m, ConvMixed.InputLength, ConvMixed.OutputLength, m.Run, p => m.KernelPath = p);
            }

            case "conv.routed":
            {
                var m = new ConvRouted();
                return new ModelHarness(name, m, ConvRouted.InputLength, ConvRouted.OutputLength, m.Run, p => m.KernelPath = p);
            }

            default:
                throw new ArgumentException("Unknown model " + name);
        }
    }

    public static float[] RandomInput(int length, int seed)
    {
        var rng = new Random(seed);
        var x = new float[length];
        for (var i = 0; i < x.Length; i++)
        {
            // Mix of signs, zeros and a wide range, as activations after ReLU and LayerNorm look.
            x[i] = rng.Next(10) == 0 ? 0f : (float)((rng.NextDouble() * 4) - 2);
        }

        return x;
    }

    public void Dispose() => _model.Dispose();
}
