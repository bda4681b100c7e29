using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Threading;
using CodeGenChunk.Formats;
using Microsoft.Win32.SafeHandles;

namespace CodeGenChunk.Runtime;

/// <summary>
/// The bytes of a validated chunk file (<c>.cgcw</c>), held in place: an embedded resource is used where the
/// loaded image holds it (no copy), a file on disk is read once into 64-byte-aligned native memory. Every
/// factory validates the file against the model's layout before returning. Reading <see cref="Bytes"/>,
/// <see cref="Pointer"/> or <see cref="GetEntry"/> allocates nothing.
/// </summary>
/// <remarks>
/// Spans taken from <see cref="Bytes"/> must not be used after <see cref="Dispose"/>. The address of an
/// embedded resource is not 64-byte aligned; kernels must use unaligned loads.
/// </remarks>
public sealed unsafe class WeightFile : IDisposable
{
    /// <summary>Alignment of the native memory this class allocates.</summary>
    public const int MemoryAlignment = ChunkFileLayout.Alignment;

    private readonly long _length;
    private readonly bool _ownsMemory;
    private Stream? _stream;
    private nint _address;

    private WeightFile(byte* pointer, long length, bool ownsMemory, Stream? stream, string name, ulong layoutHash, int entryCount)
    {
        _address = (nint)pointer;
        _length = length;
        _ownsMemory = ownsMemory;
        _stream = stream;
        Name = name;
        LayoutHash = layoutHash;
        EntryCount = entryCount;
        if (!ownsMemory)
        {
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>Frees the native memory if <see cref="Dispose"/> was not called.</summary>
    ~WeightFile()
    {
        Release(disposing: false);
    }

    /// <summary>The path (full) or embedded resource name the bytes came from.</summary>
    public string Name { get; }

    /// <summary>Length of the file in bytes.</summary>
    public long Length => _length;

    /// <summary>The layout hash the file was validated against (and carries).</summary>
    public ulong LayoutHash { get; }

    /// <summary>Number of entries in the file.</summary>
    public int EntryCount { get; }

    /// <summary>
    /// True when the bytes are the embedded resource in place in the loaded image (the resource stream was an
    /// <see cref="UnmanagedMemoryStream"/>); false when they were copied into native memory.
    /// </summary>
    public bool IsMapped => !_ownsMemory;

    /// <summary>Whether <see cref="Dispose"/> has been called.</summary>
    public bool IsDisposed => Volatile.Read(ref _address) == 0;

    /// <summary>The whole file.</summary>
    /// <exception cref="ObjectDisposedException">The file has been disposed.</exception>
    public ReadOnlySpan<byte> Bytes => new(Pointer, (int)_length);

    /// <summary>Address of the first byte of the file.</summary>
    /// <exception cref="ObjectDisposedException">The file has been disposed.</exception>
    public byte* Pointer
    {
        get
        {
            nint address = _address;
            ObjectDisposedException.ThrowIf(address == 0, this);
            return (byte*)address;
        }
    }

    /// <summary>Reference to the first byte of the file, for <c>Unsafe.Add</c>-style access.</summary>
    /// <exception cref="ObjectDisposedException">The file has been disposed.</exception>
    public ref readonly byte Start => ref *Pointer;

    /// <summary>Opens a chunk file embedded in <paramref name="assembly"/>, in place when the runtime maps it.</summary>
    /// <param name="assembly">The assembly holding the resource.</param>
    /// <param name="resourceName">The manifest resource name.</param>
    /// <param name="layoutHash">The model's layout hash.</param>
    /// <param name="fileLength">The file length the model's layout needs.</param>
    /// <param name="entryCount">The number of entries the model's layout has.</param>
    /// <param name="entryNames">Optional entry names, used in messages.</param>
    /// <exception cref="WeightFileException">The resource is missing (<see cref="WeightFileProblem.NotFound"/>, listing the
    /// assembly's resources) or not a valid file for the layout.</exception>
    public static WeightFile OpenEmbedded(Assembly assembly, string resourceName, ulong layoutHash, long fileLength, int entryCount, IReadOnlyList<string>? entryNames = null)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentNullException.ThrowIfNull(resourceName);

        Stream? stream = assembly.GetManifestResourceStream(resourceName);
        if (stream is null)
        {
            string[] names = assembly.GetManifestResourceNames();
            Array.Sort(names, StringComparer.Ordinal);
            throw new WeightFileException(resourceName, WeightFileProblem.NotFound,
                "no embedded resource of that name in assembly '" + assembly.GetName().Name + "'; its resources are: "
                + (names.Length == 0 ? "(none)" : "'" + string.Join("', '", names) + "'")
                + " — check the resource name or the EmbeddedResource item");
        }

        if (stream is UnmanagedMemoryStream mapped)
        {
            try
            {
                long length = mapped.Length - mapped.Position;
                CheckSize(resourceName, length, fileLength);
                byte* pointer = mapped.PositionPointer;
                ChunkFileValidator.Validate(new ReadOnlySpan<byte>(pointer, (int)length), resourceName, layoutHash, fileLength, entryCount, verifyChecksums: true, entryNames);
                return new WeightFile(pointer, length, ownsMemory: false, mapped, resourceName, layoutHash, entryCount);
            }
            catch
            {
                mapped.Dispose();
                throw;
            }
        }

        using (stream)
        {
            return CopyStream(stream, resourceName, layoutHash, fileLength, entryCount, entryNames);
        }
    }

    /// <summary>Reads a chunk file from disk into 64-byte-aligned native memory.</summary>
    /// <param name="path">Path of the file.</param>
    /// <param name="layoutHash">The model's layout hash.</param>
    /// <param name="fileLength">The file length the model's layout needs.</param>
    /// <param name="entryCount">The number of entries the model's layout has.</param>
    /// <param name="entryNames">Optional entry names, used in messages.</param>
    /// <exception cref="WeightFileException">The file is missing (<see cref="WeightFileProblem.NotFound"/>, with its full
    /// path), cannot be read (<see cref="WeightFileProblem.ReadFailed"/>) or is not valid for the layout.</exception>
    public static WeightFile OpenFile(string path, ulong layoutHash, long fileLength, int entryCount, IReadOnlyList<string>? entryNames = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw NotFound(fullPath, null);
        }

        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw NotFound(fullPath, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ReadFailed(fullPath, "cannot open it: " + e.Message, e);
        }

        byte* memory = null;
        long length;
        using (handle)
        {
            try
            {
                length = RandomAccess.GetLength(handle);
                CheckSize(fullPath, length, fileLength);
                memory = Allocate(length);
                long done = 0;
                while (done < length)
                {
                    int read = RandomAccess.Read(handle, new Span<byte>(memory + done, (int)(length - done)), done);
                    if (read == 0)
                    {
                        throw ReadFailed(fullPath,
                            "the file shrank from " + N(length) + " to " + N(done) + " bytes while being read — is it being written? copy it again",
                            null);
                    }

                    done += read;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not WeightFileException)
            {
                NativeMemory.AlignedFree(memory);
                throw ReadFailed(fullPath, "reading failed: " + e.Message, e);
            }
            catch
            {
                NativeMemory.AlignedFree(memory);
                throw;
            }
        }

        return ValidateOwned(memory, length, fullPath, layoutHash, fileLength, entryCount, entryNames);
    }

    /// <summary>Copies <paramref name="bytes"/> into 64-byte-aligned native memory and validates them.</summary>
    /// <param name="bytes">The whole chunk file.</param>
    /// <param name="name">Name used in messages and <see cref="Name"/>.</param>
    /// <param name="layoutHash">The model's layout hash.</param>
    /// <param name="fileLength">The file length the model's layout needs.</param>
    /// <param name="entryCount">The number of entries the model's layout has.</param>
    /// <param name="entryNames">Optional entry names, used in messages.</param>
    /// <exception cref="WeightFileException">The bytes are not a valid file for the layout.</exception>
    public static WeightFile FromBytes(ReadOnlySpan<byte> bytes, string name, ulong layoutHash, long fileLength, int entryCount, IReadOnlyList<string>? entryNames = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        byte* memory = Allocate(bytes.Length);
        bytes.CopyTo(new Span<byte>(memory, bytes.Length));
        return ValidateOwned(memory, bytes.Length, name, layoutHash, fileLength, entryCount, entryNames);
    }

    /// <summary>The data of entry <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not an entry of the file.</exception>
    /// <exception cref="ObjectDisposedException">The file has been disposed.</exception>
    public ReadOnlySpan<byte> GetEntry(int index)
    {
        ReadOnlySpan<byte> bytes = Bytes;
        (long offset, long length) = ChunkFileValidator.GetEntry(bytes, index);
        return bytes.Slice((int)offset, (int)length);
    }

    /// <summary>Releases the native memory (or the resource stream). Idempotent.</summary>
    public void Dispose()
    {
        Release(disposing: true);
        GC.SuppressFinalize(this);
    }

    private void Release(bool disposing)
    {
        nint address = Interlocked.Exchange(ref _address, 0);
        if (address != 0 && _ownsMemory)
        {
            NativeMemory.AlignedFree((void*)address);
        }

        if (disposing)
        {
            Interlocked.Exchange(ref _stream, null)?.Dispose();
        }
    }

    private static WeightFile CopyStream(Stream stream, string name, ulong layoutHash, long fileLength, int entryCount, IReadOnlyList<string>? entryNames)
    {
        byte* memory = null;
        long length;
        try
        {
            if (stream.CanSeek)
            {
                length = stream.Length - stream.Position;
                CheckSize(name, length, fileLength);
                memory = Allocate(length);
                stream.ReadExactly(new Span<byte>(memory, (int)length));
            }
            else
            {
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                length = buffer.Length;
                CheckSize(name, length, fileLength);
                memory = Allocate(length);
                buffer.GetBuffer().AsSpan(0, (int)length).CopyTo(new Span<byte>(memory, (int)length));
            }
        }
        catch (Exception e) when (e is IOException && e is not WeightFileException)
        {
            NativeMemory.AlignedFree(memory);
            throw ReadFailed(name, "reading the resource failed: " + e.Message, e);
        }
        catch
        {
            NativeMemory.AlignedFree(memory);
            throw;
        }

        return ValidateOwned(memory, length, name, layoutHash, fileLength, entryCount, entryNames);
    }

    private static WeightFile ValidateOwned(byte* memory, long length, string name, ulong layoutHash, long fileLength, int entryCount, IReadOnlyList<string>? entryNames)
    {
        try
        {
            ChunkFileValidator.Validate(new ReadOnlySpan<byte>(memory, (int)length), name, layoutHash, fileLength, entryCount, verifyChecksums: true, entryNames);
            return new WeightFile(memory, length, ownsMemory: true, stream: null, name, layoutHash, entryCount);
        }
        catch
        {
            NativeMemory.AlignedFree(memory);
            throw;
        }
    }

    private static byte* Allocate(long length) =>
        (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(length, 1), MemoryAlignment);

    /// <summary>Files are addressed by <see cref="ReadOnlySpan{T}"/>: at most <see cref="int.MaxValue"/> bytes.</summary>
    private static void CheckSize(string name, long length, long expectedLength)
    {
        if (length > int.MaxValue)
        {
            throw new WeightFileException(name, WeightFileProblem.LengthMismatch,
                "the file is " + N(length) + " bytes, the model's layout needs " + N(expectedLength)
                + " and at most " + N(int.MaxValue) + " bytes are supported");
        }
    }

    private static WeightFileException NotFound(string fullPath, Exception? inner) =>
        new(fullPath, WeightFileProblem.NotFound,
            "not found: there is no file at this path — build the model's weights or copy the file there", inner);

    private static WeightFileException ReadFailed(string name, string detail, Exception? inner) =>
        new(name, WeightFileProblem.ReadFailed, detail, inner);

    private static string N(long value) => value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
}
