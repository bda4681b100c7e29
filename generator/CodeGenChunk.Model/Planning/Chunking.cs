using System;
using System.Globalization;
using CodeGenChunk.Formats;
using CodeGenChunk.Model.Manifest;

namespace CodeGenChunk.Model.Planning;

/// <summary>
/// How a linear layer's matrix is split into chunks (docs/routing.md): C contiguous ranges of its
/// rows (axis "output", boundaries on multiples of the kernels' 4-row blocks) or columns (axis
/// "input", boundaries on multiples of 16), as even as that allows, and the format each chunk is stored in.
/// </summary>
public static class Chunking
{
    /// <summary>A layer runs chunk by chunk when its manifest splits it into two or more chunks.</summary>
    public static bool IsChunked(LayerSpec l) => (l.Op is Ops.Linear or Ops.Conv2d) && l.Chunks is { Count: > 1, IsPool: false };

    /// <summary>
    /// A conv2d layer routed by pool windows (<c>axis: "pool"</c>, docs/routing.md): it runs fused with the ReLU and max
    /// pool after it, computing only the top-k positions of each window; its filter bank stays one entry.
    /// </summary>
    public static bool IsPoolRouted(LayerSpec l) => l.Op == Ops.Conv2d && l.Chunks is { IsPool: true };

    /// <summary>
    /// Whether the layer estimates its chunks' activity for every input: when it routes (top-k or a threshold), and
    /// when a per-input precision policy (<c>by: "runtime-activity"</c>) picks each chunk's bits from it (with one
    /// class of bits there is nothing to pick: every chunk runs at those bits, unscored).
    /// </summary>
    public static bool IsScored(LayerSpec l) => IsChunked(l) && (l.Chunks!.Routed || l.Quant?.Policy is { IsRuntime: true, Bits.Count: > 1 });

    /// <summary>
    /// The chunks' ranges along the chunked axis: [start, start + length). A conv2d layer splits its output
    /// channels as evenly as possible (the first outChannels % count chunks one channel longer): its kernels
    /// block channels by their own tiling, so no alignment is needed.
    /// </summary>
    public static (int Start, int Length)[] Split(LayerSpec l, ChunksSpec c) =>
        l.Op == Ops.Conv2d ? Split(l.OutChannels, c.Count)
        : c.Axis == "input" ? Split(l.In, c.Count, InputAlignment) : Split(l.Out, c.Count, KernelSpecShape.RowBlock);

    /// <summary>Input chunks start at multiples of 16 columns where the layer is wide enough: whole vectors, no scalar tails.</summary>
    public const int InputAlignment = 16;

    /// <summary>
    /// Splits [0, dim) into <paramref name="count"/> ranges: boundary i is i·dim/count rounded to the nearest
    /// multiple of <paramref name="align"/> (when every chunk still gets at least one multiple), so that
    /// chunks fit the kernels' vectors and row blocks; otherwise as even as possible.
    /// </summary>
    public static (int Start, int Length)[] Split(int dim, int count, int align = 1)
    {
        if (align < 1 || dim / count < align)
        {
            align = 1;
        }

        var parts = new (int Start, int Length)[count];
        var start = 0;
        for (var i = 0; i < count; i++)
        {
            int end;
            if (i == count - 1)
            {
                end = dim;
            }
            else if (align == 1)
            {
                end = start + (dim / count) + (i < dim % count ? 1 : 0);
            }
            else
            {
                var ideal = (long)(i + 1) * dim / count;
                end = (int)(((ideal + (align / 2)) / align) * align);
                end = Math.Max(end, start + align);
                end = Math.Min(end, dim - ((count - 1 - i) * align));
            }

            parts[i] = (start, end - start);
            start = end;
        }

        return parts;
    }

    /// <summary>
    /// Rows of a column panel when the layer's input chunks are stored as panels (see <see cref="LayoutEntry.PanelRows"/>),
    /// else 0: input-axis chunks that are all int8, over an output a multiple of 16 (64-row panels when it divides).
    /// A panel kernel keeps a block of outputs in registers across every selected chunk: no horizontal sum and no
    /// store per chunk and row, which is what a short input chunk's row costs otherwise.
    /// </summary>
    public static int PanelRows(LayerSpec l)
    {
        if (!IsChunked(l) || l.Op != Ops.Linear || l.Chunks!.Axis != "input" || l.Out % 16 != 0 || l.Streamed)
        {
            return 0;
        }

        for (var i = 0; i < l.Chunks.Count; i++)
        {
            if (FormatOf(l, i).Format != "int8")
            {
                return 0;
            }
        }

        return l.Out % 64 == 0 ? 64 : 16;
    }

    /// <summary>Entry-name prefix of chunk <paramref name="index"/> ("fc1.c3").</summary>
    public static string ChunkPrefix(LayerSpec l, int index) => l.Name + ".c" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The format and group size of one chunk: the policy's recorded choice when the layer has a
    /// calibrated policy, else the layer's format. A chunk in another format than the layer's uses
    /// that format's default group size.
    /// </summary>
    public static (string Format, int GroupSize) FormatOf(LayerSpec l, int index)
    {
        var q = l.Quant!;
        if (q.Policy is { IsRuntime: true })
        {
            return (BitPlaneFormat.Name, q.GroupSize);
        }

        var format = q.Policy is { By: "activity" } p && p.Chosen.Count == l.Chunks!.Count ? p.Chosen[index] : q.Format;
        if (!WeightFormats.IsGrouped(format))
        {
            return (format, 0);
        }

        return (format, format == q.Format && q.GroupSize > 0 ? q.GroupSize : WeightFormats.DefaultGroupSize(format));
    }

    /// <summary>
    /// The format a calibrated activity maps to: thresholds t[0] &lt; t[1] &lt; ... split [0, 1] into
    /// bands, formats[j] for activities in band j (activity below t[0] gets formats[0]).
    /// </summary>
    public static string Choose(PolicySpec p, double activity)
    {
        var band = 0;
        while (band < p.Thresholds.Count && activity >= p.Thresholds[band])
        {
            band++;
        }

        return p.Formats[band];
    }
}
