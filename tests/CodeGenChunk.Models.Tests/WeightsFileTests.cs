using System;
using System.IO;
using CodeGenChunk.Formats;
using CodeGenChunk.Models.Tests.Generated;
using CodeGenChunk.Runtime;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Models.Tests;

/// <summary>A generated model refuses weights that are missing, cut, corrupt or packed for another manifest.</summary>
[TestClass]
public sealed class WeightsFileTests
{
    private static string WeightsBesideProgram => Path.Combine(AppContext.BaseDirectory, TinyFile.WeightsFileName);

    private static string TempCopy(Func<byte[], byte[]> change)
    {
        var path = Path.Combine(Path.GetTempPath(), "cgc-" + Guid.NewGuid().ToString("N") + ".cgcw");
        File.WriteAllBytes(path, change(File.ReadAllBytes(WeightsBesideProgram)));
        return path;
    }

    [TestMethod]
    public void File_placement_opens_the_file_beside_the_program()
    {
        Assert.IsTrue(File.Exists(WeightsBesideProgram), "the build copies the chunk file next to the test assembly");
        using var model = TinyFile.Open();
        Assert.AreEqual(TinyFile.WeightBytes, model.Weights.Length);
        Assert.IsFalse(model.Weights.IsMapped, "file placement reads the file into native memory");
    }

    [TestMethod]
    public void Missing_file_is_refused_with_its_path()
    {
        var path = Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "tiny.file.cgcw");
        var ex = Assert.ThrowsExactly<WeightFileException>(() => TinyFile.OpenFile(path));
        Assert.AreEqual(WeightFileProblem.NotFound, ex.Problem);
        Assert.Contains(path, ex.Message);
    }

    [TestMethod]
    [DataRow(10)]
    [DataRow(100)]
    [DataRow(300)]
    [DataRow(-1)]
    public void Truncated_file_is_refused(int keep)
    {
        var path = TempCopy(b => b.AsSpan(0, keep < 0 ? b.Length - 1 : keep).ToArray());
        try
        {
            var ex = Assert.ThrowsExactly<WeightFileException>(() => TinyFile.OpenFile(path));
            Assert.Contains(Path.GetFileName(path), ex.Message);
            Assert.IsTrue(ex.Problem is WeightFileProblem.TooShort or WeightFileProblem.LengthMismatch, ex.Problem.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void Bit_flip_in_every_entry_is_caught_by_its_checksum()
    {
        var original = File.ReadAllBytes(WeightsBesideProgram);
        for (var entry = 0; entry < TinyFile.WeightEntryCount; entry++)
        {
            var (offset, length) = ChunkFileValidator.GetEntry(original, entry);
            var flipped = (byte[])original.Clone();
            flipped[offset + (length / 2)] ^= 0x10;
            var ex = Assert.ThrowsExactly<WeightFileException>(() => TinyFile.FromBytes(flipped, "flipped.cgcw"));
            Assert.AreEqual(WeightFileProblem.ChecksumMismatch, ex.Problem, $"entry {entry}");
            Assert.Contains("flipped.cgcw", ex.Message);
        }
    }

    [TestMethod]
    public void Weights_packed_for_another_manifest_are_refused()
    {
        var other = OddF32.EmbeddedWeights.Bytes.ToArray();
        var ex = Assert.ThrowsExactly<WeightFileException>(() => TinyFile.FromBytes(other, "odd.f32.cgcw"));
        Assert.IsTrue(ex.Problem is WeightFileProblem.LayoutMismatch or WeightFileProblem.LengthMismatch, ex.Problem.ToString());
        Assert.Contains("odd.f32.cgcw", ex.Message);

        // Same length, different layout hash: the hash alone must refuse it.
        var sameLength = File.ReadAllBytes(WeightsBesideProgram);
        sameLength[8] ^= 0x01; // first byte of the layout hash (header checksum now wrong too)
        var ex2 = Assert.ThrowsExactly<WeightFileException>(() => TinyFile.FromBytes(sameLength, "edited.cgcw"));
        Assert.IsTrue(ex2.Problem is WeightFileProblem.HeaderCorrupt or WeightFileProblem.LayoutMismatch, ex2.Problem.ToString());
    }

    [TestMethod]
    public void A_model_refuses_a_weight_file_object_of_another_layout()
    {
        using var weights = WeightFile.FromBytes(OddF32.EmbeddedWeights.Bytes, "odd", OddF32.LayoutHash, OddF32.WeightBytes, OddF32.WeightEntryCount);
        Assert.ThrowsExactly<ArgumentException>(() => new OddInt8(weights));
    }

    [TestMethod]
    public void Embedded_weights_are_read_in_place()
    {
        var weights = OddInt8.EmbeddedWeights;
        Assert.IsTrue(weights.IsMapped, "embedded weights must be a view of the loaded image, not a copy");
        Assert.AreEqual(OddInt8.WeightBytes, weights.Length);
        Assert.AreSame(weights, OddInt8.EmbeddedWeights, "opened once per process");
    }
}
