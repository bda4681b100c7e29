using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using CodeGenChunk.Formats;
using Microsoft.Win32.SafeHandles;

namespace CodeGenChunk.Runtime;

/// <summary>
/// A chunk file (<c>.cgcw</c>) kept on disk and read piece by piece with <see cref="RandomAccess.Read(SafeFileHandle, Span{byte}, long)"/>:
/// the weights of "stream" placement. <see cref="Open"/> verifies the whole file (header, layout hash, entry table,
/// every entry's checksum) block by block through a 64 KiB buffer, so the file is never held in memory; afterwards
/// <see cref="Read"/> copies the bytes a kernel needs into the caller's span and allocates nothing.
/// </summary>
/// <remarks>
/// Reads are positional, so one <see cref="WeightStream"/> may serve several models, each on its own thread. A file
/// that is truncated or fails to read after opening makes <see cref="Read"/> throw <see cref="WeightFileException"/>
/// (<see cref="WeightFileProblem.ReadFailed"/>): an inference never computes with bytes it did not read.
/// </remarks>
public sealed class WeightStream : IDisposable
{
    private const int VerifyBufferBytes = 64 * 1024;

    private SafeFileHandle? _handle;

    private WeightStream(SafeFileHandle handle, string name, long length, ulong layoutHash, int entryCount)
    {
        _handle = handle;
        Name = name;
        Length = length;
        LayoutHash = layoutHash;
        EntryCount = entryCount;
    }

    /// <summary>The full path of the file.</summary>
    public string Name { get; }

    /// <summary>Length of the file in bytes (when it was opened).</summary>
    public long Length { get; }

    /// <summary>The layout hash the file was validated against (and carries).</summary>
    public ulong LayoutHash { get; }

    /// <summary>Number of entries in the file.</summary>
    public int EntryCount { get; }

    /// <summary>Whether <see cref="Dispose"/> has been called.</summary>
    public bool IsDisposed => Volatile.Read(ref _handle) is null;

    /// <summary>Opens a chunk file for streaming and verifies it against the model's layout.</summary>
    /// <param name="path">Path of the file.</param>
    /// <param name="layoutHash">The model's layout hash.</param>
    /// <param name="fileLength">The file length the model's layout needs.</param>
    /// <param name="entryCount">The number of entries the model's layout has.</param>
    /// <param name="entryNames">Optional entry names, used in messages.</param>
    /// <exception cref="WeightFileException">The file is missing (<see cref="WeightFileProblem.NotFound"/>, with its full
    /// path), cannot be read (<see cref="WeightFileProblem.ReadFailed"/>) or is not valid for the layout (layout hash,
    /// length, checksums: the problem says which).</exception>
    public static WeightStream Open(string path, ulong layoutHash, long fileLength, int entryCount, IReadOnlyList<string>? entryNames = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new WeightFileException(fullPath, WeightFileProblem.NotFound,
                "not found: there is no file at this path — build the model's weights or copy the file there", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WeightFileException(fullPath, WeightFileProblem.ReadFailed, "cannot open it: " + e.Message, e);
        }

        try
        {
            long length = RandomAccess.GetLength(handle);
            ChunkFileValidator.Validate(
                (offset, destination) => RandomAccess.Read(handle, destination, offset),
                length,
                new byte[VerifyBufferBytes],
                fullPath,
                layoutHash,
                fileLength,
                entryCount,
                entryNames);
            return new WeightStream(handle, fullPath, length, layoutHash, entryCount);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not WeightFileException)
        {
            handle.Dispose();
            throw new WeightFileException(fullPath, WeightFileProblem.ReadFailed, "reading failed: " + e.Message, e);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Fills <paramref name="destination"/> with the file's bytes from <paramref name="offset"/>. Allocates nothing.</summary>
    /// <exception cref="WeightFileException">The read failed, or the file ended early (it was truncated after opening).</exception>
    /// <exception cref="ObjectDisposedException">The stream has been disposed.</exception>
    public void Read(long offset, Span<byte> destination)
    {
        SafeFileHandle? handle = Volatile.Read(ref _handle);
        ObjectDisposedException.ThrowIf(handle is null, this);
        int done = 0;
        while (done < destination.Length)
        {
            int read;
            try
            {
                read = RandomAccess.Read(handle, destination.Slice(done), offset + done);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw ReadFailed(offset, destination.Length, "the read failed: " + e.Message, e);
            }

            if (read <= 0)
            {
                throw ReadFailed(offset, destination.Length, "the file ends at " + N(offset + done) + " bytes — it was truncated or replaced after it was opened; copy it again and reopen the model", null);
            }

            done += read;
        }
    }

    /// <summary>Closes the file. Idempotent.</summary>
    public void Dispose() => Interlocked.Exchange(ref _handle, null)?.Dispose();

    private WeightFileException ReadFailed(long offset, int length, string detail, Exception? inner) =>
        new(Name, WeightFileProblem.ReadFailed, "reading " + N(length) + " bytes at offset " + N(offset) + " failed: " + detail, inner);

    private static string N(long value) => value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
}
