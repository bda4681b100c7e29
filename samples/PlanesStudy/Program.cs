using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using Samples.MnistTrain;
using Samples.PlanesStudy.Models;

namespace Samples.PlanesStudy;

/// <summary>
/// Seed 001 §4 on per-input precision (docs/routing.md): <c>--table</c> runs every model over seeded inputs and prints
/// MACs executed vs dense, bytes read per inference, and agreement with the dense int8 model (relative L2 error of
/// the 10 outputs, top-1 agreement); <c>mnist</c> does the same on the trained MNIST MLP over the 2,000 held-out digits,
/// with top-1 accuracy; <c>--bench</c> times every model with BenchmarkDotNet (one run, in process; a filter such as
/// <c>--filter '*Mnist*'</c> keeps the MNIST rows) and prints the MNIST times as ratios to dense int8.
/// </summary>
internal static class Program
{
    public const int Inputs = 500;

    private static int Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        if (args.Length > 0 && (args[0] == "--bench" || args[0] == "bench"))
        {
            var summaries = BenchmarkRunner.Run(new[] { typeof(StudyBenchmarks), typeof(MnistBenchmarks) }, DefaultConfig.Instance
                .AddJob(Job.Default.WithToolchain(BenchmarkDotNet.Toolchains.InProcess.Emit.InProcessEmitToolchain.Instance)
                    .WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10).WithId("planes").AsDefault()), args[1..]);
            PrintMnistRatios(summaries);
            return summaries.SelectMany(s => s.Reports).Any(r => !r.Success) ? 1 : 0;
        }

        if (args.Length > 0 && (args[0] == "mnist" || args[0] == "--mnist"))
        {
            MnistTable();
            return 0;
        }

        if (args.Length > 0 && args[0] == "quick")
        {
            Quick(args[1..]);
            return 0;
        }

        Table();
        return 0;
    }

    /// <summary>A rough Stopwatch timing (median and fastest of 15 rounds of 200 runs) of the named models, or of all the mlp6 ones.</summary>
    private static void Quick(string[] names)
    {
        var input = Input(12);
        var output = new float[DenseInt8.OutputLength];
        float[]? digit = null;
        foreach (var name in names.Length > 0 ? names : StudyModels.Names)
        {
            using var model = StudyModels.Create(name);
            if (name.StartsWith("Mnist", StringComparison.Ordinal))
            {
                // The MNIST variants take a held-out digit (784 pixels): the 1,000th.
                digit ??= HeldOutDigits().Inputs[1000];
                input = digit;
            }
            else
            {
                input = Input(12);
            }

            var rounds = new double[15];
            for (var r = -3; r < rounds.Length; r++)
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                for (var i = 0; i < 200; i++)
                {
                    model.Run(input, output);
                }

                if (r >= 0)
                {
                    rounds[r] = sw.Elapsed.TotalMicroseconds / 200;
                }
            }

            Array.Sort(rounds);
            Console.WriteLine($"{name}: median {rounds[rounds.Length / 2]:F1} us, fastest round {rounds[0]:F1} us");
        }
    }

    /// <summary>An input as a hidden layer sees it after a ReLU: a tenth zeros, the rest in [0, 2).</summary>
    public static float[] Input(int seed)
    {
        var rng = new Random(seed);
        var x = new float[DenseInt8.InputLength];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = rng.Next(10) == 0 ? 0f : (float)(rng.NextDouble() * 2);
        }

        return x;
    }

    private static void Table()
    {
        using var dense = new DenseInt8();
        var reference = new float[Inputs][];
        for (var s = 0; s < Inputs; s++)
        {
            reference[s] = new float[DenseInt8.OutputLength];
            dense.Run(Input(s), reference[s]);
        }

        Console.WriteLine($"{Inputs} seeded inputs; dense int8: {DenseInt8.MacsPerRun} MACs, {dense.LastRunBytesRead} bytes read per inference");
        Console.WriteLine("model | MACs vs dense | bytes read / inference | bytes vs dense int8 | selected chunks at < 8 bits | mean rel. L2 error | top-1 agreement");
        foreach (var name in StudyModels.Names)
        {
            using var model = StudyModels.Create(name);
            var output = new float[DenseInt8.OutputLength];
            double macs = 0, bytes = 0, error = 0;
            var agree = 0;
            long selectedChunks = 0, lowChunks = 0;
            for (var s = 0; s < Inputs; s++)
            {
                model.Run(Input(s), output);
                macs += model.LastRunMacs;
                bytes += model.LastRunBytesRead;
                foreach (var b in model.LastRunChunkBits)
                {
                    selectedChunks += b > 0 ? 1 : 0;
                    lowChunks += b is > 0 and < 8 ? 1 : 0;
                }
                double diff = 0, norm = 0;
                for (var o = 0; o < output.Length; o++)
                {
                    diff += (output[o] - reference[s][o]) * (double)(output[o] - reference[s][o]);
                    norm += reference[s][o] * (double)reference[s][o];
                }

                error += Math.Sqrt(diff / norm);
                agree += ArgMax(output) == ArgMax(reference[s]) ? 1 : 0;
            }

            Console.WriteLine(string.Format(
                CultureInfo.InvariantCulture,
                "{0} | {1:P1} | {2:N0} | {3:P1} | {4} | {5:G3} | {6:P1}",
                name,
                macs / Inputs / DenseInt8.MacsPerRun,
                bytes / Inputs,
                bytes / Inputs / dense.LastRunBytesRead,
                selectedChunks == 0 ? "–" : ((double)lowChunks / selectedChunks).ToString("P1", CultureInfo.InvariantCulture),
                error / Inputs,
                (double)agree / Inputs));
        }
    }

    /// <summary>The 2,000 held-out MNIST digits (index % 5 == 4), pixels / 255, and their labels.</summary>
    public static (float[][] Inputs, byte[] Labels) HeldOutDigits()
    {
        var digits = MnistDigits.Load(Path.Combine(FindRoot(), "samples", "data", "mnist"));
        var indices = Enumerable.Range(0, digits.Count).Where(MnistDigits.IsHeldOut).ToArray();
        var inputs = new float[indices.Length][];
        var labels = new byte[indices.Length];
        for (var n = 0; n < indices.Length; n++)
        {
            inputs[n] = new float[MnistDigits.Pixels];
            digits.CopyScaled(indices[n], inputs[n]);
            labels[n] = digits.Labels[indices[n]];
        }

        return (inputs, labels);
    }

    private static string FindRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "CodeGenChunk.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new DirectoryNotFoundException("Run inside the CodeGenChunk repository (samples/data/mnist is needed).");
    }

    /// <summary>
    /// Every MNIST variant over the held-out digits: top-1 accuracy, its drop vs dense int8, top-1 agreement and mean
    /// relative L2 error of the logits vs dense int8, MACs and bytes read per digit vs dense int8, share of the selected
    /// chunks run at 4 bits.
    /// </summary>
    private static void MnistTable()
    {
        var (inputs, labels) = HeldOutDigits();
        var count = inputs.Length;
        var reference = new float[count][];
        double denseBytes = 0;
        var denseCorrect = 0;
        using (var dense = new MnistDenseInt8())
        {
            for (var n = 0; n < count; n++)
            {
                reference[n] = new float[MnistDenseInt8.OutputLength];
                dense.Run(inputs[n], reference[n]);
                denseBytes += dense.LastRunBytesRead;
                denseCorrect += ArgMax(reference[n]) == labels[n] ? 1 : 0;
            }
        }

        denseBytes /= count;
        var denseAccuracy = 100.0 * denseCorrect / count;
        Console.WriteLine($"MNIST MLP 784-512-512-10 (trained), {count} held-out digits (index % 5 == 4), pixels / 255; dense int8: {MnistDenseInt8.MacsPerRun:N0} MACs, {denseBytes:N0} bytes read per digit");
        Console.WriteLine("model | top-1 | drop vs dense int8 (pp) | top-1 agreement | mean rel. L2 error | MACs / digit | MACs vs dense | bytes read / digit | bytes vs dense | selected chunks at 4 bits");
        var output = new float[MnistDenseInt8.OutputLength];
        long allocated = 0;
        foreach (var name in StudyModels.MnistNames)
        {
            using var model = StudyModels.Create(name);
            double macs = 0, bytes = 0, error = 0;
            int correct = 0, agree = 0;
            long selectedChunks = 0, lowChunks = 0;
            model.Run(inputs[0], output);
            for (var n = 0; n < count; n++)
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                model.Run(inputs[n], output);
                allocated += GC.GetAllocatedBytesForCurrentThread() - before;
                macs += model.LastRunMacs;
                bytes += model.LastRunBytesRead;
                foreach (var b in model.LastRunChunkBits)
                {
                    selectedChunks += b > 0 ? 1 : 0;
                    lowChunks += b is > 0 and < 8 ? 1 : 0;
                }

                double diff = 0, norm = 0;
                for (var o = 0; o < output.Length; o++)
                {
                    diff += (output[o] - reference[n][o]) * (double)(output[o] - reference[n][o]);
                    norm += reference[n][o] * (double)reference[n][o];
                }

                error += Math.Sqrt(diff / norm);
                var top = ArgMax(output);
                correct += top == labels[n] ? 1 : 0;
                agree += top == ArgMax(reference[n]) ? 1 : 0;
            }

            var accuracy = 100.0 * correct / count;
            Console.WriteLine(string.Format(
                CultureInfo.InvariantCulture,
                "{0} | {1:0.00}% | {2:0.00} | {3:0.00}% | {4:G3} | {5:N0} | {6:0.0}% | {7:N0} | {8:0.0}% | {9}",
                name,
                accuracy,
                denseAccuracy - accuracy,
                100.0 * agree / count,
                error / count,
                macs / count,
                100 * macs / count / MnistDenseInt8.MacsPerRun,
                bytes / count,
                100 * bytes / count / denseBytes,
                selectedChunks == 0 ? "–" : (100.0 * lowChunks / selectedChunks).ToString("0.0", CultureInfo.InvariantCulture) + "%"));
        }

        Console.WriteLine($"allocated by Run, all variants and digits after each model's first run: {allocated} bytes");
    }

    /// <summary>The MNIST rows of one BenchmarkDotNet run as ratios to the dense int8 row (dense time / variant time).</summary>
    private static void PrintMnistRatios(IEnumerable<BenchmarkDotNet.Reports.Summary> summaries)
    {
        var means = new Dictionary<string, double>();
        foreach (var report in summaries.SelectMany(s => s.Reports))
        {
            if (report.BenchmarkCase.Descriptor.Type == typeof(MnistBenchmarks) && report.ResultStatistics is { } stats)
            {
                means[(string)report.BenchmarkCase.Parameters["Model"]] = stats.Mean;
            }
        }

        if (!means.TryGetValue("MnistDenseInt8", out var dense))
        {
            return;
        }

        Console.WriteLine($"MNIST, mean per digit over {MnistBenchmarks.Digits} held-out digits, this run (speed-up = dense int8 time / variant time):");
        Console.WriteLine("model | mean | speed-up vs dense int8");
        foreach (var name in StudyModels.MnistNames.Where(means.ContainsKey))
        {
            Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0} | {1:0.00} us | {2:0.00}x", name, means[name] / 1000, dense / means[name]));
        }
    }

    private static int ArgMax(float[] v)
    {
        var best = 0;
        for (var i = 1; i < v.Length; i++)
        {
            if (v[i] > v[best])
            {
                best = i;
            }
        }

        return best;
    }
}

/// <summary>The models behind one interface (each generated class gets it in Models.cs).</summary>
public interface IStudyModel : IDisposable
{
    long LastRunMacs { get; }

    long LastRunBytesRead { get; }

    /// <summary>Bits of each chunk in the last run (models without bit-planes: none).</summary>
    ReadOnlySpan<byte> LastRunChunkBits => ReadOnlySpan<byte>.Empty;

    void Run(ReadOnlySpan<float> input, Span<float> output);
}

/// <summary>One inference of each model on a fixed input.</summary>
public class StudyBenchmarks
{
    private readonly float[] _output = new float[DenseInt8.OutputLength];
    private float[] _input = null!;
    private IStudyModel _model = null!;

    public static string[] Models => StudyModels.Names;

    [ParamsSource(nameof(Models))]
    public string Model { get; set; } = "DenseInt8";

    [GlobalSetup]
    public void Setup()
    {
        _input = Program.Input(12);
        _model = StudyModels.Create(Model);
    }

    [GlobalCleanup]
    public void Cleanup() => _model.Dispose();

    [Benchmark]
    public void Run() => _model.Run(_input, _output);
}

/// <summary>
/// One inference of each MNIST variant, averaged over <see cref="Digits"/> held-out digits spread over the classes
/// (routing and per-input bits depend on the digit).
/// </summary>
public class MnistBenchmarks
{
    public const int Digits = 64;

    private readonly float[] _output = new float[MnistDenseInt8.OutputLength];
    private float[][] _inputs = null!;
    private IStudyModel _model = null!;

    public static string[] Models => StudyModels.MnistNames;

    [ParamsSource(nameof(Models))]
    public string Model { get; set; } = "MnistDenseInt8";

    [GlobalSetup]
    public void Setup()
    {
        var all = Program.HeldOutDigits().Inputs;
        _inputs = new float[Digits][];
        for (var i = 0; i < Digits; i++)
        {
            _inputs[i] = all[i * all.Length / Digits];
        }

        _model = StudyModels.Create(Model);
    }

    [GlobalCleanup]
    public void Cleanup() => _model.Dispose();

    [Benchmark(OperationsPerInvoke = Digits)]
    public void Run()
    {
        for (var i = 0; i < _inputs.Length; i++)
        {
            _model.Run(_inputs[i], _output);
        }
    }
}
