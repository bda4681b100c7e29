using System.Collections.Generic;
using CodeGenChunk.Model.Planning;

namespace CodeGenChunk.Generator.Emit;

/// <summary>
/// A max-pooling kernel as the template lays it out: which vector width (if any) each generated path
/// pools with, and the distinct vector methods to write.
/// </summary>
public sealed class PoolKernelView
{
    private PoolKernelView(PoolKernelSpec spec, IReadOnlyList<PoolPathView> paths, IReadOnlyList<PoolPathView> methods)
    {
        Spec = spec;
        Paths = paths;
        Methods = methods;
    }

    public PoolKernelSpec Spec { get; }

    /// <summary>Every generated path and the method it calls.</summary>
    public IReadOnlyList<PoolPathView> Paths { get; }

    /// <summary>The distinct vector methods (one per vector width in use).</summary>
    public IReadOnlyList<PoolPathView> Methods { get; }

    public static IReadOnlyList<PoolKernelView> For(IEnumerable<PoolKernelSpec> kernels, IReadOnlyList<KernelPathView> paths)
    {
        var list = new List<PoolKernelView>();
        foreach (var k in kernels)
        {
            var views = new List<PoolPathView>();
            var methods = new List<PoolPathView>();
            foreach (var p in paths)
            {
                var lanes = p.IsVector ? k.PairLanes(p.Lanes) : 0;
                var view = new PoolPathView(p, lanes);
                views.Add(view);
                if (lanes > 0 && !methods.Exists(m => m.Lanes == lanes))
                {
                    methods.Add(view);
                }
            }

            list.Add(new PoolKernelView(k, views, methods));
        }

        return list;
    }
}

/// <summary>One path of a pooling kernel: the vector width it pools with (0: the scalar method).</summary>
public sealed class PoolPathView
{
    public PoolPathView(KernelPathView path, int lanes)
    {
        Path = path;
        Lanes = lanes;
    }

    public KernelPathView Path { get; }

    public int Lanes { get; }

    /// <summary>The System.Runtime.Intrinsics type of that width.</summary>
    public string Vector => Lanes switch
    {
        16 => "Vector512",
        8 => "Vector256",
        4 => "Vector128",
        _ => string.Empty,
    };

    /// <summary>The suffix of the method the path calls.</summary>
    public string Method => Lanes == 0 ? "Scalar" : Vector.Replace("Vector", "V");
}
