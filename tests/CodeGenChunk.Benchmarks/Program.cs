using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Order;
using BenchmarkDotNet.Running;

namespace CodeGenChunk.Benchmarks;

/// <summary>
/// Runs <see cref="BigNetBenchmarks"/> (one class, one job, one summary), then derives effective weight
/// bandwidth and its fraction of the measured DRAM read bandwidth, prints them and writes docs/benchmarks.md.
/// </summary>
/// <remarks>
/// Switches (everything else goes to BenchmarkDotNet, e.g. <c>--filter '*'</c>):
/// <list type="bullet">
/// <item><c>--quick</c>: a smoke run (BenchmarkDotNet's Dry job: one invocation each); docs are not written unless <c>--docs</c> is given.</item>
/// <item><c>--docs PATH</c>: where to write the report (default: docs/benchmarks.md of the repository, full runs only).</item>
/// <item><c>--no-docs</c>: print only.</item>
/// <item><c>--int4a-ab [rounds]</c>: BigNet Int4A, Int8A, Int4 and ORT MatMulNBits4 warm, interleaved round by round (InterleavedAb.cs).</item>
/// <item><c>--formats-ab [rounds]</c>: BigNet with int8 activations in every weight format (int8 two ways, base11 pairs, ternary, int4) warm, interleaved (InterleavedAb.cs).</item>
/// <item><c>--peers-ab [rounds]</c>: BigNet f32, int8 × int8 (two scale layouts) and int4 × int8 warm next to their ONNX Runtime peers, interleaved round by round (InterleavedAb.cs).</item>
/// <item><c>--activation-cost</c>: no BenchmarkDotNet; times one 1024 × 1024 integer-activation layer, its output-range prediction and a dynamic quantization on every path (docs/activations.md).</item>
/// <item><c>--floatin-cost [rounds]</c>: no BenchmarkDotNet; the MNIST MLP's first layer with the input quantized to codes against the float input read in place, interleaved (FloatInputCost.cs).</item>
/// <item><c>--activation-layers [BenchmarkDotNet arguments]</c>: <see cref="ActivationLayerBenchmarks"/> only (a 1024 × 1024 layer with int8 activations, int8 against base11 weights; docs/activations.md).</item>
/// <item><c>--activation-error [N]</c>: no BenchmarkDotNet; BigNet int8a and int8chain (residual stream in codes) against the f32 forward pass on N seeded inputs (default 100; docs/activations.md).</item>
/// <item><c>--in-process</c>: run the benchmarks in this process (no separate build; for a busy machine).</item>
/// <item><c>--sweep</c>: no BenchmarkDotNet; prints read bandwidth against buffer size (1 MiB .. 2 GiB) to see where the caches end.</item>
/// <item><c>--ort-check</c>: no BenchmarkDotNet; builds the ONNX Runtime graphs, checks them against the plain forward pass and times them roughly (Stopwatch).</item>
/// <item><c>--routing [BenchmarkDotNet arguments]</c>: <see cref="RoutingBenchmarks"/> only (top-k chunk routing against dense, docs/routing.md); e.g. <c>--routing --anyCategories int8</c>.</item>
/// <item><c>--experiments [prefix]</c>: no BenchmarkDotNet; times hand-written variants of the generated kernels (see KernelExperiments); with a prefix (e.g. <c>F32</c>) only the variants whose names start with it.</item>
/// <item><c>--cnn</c>: runs <see cref="CnnBenchmarks"/> (the generated mnist-8-shaped CNN against ONNX Runtime) instead of BigNet; prints only.</item>
/// </list>
/// </remarks>
internal static class Program
{
    private static int Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

        var rest = new List<string>();
        var quick = false;
        var sweep = false;
        var experiments = false;
        string? experimentPrefix = null;
        var cnn = false;
        var noDocs = false;
        var inProcess = false;
        string? docs = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--sweep":
                    sweep = true;
                    break;
                case "--experiments":
                    experiments = true;
                    if (i + 1 < args.Length && !args[i + 1].StartsWith('-'))
                    {
                        experimentPrefix = args[++i];
                    }

                    break;
                case "--cnn":
                    cnn = true;
                    break;
                case "--ort-check":
                    return OrtCheck();
                case "--activation-cost":
                    return ActivationCost.Run();
                case "--activation-error":
                    return ActivationError.Run(i + 1 < args.Length && int.TryParse(args[i + 1], out var n) ? n : 100);
                case "--floatin-cost":
                    return FloatInputCost.Run(i + 1 < args.Length && int.TryParse(args[i + 1], out var floatRounds) ? floatRounds : 60);
                case "--int4a-ab":
                    return InterleavedAb.Run(i + 1 < args.Length && int.TryParse(args[i + 1], out var rounds) ? rounds : 100);
                case "--formats-ab":
                    return InterleavedAb.Run(i + 1 < args.Length && int.TryParse(args[i + 1], out var formatRounds) ? formatRounds : 100, peers: false, formats: true);
                case "--peers-ab":
                    return InterleavedAb.Run(i + 1 < args.Length && int.TryParse(args[i + 1], out var peerRounds) ? peerRounds : 100, peers: true);
                case "--activation-layers":
                    // In process, as --routing: ActivationLayerBenchmarks (a 1024 x 1024 layer, int8 against base11 weights, int8 activations)
                    var layers = BenchmarkRunner.Run<ActivationLayerBenchmarks>(DefaultConfig.Instance
                        .AddJob(Job.Default.WithToolchain(BenchmarkDotNet.Toolchains.InProcess.Emit.InProcessEmitToolchain.Instance)
                            .WithWarmupCount(5).WithIterationCount(20).WithId("layers").AsDefault())
                        .WithOrderer(new DefaultOrderer(SummaryOrderPolicy.Declared, MethodOrderPolicy.Declared)), args[(i + 1)..]);
                    return layers.Reports.Any(r => !r.Success) ? 1 : 0;
                case "--routing":
                    // In process: the benchmark binary is already built, and a rebuild on a busy machine can outlast BenchmarkDotNet's build timeout.
                    var routing = BenchmarkRunner.Run<RoutingBenchmarks>(DefaultConfig.Instance
                        .AddJob(Job.Default.WithToolchain(BenchmarkDotNet.Toolchains.InProcess.Emit.InProcessEmitToolchain.Instance)
                            .WithWarmupCount(5).WithIterationCount(20).WithId("routing").AsDefault())
                        .WithOrderer(new DefaultOrderer(SummaryOrderPolicy.Declared, MethodOrderPolicy.Declared)), args[(i + 1)..]);
                    return routing.Reports.Any(r => !r.Success) ? 1 : 0;
                case "--no-docs":
                    noDocs = true;
                    break;
                case "--in-process":
                    inProcess = true;
                    break;
                case "--docs" when i + 1 < args.Length:
                    docs = args[++i];
                    break;
                default:
                    rest.Add(args[i]);
                    break;
            }
        }

        if (sweep)
        {
            CacheSweep.Run();
            return 0;
        }

        if (experiments)
        {
            return KernelExperiments.Run(experimentPrefix);
        }

        if (rest.Count == 0)
        {
            rest.AddRange(new[] { "--filter", "*" });
        }

        var job = quick
            ? Job.Dry.WithId("Quick")
            : Job.Default
                .WithStrategy(RunStrategy.Throughput)
                .WithLaunchCount(1)
                .WithWarmupCount(3)
                .WithIterationCount(10)
                .WithId(cnn ? "Cnn" : "BigNet");
        if (inProcess)
        {
            // the binary that is running: no rebuild, which on a busy machine can outlast BenchmarkDotNet's build timeout
            job = job.WithToolchain(BenchmarkDotNet.Toolchains.InProcess.Emit.InProcessEmitToolchain.Instance);
        }

        var config = DefaultConfig.Instance
            .AddJob(job.AsDefault())
            .WithOptions(ConfigOptions.JoinSummary)
            .WithOrderer(new PeerAdjacentOrderer())
            .WithSummaryStyle(BenchmarkDotNet.Reports.SummaryStyle.Default.WithMaxParameterColumnWidth(40));

        if (cnn)
        {
            var cnnSummary = BenchmarkRunner.Run<CnnBenchmarks>(config, rest.ToArray());
            return cnnSummary.HasCriticalValidationErrors || cnnSummary.Reports.Any(r => !r.Success) ? 1 : 0;
        }

        var loadBefore = MachineInfo.LoadAverage();
        var watch = Stopwatch.StartNew();
        var summary = BenchmarkRunner.Run<BigNetBenchmarks>(config, rest.ToArray());
        watch.Stop();

        var command = "dotnet run -c Release --project tests/CodeGenChunk.Benchmarks --" +
            string.Concat(args.Select(a => " " + (a.Contains('*', StringComparison.Ordinal) ? "'" + a + "'" : a)));
        var report = ResultsReport.Create(summary, command, quick, watch.Elapsed, loadBefore, MachineInfo.LoadAverage());
        Console.WriteLine();
        Console.WriteLine(report.DerivedTable);
        Console.WriteLine(report.Targets);

        if (!noDocs && (docs is not null || !quick))
        {
            var path = docs ?? Path.Combine(Paths.RepositoryRoot() ?? Environment.CurrentDirectory, "docs", "benchmarks.md");
            report.WriteInto(path);
            Console.WriteLine($"Results written into {path}");
        }

        return summary.HasCriticalValidationErrors || summary.Reports.Any(r => !r.Success) ? 1 : 0;
    }

    /// <summary>The ORT setups (graph build, optimized ops, check against PlainBigNet) and a rough median of 200 runs each, without BenchmarkDotNet.</summary>
    private static int OrtCheck()
    {
        var rows = new (string Name, Action<BigNetBenchmarks> Setup, Func<BigNetBenchmarks, float> Run)[]
        {
            (nameof(BigNetBenchmarks.Ort_F32), static b => b.SetupOrtF32(), static b => b.Ort_F32()),
            (nameof(BigNetBenchmarks.Ort_DynamicInt8), static b => b.SetupOrtDynamicInt8(), static b => b.Ort_DynamicInt8()),
            (nameof(BigNetBenchmarks.Ort_MatMulNBits4), static b => b.SetupOrtMatMulNBits4(), static b => b.Ort_MatMulNBits4()),
            (nameof(BigNetBenchmarks.Int4_Generated), static b => b.SetupInt4(), static b => b.Int4_Generated()),
            (nameof(BigNetBenchmarks.Base11_Generated), static b => b.SetupBase11(), static b => b.Base11_Generated()),
            (nameof(BigNetBenchmarks.Ternary_Generated), static b => b.SetupTernary(), static b => b.Ternary_Generated()),
        };
        foreach (var (name, setup, run) in rows)
        {
            var bench = new BigNetBenchmarks();
            setup(bench);
            var times = new double[200];
            for (var i = -20; i < times.Length; i++)
            {
                var start = Stopwatch.GetTimestamp();
                run(bench);
                if (i >= 0)
                {
                    times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                }
            }

            Array.Sort(times);
            Console.WriteLine($"{name}: median {times[times.Length / 2]:F3} ms, {BigNetBenchmarks.BytesRead(name) / (times[times.Length / 2] * 1e6):F1} GB/s");
            bench.Cleanup();
        }

        return 0;
    }
}
