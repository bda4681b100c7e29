using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using CodeGenChunk.Runtime;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Models.Tests;

/// <summary>Generated kernels against the plain reference, on every SIMD path and the scalar twin.</summary>
[TestClass]
public sealed class NumericsTests
{
    public static IEnumerable<object[]> ModelsAndPaths()
    {
        foreach (var name in ModelHarness.Names)
        {
            foreach (var path in new[] { KernelPath.Auto, KernelPath.Vector512, KernelPath.Vector256, KernelPath.Vector128, KernelPath.Scalar })
            {
                yield return new object[] { name, path };
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(ModelsAndPaths))]
    public void Matches_reference_forward_pass(string model, KernelPath path)
    {
        using var harness = ModelHarness.Create(model);
        harness.SetKernelPath(path);
        var reference = new ReferenceInterpreter(harness.ManifestPath);
        var output = new float[harness.OutputLength];
        for (var seed = 0; seed < 8; seed++)
        {
            var input = ModelHarness.RandomInput(harness.InputLength, seed);
            harness.RunModel(input, output);
            var expected = reference.Forward(input);
            var scale = 1f;
            foreach (var v in expected)
            {
                scale = MathF.Max(scale, MathF.Abs(v));
            }

            for (var i = 0; i < expected.Length; i++)
            {
                Assert.IsLessThanOrEqualTo(2e-5f * scale, MathF.Abs(output[i] - expected[i]), $"{model} on {path}, input {seed}, output {i}: {output[i]} vs reference {expected[i]}");
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(ModelNames))]
    public void Simd_and_scalar_paths_agree(string model)
    {
        using var simd = ModelHarness.Create(model);
        using var scalar = ModelHarness.Create(model);
        scalar.SetKernelPath(KernelPath.Scalar);
        var a = new float[simd.OutputLength];
        var b = new float[simd.OutputLength];
        var input = ModelHarness.RandomInput(simd.InputLength, 99);
        simd.RunModel(input, a);
        scalar.RunModel(input, b);
        for (var i = 0; i < a.Length; i++)
        {
            Assert.IsLessThanOrEqualTo(1e-4f * MathF.Max(1f, MathF.Abs(b[i])), MathF.Abs(a[i] - b[i]), $"{model} output {i}");
        }
    }

    public static IEnumerable<object[]> ModelNames()
    {
        foreach (var name in ModelHarness.Names)
        {
            yield return new object[] { name };
        }
    }

    [TestMethod]
    [DynamicData(nameof(ModelNames))]
    public void Run_allocates_nothing_after_the_first_call(string model)
    {
        using var harness = ModelHarness.Create(model);
        var input = ModelHarness.RandomInput(harness.InputLength, 1);
        var output = new float[harness.OutputLength];
        harness.RunModel(input, output);
        Assert.AreEqual(0L, Allocations.SteadyState(() =>
        {
            for (var i = 0; i < 200; i++)
            {
                harness.RunModel(input, output);
            }
        }), $"{model} allocated during Run");
    }

    [TestMethod]
    [DynamicData(nameof(ModelNames))]
    public void Separate_instances_run_in_parallel_with_the_same_results(string model)
    {
        const int Inputs = 64;
        var expected = new float[Inputs][];
        using (var single = ModelHarness.Create(model))
        {
            for (var k = 0; k < Inputs; k++)
            {
                expected[k] = new float[single.OutputLength];
                single.RunModel(ModelHarness.RandomInput(single.InputLength, k), expected[k]);
            }
        }

        var failures = 0;
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            using var mine = ModelHarness.Create(model);
            var output = new float[mine.OutputLength];
            for (var round = 0; round < 20; round++)
            {
                for (var k = t; k < Inputs; k += 4)
                {
                    mine.RunModel(ModelHarness.RandomInput(mine.InputLength, k), output);
                    if (!output.AsSpan().SequenceEqual(expected[k]))
                    {
                        System.Threading.Interlocked.Increment(ref failures);
                    }
                }
            }
        });
        Assert.AreEqual(0, failures, "outputs differed when instances ran on several threads");
    }

    [TestMethod]
    public void Wrong_lengths_are_refused()
    {
        using var model = new Generated.OddF32();
        Assert.ThrowsExactly<ArgumentException>(() => model.Run(new float[36], new float[5]));
        Assert.ThrowsExactly<ArgumentException>(() => model.Run(new float[37], new float[6]));
        Assert.ThrowsExactly<ArgumentException>(() => model.Run(new float[37], new float[5], new float[Generated.OddF32.ScratchFloats - 1]));
    }

    [TestMethod]
    public void Caller_provided_scratch_gives_the_same_result()
    {
        using var model = new Generated.WideMixed();
        var input = ModelHarness.RandomInput(Generated.WideMixed.InputLength, 5);
        var a = new float[Generated.WideMixed.OutputLength];
        var b = new float[Generated.WideMixed.OutputLength];
        model.Run(input, a);
        model.Run(input, b, new float[Generated.WideMixed.ScratchFloats]);
        CollectionAssert.AreEqual(a, b);
    }
}
