using System.Globalization;
using System.Text;
using CodeGenChunk.Formats;

namespace CodeGenChunk.Model.Planning;

/// <summary>The chunk file's layout: entries in order with offsets, total length and its hash.</summary>
public sealed record WeightLayout(EquatableArray<LayoutEntry> Entries, long FileLength, ulong Hash)
{
    public string HashHex => "0x" + Hash.ToString("X16", CultureInfo.InvariantCulture);

    /// <summary>
    /// The entry names as one C# string literal, separated by '\n': the generated class splits it when it opens its
    /// weights (one literal instead of an array initializer of hundreds of strings in its static constructor).
    /// </summary>
    public string EntryNamesLiteral
    {
        get
        {
            var b = new StringBuilder("\"");
            for (var i = 0; i < Entries.Count; i++)
            {
                if (i > 0)
                {
                    b.Append("\\n");
                }

                b.Append(Entries[i].Name.Replace("\\", "\\\\").Replace("\"", "\\\""));
            }

            return b.Append('"').ToString();
        }
    }

    /// <summary>
    /// Places entries with the chunk file's own rule (<see cref="ChunkFileLayout.ComputeOffsets"/>)
    /// and hashes a canonical description of them, so a file packed for another manifest is refused.
    /// </summary>
    public static WeightLayout Create(System.Collections.Generic.IReadOnlyList<LayoutEntry> entries)
    {
        var lengths = new long[entries.Count];
        for (var i = 0; i < lengths.Length; i++)
        {
            lengths[i] = entries[i].Length;
        }

        var offsets = ChunkFileLayout.ComputeOffsets(lengths, out var fileLength);
        var placed = new LayoutEntry[entries.Count];
        var canonical = new StringBuilder("cgcw-layout-v4\n");
        for (var i = 0; i < placed.Length; i++)
        {
            var e = entries[i] with { Offset = offsets[i] };
            placed[i] = e;
            canonical.Append(string.Format(
                CultureInfo.InvariantCulture,
                "{0}|{1}|{2}|{3}|{4}|{5}|{6}|{7}|{8}|{9}|{10}|{11}|{12}|{13}{14}{15}{16}\n",
                e.Name,
                e.TensorName,
                e.Kind,
                e.Rows,
                e.Cols,
                e.GroupSize,
                e.Offset,
                e.Length,
                e.Format,
                e.RowStart,
                e.ColStart,
                e.TensorRows,
                e.TensorCols,
                e.Derived,
                e.RowMajor ? "|row-major" : string.Empty,
                e.PanelRows > 0 ? "|panels:" + e.PanelRows.ToString(CultureInfo.InvariantCulture) : string.Empty,
                e.Pairs ? "|pairs" : string.Empty));
        }

        canonical.Append(fileLength.ToString(CultureInfo.InvariantCulture));
        var hash = System.IO.Hashing.XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(canonical.ToString()));
        return new WeightLayout(new EquatableArray<LayoutEntry>(placed), fileLength, hash);
    }
}
