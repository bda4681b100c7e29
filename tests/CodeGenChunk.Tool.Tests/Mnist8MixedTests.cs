using System.Collections.Generic;
using System.IO;
using System.Linq;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Tool.Calibration;
using CodeGenChunk.Tool.SafeTensors;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Tool.Tests;

/// <summary>samples/Mnist/mnist8.mixed.cgc.json: its recorded per-chunk formats are cgc calibrate's choice.</summary>
[TestClass]
public sealed class Mnist8MixedTests
{
    [TestMethod]
    public void Recorded_conv2_formats_are_what_calibration_chooses_on_the_documented_digits()
    {
        var path = Path.Combine(RepoPaths.MnistSample, "mnist8.mixed.cgc.json");
        var spec = ManifestParser.Parse(path, File.ReadAllText(path)).Spec!;
        var weights = SafeTensorsFile.Read(Path.Combine(RepoPaths.MnistSample, spec.Weights.Source));

        // The inputs `dotnet run --project samples/Mnist -- --write-calibration FILE --count 2000 --stride 4` writes:
        // every 4th training digit (index % 5 != 4), pixels / 255, so every class (the file is sorted by label).
        var inputs = new List<float[]>();
        var seen = 0;
        for (var i = 0; inputs.Count < 2000; i++)
        {
            if (i % 5 == 4 || seen++ % 4 != 0)
            {
                continue;
            }

            inputs.Add(MnistDigits.Scaled(i));
        }

        var choice = ChunkCalibrator.Calibrate(spec, weights, inputs).Single();
        var policy = spec.Layers.Single(l => l.Name == "Convolution110").Quant!.Policy!;
        Assert.AreEqual("Convolution110", choice.Layer);
        CollectionAssert.AreEqual(policy.Chosen.ToArray(), choice.Formats);
        for (var i = 0; i < choice.Activity.Length; i++)
        {
            Assert.AreEqual(policy.Activity[i], choice.Activity[i], 1e-4, $"chunk {i}");
        }

        Assert.AreEqual(4, choice.Formats.Count(f => f == "f32"));
        Assert.AreEqual(2, choice.Formats.Count(f => f == "int8"));
        Assert.AreEqual(2, choice.Formats.Count(f => f == "int4"));
    }
}
