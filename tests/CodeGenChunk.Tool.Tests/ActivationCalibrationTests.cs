using System;
using System.IO;
using System.Linq;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Model.Planning;
using CodeGenChunk.Tool.Calibration;
using CodeGenChunk.Tool.Packing;
using CodeGenChunk.Tool.SafeTensors;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Tool.Tests;

/// <summary>
/// <c>cgc calibrate</c> for int8 activations (docs/activations.md): static ranges are percentiles of the layer's input
/// values, predicted z covers every calibration input at the 100th percentile, and the manifest that results plans.
/// </summary>
[TestClass]
public sealed class ActivationCalibrationTests
{
    [TestMethod]
    public void Activation_Calibrate_RecordsRangesAndZ_AndTheManifestPlans()
    {
        var dir = RepoPaths.NewTempDirectory();
        var manifest = Path.Combine(dir, "act.cgc.json");
        File.WriteAllText(manifest, """
            { "model": "Act", "namespace": "T", "weights": { "source": "act.safetensors" }, "input": { "shape": [24] },
              "quant": { "format": "int8", "groupSize": 8 },
              "activations": { "format": "int8", "params": "predicted", "percentile": 100 },
              "layers": [
                { "op": "linear", "name": "h1", "in": 24, "out": 32, "activations": { "format": "int8", "params": "static", "percentile": 100 } },
                { "op": "relu" },
                { "op": "linear", "name": "h2", "in": 32, "out": 32 },
                { "op": "relu" },
                { "op": "linear", "name": "head", "in": 32, "out": 4 } ] }
            """);
        var spec = ManifestParser.Parse(manifest, File.ReadAllText(manifest)).Spec!;
        var weightsPath = Path.Combine(dir, "act.safetensors");
        SafeTensorsWriter.Write(weightsPath, SyntheticWeights.Create(spec, 5));
        var weights = SafeTensorsFile.Read(weightsPath);
        var inputs = ChunkCalibrator.RandomInputs(24, 50, 3);

        // before calibration the planner refuses static and predicted layers (CGC0045)
        Assert.IsTrue(ModelPlanner.Plan(spec).Diagnostics.Any(d => d.Info.Id == "CGC0045"));

        var choices = ActivationCalibrator.Calibrate(spec, weights, inputs);
        CollectionAssert.AreEqual(new[] { "h1", "h2", "head" }, choices.Select(c => c.Layer.Name).ToArray());

        // static at the 100th percentile: the inputs' own extremes (uniform in [-2, 2))
        var lo = inputs.Min(x => x.Min());
        var hi = inputs.Max(x => x.Max());
        Assert.AreEqual(lo, choices[0].Range![0], 1e-4);
        Assert.AreEqual(hi, choices[0].Range![1], 1e-4);

        // predicted at the 100th percentile: with that z, the predicted range covers each input's actual maximum
        var forward = new FloatForward(spec, weights);
        var z = choices[1].Z!.Value;
        Assert.IsTrue(z > 0);
        var w = forward.Tensor("h1.weight");
        var b = forward.Tensor("h1.bias");
        foreach (var x in inputs)
        {
            double m = x.Average(v => (double)v), sd = Math.Sqrt(Math.Max(x.Average(v => (double)v * v) - (m * m), 0));
            double predicted = double.NegativeInfinity, actual = 0;
            for (var o = 0; o < 32; o++)
            {
                double sum = 0, sq = 0, y = b[o];
                for (var i = 0; i < 24; i++)
                {
                    sum += w[(o * 24) + i];
                    sq += (double)w[(o * 24) + i] * w[(o * 24) + i];
                    y += (double)w[(o * 24) + i] * x[i];
                }

                predicted = Math.Max(predicted, (m * sum) + b[o] + (z * sd * Math.Sqrt(sq)));
                actual = Math.Max(actual, y);
            }

            Assert.IsTrue(predicted >= actual * (1 - 1e-4), $"predicted {predicted} < actual {actual}");
        }

        // written back, the manifest parses with the values and plans without diagnostics
        var text = ActivationCalibrator.Apply(File.ReadAllText(manifest), choices);
        var again = ManifestParser.Parse(manifest, text);
        Assert.IsNotNull(again.Spec, string.Join("; ", again.Diagnostics.Select(d => d.ToCanonicalString())));
        Assert.AreEqual(2, again.Spec.Layers[0].Activations!.Range.Count);
        Assert.AreEqual(choices[2].Z, again.Spec.Layers[4].Activations!.Z);
        var plan = ModelPlanner.Plan(again.Spec);
        Assert.IsNotNull(plan.Plan, string.Join("; ", plan.Diagnostics.Select(d => d.ToCanonicalString())));
        Assert.AreEqual(3, plan.Plan.ActivationLayers);
    }

    [TestMethod]
    public void Activation_Calibrate_Int16_KeepsTheFormat_AndTheManifestPlans()
    {
        // int16 activations (docs/activations.md, "int16 activations"): the same range and z as int8, written back as int16
        var dir = RepoPaths.NewTempDirectory();
        var manifest = Path.Combine(dir, "act16.cgc.json");
        File.WriteAllText(manifest, """
            { "model": "Act16", "namespace": "T", "weights": { "source": "act16.safetensors" }, "input": { "shape": [24] },
              "quant": { "format": "int8", "groupSize": 8 },
              "activations": { "format": "int16", "params": "predicted", "percentile": 100 },
              "layers": [
                { "op": "linear", "name": "h1", "in": 24, "out": 32, "activations": { "format": "int16", "params": "static", "percentile": 100 } },
                { "op": "relu" },
                { "op": "linear", "name": "h2", "in": 32, "out": 32 },
                { "op": "relu" },
                { "op": "linear", "name": "head", "in": 32, "out": 4, "activations": { "format": "int8", "params": "static", "percentile": 100 } } ] }
            """);
        var spec = ManifestParser.Parse(manifest, File.ReadAllText(manifest)).Spec!;
        var weightsPath = Path.Combine(dir, "act16.safetensors");
        SafeTensorsWriter.Write(weightsPath, SyntheticWeights.Create(spec, 5));
        var weights = SafeTensorsFile.Read(weightsPath);
        var inputs = ChunkCalibrator.RandomInputs(24, 50, 3);
        Assert.IsTrue(ModelPlanner.Plan(spec).Diagnostics.Any(d => d.Info.Id == "CGC0045"));

        var choices = ActivationCalibrator.Calibrate(spec, weights, inputs);
        CollectionAssert.AreEqual(new[] { "h1", "h2", "head" }, choices.Select(c => c.Layer.Name).ToArray());
        Assert.AreEqual(inputs.Min(x => x.Min()), choices[0].Range![0], 1e-4);
        Assert.IsTrue(choices[1].Z > 0);

        var text = ActivationCalibrator.Apply(File.ReadAllText(manifest), choices);
        var again = ManifestParser.Parse(manifest, text);
        Assert.IsNotNull(again.Spec, string.Join("; ", again.Diagnostics.Select(d => d.ToCanonicalString())));
        CollectionAssert.AreEqual(new[] { "int16", "int16", "int8" }, new[] { 0, 2, 4 }.Select(i => again.Spec.Layers[i].Activations!.Format).ToArray());
        Assert.AreEqual(choices[1].Z, again.Spec.Layers[2].Activations!.Z);
        var plan = ModelPlanner.Plan(again.Spec);
        Assert.IsNotNull(plan.Plan, string.Join("; ", plan.Diagnostics.Select(d => d.ToCanonicalString())));
        Assert.AreEqual(3, plan.Plan.ActivationLayers);
    }

    [TestMethod]
    public void Activation_Calibrate_Base11Weights_SameChoicesAsInt8_AndTheManifestPlans()
    {
        // base11 linear layers with int8 activations: calibration runs the float model over the source weights, so the
        // ranges and z are those of the same manifest with int8 weights; the written manifest plans base11 steps
        var dir = RepoPaths.NewTempDirectory();
        const string body = """
            { "model": "Act11", "namespace": "T", "weights": { "source": "act.safetensors" }, "input": { "shape": [40] },
              "quant": { "format": "FORMAT", "groupSize": 18 },
              "activations": { "format": "int8", "params": "predicted", "percentile": 100 },
              "layers": [
                { "op": "linear", "name": "h1", "in": 40, "out": 32, "activations": { "format": "int8", "params": "static", "percentile": 100 } },
                { "op": "relu" },
                { "op": "linear", "name": "h2", "in": 32, "out": 27 },
                { "op": "relu" },
                { "op": "linear", "name": "head", "in": 27, "out": 4 } ] }
            """;
        var manifest = Path.Combine(dir, "act11.cgc.json");
        File.WriteAllText(manifest, body.Replace("FORMAT", "base11", StringComparison.Ordinal));
        var spec = ManifestParser.Parse(manifest, File.ReadAllText(manifest)).Spec!;
        var int8Spec = ManifestParser.Parse(manifest, body.Replace("FORMAT", "int8", StringComparison.Ordinal)).Spec!;
        var weightsPath = Path.Combine(dir, "act.safetensors");
        SafeTensorsWriter.Write(weightsPath, SyntheticWeights.Create(spec, 5));
        var weights = SafeTensorsFile.Read(weightsPath);
        var inputs = ChunkCalibrator.RandomInputs(40, 50, 3);
        Assert.IsTrue(ModelPlanner.Plan(spec).Diagnostics.Any(d => d.Info.Id == "CGC0045"));

        var choices = ActivationCalibrator.Calibrate(spec, weights, inputs);
        var int8Choices = ActivationCalibrator.Calibrate(int8Spec, weights, inputs);
        CollectionAssert.AreEqual(new[] { "h1", "h2", "head" }, choices.Select(c => c.Layer.Name).ToArray());
        CollectionAssert.AreEqual(int8Choices[0].Range, choices[0].Range);
        Assert.AreEqual(int8Choices[1].Z, choices[1].Z);
        Assert.AreEqual(int8Choices[2].Z, choices[2].Z);
        Assert.IsTrue(choices[1].Z > 0 && choices[2].Z > 0);

        var text = ActivationCalibrator.Apply(File.ReadAllText(manifest), choices);
        var again = ManifestParser.Parse(manifest, text);
        Assert.IsNotNull(again.Spec, string.Join("; ", again.Diagnostics.Select(d => d.ToCanonicalString())));
        var plan = ModelPlanner.Plan(again.Spec);
        Assert.IsNotNull(plan.Plan, string.Join("; ", plan.Diagnostics.Select(d => d.ToCanonicalString())));
        Assert.AreEqual(3, plan.Plan.ActivationLayers);
        Assert.IsTrue(plan.Plan.Steps.Where(st => st.Act is not null).All(st => st.Act!.Format == "base11" && st.Act.KernelClass == "Base11Activations"));
    }

    [TestMethod]
    public void Activation_Calibrate_CodeLayerNorm_RecordsZOfTheOutputBeforeTheResidual()
    {
        // the residual stream in codes: the layernorm's z covers the last linear layer's output (before the residual add)
        var dir = RepoPaths.NewTempDirectory();
        var manifest = Path.Combine(dir, "chain.cgc.json");
        File.WriteAllText(manifest, """
            { "model": "Chain", "namespace": "T", "weights": { "source": "chain.safetensors" }, "input": { "shape": [16] },
              "quant": { "format": "int8", "groupSize": 8 },
              "activations": { "format": "int8", "params": "predicted", "percentile": 100 },
              "layers": [
                { "op": "linear", "name": "a", "in": 16, "out": 16 },
                { "op": "relu" },
                { "op": "linear", "name": "b", "in": 16, "out": 16 },
                { "op": "residual", "from": "input" },
                { "op": "layernorm", "name": "n", "dim": 16, "activations": { "format": "int8", "params": "predicted", "percentile": 100 } },
                { "op": "linear", "name": "c", "in": 16, "out": 16 },
                { "op": "residual", "from": "n" } ] }
            """);
        var spec = ManifestParser.Parse(manifest, File.ReadAllText(manifest)).Spec!;
        var weightsPath = Path.Combine(dir, "chain.safetensors");
        SafeTensorsWriter.Write(weightsPath, SyntheticWeights.Create(spec, 7));
        var weights = SafeTensorsFile.Read(weightsPath);
        var inputs = ChunkCalibrator.RandomInputs(16, 40, 2);
        Assert.IsTrue(ModelPlanner.Plan(spec).Diagnostics.Any(d => d.Info.Id == "CGC0045"), "the layernorm's z is missing");

        var choices = ActivationCalibrator.Calibrate(spec, weights, inputs);
        CollectionAssert.AreEqual(new[] { "b", "n" }, choices.Select(c => c.Layer.Name).ToArray());
        var z = choices[1].Z!.Value;
        var forward = new FloatForward(spec, weights);
        var w = forward.Tensor("b.weight");
        var bias = forward.Tensor("b.bias");
        foreach (var x in inputs)
        {
            float[]? seen = null;
            forward.Run(x, (l, v) => { if (l.Name == "b") { seen = v; } });
            var h = seen!;
            double m = h.Average(v => (double)v), sd = Math.Sqrt(Math.Max(h.Average(v => (double)v * v) - (m * m), 0));
            double lo = double.PositiveInfinity, hi = double.NegativeInfinity, yLo = 0, yHi = 0;
            for (var o = 0; o < 16; o++)
            {
                double sum = 0, sq = 0, y = bias[o];
                for (var i = 0; i < 16; i++)
                {
                    sum += w[(o * 16) + i];
                    sq += (double)w[(o * 16) + i] * w[(o * 16) + i];
                    y += (double)w[(o * 16) + i] * h[i];
                }

                lo = Math.Min(lo, (m * sum) + bias[o] - (z * sd * Math.Sqrt(sq)));
                hi = Math.Max(hi, (m * sum) + bias[o] + (z * sd * Math.Sqrt(sq)));
                yLo = Math.Min(yLo, y);
                yHi = Math.Max(yHi, y);
            }

            Assert.IsTrue(hi >= yHi - (1e-4 * (1 + Math.Abs(yHi))), $"predicted {hi} < actual {yHi}");
            Assert.IsTrue(lo <= yLo + (1e-4 * (1 + Math.Abs(yLo))), $"predicted {lo} > actual {yLo}");
        }

        var text = ActivationCalibrator.Apply(File.ReadAllText(manifest), choices);
        var plan = ModelPlanner.Plan(ManifestParser.Parse(manifest, text).Spec!);
        Assert.IsNotNull(plan.Plan, string.Join("; ", plan.Diagnostics.Select(d => d.ToCanonicalString())));
        Assert.IsTrue(plan.Plan.HasCodeNorm);
        Assert.AreEqual(4, plan.Plan.ActivationLayers);
    }

    [TestMethod]
    public void Activation_Calibrate_ConvProducer_ZCoversThePooledOutputs_AndTheManifestPlans()
    {
        // conv2d producers (docs/activations.md#conv2d): z of 'c2' is calibrated on c1's whole input (its moments) and
        // filters (sums and norms of the rows of [outC, inC·kH·kW]) against c2's input, c1's output after ReLU and pooling
        var dir = RepoPaths.NewTempDirectory();
        var manifest = Path.Combine(dir, "convact.cgc.json");
        File.WriteAllText(manifest, """
            { "model": "ConvAct", "namespace": "T", "weights": { "source": "convact.safetensors" }, "input": { "shape": [2, 8, 8] },
              "quant": { "format": "int8" },
              "activations": { "format": "int8", "params": "predicted", "percentile": 100 },
              "layers": [
                { "op": "conv2d", "name": "c1", "inChannels": 2, "outChannels": 4, "kernel": [3, 3], "pad": [1, 1, 1, 1] },
                { "op": "relu" },
                { "op": "maxpool", "kernel": [2, 2] },
                { "op": "conv2d", "name": "c2", "inChannels": 4, "outChannels": 3, "kernel": [3, 3], "pad": [1, 1, 1, 1], "activations": { "format": "int8", "params": "static", "percentile": 100 } },
                { "op": "relu" },
                { "op": "flatten" },
                { "op": "linear", "name": "head", "in": 48, "out": 5 } ] }
            """);
        var spec = ManifestParser.Parse(manifest, File.ReadAllText(manifest)).Spec!;
        var weightsPath = Path.Combine(dir, "convact.safetensors");
        SafeTensorsWriter.Write(weightsPath, SyntheticWeights.Create(spec, 7));
        var weights = SafeTensorsFile.Read(weightsPath);
        var inputs = ChunkCalibrator.RandomInputs(128, 40, 5);
        Assert.IsTrue(ModelPlanner.Plan(spec).Diagnostics.Any(d => d.Info.Id == "CGC0045"));

        var choices = ActivationCalibrator.Calibrate(spec, weights, inputs);
        CollectionAssert.AreEqual(new[] { "c2", "head" }, choices.Select(c => c.Layer.Name).ToArray());

        // c2 static at the 100th percentile: the extremes of its input (c1 after ReLU and max pooling)
        var forward = new FloatForward(spec, weights);
        double hi = 0;
        foreach (var x in inputs)
        {
            forward.Run(x, (l, v) =>
            {
                if (l.Name == "c2")
                {
                    hi = Math.Max(hi, v.Max());
                }
            });
        }

        Assert.AreEqual(0.0, choices[0].Range![0]);
        Assert.AreEqual(hi, choices[0].Range![1], 1e-4 * hi);

        // head predicted from c2: z covers each input's largest c2 output (after ReLU, flattened)
        var z = choices[1].Z!.Value;
        Assert.IsTrue(z > 0);
        var w = forward.Tensor("c2.weight");
        var b = forward.Tensor("c2.bias");
        foreach (var x in inputs)
        {
            float[] c2In = Array.Empty<float>(), headIn = Array.Empty<float>();
            forward.Run(x, (l, v) =>
            {
                if (l.Name == "c2")
                {
                    c2In = v;
                }
                else if (l.Name == "head")
                {
                    headIn = v;
                }
            });
            double m = c2In.Average(v => (double)v), sd = Math.Sqrt(Math.Max(c2In.Average(v => (double)v * v) - (m * m), 0));
            double predicted = double.NegativeInfinity;
            for (var o = 0; o < 3; o++)
            {
                double sum = 0, sq = 0;
                for (var i = 0; i < 36; i++)
                {
                    sum += w[(o * 36) + i];
                    sq += (double)w[(o * 36) + i] * w[(o * 36) + i];
                }

                predicted = Math.Max(predicted, (m * sum) + b[o] + (z * sd * Math.Sqrt(sq)));
            }

            Assert.IsTrue(predicted >= headIn.Max() * (1 - 1e-4), $"predicted {predicted} < actual {headIn.Max()}");
        }

        var text = ActivationCalibrator.Apply(File.ReadAllText(manifest), choices);
        var again = ManifestParser.Parse(manifest, text);
        Assert.IsNotNull(again.Spec, string.Join("; ", again.Diagnostics.Select(d => d.ToCanonicalString())));
        var plan = ModelPlanner.Plan(again.Spec);
        Assert.IsNotNull(plan.Plan, string.Join("; ", plan.Diagnostics.Select(d => d.ToCanonicalString())));
        Assert.AreEqual(3, plan.Plan.ActivationLayers);
        Assert.IsTrue(plan.Plan.Steps.Any(st => st.CodePool is not null), "the pool after c1 runs on codes");
    }
}
