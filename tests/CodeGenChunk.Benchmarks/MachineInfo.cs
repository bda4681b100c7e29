using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CodeGenChunk.Benchmarks;

/// <summary>
/// What the benchmarks need to know about the machine: the last-level cache size (to size the cold-cache
/// rotation sets and the bandwidth probe) and a one-line description for the report.
/// </summary>
internal static class MachineInfo
{
    /// <summary>Environment variable that overrides the detected last-level cache size (bytes).</summary>
    public const string LlcOverrideVariable = "CGC_BENCH_LLC_BYTES";

    /// <summary>Used when neither /sys nor getconf reports an L3 size.</summary>
    public const long FallbackLlcBytes = 32L << 20;

    private static readonly Lazy<(long Bytes, string Source)> s_llc = new(DetectLlc);

    /// <summary>The last-level cache size in bytes, as the OS reports it (or the override / fallback).</summary>
    public static long LlcBytes => s_llc.Value.Bytes;

    /// <summary>Where <see cref="LlcBytes"/> came from.</summary>
    public static string LlcSource => s_llc.Value.Source;

    /// <summary>CPU model name from /proc/cpuinfo, else the processor architecture.</summary>
    public static string CpuModel
    {
        get
        {
            try
            {
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                {
                    if (line.StartsWith("model name", StringComparison.Ordinal))
                    {
                        return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                    }
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }

            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    /// <summary>"cpu family" from /proc/cpuinfo (26 = AMD Zen 5), or null.</summary>
    public static string? CpuFamily
    {
        get
        {
            try
            {
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                {
                    if (line.StartsWith("cpu family", StringComparison.Ordinal))
                    {
                        return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                    }
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }

            return null;
        }
    }

    /// <summary>The 1-, 5- and 15-minute load averages (/proc/loadavg), or "unknown": the machine is shared.</summary>
    public static string LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return parts.Length >= 3 ? $"{parts[0]} / {parts[1]} / {parts[2]}" : "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    /// <summary>Total physical memory in bytes (from /proc/meminfo), or 0 when unknown.</summary>
    public static long MemoryBytes
    {
        get
        {
            try
            {
                foreach (var line in File.ReadLines("/proc/meminfo"))
                {
                    if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                    {
                        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
                    }
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }

            return 0;
        }
    }

    /// <summary>The widest accelerated vector width.</summary>
    public static string VectorWidth =>
        Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256" : Vector128.IsHardwareAccelerated ? "Vector128" : "scalar";

    /// <summary>One line: CPU, cores, LLC, memory, vector width, OS, runtime.</summary>
    public static string Describe() =>
        $"{CpuModel}{(CpuFamily is { } family ? " (cpu family " + family + (family == "26" ? ", Zen 5" : "") + ")" : "")}, {Environment.ProcessorCount} logical cores, LLC {Mib(LlcBytes)} ({LlcSource}), " +
        $"RAM {MemoryBytes / (1L << 30)} GiB, widest accelerated vector {VectorWidth}, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";

    public static string Mib(long bytes) => (bytes / (double)(1L << 20)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB";

    private static (long, string) DetectLlc()
    {
        var overrideText = Environment.GetEnvironmentVariable(LlcOverrideVariable);
        if (long.TryParse(overrideText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var forced) && forced > 0)
        {
            return (forced, LlcOverrideVariable);
        }

        var fromSys = FromSysfs();
        if (fromSys > 0)
        {
            return (fromSys, "/sys/devices/system/cpu/cpu0/cache");
        }

        var fromGetconf = FromGetconf();
        if (fromGetconf > 0)
        {
            return (fromGetconf, "getconf LEVEL3_CACHE_SIZE");
        }

        return (FallbackLlcBytes, "not reported; assumed");
    }

    private static long FromSysfs()
    {
        try
        {
            const string root = "/sys/devices/system/cpu/cpu0/cache";
            if (!Directory.Exists(root))
            {
                return 0;
            }

            long best = 0;
            var bestLevel = 0;
            foreach (var dir in Directory.GetDirectories(root, "index*"))
            {
                var level = int.Parse(File.ReadAllText(Path.Combine(dir, "level")).Trim(), CultureInfo.InvariantCulture);
                var text = File.ReadAllText(Path.Combine(dir, "size")).Trim();
                long multiplier = 1;
                if (text.EndsWith('K'))
                {
                    multiplier = 1024;
                    text = text[..^1];
                }
                else if (text.EndsWith('M'))
                {
                    multiplier = 1 << 20;
                    text = text[..^1];
                }

                var size = long.Parse(text, CultureInfo.InvariantCulture) * multiplier;
                if (level > bestLevel || (level == bestLevel && size > best))
                {
                    bestLevel = level;
                    best = size;
                }
            }

            return best;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return 0;
        }
    }

    private static long FromGetconf()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("getconf", "LEVEL3_CACHE_SIZE")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return 0;
            }

            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return long.TryParse(output, NumberStyles.Integer, CultureInfo.InvariantCulture, out var bytes) && bytes > 0 ? bytes : 0;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return 0;
        }
    }
}
