using System;
using System.Diagnostics;
using System.Globalization;

namespace CodeGenChunk.Benchmarks;

/// <summary>
/// Read bandwidth of one thread against the size of the buffer read over and over: the steps show where
/// each cache level ends, i.e. how big a working set must be before it streams from DRAM.
/// </summary>
internal static class CacheSweep
{
    public static void Run()
    {
        Console.WriteLine($"# {MachineInfo.Describe()}");
        Console.WriteLine("# buffer size -> best-of single-thread read bandwidth (GB/s, 1 GB = 1e9 B)");
        const long max = 2L << 30;
        using var probe = new ReadBandwidthProbe(max);
        uint sink = 0;
        for (long size = 1L << 20; size <= max; size *= 2)
        {
            var passes = (int)Math.Clamp((4L << 30) / size, 3, 2000);
            var best = double.MaxValue;
            for (var rep = 0; rep < 5; rep++)
            {
                sink += probe.Sum(size); // warm the level under test
                var start = Stopwatch.GetTimestamp();
                for (var p = 0; p < passes; p++)
                {
                    sink += probe.Sum(size);
                }

                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds / passes);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{MachineInfo.Mib(size),10}  {size / best / 1e9,7:F1} GB/s"));
        }

        Console.WriteLine($"# (checksum {sink})");
    }
}
