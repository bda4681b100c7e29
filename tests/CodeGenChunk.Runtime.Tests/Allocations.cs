using System;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>The zero-allocation check of the inference path.</summary>
internal static class Allocations
{
    /// <summary>
    /// Bytes <paramref name="body"/> allocates on this thread in its steady state: after one call to warm it up, the fewest
    /// bytes of up to <paramref name="rounds"/> calls (the first call that allocates nothing ends the search). A body that
    /// allocates on every call allocates in every round, so the check still fails on it; a single round can also count bytes
    /// the runtime allocates once on the test thread while the machine is loaded (seen: 4,832 bytes in one round of a kernel
    /// that allocates nothing, on a loaded 2-core VM), which made single-round checks flaky.
    /// </summary>
    public static long SteadyState(Action body, int rounds = 5)
    {
        body();
        long fewest = long.MaxValue;
        for (int r = 0; r < rounds && fewest > 0; r++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            body();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return fewest;
    }
}
