using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Linq;
using CodeGenChunk.Model.Diagnostics;
using CodeGenChunk.Model.Json;

namespace CodeGenChunk.Model.Manifest;

/// <summary>
/// Turns manifest text into a <see cref="ManifestSpec"/>: JSON syntax, then the shape the schema
/// (schemas/codegenchunk.manifest.schema.json) describes. Never throws on bad input: every
/// problem is a <see cref="ManifestDiagnostic"/> at its JSON line and column.
/// </summary>
public static class ManifestParser
{
    /// <summary>Largest kernel, stride or padding of a conv2d or maxpool (keeps every index computation in range).</summary>
    public const int MaxWindow = 65535;

    public static ParseResult Parse(string filePath, string text, CancellationToken cancellationToken = default)
    {
        var diagnostics = new List<ManifestDiagnostic>();
        if (!PositionedJsonReader.TryRead(filePath, text, out var root, out var syntax))
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.JsonSyntax, syntax!.Span, syntax.Message));
            return new ParseResult(null, diagnostics.ToEquatableArray());
        }

        if (root!.Kind != JsonNodeKind.Object)
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.WrongType, root.Span, "the manifest", "an object", root.Describe()));
            return new ParseResult(null, diagnostics.ToEquatableArray());
        }

        var top = new ObjectReader(root, "the manifest", diagnostics);
        top.CheckAllowed("$schema", "description", "model", "namespace", "target", "weights", "input", "quant", "activations", "layers");

        var model = top.String("model", required: true);
        if (model is not null && !Identifiers.IsIdentifier(model))
        {
            top.Report(DiagnosticCatalog.InvalidIdentifier, top.SpanOf("model"), model, "the model name", "class name");
        }

        var ns = top.String("namespace", required: true);
        if (ns is not null && !Identifiers.IsNamespace(ns))
        {
            top.Report(DiagnosticCatalog.InvalidIdentifier, top.SpanOf("namespace"), ns, "the namespace", "namespace");
        }

        var target = ReadTarget(top);
        var weights = ReadWeights(top);
        var shape = ReadInputShape(top);
        var defaultQuant = top.Object("quant", required: false) is { } q ? ReadQuant(q) : null;
        var defaultActivations = top.Object("activations", required: false) is { } a ? ReadActivations(a) : null;

        var layers = new List<LayerSpec>();
        var layersNode = top.Array("layers", required: true);
        if (layersNode is not null)
        {
            if (layersNode.Items.Count == 0)
            {
                top.Report(DiagnosticCatalog.NoLayers, layersNode.Span);
            }

            for (var i = 0; i < layersNode.Items.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var layer = ReadLayer(layersNode.Items[i], i, defaultQuant, defaultActivations, diagnostics);
                if (layer is not null)
                {
                    // Streamed layers read each chunk on its own: no column panels spanning the chunks.
                    layers.Add(target.Placement == "stream" ? layer with { Streamed = true } : layer);
                }
            }
        }

        if (HasErrors(diagnostics) || model is null || ns is null || weights is null || shape is null)
        {
            return new ParseResult(null, diagnostics.ToEquatableArray());
        }

        var spec = new ManifestSpec(
            filePath,
            ManifestSpec.BaseNameOf(filePath),
            model,
            ns,
            target,
            weights,
            shape.ToEquatableArray(),
            layers.ToEquatableArray());
        return new ParseResult(spec, diagnostics.ToEquatableArray());
    }

    private static bool HasErrors(List<ManifestDiagnostic> diagnostics)
    {
        foreach (var d in diagnostics)
        {
            if (d.Info.Severity == Severity.Error)
            {
                return true;
            }
        }

        return false;
    }

    private static TargetSpec ReadTarget(ObjectReader top)
    {
        var t = top.Object("target", required: false);
        if (t is null)
        {
            return new TargetSpec(null, top.Span, "auto", "embedded");
        }

        t.CheckAllowed("ramBudgetBytes", "simd", "weights");
        var budget = t.Integer("ramBudgetBytes", required: false, min: 1);
        var simd = t.Enum("simd", Ops.Simd, "auto");
        var placement = t.Enum("weights", Ops.Placements, "embedded");
        return new TargetSpec(budget, budget is null ? t.Span : t.SpanOf("ramBudgetBytes"), simd, placement);
    }

    private static WeightsSpec? ReadWeights(ObjectReader top)
    {
        var w = top.Object("weights", required: true);
        if (w is null)
        {
            return null;
        }

        w.CheckAllowed("source", "calibration");
        var source = w.String("source", required: true);
        var calibration = w.String("calibration", required: false);
        if (source is not null && source.Length == 0)
        {
            w.Report(DiagnosticCatalog.InvalidValue, w.SpanOf("source"), "source", "a path to a .safetensors file", "empty");
            return null;
        }

        return source is null ? null : new WeightsSpec(source, w.SpanOf("source"), calibration);
    }

    private static List<int>? ReadInputShape(ObjectReader top)
    {
        var input = top.Object("input", required: true);
        if (input is null)
        {
            return null;
        }

        input.CheckAllowed("shape");
        var shapeNode = input.Array("shape", required: true);
        if (shapeNode is null)
        {
            return null;
        }

        if (shapeNode.Items.Count == 0)
        {
            input.Report(DiagnosticCatalog.InvalidValue, shapeNode.Span, "shape", "a non-empty array of positive integers", "empty");
            return null;
        }

        var shape = new List<int>();
        long total = 1;
        foreach (var item in shapeNode.Items)
        {
            var d = input.IntegerValue("shape", item, 1, int.MaxValue);
            if (d is null)
            {
                return null;
            }

            total *= d.Value;
            if (total > int.MaxValue / 4)
            {
                input.Report(DiagnosticCatalog.InvalidValue, shapeNode.Span, "shape", "at most 536870911 values in all", total.ToString(CultureInfo.InvariantCulture) + " or more");
                return null;
            }

            shape.Add((int)d.Value);
        }

        return shape;
    }

    private static QuantSpec? ReadQuant(ObjectReader q)
    {
        q.CheckAllowed("format", "groupSize", "policy", "layout");
        var format = q.String("format", required: true);
        if (format is null)
        {
            return null;
        }

        if (System.Array.IndexOf(Ops.Formats, format) < 0)
        {
            q.Report(DiagnosticCatalog.InvalidValue, q.SpanOf("format"), "format", "one of " + string.Join(", ", Ops.Formats), "\"" + format + "\"");
            return null;
        }

        var groupSize = q.Integer("groupSize", required: false, min: 1, max: int.MaxValue);
        var policy = q.Object("policy", required: false);
        var policySpec = policy is null ? null : ReadPolicy(policy);
        var layout = q.String("layout", required: false) ?? "words";
        if (layout is not ("words" or "pairs"))
        {
            q.Report(DiagnosticCatalog.InvalidValue, q.SpanOf("layout"), "layout", "\"words\" or \"pairs\"", "\"" + layout + "\"");
            layout = "words";
        }

        return new QuantSpec(
            format,
            (int)(groupSize ?? CodeGenChunk.Formats.WeightFormats.DefaultGroupSize(format)),
            q.SpanOf("format"),
            groupSize is null ? q.SpanOf("format") : q.SpanOf("groupSize"),
            policy is not null,
            policy?.Span ?? q.Span)
        {
            Policy = policySpec,
            Layout = layout,
            LayoutSpan = q.SpanOf("layout"),
        };
    }

    private static PolicySpec ReadPolicy(ObjectReader p)
    {
        p.CheckAllowed("by", "thresholds", "formats", "bits", "chosen", "activity");
        var by = p.Enum("by", new[] { "activity", "runtime-activity" }, "activity");
        var thresholds = new List<double>();
        if (p.Array("thresholds", required: false) is { } t)
        {
            foreach (var item in t.Items)
            {
                if (item.Kind == JsonNodeKind.Number && double.TryParse(item.NumberText, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= 0 && v <= 1)
                {
                    thresholds.Add(v);
                }
                else
                {
                    p.Report(DiagnosticCatalog.InvalidValue, item.Span, "thresholds", "numbers from 0 to 1 (activity relative to the layer's most active chunk)", item.NumberText ?? item.Describe());
                }
            }
        }

        var bits = new List<int>();
        if (p.Array("bits", required: false) is { } b)
        {
            foreach (var item in b.Items)
            {
                if (item.Kind == JsonNodeKind.Number && int.TryParse(item.NumberText, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= 1 && v <= 8)
                {
                    bits.Add(v);
                }
                else
                {
                    p.Report(DiagnosticCatalog.InvalidValue, item.Span, "bits", "integers from 1 to 8 (bit-planes of the int8 codes read)", item.NumberText ?? item.Describe());
                }
            }
        }

        var formats = Strings(p, "formats", Ops.Formats);
        var chosen = Strings(p, "chosen", Ops.Formats);
        var activity = new List<double>();
        if (p.Array("activity", required: false) is { } a)
        {
            foreach (var item in a.Items)
            {
                if (item.Kind == JsonNodeKind.Number && double.TryParse(item.NumberText, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                {
                    activity.Add(v);
                }
            }
        }

        return new PolicySpec(by, thresholds.ToEquatableArray(), formats.ToEquatableArray(), chosen.ToEquatableArray(), activity.ToEquatableArray(), p.Span, p.SpanOf("formats"), p.SpanOf("chosen"))
        {
            Bits = bits.ToEquatableArray(),
            BitsSpan = p.Has("bits") ? p.SpanOf("bits") : null,
            HasFormats = p.Has("formats"),
        };
    }

    private static List<string> Strings(ObjectReader r, string name, string[] allowed)
    {
        var list = new List<string>();
        if (r.Array(name, required: false) is { } node)
        {
            foreach (var item in node.Items)
            {
                if (item.Kind == JsonNodeKind.String && System.Array.IndexOf(allowed, item.StringValue) >= 0)
                {
                    list.Add(item.StringValue!);
                }
                else
                {
                    r.Report(DiagnosticCatalog.InvalidValue, item.Span, name, "weight formats (" + string.Join(", ", allowed) + ")", item.StringValue is null ? item.Describe() : "\"" + item.StringValue + "\"");
                }
            }
        }

        return list;
    }

    private static ChunksSpec? ReadChunks(ObjectReader c)
    {
        c.CheckAllowed("count", "axis", "topK", "minActivity", "maxK", "activity", "proxyFormat", "proxyRank", "proxyTaps");
        var axis = c.Enum("axis", new[] { "output", "input", "pool" }, "output");

        // axis "pool" (a conv2d's positions in each window of the max pool after it): the count is the window size, which
        // the planner knows; given, it must match (CGC0046)
        var count = c.Integer("count", required: axis != "pool", min: 1, max: 65536);
        var topK = c.Integer("topK", required: false, min: 1, max: 65536);
        var minActivity = c.Number("minActivity", exclusiveMin: double.NegativeInfinity);
        var maxK = c.Integer("maxK", required: false, min: 1, max: 65536);
        var activity = c.Enum("activity", new[] { "input", "proxy", "lowrank", "exact", "taps" }, axis == "input" ? "input" : axis == "pool" ? "taps" : "proxy");
        var proxyTaps = c.Integer("proxyTaps", required: axis == "pool" && activity == "taps", min: 1, max: 1 << 24);
        // proxy: an int1 sketch of rank 2 ranks as well as ternary at rank 4 on the MNIST MLP, at a third of the cost
        // (docs/routing.md); lowrank keeps ternary factors of rank 16.
        var proxyFormat = c.Enum("proxyFormat", new[] { "ternary", "int1", "int8" }, activity == "proxy" ? "int1" : "ternary");
        var proxyRank = c.Integer("proxyRank", required: false, min: 1, max: 64);
        if (axis == "pool")
        {
            return new ChunksSpec((int)(count ?? 0), axis, (int?)topK, minActivity, (int?)maxK, activity, c.Span)
            {
                ProxyTaps = (int)(proxyTaps ?? 0),
                ProxyTapsSpan = c.SpanOf("proxyTaps"),
                TopKSpan = c.SpanOf("topK"),
                ActivitySpan = c.SpanOf("activity"),
                CountSpan = c.SpanOf("count"),
                AxisSpan = c.SpanOf("axis"),
                ExtraSpan = new[] { "minActivity", "maxK", "proxyFormat", "proxyRank" }.Where(c.Has).Select(n => (TextSpanInfo?)c.SpanOf(n)).FirstOrDefault(),
            };
        }

        if (count is null)
        {
            return null;
        }

        if (topK is not null && topK > count)
        {
            c.Report(DiagnosticCatalog.InvalidValue, c.SpanOf("topK"), "topK", "at most count (" + count.Value.ToString(CultureInfo.InvariantCulture) + ")", topK.Value.ToString(CultureInfo.InvariantCulture));
        }

        return new ChunksSpec((int)count.Value, axis, (int?)topK, minActivity, (int?)maxK, activity, c.Span)
        {
            ProxyFormat = proxyFormat,
            ProxyRank = (int)(proxyRank ?? (activity == "lowrank" ? 16 : 2)),
            ActivitySpan = c.SpanOf("activity"),
            CountSpan = c.SpanOf("count"),
            AxisSpan = c.SpanOf("axis"),
            ProxyTaps = (int)(proxyTaps ?? 0),
            ProxyTapsSpan = c.SpanOf("proxyTaps"),
        };
    }

    /// <summary>The percentile of calibration activations a static range or a predicted z covers when the manifest names none.</summary>
    public const double DefaultPercentile = 99.99;

    private static ActivationsSpec? ReadActivations(ObjectReader a)
    {
        a.CheckAllowed("format", "params", "percentile", "range", "z");
        var format = a.Enum("format", new[] { "f32", "int8", "int16" }, "f32");
        var parameters = a.Enum("params", new[] { "dynamic", "static", "predicted" }, "dynamic");
        var percentile = a.Number("percentile", exclusiveMin: 50);
        if (percentile is > 100)
        {
            a.Report(DiagnosticCatalog.InvalidValue, a.SpanOf("percentile"), "percentile", "a number above 50 and at most 100", percentile.Value.ToString("R", CultureInfo.InvariantCulture));
            percentile = null;
        }

        var range = new List<double>();
        if (a.Array("range", required: false) is { } r)
        {
            foreach (var item in r.Items)
            {
                if (item.Kind == JsonNodeKind.Number && double.TryParse(item.NumberText, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && !double.IsInfinity(v))
                {
                    range.Add(v);
                }
                else
                {
                    a.Report(DiagnosticCatalog.InvalidValue, item.Span, "range", "two finite numbers [lo, hi]", item.NumberText ?? item.Describe());
                }
            }

            if (range.Count != 2 || range[0] > range[1])
            {
                a.Report(DiagnosticCatalog.InvalidValue, r.Span, "range", "two numbers [lo, hi] with lo <= hi", range.Count.ToString(CultureInfo.InvariantCulture) + " number(s)" + (range.Count == 2 ? " with lo > hi" : string.Empty));
                range.Clear();
            }
        }

        var z = a.Number("z", exclusiveMin: 0);
        return new ActivationsSpec(format, parameters, percentile ?? DefaultPercentile, a.Span, a.Get("params") is null ? a.Span : a.SpanOf("params"))
        {
            Range = range.ToEquatableArray(),
            Z = z,
        };
    }

    private static LayerSpec? ReadLayer(JsonNode node, int index, QuantSpec? defaultQuant, ActivationsSpec? defaultActivations, List<ManifestDiagnostic> diagnostics)
    {
        var what = "layer " + index.ToString(CultureInfo.InvariantCulture);
        if (node.Kind != JsonNodeKind.Object)
        {
            diagnostics.Add(ManifestDiagnostic.Create(DiagnosticCatalog.WrongType, node.Span, what, "an object", node.Describe()));
            return null;
        }

        var r = new ObjectReader(node, what, diagnostics);
        var op = r.String("op", required: true);
        if (op is null)
        {
            return null;
        }

        if (System.Array.IndexOf(Ops.All, op) < 0)
        {
            r.Report(DiagnosticCatalog.UnknownOp, r.SpanOf("op"), op, string.Join(", ", Ops.All));
            return null;
        }

        var needsName = op is Ops.Linear or Ops.LayerNorm or Ops.Conv2d;
        var name = r.String("name", required: needsName) ?? op + index.ToString(CultureInfo.InvariantCulture);
        var nameSpan = r.Get("name")?.Value.Span ?? node.Span;
        if (Identifiers.HasLineBreakOrControl(name))
        {
            // The name is written into comments and string literals of the generated code.
            r.Report(DiagnosticCatalog.InvalidValue, nameSpan, "name", "a name without line breaks or control characters", "a string that has some");
            return null;
        }

        var layer = new LayerSpec(index, op, name, node.Span, nameSpan);

        switch (op)
        {
            case Ops.Linear:
            {
                r.CheckAllowed("op", "name", "in", "out", "bias", "weights", "quant", "chunks", "activations");
                var inDim = r.Integer("in", required: true, min: 1, max: int.MaxValue);
                var outDim = r.Integer("out", required: true, min: 1, max: int.MaxValue);
                var quant = r.Object("quant", required: false) is { } q ? ReadQuant(q) : defaultQuant;
                var chunks = r.Object("chunks", required: false) is { } c ? ReadChunks(c) : null;

                // The model-level default applies to the layers it can: int8, int4, ternary or base11 weights, not chunked. A layer's own
                // "activations" is checked by the planner (CGC0044).
                var own = r.Object("activations", required: false) is { } a ? ReadActivations(a) : null;
                var activations = own
                    ?? (defaultActivations is not null && (quant?.Format == "int8" || (quant?.Format is "int4" or "ternary" or "base11" && !defaultActivations.IsInt16)) && quant.Policy is null && chunks is null ? defaultActivations : null);
                return layer with
                {
                    FloatActivations = own is { Format: "f32" } ? own : null,
                    In = (int)(inDim ?? 0),
                    InSpan = r.SpanOf("in"),
                    Out = (int)(outDim ?? 0),
                    OutSpan = r.SpanOf("out"),
                    Bias = r.Boolean("bias", true),
                    WeightsPrefix = r.String("weights", required: false) ?? name,
                    Quant = quant ?? new QuantSpec("f32", 0, node.Span, node.Span, false, node.Span),
                    Chunks = chunks,
                    Activations = activations is { IsInteger: true } ? activations : null,
                };
            }

            case Ops.LayerNorm:
            {
                r.CheckAllowed("op", "name", "dim", "eps", "weights", "activations");
                var dim = r.Integer("dim", required: true, min: 1, max: int.MaxValue);
                var eps = r.Number("eps", exclusiveMin: 0);

                // Only the layer's own "activations" (the model-level default is for linear layers): its input, the
                // residual sum, as u8 codes at a range the linear layer before predicts; checked by the planner (CGC0044).
                var activations = r.Object("activations", required: false) is { } a ? ReadActivations(a) : null;
                return layer with
                {
                    Activations = activations is { IsInteger: true } ? activations : null,
                    Dim = (int)(dim ?? 0),
                    DimSpan = r.SpanOf("dim"),
                    Eps = (float)(eps ?? 1e-5),
                    WeightsPrefix = r.String("weights", required: false) ?? name,
                };
            }

            case Ops.Conv2d:
            {
                r.CheckAllowed("op", "name", "inChannels", "outChannels", "kernel", "stride", "pad", "bias", "weights", "quant", "chunks", "activations");
                var inChannels = r.Integer("inChannels", required: true, min: 1, max: int.MaxValue);
                var outChannels = r.Integer("outChannels", required: true, min: 1, max: int.MaxValue);
                if (r.Get("kernel") is null)
                {
                    r.Report(DiagnosticCatalog.MissingProperty, node.Span, "kernel", what);
                }

                var kernel = r.IntegerArray("kernel", 2, 1, MaxWindow);
                var stride = r.IntegerArray("stride", 2, 1, MaxWindow) ?? new[] { 1, 1 };
                var pad = r.IntegerArray("pad", 4, 0, MaxWindow) ?? new[] { 0, 0, 0, 0 };
                var quant = r.Object("quant", required: false) is { } q ? ReadQuant(q) : defaultQuant;
                var chunks = r.Object("chunks", required: false) is { } c ? ReadChunks(c) : null;

                // as for linear: the model-level default applies to int8 or base11 weights without chunks; a layer's own is checked by the planner (CGC0044)
                var activations = r.Object("activations", required: false) is { } a
                    ? ReadActivations(a)
                    : defaultActivations is not null && !defaultActivations.IsInt16 && quant?.Format is "int8" or "base11" && quant.Policy is null && chunks is null ? defaultActivations : null;
                return layer with
                {
                    Chunks = chunks,
                    Activations = activations is { IsInteger: true } ? activations : null,
                    InChannels = (int)(inChannels ?? 0),
                    InChannelsSpan = r.SpanOf("inChannels"),
                    OutChannels = (int)(outChannels ?? 0),
                    OutSpan = r.SpanOf("outChannels"),
                    KernelH = kernel?[0] ?? 1,
                    KernelW = kernel?[1] ?? 1,
                    KernelSpan = r.SpanOf("kernel"),
                    StrideH = stride[0],
                    StrideW = stride[1],
                    PadTop = pad[0],
                    PadLeft = pad[1],
                    PadBottom = pad[2],
                    PadRight = pad[3],
                    PadSpan = r.SpanOf("pad"),
                    Bias = r.Boolean("bias", true),
                    WeightsPrefix = r.String("weights", required: false) ?? name,
                    Quant = quant ?? new QuantSpec("f32", 0, node.Span, node.Span, false, node.Span),
                };
            }

            case Ops.MaxPool:
            {
                r.CheckAllowed("op", "name", "kernel", "stride", "pad");
                if (r.Get("kernel") is null)
                {
                    r.Report(DiagnosticCatalog.MissingProperty, node.Span, "kernel", what);
                }

                var kernel = r.IntegerArray("kernel", 2, 1, MaxWindow) ?? new[] { 1, 1 };
                var stride = r.IntegerArray("stride", 2, 1, MaxWindow) ?? kernel;
                var pad = r.IntegerArray("pad", 4, 0, MaxWindow) ?? new[] { 0, 0, 0, 0 };
                return layer with
                {
                    KernelH = kernel[0],
                    KernelW = kernel[1],
                    KernelSpan = r.SpanOf("kernel"),
                    StrideH = stride[0],
                    StrideW = stride[1],
                    PadTop = pad[0],
                    PadLeft = pad[1],
                    PadBottom = pad[2],
                    PadRight = pad[3],
                    PadSpan = r.SpanOf("pad"),
                };
            }

            case Ops.Residual:
            {
                r.CheckAllowed("op", "name", "from");
                var from = r.String("from", required: true);
                return layer with { From = from, FromSpan = r.SpanOf("from") };
            }

            default:
                r.CheckAllowed("op", "name");
                return layer;
        }
    }
}

/// <summary>The outcome of parsing: the spec when there were no errors, and every diagnostic.</summary>
public sealed record ParseResult(ManifestSpec? Spec, EquatableArray<ManifestDiagnostic> Diagnostics);
