using System.Collections.Generic;
using CodeGenChunk.Model.Planning;

namespace CodeGenChunk.Generator.Emit;

/// <summary>
/// A convolution kernel as the template lays it out: the spec, the register tiling of every
/// generated path and the call that decodes a block of filters of a packed format.
/// </summary>
public sealed class ConvKernelView
{
    private ConvKernelView(ConvKernelSpec spec, IReadOnlyList<ConvPathView> paths)
    {
        Spec = spec;
        Paths = paths;
    }

    public ConvKernelSpec Spec { get; }

    public IReadOnlyList<ConvPathView> Paths { get; }

    /// <summary>Unroll the taps of a kernel row (always, but for absurdly wide kernels).</summary>
    public bool UnrollTaps => Spec.KW <= 16;

    public static IReadOnlyList<ConvKernelView> For(IEnumerable<ConvKernelSpec> kernels, IReadOnlyList<KernelPathView> paths)
    {
        var list = new List<ConvKernelView>();
        foreach (var k in kernels)
        {
            var views = new List<ConvPathView>();
            foreach (var p in paths)
            {
                views.Add(new ConvPathView(p, p.IsVector ? k.Blocking(p.Lanes) : null));
            }

            list.Add(new ConvKernelView(k, views));
        }

        return list;
    }

    /// <summary>The runtime FilterDecode method of a packed format (empty for f32).</summary>
    public string DecodeMethod => Spec.Format switch
    {
        "f16" => "HalfRows",
        "int8" => "Int8Rows",
        "int4" => "Int4Rows",
        "ternary" => "TernaryRows",
        "int1" => "Int1Rows",
        "base11" => "Base11Rows",
        _ => string.Empty,
    };

    /// <summary>The chunk-file offsets that decode method takes.</summary>
    public string DecodeOffsets => Spec.Format switch
    {
        "f16" => "weightOffset",
        "base11" => "weightOffset, scaleOffset, scale2Offset",
        _ => "weightOffset, scaleOffset",
    };
}

/// <summary>One code path of a convolution kernel and its tiling (null for the scalar path).</summary>
public sealed class ConvPathView
{
    public ConvPathView(KernelPathView path, ConvBlocking? blocking)
    {
        Path = path;
        Blocking = blocking;
    }

    public KernelPathView Path { get; }

    public ConvBlocking? Blocking { get; }

    /// <summary>Column offsets (from the run's first column) of the vectors of a full run.</summary>
    public int[] LoopStarts
    {
        get
        {
            if (Blocking is null)
            {
                return new int[0];
            }

            var starts = new int[Blocking.VectorsPerChunk];
            for (var v = 0; v < starts.Length; v++)
            {
                starts[v] = v * Blocking.Lanes;
            }

            return starts;
        }
    }

    /// <summary>Column offsets of the vectors after the full runs.</summary>
    public int[] RestStarts => Blocking is null ? new int[0] : ToArray(Blocking.Rest);

    private static int[] ToArray(CodeGenChunk.Model.EquatableArray<int> a)
    {
        var r = new int[a.Count];
        for (var i = 0; i < r.Length; i++)
        {
            r[i] = a[i];
        }

        return r;
    }
}
