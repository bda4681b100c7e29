using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CodeGenChunk.Models.Tests.Generated;
using CodeGenChunk.Runtime;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Models.Tests;

/// <summary>
/// A float input writing the next layer's codes (docs/activations.md): generated models whose int8-weight layer reads a
/// float tensor in place (the model's input in actf.static, a float layer's output in actf.predicted) and writes the next
/// layer's u8 codes, against the reference interpreter on every kernel path, with clip counts, memory constants and no
/// allocations.
/// </summary>
[TestClass]
public sealed class FloatInputActivationTests
{
    public static IEnumerable<object[]> ModelsAndPaths =>
        from m in new[] { "actf.static", "actf.predicted" }
        from p in new[] { KernelPath.Scalar, KernelPath.Vector128, KernelPath.Vector256, KernelPath.Vector512 }
        select new object[] { m, p };

    [TestMethod]
    [DynamicData(nameof(ModelsAndPaths))]
    public void FloatInput_Model_MatchesReference(string name, KernelPath path)
    {
        using var model = FloatInModel.Create(name);
        model.SetPath(path);
        var reference = new ReferenceInterpreter(Path.Combine(AppContext.BaseDirectory, "Models", name + ".cgc.json"));
        var output = new float[model.OutputLength];
        var codeFlips = 0;
        for (var seed = 0; seed < 16; seed++)
        {
            var input = ModelHarness.RandomInput(model.InputLength, seed);
            model.Run(input, output);
            var expected = reference.Forward(input);
            var scale = 1f;
            foreach (var v in expected)
            {
                scale = MathF.Max(scale, MathF.Abs(v));
            }

            // as ActivationTests: the float sums of the model and the double sums of the reference can put a code on
            // either side of a rounding boundary, one step; more than two such inputs of 16 would be a fault
            var max = 0f;
            for (var i = 0; i < expected.Length; i++)
            {
                max = MathF.Max(max, MathF.Abs(output[i] - expected[i]));
            }

            if (max > 1e-4f * scale)
            {
                codeFlips++;
            }

            Assert.IsLessThanOrEqualTo(2e-2f * scale, max, $"{name} on {path}, input {seed}");
            var clipped = model.LastRunClipped;
            for (var l = 0; l < model.LayerNames.Length; l++)
            {
                var expectedClips = reference.LastClipped.TryGetValue(model.LayerNames[l], out var c) ? c : 0;
                Assert.AreEqual(expectedClips, clipped[l], 1, $"{name} on {path}, input {seed}: clipped inputs of '{model.LayerNames[l]}'");
            }
        }

        Assert.IsLessThanOrEqualTo(2, codeFlips, $"{name} on {path}: {codeFlips} of 16 inputs off by more than float rounding");
    }

    [TestMethod]
    [DataRow("actf.static")]
    [DataRow("actf.predicted")]
    public void FloatInput_CountsClips_OfTheLayersItWritesFor(string name)
    {
        // actf.static's b range [0, 0.25] is narrow for a's outputs, and predicted spans z = 1.5: b clips, counted where a
        // writes b's codes; a itself reads floats and never clips
        using var model = FloatInModel.Create(name);
        var output = new float[model.OutputLength];
        var sums = new long[model.LayerNames.Length];
        for (var seed = 0; seed < 5; seed++)
        {
            model.Run(ModelHarness.RandomInput(model.InputLength, seed), output);
            for (var l = 0; l < sums.Length; l++)
            {
                sums[l] += model.LastRunClipped[l];
            }
        }

        CollectionAssert.AreEqual(sums, model.ClipCounts);
        var a = Array.IndexOf(model.LayerNames, "a");
        Assert.AreEqual(0, sums[a], "a reads floats");
        Assert.IsGreaterThan(0, sums[a + 1], "b's inputs clip");
    }

    [TestMethod]
    public void FloatInput_Memory_NoInputCodesNoFloatOutput()
    {
        // actf.static: a's 66 output codes (slot 0) and b's 37 (slot 1, at 128); no codes of the 200 inputs, no floats
        Assert.AreEqual(0, Runtime(ActFStatic.ScratchFloats));
        Assert.AreEqual(128 + 37, Runtime(ActFStatic.QuantizedActivationBytes));
        Assert.AreEqual(Runtime(ActFStatic.QuantizedActivationBytes), Runtime(ActFStatic.IntermediateBytes));

        // with f32 activations a's 66 and b's 37 outputs are floats (80 and 48 floats with their alignment)
        Assert.AreEqual(4 * (80 + 48), Runtime(ActFStatic.FloatIntermediateBytes));
        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, ActFStatic.ActivationLayerNames);

        // actf.predicted: p's 83 output floats stay (a reads them in place; 96 with their alignment), then the codes
        Assert.AreEqual(96, Runtime(ActFPredicted.ScratchFloats));
        Assert.AreEqual(128 + 37, Runtime(ActFPredicted.QuantizedActivationBytes));
        Assert.AreEqual((4 * 96) + 128 + 37, Runtime(ActFPredicted.IntermediateBytes));
        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, ActFPredicted.ActivationLayerNames);
    }

    /// <summary>A generated constant, read as a value (the assertions compare what the generator computed).</summary>
    private static T Runtime<T>(T value) => value;

    [TestMethod]
    public void FloatInput_Models_AllocateNothing()
    {
        foreach (var name in new[] { "actf.static", "actf.predicted" })
        {
            foreach (var path in new[] { KernelPath.Scalar, KernelPath.Vector128, KernelPath.Vector256, KernelPath.Vector512 })
            {
                using var model = FloatInModel.Create(name);
                model.SetPath(path);
                var input = ModelHarness.RandomInput(model.InputLength, 3);
                var output = new float[model.OutputLength];
                model.Run(input, output);
                Assert.AreEqual(0L, Allocations.SteadyState(() =>
                {
                    for (var k = 0; k < 20; k++)
                    {
                        model.Run(input, output);
                    }
                }), $"{name} on {path}");
            }
        }
    }

    /// <summary>The two generated models behind one face.</summary>
    private sealed class FloatInModel : IDisposable
    {
        private readonly ActFStatic? _static;
        private readonly ActFPredicted? _predicted;

        private FloatInModel(ActFStatic? s, ActFPredicted? p)
        {
            _static = s;
            _predicted = p;
        }

        public int InputLength => _static is not null ? ActFStatic.InputLength : ActFPredicted.InputLength;

        public int OutputLength => _static is not null ? ActFStatic.OutputLength : ActFPredicted.OutputLength;

        public string[] LayerNames => _static is not null ? ActFStatic.ActivationLayerNames : ActFPredicted.ActivationLayerNames;

        public long[] ClipCounts => _static is not null ? _static.ClipCounts.ToArray() : _predicted!.ClipCounts.ToArray();

        public int[] LastRunClipped => _static is not null ? _static.LastRunClipped.ToArray() : _predicted!.LastRunClipped.ToArray();

        public static FloatInModel Create(string name) => name switch
        {
            "actf.static" => new FloatInModel(new ActFStatic(), null),
            "actf.predicted" => new FloatInModel(null, new ActFPredicted()),
            _ => throw new ArgumentException(name),
        };

        public void SetPath(KernelPath path)
        {
            if (_static is not null)
            {
                _static.KernelPath = path;
            }
            else
            {
                _predicted!.KernelPath = path;
            }
        }

        public void Run(float[] input, float[] output)
        {
            if (_static is not null)
            {
                _static.Run(input, output);
            }
            else
            {
                _predicted!.Run(input, output);
            }
        }

        public void Dispose()
        {
            _static?.Dispose();
            _predicted?.Dispose();
        }
    }
}
