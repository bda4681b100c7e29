using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace CodeGenChunk.Tool.Import;

/// <summary>
/// Writes an imported model as manifest text: fixed property order, one layer per line, invariant culture,
/// round-trip floats and "\n" line ends, so the same model always gives the same bytes.
/// </summary>
public static class ManifestWriter
{
    private static readonly JsonSerializerOptions StringOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(ImportedModel model, string modelName, string ns, string weightsSource, IReadOnlyList<KeyValuePair<string, string>>? topLevelExtra = null)
    {
        var sb = new StringBuilder();
        sb.Append("{\n");
        sb.Append("  \"description\": ").Append(Quote(model.Description)).Append(",\n");
        sb.Append("  \"model\": ").Append(Quote(modelName)).Append(",\n");
        sb.Append("  \"namespace\": ").Append(Quote(ns)).Append(",\n");
        sb.Append("  \"target\": { \"simd\": \"auto\", \"weights\": \"embedded\" },\n");
        sb.Append("  \"weights\": { \"source\": ").Append(Quote(weightsSource)).Append(" },\n");
        sb.Append("  \"input\": { \"shape\": ").Append(Ints(model.InputShape)).Append(" },\n");
        if (topLevelExtra is not null)
        {
            foreach (var (key, json) in topLevelExtra)
            {
                sb.Append("  ").Append(Quote(key)).Append(": ").Append(json).Append(",\n");
            }
        }

        sb.Append("  \"layers\": [\n");
        for (var i = 0; i < model.Layers.Count; i++)
        {
            sb.Append("    ").Append(Layer(model.Layers[i])).Append(i < model.Layers.Count - 1 ? ",\n" : "\n");
        }

        sb.Append("  ]\n}\n");
        return sb.ToString();
    }

    /// <summary>One layer as a one-line JSON object: op, name, then the op's properties.</summary>
    public static string Layer(ImportedLayer l)
    {
        var p = new List<(string Key, string Json)> { ("op", Quote(l.Op)) };
        if (l.Name is not null)
        {
            p.Add(("name", Quote(l.Name)));
        }

        switch (l.Op)
        {
            case "linear":
                p.Add(("in", Int(l.In)));
                p.Add(("out", Int(l.Out)));
                break;
            case "conv2d":
                p.Add(("inChannels", Int(l.InChannels)));
                p.Add(("outChannels", Int(l.OutChannels)));
                p.Add(("kernel", Ints(l.Kernel!)));
                p.Add(("stride", Ints(l.Stride ?? new[] { 1, 1 })));
                p.Add(("pad", Ints(l.Pad ?? new[] { 0, 0, 0, 0 })));
                break;
            case "maxpool":
                p.Add(("kernel", Ints(l.Kernel!)));
                p.Add(("stride", Ints(l.Stride ?? l.Kernel!)));
                p.Add(("pad", Ints(l.Pad ?? new[] { 0, 0, 0, 0 })));
                break;
            case "layernorm":
                p.Add(("dim", Int(l.Dim)));
                if (l.Eps is { } eps)
                {
                    p.Add(("eps", Float(eps)));
                }

                break;
            case "residual":
                p.Add(("from", Quote(l.From!)));
                break;
        }

        if (l.Op is "linear" or "conv2d" && !l.Bias)
        {
            p.Add(("bias", "false"));
        }

        if (l.WeightsPrefix is not null && l.WeightsPrefix != l.Name)
        {
            p.Add(("weights", Quote(l.WeightsPrefix)));
        }

        foreach (var (key, json) in l.Extra)
        {
            p.Add((key, json));
        }

        var sb = new StringBuilder("{");
        for (var i = 0; i < p.Count; i++)
        {
            sb.Append(i == 0 ? string.Empty : ", ").Append(Quote(p[i].Key)).Append(": ").Append(p[i].Json);
        }

        return sb.Append('}').ToString();
    }

    public static string Quote(string s) => JsonSerializer.Serialize(s, StringOptions);

    public static string Ints(IReadOnlyList<int> values)
    {
        var sb = new StringBuilder("[");
        for (var i = 0; i < values.Count; i++)
        {
            sb.Append(i == 0 ? string.Empty : ", ").Append(Int(values[i]));
        }

        return sb.Append(']').ToString();
    }

    private static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>The shortest text that reads back as the same float ("R"), as JSON (1E-05 is a valid JSON number).</summary>
    private static string Float(float v) => v.ToString("R", CultureInfo.InvariantCulture);
}
