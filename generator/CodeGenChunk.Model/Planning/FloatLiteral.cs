using System.Globalization;

namespace CodeGenChunk.Model.Planning;

/// <summary>Culture-invariant, round-trip exact C# float literals.</summary>
public static class FloatLiteral
{
    public static string Format(float value)
    {
        if (float.IsNaN(value))
        {
            return "float.NaN";
        }

        if (float.IsPositiveInfinity(value))
        {
            return "float.PositiveInfinity";
        }

        if (float.IsNegativeInfinity(value))
        {
            return "float.NegativeInfinity";
        }

        return value.ToString("R", CultureInfo.InvariantCulture) + "f";
    }
}
