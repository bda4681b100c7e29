namespace CodeGenChunk.Model.Json;

public enum JsonNodeKind
{
    Object,
    Array,
    String,
    Number,
    True,
    False,
    Null,
}
