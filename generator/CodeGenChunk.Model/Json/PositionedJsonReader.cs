using System;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;

namespace CodeGenChunk.Model.Json;

/// <summary>
/// Reads JSON text into <see cref="JsonNode"/>s that carry line and column, using
/// <see cref="Utf8JsonReader"/> for the grammar and a byte-to-character map for positions.
/// </summary>
public static class PositionedJsonReader
{
    public static bool TryRead(string filePath, string text, out JsonNode? root, out JsonSyntaxError? error)
    {
        var map = new PositionMap(filePath, text);
        var reader = new Utf8JsonReader(map.Utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 64 });
        try
        {
            if (!reader.Read())
            {
                root = null;
                error = new JsonSyntaxError("the file is empty", map.SpanAt(0, 0));
                return false;
            }

            root = ReadValue(ref reader, map);
            if (reader.Read())
            {
                var at = (int)reader.TokenStartIndex;
                root = null;
                error = new JsonSyntaxError("unexpected content after the end of the top-level value", map.SpanAt(at, 1));
                return false;
            }

            error = null;
            return true;
        }
        catch (JsonException ex)
        {
            root = null;
            var line = (int)(ex.LineNumber ?? 0);
            var bytePos = (int)(ex.BytePositionInLine ?? 0);
            error = new JsonSyntaxError(CleanMessage(ex.Message), map.SpanAtLineByte(line, bytePos));
            return false;
        }
    }

    private static string CleanMessage(string message)
    {
        // Utf8JsonReader appends " LineNumber: x | BytePositionInLine: y." which the location already says.
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        var text = cut > 0 ? message.Substring(0, cut) : message;
        return text.TrimEnd('.', ' ');
    }

    private static JsonNode ReadValue(ref Utf8JsonReader reader, PositionMap map)
    {
        var start = (int)reader.TokenStartIndex;
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
            {
                var node = JsonNode.Create(JsonNodeKind.Object, map.SpanAt(start, 1));
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var nameStart = (int)reader.TokenStartIndex;
                    var name = reader.GetString() ?? string.Empty;
                    var nameSpan = map.SpanAt(nameStart, (int)(reader.ValueSpan.Length + 2));
                    reader.Read();
                    var value = ReadValue(ref reader, map);
                    node.Properties.Add(new JsonProperty(name, nameSpan, value));
                }

                node.Span = map.SpanAt(start, (int)reader.TokenStartIndex + 1 - start);
                return node;
            }

            case JsonTokenType.StartArray:
            {
                var node = JsonNode.Create(JsonNodeKind.Array, map.SpanAt(start, 1));
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    node.Items.Add(ReadValue(ref reader, map));
                }

                node.Span = map.SpanAt(start, (int)reader.TokenStartIndex + 1 - start);
                return node;
            }

            case JsonTokenType.String:
                return JsonNode.CreateString(reader.GetString() ?? string.Empty, map.SpanAt(start, TokenLength(ref reader) + 2));
            case JsonTokenType.Number:
                return JsonNode.CreateNumber(Encoding.UTF8.GetString(reader.ValueSpan.ToArray()), map.SpanAt(start, TokenLength(ref reader)));
            case JsonTokenType.True:
                return JsonNode.Create(JsonNodeKind.True, map.SpanAt(start, 4));
            case JsonTokenType.False:
                return JsonNode.Create(JsonNodeKind.False, map.SpanAt(start, 5));
            default:
                return JsonNode.Create(JsonNodeKind.Null, map.SpanAt(start, 4));
        }
    }

    private static int TokenLength(ref Utf8JsonReader reader) =>
        reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;

    /// <summary>Maps UTF-8 byte offsets of the text to character offsets, lines and columns.</summary>
    private sealed class PositionMap
    {
        private readonly string _filePath;
        private readonly int[] _charOfByte;
        private readonly List<int> _lineStartChars = new() { 0 };
        private readonly List<int> _lineStartBytes = new() { 0 };

        public PositionMap(string filePath, string text)
        {
            _filePath = filePath;
            var hasBom = text.Length > 0 && text[0] == '\uFEFF';
            var body = hasBom ? text.Substring(1) : text;
            Utf8 = Encoding.UTF8.GetBytes(body);
            _charOfByte = new int[Utf8.Length + 1];
            var charIndex = hasBom ? 1 : 0;
            for (var i = 0; i < Utf8.Length; i++)
            {
                _charOfByte[i] = charIndex;
                var b = Utf8[i];
                if ((b & 0xC0) != 0x80)
                {
                    // Start of a character; characters above the BMP take two UTF-16 units.
                    charIndex += b >= 0xF0 ? 2 : 1;
                }

                if (b == (byte)'\n')
                {
                    _lineStartBytes.Add(i + 1);
                    _lineStartChars.Add(charIndex);
                }
            }

            _charOfByte[Utf8.Length] = charIndex;
        }

        public byte[] Utf8 { get; }

        public TextSpanInfo SpanAt(int byteOffset, int byteLength)
        {
            byteOffset = Math.Max(0, Math.Min(byteOffset, Utf8.Length));
            var byteEnd = Math.Max(byteOffset, Math.Min(byteOffset + byteLength, Utf8.Length));
            var (startLine, startCol, startChar) = Locate(byteOffset);
            var (endLine, endCol, endChar) = Locate(byteEnd);
            return new TextSpanInfo(_filePath, startChar, endChar - startChar, startLine, startCol, endLine, endCol);
        }

        public TextSpanInfo SpanAtLineByte(int line, int byteInLine)
        {
            line = Math.Max(0, Math.Min(line, _lineStartBytes.Count - 1));
            return SpanAt(_lineStartBytes[line] + byteInLine, 1);
        }

        private (int Line, int Column, int Char) Locate(int byteOffset)
        {
            var line = _lineStartBytes.BinarySearch(byteOffset);
            if (line < 0)
            {
                line = ~line - 1;
            }

            var ch = _charOfByte[byteOffset];
            return (line, ch - _lineStartChars[line], ch);
        }
    }
}

/// <summary>Why the text is not JSON, and where.</summary>
public sealed record JsonSyntaxError(string Message, TextSpanInfo Span);
