using System;
using CodeGenChunk.Formats;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>Deterministic test inputs and shared assertions.</summary>
internal static class TestData
{
    public static ReadOnlyMemory<byte>[] RandomEntries(int seed, params int[] lengths)
    {
        var random = new Random(seed);
        var entries = new ReadOnlyMemory<byte>[lengths.Length];
        for (int i = 0; i < lengths.Length; i++)
        {
            byte[] data = new byte[lengths[i]];
            random.NextBytes(data);
            entries[i] = data;
        }

        return entries;
    }

    public static long[] Lengths(ReadOnlyMemory<byte>[] entries) => Array.ConvertAll(entries, e => (long)e.Length);

    /// <summary>Validates <paramref name="file"/> against the tiny fixture's expectations and returns the failure.</summary>
    public static WeightFileException ExpectTinyProblem(byte[] file, WeightFileProblem problem, string fileName = "tiny.cgcw")
    {
        long expectedLength = TestFixtures.FileLength(TestFixtures.TinyLengths);
        WeightFileException e = Assert.ThrowsExactly<WeightFileException>(() => ChunkFileValidator.Validate(
            file, fileName, TestFixtures.TinyLayoutHash, expectedLength, TestFixtures.TinyLengths.Length, verifyChecksums: true, TestFixtures.TinyNames));
        AssertProblem(e, problem, fileName);
        return e;
    }

    public static void AssertProblem(WeightFileException e, WeightFileProblem problem, string fileName)
    {
        Assert.AreEqual(problem, e.Problem, e.Message);
        Assert.AreEqual(fileName, e.FileName);
        Assert.StartsWith("Weights file '" + fileName + "': ", e.Message);
    }

    /// <summary>Runs the validator on arbitrary bytes: it may only succeed or throw <see cref="WeightFileException"/>.</summary>
    public static WeightFileException? ValidateAnything(byte[] file, ulong layoutHash, long expectedLength, int expectedEntries)
    {
        try
        {
            ChunkFileValidator.Validate(file, "any.cgcw", layoutHash, expectedLength, expectedEntries);
            return null;
        }
        catch (WeightFileException e)
        {
            Assert.StartsWith("Weights file 'any.cgcw': ", e.Message);
            return e;
        }
        catch (Exception e)
        {
            Assert.Fail("Expected only WeightFileException, got " + e.GetType().Name + ": " + e);
            throw;
        }
    }
}
