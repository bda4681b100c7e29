using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Generator.Tests;

/// <summary>
/// A float input writing the next layer's codes (docs/activations.md): which manifests get the plan (a linear layer
/// with int8 weights and its own <c>"activations": { "format": "f32" }</c> before a layer with int8 activations and
/// static or calibrated predicted params), and that every other combination builds as before, without a diagnostic.
/// </summary>
[TestClass]
public sealed class FloatInputPlanTests
{
    // a: 100 -> 40 (int8 weights, group 32, its own f32 activations), ReLU; b: 40 -> 24 (int8 activations B); c: 24 -> 6
    private const string ManifestTemplate = """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [100] },
          "quant": { "format": "int8" },
          "layers": [
            { "op": "linear", "name": "a", "in": 100, "out": 40, "quant": AQUANT, "activations": { "format": "f32" } },
            { "op": "relu" },
            { "op": "linear", "name": "b", "in": 40, "out": 24, "activations": B },
            { "op": "relu" },
            { "op": "linear", "name": "c", "in": 24, "out": 6, "activations": { "format": "int8", "params": "static", "range": [0, 3] } }
          ]
        }
        """;

    private const string Static = """{ "format": "int8", "params": "static", "range": [0, 2] }""";

    private const string Predicted = """{ "format": "int8", "params": "predicted", "z": 4 }""";

    private static string Manifest(string b, string aFormat = "int8") => ManifestTemplate
        .Replace("AQUANT", aFormat == "f16" ? """{ "format": "f16" }""" : "{ \"format\": \"" + aFormat + "\", \"groupSize\": 32 }")
        .Replace("B", b);

    private static string Model(string b, string aFormat = "int8")
    {
        var outcome = GeneratorHarness.Run(Manifest(b, aFormat));
        GeneratorAssert.DidNotCrash(outcome);
        Assert.IsEmpty(outcome.Diagnostics, string.Join("\n", outcome.Diagnostics));
        return outcome.SourceTexts.Single(s => s.HintName == "CGC.M.Model.g.cs").Text;
    }

    [TestMethod]
    [DataRow(Static, DisplayName = "static")]
    [DataRow(Predicted, DisplayName = "predicted")]
    public void Float_input_layer_writes_the_next_layers_codes(string b)
    {
        var model = Model(b);

        // a reads the caller's input in place and writes b's 40 codes; b writes c's 24 codes into the second slot (at 64)
        StringAssert.Contains(model, "Int8FloatInput.Linear(SBytes(ref w, ");
        StringAssert.Contains(model, ", input, 40, 32, true, default, codes.Slice(0, 40), outScale, outZero, path);");
        Assert.DoesNotContain("Int8Activations.Quantize(input", model);
        Assert.DoesNotContain("Int8Activations.DynamicParams(input", model);
        StringAssert.Contains(model, "public const int QuantizedActivationBytes = 88;");
        StringAssert.Contains(model, "public const int ScratchFloats = 0;");

        // with f32 activations: a's 40 and b's 24 output floats, in two slots of 16 floats' alignment (48 + 32 floats)
        StringAssert.Contains(model, "public const int FloatIntermediateBytes = 320;");
        StringAssert.Contains(model, "ActivationLayerNames = {\"a\", \"b\", \"c\", };");
        if (b == Predicted)
        {
            StringAssert.Contains(model, "Int8FloatInput.PredictParams(input, _rowStats.AsSpan(0, 40), _rowStats.AsSpan(40, 40), Floats(ref w, ");
            StringAssert.Contains(model, ", 4f, true, out float outScale, out int outZero);");
        }
        else
        {
            // [0, 2]: scale 2 / 255, zero 0
            StringAssert.Contains(model, "float outScale = 0.007843138f;");
        }

        // b's clips are counted where a writes b's codes
        StringAssert.Contains(model, "_lastRunClipped[1] = clipped;");
    }

    [TestMethod]
    [DataRow("""{ "format": "int8", "params": "predicted" }""", "int8", DisplayName = "predicted without z: b quantizes a's floats at their own range")]
    [DataRow("""{ "format": "int8", "params": "dynamic" }""", "int8", DisplayName = "dynamic")]
    [DataRow(Static, "int4", DisplayName = "int4 weights")]
    [DataRow(Static, "f16", DisplayName = "f16 weights")]
    [DataRow(Static, "residual", DisplayName = "a's output read by a residual add")]
    public void Other_combinations_build_as_before(string b, string aFormat)
    {
        var model = aFormat == "residual" ? ModelWithResidual(b) : Model(b, aFormat);

        // a writes floats; b quantizes them itself (static: at its calibrated range; otherwise at their own range)
        Assert.DoesNotContain("Int8FloatInput", model);
        StringAssert.Contains(model, "Int8Activations.Quantize(");
        Assert.DoesNotContain("public const int ScratchFloats = 0;", model);
    }

    [TestMethod]
    public void Int16_consumer_quantizes_the_floats_itself()
    {
        // the float-input kernel writes u8 codes: before a layer with int16 activations a writes floats, which b
        // quantizes into its int16 codes at its calibrated range
        var model = Model("""{ "format": "int16", "params": "static", "range": [0, 2] }""");
        Assert.DoesNotContain("Int8FloatInput", model);
        StringAssert.Contains(model, "Int16Activations.Quantize(");
    }

    /// <summary>A model where a residual add reads a's output (after its ReLU).</summary>
    private static string ModelWithResidual(string b)
    {
        const string manifest = """
            {
              "model": "M",
              "namespace": "N",
              "weights": { "source": "w.safetensors" },
              "input": { "shape": [100] },
              "quant": { "format": "int8" },
              "layers": [
                { "op": "linear", "name": "a", "in": 100, "out": 40, "activations": { "format": "f32" } },
                { "op": "relu", "name": "r" },
                { "op": "linear", "name": "b", "in": 40, "out": 40, "activations": B },
                { "op": "residual", "from": "r" }
              ]
            }
            """;
        var outcome = GeneratorHarness.Run(manifest.Replace("B", b));
        GeneratorAssert.DidNotCrash(outcome);
        Assert.IsEmpty(outcome.Diagnostics, string.Join("\n", outcome.Diagnostics));
        return outcome.SourceTexts.Single(s => s.HintName == "CGC.M.Model.g.cs").Text;
    }

    [TestMethod]
    public void Uncalibrated_predicted_builds_as_before_uncalibrated_static_is_CGC0045()
    {
        // the fallback keeps today's behaviour: a predicted layer with no previous layer to predict it builds without z
        var predicted = GeneratorHarness.Run(Manifest("""{ "format": "int8", "params": "predicted" }"""));
        Assert.IsEmpty(predicted.Diagnostics, string.Join("\n", predicted.Diagnostics));

        // a static range is needed either way (CGC0045 at b's params)
        var uncalibrated = GeneratorHarness.Run(Manifest("""{ "format": "int8", "params": "static" }"""));
        Assert.AreEqual("CGC0045", GeneratorAssert.Single(uncalibrated).Id);
    }
}
