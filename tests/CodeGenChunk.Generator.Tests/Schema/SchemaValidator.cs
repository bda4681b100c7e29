using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace CodeGenChunk.Generator.Tests.Schema;

/// <summary>
/// A JSON Schema 2020-12 validator for the keywords the manifest schema uses. Written here because
/// none of the validators this registry has resolves 2020-12 <c>$defs</c> (NJsonSchema 11.6.2 stops
/// at "#/$defs/... has not been resolved"; JsonSchema.Net misses its JsonPointer.Net dependency).
/// A keyword it does not know is an error, so the schema cannot grow a rule no test checks.
/// </summary>
internal sealed class SchemaValidator
{
    /// <summary>Keywords that only annotate (or hold definitions); they never reject an instance.</summary>
    private static readonly HashSet<string> Annotations = new(StringComparer.Ordinal)
    {
        "$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples",
    };

    private static readonly HashSet<string> Assertions = new(StringComparer.Ordinal)
    {
        "$ref", "type", "enum", "const", "properties", "required", "additionalProperties", "items", "minItems",
        "maxItems", "minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
        "allOf", "anyOf", "oneOf", "not",
    };

    private readonly JsonElement _root;
    private readonly Dictionary<string, Regex> _patterns = new(StringComparer.Ordinal);

    private SchemaValidator(JsonElement root) => _root = root;

    public static SchemaValidator Parse(string schemaText)
    {
        using var document = JsonDocument.Parse(schemaText);
        return new SchemaValidator(document.RootElement.Clone());
    }

    /// <summary>Every keyword in every subschema, for checks of the schema itself.</summary>
    public static IEnumerable<(string Pointer, string Keyword, JsonElement Value)> Keywords(JsonElement schema, string pointer = "#")
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            yield break;
        }

        foreach (var p in schema.EnumerateObject())
        {
            yield return (pointer, p.Name, p.Value);
            var child = pointer + "/" + p.Name;
            IEnumerable<(string, JsonElement)> subschemas = p.Name switch
            {
                "properties" or "$defs" => p.Value.EnumerateObject().Select(q => (child + "/" + q.Name, q.Value)),
                "allOf" or "anyOf" or "oneOf" => p.Value.EnumerateArray().Select((s, i) => (child + "/" + i.ToString(CultureInfo.InvariantCulture), s)),
                "items" or "not" or "additionalProperties" => new[] { (child, p.Value) },
                _ => Array.Empty<(string, JsonElement)>(),
            };
            foreach (var (subPointer, sub) in subschemas)
            {
                foreach (var k in Keywords(sub, subPointer))
                {
                    yield return k;
                }
            }
        }
    }

    /// <summary>The problems of <paramref name="instanceText"/>, each as "path: message"; empty when it is valid.</summary>
    public IReadOnlyList<string> Validate(string instanceText)
    {
        using var document = JsonDocument.Parse(instanceText);
        var errors = new List<string>();
        Validate(_root, document.RootElement, "$", errors);
        return errors;
    }

    private void Validate(JsonElement schema, JsonElement instance, string path, List<string> errors)
    {
        if (schema.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            if (schema.ValueKind == JsonValueKind.False)
            {
                errors.Add(path + ": no value is allowed here");
            }

            return;
        }

        foreach (var keyword in schema.EnumerateObject())
        {
            if (!Annotations.Contains(keyword.Name) && !Assertions.Contains(keyword.Name))
            {
                throw new NotSupportedException("Schema keyword '" + keyword.Name + "' is not supported by this validator.");
            }
        }

        if (schema.TryGetProperty("$ref", out var reference))
        {
            Validate(Resolve(reference.GetString()!), instance, path, errors);
        }

        if (schema.TryGetProperty("type", out var type))
        {
            var types = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToArray() : new[] { type.GetString()! };
            if (!types.Any(t => HasType(instance, t)))
            {
                errors.Add(path + ": must be " + string.Join(" or ", types) + ", is " + instance.ValueKind);
                return;
            }
        }

        if (schema.TryGetProperty("enum", out var values) && !values.EnumerateArray().Any(v => JsonEqual(v, instance)))
        {
            errors.Add(path + ": " + instance.GetRawText() + " is not one of " + values.GetRawText());
        }

        if (schema.TryGetProperty("const", out var constant) && !JsonEqual(constant, instance))
        {
            errors.Add(path + ": must be " + constant.GetRawText());
        }

        switch (instance.ValueKind)
        {
            case JsonValueKind.Object:
                ValidateObject(schema, instance, path, errors);
                break;
            case JsonValueKind.Array:
                ValidateArray(schema, instance, path, errors);
                break;
            case JsonValueKind.String:
                ValidateString(schema, instance.GetString()!, path, errors);
                break;
            case JsonValueKind.Number:
                ValidateNumber(schema, instance.GetDouble(), path, errors);
                break;
        }

        ValidateCombinators(schema, instance, path, errors);
    }

    private void ValidateObject(JsonElement schema, JsonElement instance, string path, List<string> errors)
    {
        if (schema.TryGetProperty("required", out var required))
        {
            foreach (var name in required.EnumerateArray().Select(r => r.GetString()!))
            {
                if (!instance.TryGetProperty(name, out _))
                {
                    errors.Add(path + ": required property '" + name + "' is missing");
                }
            }
        }

        var hasProperties = schema.TryGetProperty("properties", out var properties);
        var hasAdditional = schema.TryGetProperty("additionalProperties", out var additional);
        foreach (var p in instance.EnumerateObject())
        {
            var childPath = path + "." + p.Name;
            if (hasProperties && properties.TryGetProperty(p.Name, out var propertySchema))
            {
                Validate(propertySchema, p.Value, childPath, errors);
            }
            else if (hasAdditional)
            {
                if (additional.ValueKind == JsonValueKind.False)
                {
                    errors.Add(childPath + ": property '" + p.Name + "' is not allowed");
                }
                else
                {
                    Validate(additional, p.Value, childPath, errors);
                }
            }
        }
    }

    private void ValidateArray(JsonElement schema, JsonElement instance, string path, List<string> errors)
    {
        var count = instance.GetArrayLength();
        if (schema.TryGetProperty("minItems", out var minItems) && count < minItems.GetInt32())
        {
            errors.Add(path + ": needs at least " + minItems.GetInt32().ToString(CultureInfo.InvariantCulture) + " items");
        }

        if (schema.TryGetProperty("maxItems", out var maxItems) && count > maxItems.GetInt32())
        {
            errors.Add(path + ": allows at most " + maxItems.GetInt32().ToString(CultureInfo.InvariantCulture) + " items");
        }

        if (schema.TryGetProperty("items", out var items))
        {
            var i = 0;
            foreach (var item in instance.EnumerateArray())
            {
                Validate(items, item, path + "[" + (i++).ToString(CultureInfo.InvariantCulture) + "]", errors);
            }
        }
    }

    private void ValidateString(JsonElement schema, string value, string path, List<string> errors)
    {
        // Lengths count code points, as JSON Schema does.
        var length = 0;
        for (var i = 0; i < value.Length; i++)
        {
            length++;
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
        }

        if (schema.TryGetProperty("minLength", out var minLength) && length < minLength.GetInt32())
        {
            errors.Add(path + ": shorter than " + minLength.GetInt32().ToString(CultureInfo.InvariantCulture));
        }

        if (schema.TryGetProperty("maxLength", out var maxLength) && length > maxLength.GetInt32())
        {
            errors.Add(path + ": longer than " + maxLength.GetInt32().ToString(CultureInfo.InvariantCulture));
        }

        if (schema.TryGetProperty("pattern", out var pattern) && !Pattern(pattern.GetString()!).IsMatch(value))
        {
            errors.Add(path + ": '" + value + "' does not match the pattern");
        }
    }

    private static void ValidateNumber(JsonElement schema, double value, string path, List<string> errors)
    {
        void Check(string keyword, Func<double, bool> ok, string what)
        {
            if (schema.TryGetProperty(keyword, out var bound) && !ok(bound.GetDouble()))
            {
                errors.Add(path + ": " + value.ToString("R", CultureInfo.InvariantCulture) + " must be " + what + " " + bound.GetRawText());
            }
        }

        Check("minimum", b => value >= b, ">=");
        Check("maximum", b => value <= b, "<=");
        Check("exclusiveMinimum", b => value > b, ">");
        Check("exclusiveMaximum", b => value < b, "<");
    }

    private void ValidateCombinators(JsonElement schema, JsonElement instance, string path, List<string> errors)
    {
        if (schema.TryGetProperty("allOf", out var allOf))
        {
            foreach (var sub in allOf.EnumerateArray())
            {
                Validate(sub, instance, path, errors);
            }
        }

        if (schema.TryGetProperty("anyOf", out var anyOf))
        {
            var branches = anyOf.EnumerateArray().Select(sub => Errors(sub, instance, path)).ToList();
            if (!branches.Any(b => b.Count == 0))
            {
                errors.Add(path + ": matches none of anyOf" + Explain(branches));
            }
        }

        if (schema.TryGetProperty("oneOf", out var oneOf))
        {
            var branches = oneOf.EnumerateArray().Select(sub => Errors(sub, instance, path)).ToList();
            var matches = branches.Count(b => b.Count == 0);
            if (matches != 1)
            {
                errors.Add(path + ": matches " + matches.ToString(CultureInfo.InvariantCulture) + " of oneOf, must match exactly one" + (matches == 0 ? Explain(branches) : string.Empty));
            }
        }

        if (schema.TryGetProperty("not", out var not) && Errors(not, instance, path).Count == 0)
        {
            errors.Add(path + ": " + instance.GetRawText() + " matches a schema it must not match (not)");
        }
    }

    private List<string> Errors(JsonElement schema, JsonElement instance, string path)
    {
        var errors = new List<string>();
        Validate(schema, instance, path, errors);
        return errors;
    }

    private static string Explain(List<List<string>> branches) =>
        string.Concat(branches.Select((b, i) => "\n    branch " + i.ToString(CultureInfo.InvariantCulture) + ": " + string.Join("; ", b)));

    private JsonElement Resolve(string reference)
    {
        if (!reference.StartsWith("#", StringComparison.Ordinal))
        {
            throw new NotSupportedException("Only references into the same schema are supported: " + reference);
        }

        var node = _root;
        foreach (var token in reference.Substring(1).Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = Uri.UnescapeDataString(token).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (node.ValueKind == JsonValueKind.Array)
            {
                node = node[int.Parse(name, CultureInfo.InvariantCulture)];
            }
            else if (!node.TryGetProperty(name, out node))
            {
                throw new InvalidOperationException("Unresolved schema reference " + reference);
            }
        }

        return node;
    }

    private Regex Pattern(string pattern)
    {
        if (!_patterns.TryGetValue(pattern, out var regex))
        {
            // ECMA-262 patterns are searched, not anchored; the schema anchors its own with ^ and $.
            // A final $ means the very end in ECMA-262, but also "before a final line feed" in .NET.
            var net = pattern.EndsWith('$') && !pattern.EndsWith("\\$", StringComparison.Ordinal) ? pattern[..^1] + "\\z" : pattern;
            regex = new Regex(net, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            _patterns[pattern] = regex;
        }

        return regex;
    }

    private static bool HasType(JsonElement instance, string type) => type switch
    {
        "object" => instance.ValueKind == JsonValueKind.Object,
        "array" => instance.ValueKind == JsonValueKind.Array,
        "string" => instance.ValueKind == JsonValueKind.String,
        "boolean" => instance.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => instance.ValueKind == JsonValueKind.Null,
        "number" => instance.ValueKind == JsonValueKind.Number,
        // 2020-12: an integer is a number without a fractional part (1.0 counts).
        "integer" => instance.ValueKind == JsonValueKind.Number && Math.Floor(instance.GetDouble()) == instance.GetDouble(),
        _ => throw new NotSupportedException("Unknown JSON Schema type '" + type + "'."),
    };

    private static bool JsonEqual(JsonElement a, JsonElement b)
    {
        if (a.ValueKind == JsonValueKind.Number && b.ValueKind == JsonValueKind.Number)
        {
            return a.GetDouble() == b.GetDouble();
        }

        if (a.ValueKind != b.ValueKind)
        {
            return false;
        }

        return a.ValueKind switch
        {
            JsonValueKind.String => a.GetString() == b.GetString(),
            JsonValueKind.Array => a.GetArrayLength() == b.GetArrayLength() && a.EnumerateArray().Zip(b.EnumerateArray()).All(p => JsonEqual(p.First, p.Second)),
            JsonValueKind.Object => a.EnumerateObject().Count() == b.EnumerateObject().Count() &&
                a.EnumerateObject().All(p => b.TryGetProperty(p.Name, out var v) && JsonEqual(p.Value, v)),
            _ => true,
        };
    }
}
