using System.Collections.Generic;
using System.Globalization;
using CodeGenChunk.Model.Diagnostics;
using CodeGenChunk.Model.Json;

namespace CodeGenChunk.Model.Manifest;

/// <summary>
/// Reads the properties of one JSON object the way the schema describes them, reporting
/// missing, mistyped, out-of-range and unknown properties at their JSON positions.
/// </summary>
internal sealed class ObjectReader
{
    private readonly JsonNode _node;
    private readonly string _what;
    private readonly List<ManifestDiagnostic> _diagnostics;

    public ObjectReader(JsonNode node, string what, List<ManifestDiagnostic> diagnostics)
    {
        _node = node;
        _what = what;
        _diagnostics = diagnostics;
    }

    public TextSpanInfo Span => _node.Span;

    public void CheckAllowed(params string[] allowed)
    {
        foreach (var p in _node.Properties)
        {
            if (System.Array.IndexOf(allowed, p.Name) < 0)
            {
                Report(DiagnosticCatalog.UnknownProperty, p.NameSpan, p.Name, _what, string.Join(", ", allowed));
            }
        }
    }

    public JsonProperty? Get(string name) => _node.Find(name);

    public string? String(string name, bool required, string? fallback = null)
    {
        var p = _node.Find(name);
        if (p is null)
        {
            if (required)
            {
                Report(DiagnosticCatalog.MissingProperty, _node.Span, name, _what);
            }

            return fallback;
        }

        if (p.Value.Kind != JsonNodeKind.String)
        {
            Report(DiagnosticCatalog.WrongType, p.Value.Span, name, "a string", p.Value.Describe());
            return fallback;
        }

        return p.Value.StringValue;
    }

    public string Enum(string name, string[] allowed, string fallback)
    {
        var value = String(name, required: false);
        if (value is null)
        {
            return fallback;
        }

        if (System.Array.IndexOf(allowed, value) < 0)
        {
            Report(DiagnosticCatalog.InvalidValue, _node.Find(name)!.Value.Span, name, "one of " + string.Join(", ", allowed), "\"" + value + "\"");
            return fallback;
        }

        return value;
    }

    public long? Integer(string name, bool required, long min, long max = long.MaxValue)
    {
        var p = _node.Find(name);
        if (p is null)
        {
            if (required)
            {
                Report(DiagnosticCatalog.MissingProperty, _node.Span, name, _what);
            }

            return null;
        }

        return IntegerValue(name, p.Value, min, max);
    }

    public long? IntegerValue(string name, JsonNode value, long min, long max = long.MaxValue)
    {
        if (value.Kind != JsonNodeKind.Number)
        {
            Report(DiagnosticCatalog.WrongType, value.Span, name, "an integer", value.Describe());
            return null;
        }

        if (!long.TryParse(value.NumberText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
        {
            Report(DiagnosticCatalog.WrongType, value.Span, name, "an integer", value.NumberText ?? "?");
            return null;
        }

        if (v < min || v > max)
        {
            var range = max == long.MaxValue
                ? string.Format(CultureInfo.InvariantCulture, "an integer >= {0}", min)
                : string.Format(CultureInfo.InvariantCulture, "an integer from {0} to {1}", min, max);
            Report(DiagnosticCatalog.InvalidValue, value.Span, name, range, value.NumberText ?? "?");
            return null;
        }

        return v;
    }

    public double? Number(string name, double exclusiveMin)
    {
        var p = _node.Find(name);
        if (p is null)
        {
            return null;
        }

        if (p.Value.Kind != JsonNodeKind.Number ||
            !double.TryParse(p.Value.NumberText, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
        {
            Report(DiagnosticCatalog.WrongType, p.Value.Span, name, "a number", p.Value.Describe());
            return null;
        }

        if (!(v > exclusiveMin))
        {
            Report(DiagnosticCatalog.InvalidValue, p.Value.Span, name, "a number > " + exclusiveMin.ToString("R", CultureInfo.InvariantCulture), p.Value.NumberText ?? "?");
            return null;
        }

        return v;
    }

    public bool Boolean(string name, bool fallback)
    {
        var p = _node.Find(name);
        if (p is null)
        {
            return fallback;
        }

        switch (p.Value.Kind)
        {
            case JsonNodeKind.True:
                return true;
            case JsonNodeKind.False:
                return false;
            default:
                Report(DiagnosticCatalog.WrongType, p.Value.Span, name, "true or false", p.Value.Describe());
                return fallback;
        }
    }

    /// <summary>
    /// An optional array of exactly <paramref name="count"/> integers from <paramref name="min"/> to
    /// <paramref name="max"/>; null when absent or wrong (the problem is reported).
    /// </summary>
    public int[]? IntegerArray(string name, int count, long min, long max)
    {
        var node = Array(name, required: false);
        if (node is null)
        {
            return null;
        }

        if (node.Items.Count != count)
        {
            Report(
                DiagnosticCatalog.InvalidValue,
                node.Span,
                name,
                string.Format(CultureInfo.InvariantCulture, "an array of {0} integers", count),
                string.Format(CultureInfo.InvariantCulture, "an array of {0}", node.Items.Count));
            return null;
        }

        var values = new int[count];
        for (var i = 0; i < count; i++)
        {
            var v = IntegerValue(name, node.Items[i], min, max);
            if (v is null)
            {
                return null;
            }

            values[i] = (int)v.Value;
        }

        return values;
    }

    public ObjectReader? Object(string name, bool required)
    {
        var p = _node.Find(name);
        if (p is null)
        {
            if (required)
            {
                Report(DiagnosticCatalog.MissingProperty, _node.Span, name, _what);
            }

            return null;
        }

        if (p.Value.Kind != JsonNodeKind.Object)
        {
            Report(DiagnosticCatalog.WrongType, p.Value.Span, name, "an object", p.Value.Describe());
            return null;
        }

        return new ObjectReader(p.Value, "'" + name + "'", _diagnostics);
    }

    public JsonNode? Array(string name, bool required)
    {
        var p = _node.Find(name);
        if (p is null)
        {
            if (required)
            {
                Report(DiagnosticCatalog.MissingProperty, _node.Span, name, _what);
            }

            return null;
        }

        if (p.Value.Kind != JsonNodeKind.Array)
        {
            Report(DiagnosticCatalog.WrongType, p.Value.Span, name, "an array", p.Value.Describe());
            return null;
        }

        return p.Value;
    }

    public TextSpanInfo SpanOf(string name) => _node.Find(name)?.Value.Span ?? _node.Span;

    /// <summary>Whether the object has the property.</summary>
    public bool Has(string name) => _node.Find(name) is not null;

    public void Report(DiagnosticInfo info, TextSpanInfo span, params object[] args) =>
        _diagnostics.Add(ManifestDiagnostic.Create(info, span, args));
}
