using System;
using System.Collections.Generic;
using CodeGenChunk.Formats;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>
/// <see cref="ChunkFileValidator.Validate(ChunkFileValidator.ReadAt, long, Span{byte}, string, ulong, long, int, IReadOnlyList{string})"/>
/// (stream placement: the file is verified through a small buffer, never held whole) must judge every file exactly as
/// the in-memory validator does: same problem, same message.
/// </summary>
[TestClass]
public sealed class StreamedValidationTests
{
    private static readonly long TinyLength = TestFixtures.FileLength(TestFixtures.TinyLengths);

    [TestMethod]
    [DataRow(1)]
    [DataRow(7)]
    [DataRow(64)]
    [DataRow(65536)]
    public void Every_bit_flip_truncation_and_extension_is_judged_as_in_memory(int bufferBytes)
    {
        var good = TestFixtures.TinyBytes();
        var variants = new List<byte[]> { good };
        for (var bit = 0; bit < good.Length * 8; bit++)
        {
            var flipped = (byte[])good.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            variants.Add(flipped);
        }

        for (var cut = 0; cut < good.Length; cut++)
        {
            variants.Add(good[..cut]);
        }

        foreach (var extra in new[] { 1, 64, 1000 })
        {
            var extended = new byte[good.Length + extra];
            good.CopyTo(extended, 0);
            variants.Add(extended);
        }

        var failures = 0;
        foreach (var file in variants)
        {
            var inMemory = Judge(() => ChunkFileValidator.Validate(file, "tiny.cgcw", TestFixtures.TinyLayoutHash, TinyLength, 4, true, TestFixtures.TinyNames));
            var streamed = Judge(() => ChunkFileValidator.Validate(
                (offset, destination) => ReadAt(file, offset, destination),
                file.Length,
                new byte[bufferBytes],
                "tiny.cgcw",
                TestFixtures.TinyLayoutHash,
                TinyLength,
                4,
                TestFixtures.TinyNames));
            Assert.AreEqual(inMemory, streamed, $"file of {file.Length} bytes");
            failures += inMemory.Length > 0 ? 1 : 0;
        }

        Assert.AreEqual(variants.Count - 1, failures, "every variant but the good file is refused");
    }

    [TestMethod]
    public void A_file_that_shrinks_while_verified_is_a_read_failure()
    {
        var good = TestFixtures.TinyBytes();
        var e = Assert.ThrowsExactly<WeightFileException>(() => ChunkFileValidator.Validate(
            (offset, destination) => ReadAt(good.AsSpan(0, 300).ToArray(), offset, destination),
            good.Length,
            new byte[64],
            "tiny.cgcw",
            TestFixtures.TinyLayoutHash,
            TinyLength,
            4));
        Assert.AreEqual(WeightFileProblem.ReadFailed, e.Problem);
        Assert.Contains("the file ended at 300 bytes while being verified", e.Message);
    }

    private static int ReadAt(byte[] file, long offset, Span<byte> destination)
    {
        if (offset >= file.Length)
        {
            return 0;
        }

        // Short reads on purpose: at most 5 bytes at a time.
        var n = (int)Math.Min(Math.Min(destination.Length, 5), file.Length - offset);
        file.AsSpan((int)offset, n).CopyTo(destination);
        return n;
    }

    private static string Judge(Action validate)
    {
        try
        {
            validate();
            return string.Empty;
        }
        catch (WeightFileException e)
        {
            return e.Problem + ": " + e.Message;
        }
    }
}
