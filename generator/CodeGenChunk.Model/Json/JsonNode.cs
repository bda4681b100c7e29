using System.Collections.Generic;

namespace CodeGenChunk.Model.Json;

/// <summary>A parsed JSON value that remembers where it stands in the file, for diagnostics.</summary>
public sealed class JsonNode
{
    private JsonNode(JsonNodeKind kind, TextSpanInfo span)
    {
        Kind = kind;
        Span = span;
    }

    public JsonNodeKind Kind { get; }

    public TextSpanInfo Span { get; internal set; }

    public string? StringValue { get; private set; }

    /// <summary>The number's text exactly as written (parsed later with the invariant culture).</summary>
    public string? NumberText { get; private set; }

    public List<JsonNode> Items { get; } = new();

    public List<JsonProperty> Properties { get; } = new();

    public static JsonNode Create(JsonNodeKind kind, TextSpanInfo span) => new(kind, span);

    public static JsonNode CreateString(string value, TextSpanInfo span) => new(JsonNodeKind.String, span) { StringValue = value };

    public static JsonNode CreateNumber(string text, TextSpanInfo span) => new(JsonNodeKind.Number, span) { NumberText = text };

    public JsonProperty? Find(string name)
    {
        foreach (var p in Properties)
        {
            if (p.Name == name)
            {
                return p;
            }
        }

        return null;
    }

    public string Describe() => Kind switch
    {
        JsonNodeKind.Object => "an object",
        JsonNodeKind.Array => "an array",
        JsonNodeKind.String => "a string",
        JsonNodeKind.Number => "a number",
        JsonNodeKind.True or JsonNodeKind.False => "a boolean",
        _ => "null",
    };
}

/// <summary>A property of a JSON object: its name (with the name's place) and its value.</summary>
public sealed class JsonProperty
{
    public JsonProperty(string name, TextSpanInfo nameSpan, JsonNode value)
    {
        Name = name;
        NameSpan = nameSpan;
        Value = value;
    }

    public string Name { get; }

    public TextSpanInfo NameSpan { get; }

    public JsonNode Value { get; }
}
