using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using Samples.BigNet;

namespace CodeGenChunk.Benchmarks;

/// <summary>
/// Turns the BenchmarkDotNet summary into the numbers the project lives by: for every BigNet row the
/// effective weight bandwidth (WeightBytes / median time) and its fraction of the DRAM read bandwidth the
/// probe measured in the same run; then checks the targets and writes the generated part of docs/benchmarks.md.
/// </summary>
internal sealed class ResultsReport
{
    public const string BeginMarker = "<!-- generated:begin (tests/CodeGenChunk.Benchmarks writes between these markers) -->";
    public const string EndMarker = "<!-- generated:end -->";

    /// <summary>int8 generated must be at least this many times faster than F32_TensorPrimitivesDot.</summary>
    public const double Int8SpeedupTarget = 3.0;

    /// <summary>Cold generated kernels must reach this fraction of the measured DRAM read bandwidth.</summary>
    public const double DramFractionTarget = 0.70;

    private ResultsReport(string derivedTable, string targets, string generatedSection)
    {
        DerivedTable = derivedTable;
        Targets = targets;
        GeneratedSection = generatedSection;
    }

    public string DerivedTable { get; }

    public string Targets { get; }

    public string GeneratedSection { get; }

    public static ResultsReport Create(Summary summary, string command, bool quick, TimeSpan elapsed, string loadBefore, string loadAfter)
    {
        var medians = new Dictionary<string, double>(StringComparer.Ordinal); // ns
        var allocated = new Dictionary<string, long>(StringComparer.Ordinal);
        var categories = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var report in summary.Reports)
        {
            var name = report.BenchmarkCase.Descriptor.WorkloadMethod.Name;
            categories[name] = string.Join(", ", report.BenchmarkCase.Descriptor.Categories);
            if (report.ResultStatistics is { } stats)
            {
                medians[name] = stats.Median;
                allocated[name] = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) ?? -1;
            }
        }

        double? Median(string name) => medians.TryGetValue(name, out var ns) ? ns : null;
        double? GBps(string name) => Median(name) is { } ns ? BigNetBenchmarks.BytesRead(name) / ns : null; // bytes/ns == GB/s
        var dram = GBps(nameof(BigNetBenchmarks.Dram_ReadBandwidth));
        var baseline = Median(nameof(BigNetBenchmarks.F32_TensorPrimitivesDot));
        var coldBaseline = Median(nameof(BigNetBenchmarks.F32_TensorPrimitivesDot_Cold));

        string[] bigNetRows =
        {
            nameof(BigNetBenchmarks.F32_TensorPrimitivesDot),
            nameof(BigNetBenchmarks.F32_NaiveLoop),
            nameof(BigNetBenchmarks.F32_Generated),
            nameof(BigNetBenchmarks.Int8_Generated),
            nameof(BigNetBenchmarks.Int8A_Generated),
            nameof(BigNetBenchmarks.Base11A_Generated),
            nameof(BigNetBenchmarks.TernaryA_Generated),
            nameof(BigNetBenchmarks.Int8ARow_Generated),
            nameof(BigNetBenchmarks.Int8Chain_Generated),
            nameof(BigNetBenchmarks.Int4A_Generated),
            nameof(BigNetBenchmarks.Int4_Generated),
            nameof(BigNetBenchmarks.Base11_Generated),
            nameof(BigNetBenchmarks.Base11P_Generated),
            nameof(BigNetBenchmarks.Ternary_Generated),
            nameof(BigNetBenchmarks.F16_Generated),
            nameof(BigNetBenchmarks.Int1_Generated),
            nameof(BigNetBenchmarks.Ort_F32),
            nameof(BigNetBenchmarks.Ort_DynamicInt8),
            nameof(BigNetBenchmarks.Ort_MatMulNBits4),
            nameof(BigNetBenchmarks.F32_TensorPrimitivesDot_Cold),
            nameof(BigNetBenchmarks.F32_Generated_Cold),
            nameof(BigNetBenchmarks.Int8_Generated_Cold),
            nameof(BigNetBenchmarks.Int8A_Generated_Cold),
            nameof(BigNetBenchmarks.Base11A_Generated_Cold),
            nameof(BigNetBenchmarks.TernaryA_Generated_Cold),
            nameof(BigNetBenchmarks.Int8ARow_Generated_Cold),
            nameof(BigNetBenchmarks.Int8Chain_Generated_Cold),
            nameof(BigNetBenchmarks.Int4A_Generated_Cold),
            nameof(BigNetBenchmarks.Int4_Generated_Cold),
            nameof(BigNetBenchmarks.Base11_Generated_Cold),
            nameof(BigNetBenchmarks.Base11P_Generated_Cold),
            nameof(BigNetBenchmarks.Ternary_Generated_Cold),
            nameof(BigNetBenchmarks.F16_Generated_Cold),
            nameof(BigNetBenchmarks.Int1_Generated_Cold),
            nameof(BigNetBenchmarks.Ort_DynamicInt8_Cold),
            nameof(BigNetBenchmarks.Ort_F32_Cold),
            nameof(BigNetBenchmarks.Ort_MatMulNBits4_Cold),
        };

        var table = new StringBuilder();
        table.AppendLine("| Benchmark | Cache | Median | vs F32_TensorPrimitivesDot (warm) | vs F32_TensorPrimitivesDot_Cold | Weight bytes | Effective GB/s | % of DRAM read BW | Allocated/op |");
        table.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var name in bigNetRows)
        {
            if (Median(name) is not { } ns)
            {
                table.AppendLine($"| {name} | {Category(categories, name)} | (not run) | | | | | | |");
                continue;
            }

            var gbps = BigNetBenchmarks.BytesRead(name) / ns;
            table.AppendLine(
                $"| {name} | {Category(categories, name)} | {Time(ns)} | {Speedup(baseline, ns)} | {(name.EndsWith("_Cold", StringComparison.Ordinal) ? Speedup(coldBaseline, ns) : "")} | " +
                $"{BigNetBenchmarks.BytesRead(name):N0} | {gbps:F1} | {(dram is { } d ? (100 * gbps / d).ToString("F0", CultureInfo.InvariantCulture) + " %" : "n/a")} | {Bytes(allocated[name])} |");
        }

        if (Median(nameof(BigNetBenchmarks.Dram_ReadBandwidth)) is { } probeNs)
        {
            table.AppendLine(
                $"| {nameof(BigNetBenchmarks.Dram_ReadBandwidth)} | DRAM probe | {Time(probeNs)} | | | {BigNetBenchmarks.ProbeBytes:N0} (read) | **{dram:F1}** | 100 % | {Bytes(allocated[nameof(BigNetBenchmarks.Dram_ReadBandwidth)])} |");
        }
        else
        {
            table.AppendLine($"| {nameof(BigNetBenchmarks.Dram_ReadBandwidth)} | DRAM probe | (not run) | | | | | | |");
        }

        var targets = new StringBuilder();
        targets.AppendLine("| Target | Measured | Met? |");
        targets.AppendLine("|---|---|---|");
        AddSpeedupTarget(targets, "Int8_Generated ≥ 3× faster than F32_TensorPrimitivesDot (warm, the stated target)", baseline, Median(nameof(BigNetBenchmarks.Int8_Generated)));
        AddSpeedupTarget(targets, "Int8_Generated_Cold ≥ 3× faster than F32_TensorPrimitivesDot_Cold (same, weights from DRAM)", coldBaseline, Median(nameof(BigNetBenchmarks.Int8_Generated_Cold)));
        AddDramTarget(targets, "F32_Generated_Cold ≥ 70 % of DRAM read bandwidth", GBps(nameof(BigNetBenchmarks.F32_Generated_Cold)), dram);
        AddDramTarget(targets, "Int8_Generated_Cold ≥ 70 % of DRAM read bandwidth", GBps(nameof(BigNetBenchmarks.Int8_Generated_Cold)), dram);

        var ortF32 = Median(nameof(BigNetBenchmarks.Ort_F32));
        var ort = new StringBuilder();
        ort.AppendLine("| Generated | ONNX Runtime peer | Generated median | ORT median | Speed-up (ORT ÷ generated) | Generated faster? |");
        ort.AppendLine("|---|---|---:|---:|---:|---|");
        foreach (var name in new[]
        {
            nameof(BigNetBenchmarks.F32_Generated), nameof(BigNetBenchmarks.Int8_Generated), nameof(BigNetBenchmarks.Int4_Generated),
            nameof(BigNetBenchmarks.Base11_Generated), nameof(BigNetBenchmarks.Base11P_Generated), nameof(BigNetBenchmarks.Ternary_Generated),
            nameof(BigNetBenchmarks.F16_Generated), nameof(BigNetBenchmarks.Int1_Generated),
            nameof(BigNetBenchmarks.Int8A_Generated), nameof(BigNetBenchmarks.Int4A_Generated), nameof(BigNetBenchmarks.Base11A_Generated),
            nameof(BigNetBenchmarks.TernaryA_Generated),
        })
        {
            AddOrtRow(ort, name, nameof(BigNetBenchmarks.Ort_F32), Median(name), ortF32);
        }

        var ortF32Cold = Median(nameof(BigNetBenchmarks.Ort_F32_Cold));
        foreach (var name in new[]
        {
            nameof(BigNetBenchmarks.F32_Generated_Cold), nameof(BigNetBenchmarks.F16_Generated_Cold),
            nameof(BigNetBenchmarks.Int8_Generated_Cold), nameof(BigNetBenchmarks.Int4_Generated_Cold),
            nameof(BigNetBenchmarks.Base11_Generated_Cold), nameof(BigNetBenchmarks.Base11P_Generated_Cold), nameof(BigNetBenchmarks.Ternary_Generated_Cold),
            nameof(BigNetBenchmarks.Int1_Generated_Cold), nameof(BigNetBenchmarks.Int8A_Generated_Cold), nameof(BigNetBenchmarks.Int4A_Generated_Cold),
            nameof(BigNetBenchmarks.Base11A_Generated_Cold), nameof(BigNetBenchmarks.TernaryA_Generated_Cold),
        })
        {
            AddOrtRow(ort, name, nameof(BigNetBenchmarks.Ort_F32_Cold), Median(name), ortF32Cold);
        }

        AddOrtRow(ort, nameof(BigNetBenchmarks.Int8_Generated), nameof(BigNetBenchmarks.Ort_DynamicInt8),
            Median(nameof(BigNetBenchmarks.Int8_Generated)), Median(nameof(BigNetBenchmarks.Ort_DynamicInt8)));
        AddOrtRow(ort, nameof(BigNetBenchmarks.Int8A_Generated), nameof(BigNetBenchmarks.Ort_DynamicInt8),
            Median(nameof(BigNetBenchmarks.Int8A_Generated)), Median(nameof(BigNetBenchmarks.Ort_DynamicInt8)));
        AddOrtRow(ort, nameof(BigNetBenchmarks.Int8A_Generated_Cold), nameof(BigNetBenchmarks.Ort_DynamicInt8_Cold),
            Median(nameof(BigNetBenchmarks.Int8A_Generated_Cold)), Median(nameof(BigNetBenchmarks.Ort_DynamicInt8_Cold)));
        AddOrtRow(ort, nameof(BigNetBenchmarks.Int8ARow_Generated), nameof(BigNetBenchmarks.Ort_DynamicInt8),
            Median(nameof(BigNetBenchmarks.Int8ARow_Generated)), Median(nameof(BigNetBenchmarks.Ort_DynamicInt8)));
        AddOrtRow(ort, nameof(BigNetBenchmarks.Int8ARow_Generated_Cold), nameof(BigNetBenchmarks.Ort_DynamicInt8_Cold),
            Median(nameof(BigNetBenchmarks.Int8ARow_Generated_Cold)), Median(nameof(BigNetBenchmarks.Ort_DynamicInt8_Cold)));
        AddOrtRow(ort, nameof(BigNetBenchmarks.Int8Chain_Generated), nameof(BigNetBenchmarks.Ort_DynamicInt8),
            Median(nameof(BigNetBenchmarks.Int8Chain_Generated)), Median(nameof(BigNetBenchmarks.Ort_DynamicInt8)));
        AddOrtRow(ort, nameof(BigNetBenchmarks.Int8Chain_Generated_Cold), nameof(BigNetBenchmarks.Ort_DynamicInt8_Cold),
            Median(nameof(BigNetBenchmarks.Int8Chain_Generated_Cold)), Median(nameof(BigNetBenchmarks.Ort_DynamicInt8_Cold)));
        AddOrtRow(ort, nameof(BigNetBenchmarks.Int4_Generated), nameof(BigNetBenchmarks.Ort_MatMulNBits4),
            Median(nameof(BigNetBenchmarks.Int4_Generated)), Median(nameof(BigNetBenchmarks.Ort_MatMulNBits4)));
        AddOrtRow(ort, nameof(BigNetBenchmarks.Int4A_Generated), nameof(BigNetBenchmarks.Ort_MatMulNBits4),
            Median(nameof(BigNetBenchmarks.Int4A_Generated)), Median(nameof(BigNetBenchmarks.Ort_MatMulNBits4)));
        AddOrtRow(ort, nameof(BigNetBenchmarks.Int4A_Generated_Cold), nameof(BigNetBenchmarks.Ort_MatMulNBits4_Cold),
            Median(nameof(BigNetBenchmarks.Int4A_Generated_Cold)), Median(nameof(BigNetBenchmarks.Ort_MatMulNBits4_Cold)));
        targets.AppendLine();
        targets.Append(ort);

        // fewer bytes must mean less time: base11 and ternary against int8, both with int8 activations, warm and cold
        var fewer = new StringBuilder();
        fewer.AppendLine();
        fewer.AppendLine("Fewer bytes, less time: base11 (pairs, 3.6 bits) and ternary (1.75 bits) against int8 (8.5 bits), all with int8 activations.");
        fewer.AppendLine();
        fewer.AppendLine("| Format | int8 peer | Format median | int8 median | Speed-up (int8 ÷ format) | Format faster? |");
        fewer.AppendLine("|---|---|---:|---:|---:|---|");
        foreach (var (name, peer) in new[]
        {
            (nameof(BigNetBenchmarks.Base11A_Generated), nameof(BigNetBenchmarks.Int8A_Generated)),
            (nameof(BigNetBenchmarks.Base11A_Generated_Cold), nameof(BigNetBenchmarks.Int8A_Generated_Cold)),
            (nameof(BigNetBenchmarks.TernaryA_Generated), nameof(BigNetBenchmarks.Int8A_Generated)),
            (nameof(BigNetBenchmarks.TernaryA_Generated_Cold), nameof(BigNetBenchmarks.Int8A_Generated_Cold)),
        })
        {
            AddOrtRow(fewer, name, peer, Median(name), Median(peer));
        }

        targets.Append(fewer);

        var logger = new AccumulationLogger();
        MarkdownExporter.GitHub.ExportToLog(summary, logger);

        var section = new StringBuilder();
        section.AppendLine(BeginMarker);
        section.AppendLine();
        section.AppendLine($"Run of {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{(quick ? " — **--quick smoke run: one invocation per benchmark, numbers are not meaningful**" : "")}, {elapsed.TotalMinutes:F1} min in all.");
        section.AppendLine();
        section.AppendLine("```sh");
        section.AppendLine(command);
        section.AppendLine("```");
        section.AppendLine();
        section.AppendLine($"Machine: {MachineInfo.Describe()}.");
        section.AppendLine();
        section.AppendLine($"Load average (1 / 5 / 15 min) before the run {loadBefore}, after it {loadAfter} — the VM is shared with other builds, so every number below is taken under that load.");
        section.AppendLine();
        section.AppendLine(
            $"Cold rotation sets (≥ {BigNetBenchmarks.ColdSetFactor} × LLC = {MachineInfo.Mib(BigNetBenchmarks.ColdSetFactor * MachineInfo.LlcBytes)}): " +
            $"f32 {BigNetBenchmarks.ColdCopies(BigNetF32.WeightBytes)} copies × {MachineInfo.Mib(BigNetF32.WeightBytes)}, " +
            $"int8 {BigNetBenchmarks.ColdCopies(BigNetInt8.WeightBytes)} copies × {MachineInfo.Mib(BigNetInt8.WeightBytes)}; " +
            $"bandwidth probe buffer {MachineInfo.Mib(BigNetBenchmarks.ProbeBytes)}.");
        section.AppendLine();
        section.AppendLine("### BenchmarkDotNet summary");
        section.AppendLine();
        section.AppendLine(logger.GetLog().Trim());
        section.AppendLine();
        section.AppendLine("### Effective weight bandwidth (medians; 1 GB = 1e9 B)");
        section.AppendLine();
        section.AppendLine("Effective GB/s = weight bytes ÷ median time (the f32 rows all read the f32 weights, 75.6 MB; int8 reads its chunk file, int8 weights + one float scale per 64 inputs + float biases and LayerNorm parameters; every generated format its own chunk file; " +
            "the ONNX Runtime rows the initializer bytes of their graph). " +
            "% of DRAM = that ÷ the probe's bytes ÷ its median time. Ratios \"vs\" are speedups: baseline median ÷ row median (> 1 is faster).");
        section.AppendLine();
        section.Append(table);
        section.AppendLine();
        section.AppendLine("### Targets");
        section.AppendLine();
        section.AppendLine("The second table sets the generated models against the ONNX Runtime peer (ORT, one thread, graphs built by OrtBigNet.cs, warm).");
        section.AppendLine();
        section.Append(targets);
        section.AppendLine();
        section.AppendLine(EndMarker);
        return new ResultsReport(table.ToString(), targets.ToString(), section.ToString());
    }

    /// <summary>Replaces the generated section of <paramref name="path"/> (between the markers), or writes a new file.</summary>
    public void WriteInto(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string text;
        if (File.Exists(path))
        {
            var existing = File.ReadAllText(path);
            var begin = existing.IndexOf(BeginMarker, StringComparison.Ordinal);
            var end = existing.IndexOf(EndMarker, StringComparison.Ordinal);
            text = begin >= 0 && end > begin
                ? existing[..begin] + GeneratedSection.TrimEnd() + existing[(end + EndMarker.Length)..]
                : existing.TrimEnd() + "\n\n## Results\n\n" + GeneratedSection;
        }
        else
        {
            text = "# Benchmarks\n\n## Results\n\n" + GeneratedSection;
        }

        File.WriteAllText(path, text.Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    private static void AddSpeedupTarget(StringBuilder sb, string what, double? baselineNs, double? ns)
    {
        if (baselineNs is not { } b || ns is not { } n)
        {
            sb.AppendLine($"| {what} | not measured | — |");
            return;
        }

        var speedup = b / n;
        sb.AppendLine($"| {what} | {speedup:F2}× ({Time(b)} → {Time(n)}) | {(speedup >= Int8SpeedupTarget ? "yes" : "**no**")} |");
    }

    private static void AddOrtRow(StringBuilder sb, string generated, string peer, double? generatedNs, double? peerNs)
    {
        if (generatedNs is not { } g || peerNs is not { } p)
        {
            sb.AppendLine($"| {generated} | {peer} | not measured | | | — |");
            return;
        }

        sb.AppendLine($"| {generated} | {peer} | {Time(g)} | {Time(p)} | {p / g:F2}× | {(g < p ? "yes" : "**no**")} |");
    }

    private static void AddDramTarget(StringBuilder sb, string what, double? gbps, double? dram)
    {
        if (gbps is not { } g || dram is not { } d)
        {
            sb.AppendLine($"| {what} | not measured | — |");
            return;
        }

        var fraction = g / d;
        sb.AppendLine($"| {what} | {100 * fraction:F0} % ({g:F1} of {d:F1} GB/s) | {(fraction >= DramFractionTarget ? "yes" : "**no**")} |");
    }

    private static string Category(Dictionary<string, string> categories, string name) =>
        categories.TryGetValue(name, out var c) ? c : "";

    private static string Speedup(double? baselineNs, double ns) =>
        baselineNs is { } b ? (b / ns).ToString("F2", CultureInfo.InvariantCulture) + "×" : "n/a";

    private static string Time(double ns) =>
        ns >= 1e6 ? (ns / 1e6).ToString("F3", CultureInfo.InvariantCulture) + " ms" : (ns / 1e3).ToString("F1", CultureInfo.InvariantCulture) + " µs";

    private static string Bytes(long bytes) => bytes < 0 ? "n/a" : bytes.ToString("N0", CultureInfo.InvariantCulture) + " B";
}
