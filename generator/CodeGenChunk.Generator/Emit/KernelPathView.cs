using System.Collections.Generic;

namespace CodeGenChunk.Generator.Emit;

/// <summary>
/// One code path a kernel is written for: a SIMD width ("V512", "V256", "V128") or "Scalar".
/// The scalar path has no vector type; its lane count is so large that every loop bound the
/// templates compute (length - length % lanes) is zero and the scalar tails do all the work.
/// </summary>
public sealed class KernelPathView
{
    private const int ScalarLanes = 1 << 30;

    private KernelPathView(string name, string vector, int lanes, string[] cases, string vectorType = "")
    {
        VectorType = vectorType.Length == 0 ? vector + "<float>" : vectorType;
        Name = name;
        Vector = vector;
        Lanes = lanes;
        Cases = cases;
    }

    /// <summary>"V512", "V256", "V128" or "Scalar": the suffix of the kernel method.</summary>
    public string Name { get; }

    /// <summary>The System.Runtime.Intrinsics vector type, or empty for the scalar path.</summary>
    public string Vector { get; }

    public int Lanes { get; }

    /// <summary>The float vector type: "Vector512&lt;float&gt;" or the portable "Lanes16".</summary>
    public string VectorType { get; }

    public bool IsVector => Lanes < ScalarLanes;

    /// <summary>The KernelPath values dispatched to this path (a path also serves the wider ones not generated).</summary>
    public string[] Cases { get; }

    /// <summary>
    /// The case guard of this path's dispatch: " when Vector512.IsHardwareAccelerated" for a 512-bit body, else empty.
    /// <c>KernelPaths.Resolve</c> never yields Vector512 where it is not accelerated, so the guard changes nothing at run
    /// time; it is a constant for NativeAOT, whose instruction set (e.g. x86-64-v3) then leaves the 512-bit bodies out.
    /// </summary>
    public string Guard => Vector == "Vector512" ? " when Vector512.IsHardwareAccelerated" : string.Empty;

    public static IReadOnlyList<KernelPathView> For(string simd)
    {
        var names = new[] { "Vector512", "Vector256", "Vector128" };
        var lanes = new[] { 16, 8, 4 };
        var first = simd switch
        {
            "v256" => 1,
            "v128" => 2,
            "scalar" => 3,
            _ => 0,
        };
        var list = new List<KernelPathView>();
        for (var i = first; i < names.Length; i++)
        {
            var cases = new List<string>();
            for (var j = i == first ? 0 : i; j <= i; j++)
            {
                cases.Add(names[j]);
            }

            list.Add(new KernelPathView("V" + names[i].Substring(6), names[i], lanes[i], cases.ToArray()));
        }

        list.Add(new KernelPathView("Scalar", string.Empty, ScalarLanes, first == 3 ? names : new string[0]));
        return list;
    }

    /// <summary>
    /// Paths of the packed formats, which decode sixteen weights at a time: Vector512, two Vector256
    /// (AVX2) and the portable sixteen-lane twin of four Vector128 — the path arm64 takes — as far
    /// as the manifest's simd choice allows.
    /// </summary>
    public static IReadOnlyList<KernelPathView> ForPacked(string simd)
    {
        var list = new List<KernelPathView>();
        if (simd is "auto" or "v512")
        {
            list.Add(new KernelPathView("V512", "Vector512", 16, new[] { "Vector512" }));
        }

        if (simd is "auto" or "v512" or "v256")
        {
            list.Add(new KernelPathView("W256", "Lanes16W", 16, list.Count == 0 ? new[] { "Vector512", "Vector256" } : new[] { "Vector256" }, "Lanes16W"));
        }

        if (simd != "scalar")
        {
            list.Add(new KernelPathView("L16", "Lanes16", 16, list.Count == 0 ? new[] { "Vector512", "Vector256", "Vector128" } : new[] { "Vector128" }, "Lanes16"));
        }

        list.Add(new KernelPathView("Scalar", string.Empty, ScalarLanes, simd == "scalar" ? new[] { "Vector512", "Vector256", "Vector128" } : new string[0]));
        return list;
    }
}
