using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CodeGenChunk.Models.Tests.Generated;
using CodeGenChunk.Runtime;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Models.Tests;

/// <summary>
/// Generated models with int8 activations (docs/activations.md), on int8 weights (act.*), int4 weights (act4.*), ternary weights (act3.*) and base11 weights (act11.*), against the reference interpreter, which implements the
/// same quantization from the documentation: on every kernel path, with clip counts, without allocations.
/// </summary>
[TestClass]
public sealed class ActivationTests
{
    /// <summary>int8 weights (act.*), int4 weights (act4.*), ternary weights (act3.*) and base11 weights (act11.*) with int8 activations; int16 activations (act16.*).</summary>
    public static readonly string[] AllModels = { "act.dynamic", "act.static", "act.predicted", "act.chain", "act4.dynamic", "act4.static", "act4.predicted", "act3.dynamic", "act3.predicted", "act11.dynamic", "act11.static", "act11.predicted", "convact.dynamic", "convact.static", "convact.predicted", "convact11.dynamic", "convact11.static", "convact11.predicted", "act16.dynamic", "act16.static", "act16.predicted", "act16.mixed" };

    public static IEnumerable<object[]> ModelsAndPaths =>
        from m in AllModels
        from p in new[] { KernelPath.Scalar, KernelPath.Vector128, KernelPath.Vector256, KernelPath.Vector512 }
        select new object[] { m, p };

    [TestMethod]
    [DynamicData(nameof(ModelsAndPaths))]
    public void Activation_Model_MatchesReference(string name, KernelPath path)
    {
        using var model = ActModel.Create(name);
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

            // The model and the reference quantize the same values with the same rules, but the model's float sums
            // may land on the other side of a rounding boundary than the reference's double sums: such a code differs by
            // one step, which moves an output by at most about one input step times the row's weights. On x64 every input of
            // every model and path matches to 1e-4 (no flip); the bounds allow a rare flip on other machines.
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
    public void Activation_StaticAndPredicted_CountClips()
    {
        // act.static's ranges are narrow on purpose ([-0.8, 0.8] for inputs in [-2, 2]; [0, 0.25], [0, 0.2] inside),
        // act.predicted spans only z = 1.5 standard deviations: both clip, and the counters add up run by run.
        foreach (var name in new[] { "act.static", "act.predicted", "act4.static", "act4.predicted", "act3.predicted", "act11.static", "act11.predicted", "convact.static", "convact.predicted", "convact11.static", "convact11.predicted", "act16.static", "act16.predicted" })
        {
            using var model = ActModel.Create(name);
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

            CollectionAssert.AreEqual(sums, model.ClipCounts.ToArray(), name);
            Assert.IsTrue(sums.Skip(1).Any(s => s > 0), $"{name}: the inner layers clip");
            if (name.EndsWith(".static", StringComparison.Ordinal))
            {
                Assert.IsTrue(sums[0] > 0, "the input clips at [-0.8, 0.8]");
            }
            else
            {
                Assert.AreEqual(0, sums[0], $"the first layer of {name} quantizes at its input's own range");
            }

            model.ResetClipCounts();
            Assert.IsTrue(model.ClipCounts.ToArray().All(c => c == 0));
        }
    }

    [TestMethod]
    public void Activation_Memory_QuantizedIntermediatesSmaller()
    {
        // act.predicted: the inner outputs exist only as u8 codes, in two regions (the 200 input codes; the 66 and
        // then 37 codes); with f32 activations the inner outputs are 66 + 37 floats
        var scratch = Runtime(ActPredicted.ScratchFloats);
        Assert.AreEqual(0, scratch);
        Assert.AreEqual(256 + 66, Runtime(ActPredicted.QuantizedActivationBytes));
        Assert.AreEqual(Runtime(ActPredicted.ScratchBytes) + Runtime(ActPredicted.QuantizedActivationBytes), Runtime(ActPredicted.IntermediateBytes));
        Assert.IsGreaterThanOrEqualTo(4 * (64 + 48), Runtime(ActPredicted.FloatIntermediateBytes));
        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, ActPredicted.ActivationLayerNames);
        Assert.AreEqual(3, Runtime(ActStatic.ActivationLayerCount));

        // act.dynamic writes floats between its layers: its scratch stays
        Assert.IsGreaterThan(0, Runtime(ActDynamic.ScratchFloats));
    }

    [TestMethod]
    public void Activation16_Memory_CodesTwoBytesEach()
    {
        // act16.predicted: the inner outputs exist only as int16 codes, two bytes each, in two slots: the 600 input codes
        // (1,200 bytes, then b's 37 codes in the same slot) and a's 66 codes (132 bytes) in the next 64-byte-aligned slot
        Assert.AreEqual(0, Runtime(Act16Predicted.ScratchFloats));
        Assert.AreEqual(1216 + (2 * 66), Runtime(Act16Predicted.QuantizedActivationBytes));
        Assert.AreEqual(Runtime(Act16Predicted.QuantizedActivationBytes), Runtime(Act16Predicted.IntermediateBytes));
        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, Act16Predicted.ActivationLayerNames);

        // act16.static has act.static's shapes: twice its code bytes, up to the slot alignment (448 + 132 against 256 + 66)
        Assert.AreEqual(448 + (2 * 66), Runtime(Act16Static.QuantizedActivationBytes));
        Assert.AreEqual(256 + 66, Runtime(ActStatic.QuantizedActivationBytes));
        Assert.AreEqual(0, Runtime(Act16Static.ScratchFloats));

        // act16.mixed: int16 codes between a and b (150 input codes, then 80), floats at the int16 / int8 boundaries (b's
        // 60 outputs, then d's 30 in the same float slot of 64), u8 codes between c and d; code slots: a's input (300
        // bytes, later c's 60 codes), a's output (160 bytes, later d's 40 codes), then e's 30 input codes (60 bytes)
        Assert.AreEqual(4 * 64, Runtime(Act16Mixed.ScratchBytes));
        Assert.AreEqual(320 + 160, Runtime(Act16Mixed.QuantizedActivationBytes));
        CollectionAssert.AreEqual(new[] { "a", "b", "c", "d", "e" }, Act16Mixed.ActivationLayerNames);
    }

    [TestMethod]
    public void Activation_Base11_DigitMajorScratchCounted()
    {
        // act11.predicted: each base11 step's digit-major copy of its input codes (9 runs of the group's words rounded up
        // to 16, per group) and its group sums (4 bytes per group) are a code tensor live only while the step runs, after
        // its input's codes in their slot. Slot 0: the 200 input codes (256 aligned) + 'a''s scratch 2 · 144 + 8 = 296,
        // later the 37 codes of 'c' (64) + 'c''s scratch 3 · 144 + 12 = 444; slot 1 at 576: the 66 codes of 'b' (128)
        // + 'b''s scratch 144 + 4 = 148
        Assert.AreEqual(576 + 128 + 148, Runtime(Act11Predicted.QuantizedActivationBytes));
        Assert.AreEqual(0, Runtime(Act11Predicted.ScratchFloats));
        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, Act11Predicted.ActivationLayerNames);
    }

    [TestMethod]
    public void Activation_ResidualStreamInCodes_NoFloatIntermediates()
    {
        // act.chain (3 blocks of 90 -> 90 -> 90 with a residual, LayerNorms on codes): no float scratch at all; three
        // code slots (block input and residual, the inner ping-pong, the last layer's output), each 64-byte aligned,
        // and the residual's 2-bit refinement plane (23 bytes for 90 values)
        Assert.AreEqual(0, Runtime(ActChain.ScratchFloats));
        Assert.AreEqual(128 + 128 + 90 + 23, Runtime(ActChain.QuantizedActivationBytes));
        Assert.AreEqual(Runtime(ActChain.QuantizedActivationBytes), Runtime(ActChain.IntermediateBytes));
        Assert.IsGreaterThanOrEqualTo(4 * 2 * 90, Runtime(ActChain.FloatIntermediateBytes));
        CollectionAssert.AreEqual(new[] { "a0", "a1", "ln0", "b0", "b1", "ln1", "c0", "c1" }, ActChain.ActivationLayerNames);

        // the LayerNorms' inputs (the residual sums) clip at z = 2 and 3 now and then; their outputs and the first
        // layers of the blocks never clip (exact ranges)
        using var model = new ActChain();
        var output = new float[ActChain.OutputLength];
        for (var seed = 0; seed < 8; seed++)
        {
            model.Run(ModelHarness.RandomInput(ActChain.InputLength, seed), output);
            Assert.AreEqual(0, model.LastRunClipped[0]);
            Assert.AreEqual(0, model.LastRunClipped[3]);
            Assert.AreEqual(0, model.LastRunClipped[6]);
        }
    }

    [TestMethod]
    public void Activation_ConvMemory_CodesInTwoRegionsAndTheConvScratch()
    {
        // convact.predicted, liveness slots: slot 0 holds the 494 input codes and after them (at 512) conv a's scratch:
        // tap offsets (18 · 4 → 128 bytes), its input bordered to 2 x 15 x 21 (630), 64 bytes of slack; later conv b's
        // 240 output codes (pooled in place to 48). Slot 1, at 1,344: conv a's 1,235 output codes, pooled in place to
        // 270 (conv b's input), after them at 320 conv b's scratch (320 + 420 + 64)
        Assert.AreEqual(0, Runtime(ConvActPredicted.ScratchFloats));
        Assert.AreEqual(1344 + 1235, Runtime(ConvActPredicted.QuantizedActivationBytes));
        Assert.AreEqual(Runtime(ConvActPredicted.QuantizedActivationBytes), Runtime(ConvActPredicted.IntermediateBytes));
        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, ConvActPredicted.ActivationLayerNames);

        // with f32 activations the conv outputs are floats (conv a's 1,235 alone are 4,940 bytes)
        Assert.IsGreaterThan(4 * 1235, Runtime(ConvActPredicted.FloatIntermediateBytes));
        Assert.IsGreaterThan(0, Runtime(ConvActDynamic.ScratchFloats));
    }

    [TestMethod]
    public void Activation_Base11Conv_ScratchCounted()
    {
        // convact11.predicted: convact.predicted's slots, each base11 conv's scratch 64 bytes of digits per 64 taps and
        // 16 bytes per group longer. Slot 0: the 494 input codes (512) + conv a's scratch 128 + 630 + 64 + 64 (18 digits)
        // + 48 (3 groups) = 934, then 1,446 bytes; later conv b's 240 output codes and the head's codes and digit-major
        // scratch. Slot 1 at 1,472: conv a's 1,235 output codes, pooled in place to 270, after them at 320 conv b's
        // scratch 320 + 420 + 64 + 128 (75 digits) + 32 (2 groups) = 964: 1,284 bytes
        Assert.AreEqual(1472 + 1284, Runtime(ConvAct11Predicted.QuantizedActivationBytes));
        Assert.AreEqual(0, Runtime(ConvAct11Predicted.ScratchFloats));
        Assert.AreEqual(Runtime(ConvAct11Predicted.QuantizedActivationBytes), Runtime(ConvAct11Predicted.IntermediateBytes));
        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, ConvAct11Predicted.ActivationLayerNames);
        Assert.IsGreaterThan(4 * 1235, Runtime(ConvAct11Predicted.FloatIntermediateBytes));
        Assert.IsGreaterThan(0, Runtime(ConvAct11Dynamic.ScratchFloats));
    }

    /// <summary>A generated constant, read as a value (the assertions compare what the generator computed).</summary>
    private static T Runtime<T>(T value) => value;

    [TestMethod]
    public void Activation_Models_AllocateNothing()
    {
        foreach (var name in AllModels)
        {
            using var model = ActModel.Create(name);
            var input = ModelHarness.RandomInput(model.InputLength, 3);
            var output = new float[model.OutputLength];
            model.Run(input, output);
            Assert.AreEqual(0L, Allocations.SteadyState(() =>
            {
                for (var k = 0; k < 20; k++)
                {
                    model.Run(input, output);
                }
            }), name);
        }
    }

    /// <summary>The three generated test models behind one face.</summary>
    private sealed class ActModel : IDisposable
    {
        private readonly IDisposable _model;
        private readonly Action<float[], float[]> _run;
        private readonly Action<KernelPath> _setPath;
        private readonly Func<long[]> _clipCounts;
        private readonly Func<int[]> _lastRun;
        private readonly Action _reset;

        private ActModel(IDisposable model, int inputLength, int outputLength, string[] layers, Action<float[], float[]> run, Action<KernelPath> setPath, Func<long[]> clipCounts, Func<int[]> lastRun, Action reset)
        {
            _model = model;
            InputLength = inputLength;
            OutputLength = outputLength;
            LayerNames = layers;
            _run = run;
            _setPath = setPath;
            _clipCounts = clipCounts;
            _lastRun = lastRun;
            _reset = reset;
        }

        public int InputLength { get; }

        public int OutputLength { get; }

        public string[] LayerNames { get; }

        public long[] ClipCounts => _clipCounts();

        public int[] LastRunClipped => _lastRun();

        public static ActModel Create(string name) => name switch
        {
            "act.dynamic" => Of(new ActDynamic(), ActDynamic.InputLength, ActDynamic.OutputLength, ActDynamic.ActivationLayerNames),
            "act.static" => Of(new ActStatic(), ActStatic.InputLength, ActStatic.OutputLength, ActStatic.ActivationLayerNames),
            "act.predicted" => Of(new ActPredicted(), ActPredicted.InputLength, ActPredicted.OutputLength, ActPredicted.ActivationLayerNames),
            "act.chain" => Of(new ActChain(), ActChain.InputLength, ActChain.OutputLength, ActChain.ActivationLayerNames),
            "convact.dynamic" => Of(new ConvActDynamic(), ConvActDynamic.InputLength, ConvActDynamic.OutputLength, ConvActDynamic.ActivationLayerNames),
            "convact.static" => Of(new ConvActStatic(), ConvActStatic.InputLength, ConvActStatic.OutputLength, ConvActStatic.ActivationLayerNames),
            "convact.predicted" => Of(new ConvActPredicted(), ConvActPredicted.InputLength, ConvActPredicted.OutputLength, ConvActPredicted.ActivationLayerNames),
            "convact11.dynamic" => Of(new ConvAct11Dynamic(), ConvAct11Dynamic.InputLength, ConvAct11Dynamic.OutputLength, ConvAct11Dynamic.ActivationLayerNames),
            "convact11.static" => Of(new ConvAct11Static(), ConvAct11Static.InputLength, ConvAct11Static.OutputLength, ConvAct11Static.ActivationLayerNames),
            "convact11.predicted" => Of(new ConvAct11Predicted(), ConvAct11Predicted.InputLength, ConvAct11Predicted.OutputLength, ConvAct11Predicted.ActivationLayerNames),
            "act4.dynamic" => Of(new Act4Dynamic(), Act4Dynamic.InputLength, Act4Dynamic.OutputLength, Act4Dynamic.ActivationLayerNames),
            "act4.static" => Of(new Act4Static(), Act4Static.InputLength, Act4Static.OutputLength, Act4Static.ActivationLayerNames),
            "act4.predicted" => Of(new Act4Predicted(), Act4Predicted.InputLength, Act4Predicted.OutputLength, Act4Predicted.ActivationLayerNames),
            "act3.dynamic" => Of(new Act3Dynamic(), Act3Dynamic.InputLength, Act3Dynamic.OutputLength, Act3Dynamic.ActivationLayerNames),
            "act3.predicted" => Of(new Act3Predicted(), Act3Predicted.InputLength, Act3Predicted.OutputLength, Act3Predicted.ActivationLayerNames),
            "act16.dynamic" => Of(new Act16Dynamic(), Act16Dynamic.InputLength, Act16Dynamic.OutputLength, Act16Dynamic.ActivationLayerNames),
            "act16.static" => Of(new Act16Static(), Act16Static.InputLength, Act16Static.OutputLength, Act16Static.ActivationLayerNames),
            "act16.predicted" => Of(new Act16Predicted(), Act16Predicted.InputLength, Act16Predicted.OutputLength, Act16Predicted.ActivationLayerNames),
            "act16.mixed" => Of(new Act16Mixed(), Act16Mixed.InputLength, Act16Mixed.OutputLength, Act16Mixed.ActivationLayerNames),
            "act11.dynamic" => Of(new Act11Dynamic(), Act11Dynamic.InputLength, Act11Dynamic.OutputLength, Act11Dynamic.ActivationLayerNames),
            "act11.static" => Of(new Act11Static(), Act11Static.InputLength, Act11Static.OutputLength, Act11Static.ActivationLayerNames),
            "act11.predicted" => Of(new Act11Predicted(), Act11Predicted.InputLength, Act11Predicted.OutputLength, Act11Predicted.ActivationLayerNames),
            _ => throw new ArgumentException(name),
        };

        public void Run(float[] input, float[] output) => _run(input, output);

        public void SetPath(KernelPath path) => _setPath(path);

        public void ResetClipCounts() => _reset();

        public void Dispose() => _model.Dispose();

        private static ActModel Of(ActDynamic m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);

        private static ActModel Of(ActStatic m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);

        private static ActModel Of(ActChain m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);

        private static ActModel Of(ConvActDynamic m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);

        private static ActModel Of(ConvActStatic m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);

        private static ActModel Of(ConvAct11Dynamic m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);

        private static ActModel Of(ConvAct11Static m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);

        private static ActModel Of(ConvAct11Predicted m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);

        private static ActModel Of(ConvActPredicted m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);
        private static ActModel Of(Act4Dynamic m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);

        private static ActModel Of(Act4Static m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);

        private static ActModel Of(Act4Predicted m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);

        private static ActModel Of(Act3Dynamic m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);

        private static ActModel Of(Act3Predicted m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);

        private static ActModel Of(Act16Dynamic m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);

        private static ActModel Of(Act16Static m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);

        private static ActModel Of(Act16Predicted m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);

        private static ActModel Of(Act16Mixed m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);

        private static ActModel Of(Act11Dynamic m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);

        private static ActModel Of(Act11Static m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);

        private static ActModel Of(Act11Predicted m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);

        private static ActModel Of(ActPredicted m, int i, int o, string[] n) => new(m, i, o, n, (x, y) => m.Run(x, y), p => m.KernelPath = p, () => m.ClipCounts.ToArray(), () => m.LastRunClipped.ToArray(), m.ResetClipCounts);
    }
}
