using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CodeGenChunk.Benchmarks;

/// <summary>
/// A single-thread memory read-bandwidth probe: sums a buffer with the widest accelerated vector loads
/// (Vector512, else Vector256) into eight independent accumulators, so the loop is bound by how fast one
/// core can stream bytes in, not by an add chain. Plain temporal loads, no software prefetch: the same kind
/// of access the matrix kernels make, so "fraction of this bandwidth" is a like-for-like roofline.
/// </summary>
internal sealed unsafe class ReadBandwidthProbe : IDisposable
{
    private byte* _buffer;

    /// <summary>Allocates <paramref name="bytes"/> (a multiple of 512) 64-byte aligned and touches every page.</summary>
    public ReadBandwidthProbe(long bytes)
    {
        if (bytes <= 0 || bytes % 512 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "must be a positive multiple of 512");
        }

        Length = bytes;
        _buffer = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        // Non-zero, non-constant content, written once: every page is resident before anything is timed.
        uint seed = 0x9E3779B9u;
        for (long i = 0; i < bytes; i += sizeof(uint))
        {
            seed = (seed * 1664525u) + 1013904223u;
            *(uint*)(_buffer + i) = seed;
        }
    }

    /// <summary>Bytes read by one <see cref="Sum"/>.</summary>
    public long Length { get; }

    /// <summary>Reads every byte of the buffer once; returns a value that depends on all of them.</summary>
    public uint Sum() => Sum(_buffer, Length);

    /// <summary>Reads the first <paramref name="bytes"/> bytes (a multiple of 512).</summary>
    public uint Sum(long bytes)
    {
        if (bytes > Length || bytes % 512 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bytes));
        }

        return Sum(_buffer, bytes);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static uint Sum(byte* p, long bytes)
    {
        ref byte start = ref *p;
        nuint n = (nuint)bytes;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<uint> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            for (nuint i = 0; i < n; i += 512)
            {
                a0 += Vector512.LoadUnsafe(ref start, i).AsUInt32();
                a1 += Vector512.LoadUnsafe(ref start, i + 64).AsUInt32();
                a2 += Vector512.LoadUnsafe(ref start, i + 128).AsUInt32();
                a3 += Vector512.LoadUnsafe(ref start, i + 192).AsUInt32();
                a4 += Vector512.LoadUnsafe(ref start, i + 256).AsUInt32();
                a5 += Vector512.LoadUnsafe(ref start, i + 320).AsUInt32();
                a6 += Vector512.LoadUnsafe(ref start, i + 384).AsUInt32();
                a7 += Vector512.LoadUnsafe(ref start, i + 448).AsUInt32();
            }

            return Vector512.Sum((a0 + a1) + (a2 + a3) + ((a4 + a5) + (a6 + a7)));
        }

        Vector256<uint> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
        for (nuint i = 0; i < n; i += 256)
        {
            b0 += Vector256.LoadUnsafe(ref start, i).AsUInt32();
            b1 += Vector256.LoadUnsafe(ref start, i + 32).AsUInt32();
            b2 += Vector256.LoadUnsafe(ref start, i + 64).AsUInt32();
            b3 += Vector256.LoadUnsafe(ref start, i + 96).AsUInt32();
            b4 += Vector256.LoadUnsafe(ref start, i + 128).AsUInt32();
            b5 += Vector256.LoadUnsafe(ref start, i + 160).AsUInt32();
            b6 += Vector256.LoadUnsafe(ref start, i + 192).AsUInt32();
            b7 += Vector256.LoadUnsafe(ref start, i + 224).AsUInt32();
        }

        return Vector256.Sum((b0 + b1) + (b2 + b3) + ((b4 + b5) + (b6 + b7)));
    }

    public void Dispose()
    {
        if (_buffer != null)
        {
            NativeMemory.AlignedFree(_buffer);
            _buffer = null;
        }
    }
}
