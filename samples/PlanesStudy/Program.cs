using System;
using System.Globalization;
using System.Linq;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using Samples.PlanesStudy.Models;

namespace Samples.PlanesStudy;

/// <summary>
/// Seed 001 §4 on per-input precision (docs/routing.md): <c>--table</c> runs every model over seeded inputs and prints
/// MACs executed vs dense, bytes read per inference, and agreement with the dense int8 model (relative L2 error of
/// the 10 outputs, top-1 agreement); <c>--bench</c> times every model with BenchmarkDotNet (one run, in process).
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
            var summary = BenchmarkRunner.Run<StudyBenchmarks>(DefaultConfig.Instance
                .AddJob(Job.Default.WithToolchain(BenchmarkDotNet.Toolchains.InProcess.Emit.InProcessEmitToolchain.Instance)
                    .WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10).WithId("planes").AsDefault()), args[1..]);
            return summary.Reports.Any(r => !r.Success) ? 1 : 0;
        }

        if (args.Length > 0 && args[0] == "quick")
        {
            Quick(args[1..]);
            return 0;
        }

        Table();
        return 0;
    }

    /// <summary>A rough Stopwatch timing (median and fastest of 15 rounds of 200 runs) of the named models, or of all.</summary>
    private static void Quick(string[] names)
    {
        var input = Input(12);
        var output = new float[DenseInt8.OutputLength];
        foreach (var name in names.Length > 0 ? names : StudyModels.Names)
        {
            using var model = StudyModels.Create(name);
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
