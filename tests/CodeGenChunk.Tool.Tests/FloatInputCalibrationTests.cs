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
/// <c>cgc calibrate</c> with a float input writing the next layer's codes (docs/activations.md): the predicted layer after
/// a linear layer with f32 activations gets a z from its producer's float input, and with it the manifest plans the
/// float-input step (no codes of the model's input).
/// </summary>
[TestClass]
public sealed class FloatInputCalibrationTests
{
    [TestMethod]
    public void FloatInput_Calibrate_RecordsZ_ThenThePlanReadsTheInputInPlace()
    {
        var dir = RepoPaths.NewTempDirectory();
        var manifest = Path.Combine(dir, "actf.cgc.json");
        File.WriteAllText(manifest, """
            { "model": "ActF", "namespace": "T", "weights": { "source": "actf.safetensors" }, "input": { "shape": [24] },
              "quant": { "format": "int8", "groupSize": 8 },
              "activations": { "format": "int8", "params": "predicted", "percentile": 100 },
              "layers": [
                { "op": "linear", "name": "h1", "in": 24, "out": 32, "activations": { "format": "f32" } },
                { "op": "relu" },
                { "op": "linear", "name": "h2", "in": 32, "out": 32 },
                { "op": "relu" },
                { "op": "linear", "name": "head", "in": 32, "out": 4 } ] }
            """);
        var spec = ManifestParser.Parse(manifest, File.ReadAllText(manifest)).Spec!;
        var weightsPath = Path.Combine(dir, "actf.safetensors");
        SafeTensorsWriter.Write(weightsPath, SyntheticWeights.Create(spec, 5));
        var weights = SafeTensorsFile.Read(weightsPath);
        var inputs = ChunkCalibrator.RandomInputs(24, 50, 3);

        // before calibration h2 has no z: h1 writes floats and h2 quantizes them at their own range (as before this plan
        // existed), so the manifest builds; head's z is missing (CGC0045, h2 predicts it)
        var before = ModelPlanner.Plan(spec);
        Assert.AreEqual("CGC0045", before.Diagnostics.Single().Info.Id);
        Assert.AreEqual(-1, ModelPlanner.ProducerOf(spec.Layers, 2, new()));
        Assert.AreEqual(0, ModelPlanner.FloatInputProducerOf(spec.Layers, 2, new(), requireCalibrated: false));

        var choices = ActivationCalibrator.Calibrate(spec, weights, inputs);
        CollectionAssert.AreEqual(new[] { "h2", "head" }, choices.Select(c => c.Layer.Name).ToArray());

        // at the 100th percentile, h1's range predicted from its float input's moments covers each input's h1 output
        var forward = new FloatForward(spec, weights);
        var z = choices[0].Z!.Value;
        Assert.IsGreaterThan(0, z);
        var w = forward.Tensor("h1.weight");
        var b = forward.Tensor("h1.bias");
        var tight = double.PositiveInfinity;
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

            Assert.IsGreaterThanOrEqualTo(actual * (1 - 1e-4), predicted, $"predicted {predicted} < actual {actual}");
            tight = Math.Min(tight, predicted / actual);
        }

        // z is the smallest that covers them all: some input's maximum is reached
        Assert.AreEqual(1, tight, 1e-3);

        // written back: h1 reads its float input and writes h2's codes; the only codes are h2's and head's inputs
        var text = ActivationCalibrator.Apply(File.ReadAllText(manifest), choices);
        var again = ManifestParser.Parse(manifest, text).Spec!;
        Assert.AreEqual(0, ModelPlanner.ProducerOf(again.Layers, 2, new()));
        var plan = ModelPlanner.Plan(again);
        Assert.IsNotNull(plan.Plan, string.Join("; ", plan.Diagnostics.Select(d => d.ToCanonicalString())));
        var first = plan.Plan.Steps.First(s => s.Act is not null).Act!;
        Assert.IsTrue(first.FloatInput);
        Assert.AreEqual("predicted", first.OutMode);
        Assert.AreEqual(0, plan.Plan.ScratchFloats);
        Assert.AreEqual(64 + 32, plan.Plan.ActivationBufferBytes);
    }
}
