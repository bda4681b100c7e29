namespace CodeGenChunk.Model.Manifest;

internal static class Identifiers
{
    private static readonly string[] Keywords =
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const",
        "continue", "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern",
        "false", "finally", "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface",
        "internal", "is", "lock", "long", "namespace", "new", "null", "object", "operator", "out", "override",
        "params", "private", "protected", "public", "readonly", "ref", "return", "sbyte", "sealed", "short",
        "sizeof", "stackalloc", "static", "string", "struct", "switch", "this", "throw", "true", "try", "typeof",
        "uint", "ulong", "unchecked", "unsafe", "ushort", "using", "virtual", "void", "volatile", "while",
    };

    public static bool IsIdentifier(string s)
    {
        if (s.Length == 0 || !(char.IsLetter(s[0]) || s[0] == '_'))
        {
            return false;
        }

        foreach (var c in s)
        {
            if (!(char.IsLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return System.Array.IndexOf(Keywords, s) < 0;
    }

    /// <summary>True when <paramref name="s"/> has a character that ends a C# comment line or string literal, or another control character.</summary>
    public static bool HasLineBreakOrControl(string s)
    {
        foreach (var c in s)
        {
            if (char.IsControl(c) || c == '\u2028' || c == '\u2029')
            {
                return true;
            }
        }

        return false;
    }

    public static bool IsNamespace(string s)
    {
        foreach (var part in s.Split('.'))
        {
            if (!IsIdentifier(part))
            {
                return false;
            }
        }

        return true;
    }
}
