using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>
/// Software prefetch of the weights a row-blocked kernel reads next: on x64, <c>prefetcht0</c> of the cache lines
/// <see cref="Distance"/> bytes ahead and <c>prefetcht2</c> of those <see cref="FarDistance"/> bytes ahead; elsewhere
/// nothing (.NET has no arm64 prefetch intrinsic: the hardware prefetchers alone). With the weights out of cache the
/// hardware prefetchers alone leave a row-blocked kernel well below the DRAM bandwidth (docs/benchmarks.md).
/// </summary>
public static class KernelPrefetch
{
    /// <summary>How far ahead of the reads the near hint (<c>prefetcht0</c>) reaches.</summary>
    public const int Distance = 2048;

    /// <summary>The distance of the outer-cache hint (<c>prefetcht2</c>).</summary>
    public const int FarDistance = 18432;

    /// <summary>Hints to fetch the four cache lines (256 bytes) that follow <paramref name="p"/> by <see cref="Distance"/> and <see cref="FarDistance"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Lines256(ref byte p)
    {
        if (Sse.IsSupported)
        {
            // a prefetch never faults, so reading past the end of the weights is harmless; the address is formed as
            // an unmanaged pointer, never as a reference past the end of the weights
            byte* a = (byte*)Unsafe.AsPointer(ref p);
            Sse.Prefetch0(a + Distance);
            Sse.Prefetch0(a + Distance + 64);
            Sse.Prefetch0(a + Distance + 128);
            Sse.Prefetch0(a + Distance + 192);
            Sse.Prefetch2(a + FarDistance);
            Sse.Prefetch2(a + FarDistance + 64);
            Sse.Prefetch2(a + FarDistance + 128);
            Sse.Prefetch2(a + FarDistance + 192);
        }
    }

    /// <summary>
    /// Hints the one cache line <see cref="Distance"/> bytes after <paramref name="p"/> into L1 and the one
    /// <see cref="FarDistance"/> after it into the outer caches: for kernels that read 64 bytes per block step.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Line(ref byte p)
    {
        if (Sse.IsSupported)
        {
            byte* a = (byte*)Unsafe.AsPointer(ref p);
            Sse.Prefetch0(a + Distance);
            Sse.Prefetch2(a + FarDistance);
        }
    }

    /// <summary>
    /// <see cref="Lines256"/> over every 256 bytes of a block of <paramref name="bytes"/> (a constant in generated code)
    /// that starts at <paramref name="p"/> and is read next.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block(ref sbyte p, nint bytes)
    {
        if (Sse.IsSupported)
        {
            for (nint i = 0; i < bytes; i += 256)
            {
                Lines256(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref p, i)));
            }
        }
    }
}
