using System;
using System.Runtime.Intrinsics;

namespace CodeGenChunk.Runtime;

/// <summary>
/// Chooses the kernel path: the widest vector width the hardware accelerates, or narrower on request. The
/// environment variable <c>CGC_KERNEL_PATH</c> (<c>scalar</c>, <c>v128</c>, <c>v256</c>, <c>v512</c>; read once)
/// overrides <see cref="KernelPath.Auto"/>, so a deployed binary can be forced onto a narrower path.
/// </summary>
public static class KernelPaths
{
    /// <summary>Name of the environment variable that overrides <see cref="KernelPath.Auto"/>.</summary>
    public const string EnvironmentVariable = "CGC_KERNEL_PATH";

    static KernelPaths()
    {
        Best = Widest(Vector512.IsHardwareAccelerated, Vector256.IsHardwareAccelerated, Vector128.IsHardwareAccelerated);
        string? value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        Override = TryParse(value, out KernelPath path) ? path : null;
    }

    /// <summary>The widest of Vector512, Vector256, Vector128 whose <c>IsHardwareAccelerated</c> is true, else Scalar.</summary>
    public static KernelPath Best { get; }

    /// <summary>The path <c>CGC_KERNEL_PATH</c> asked for when the process started, or null when it is unset or not recognised.</summary>
    public static KernelPath? Override { get; }

    /// <summary>
    /// The path to run: <see cref="KernelPath.Auto"/> becomes the environment override if any, else <see cref="Best"/>;
    /// a path wider than the hardware accelerates falls back to the widest accelerated narrower one.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="requested"/> is not a defined value.</exception>
    public static KernelPath Resolve(KernelPath requested) => Resolve(requested, Override, Best);

    /// <summary>Parses <c>scalar</c>, <c>v128</c>, <c>v256</c>, <c>v512</c> (case-insensitive, surrounding spaces ignored).</summary>
    public static bool TryParse(string? value, out KernelPath path)
    {
        string text = value is null ? string.Empty : value.Trim();
        if (text.Equals("scalar", StringComparison.OrdinalIgnoreCase))
        {
            path = KernelPath.Scalar;
            return true;
        }

        if (text.Equals("v128", StringComparison.OrdinalIgnoreCase))
        {
            path = KernelPath.Vector128;
            return true;
        }

        if (text.Equals("v256", StringComparison.OrdinalIgnoreCase))
        {
            path = KernelPath.Vector256;
            return true;
        }

        if (text.Equals("v512", StringComparison.OrdinalIgnoreCase))
        {
            path = KernelPath.Vector512;
            return true;
        }

        path = KernelPath.Auto;
        return false;
    }

    /// <summary>The resolution rule, with the override and the hardware's best path as inputs (for tests).</summary>
    internal static KernelPath Resolve(KernelPath requested, KernelPath? overridePath, KernelPath best)
    {
        if (requested < KernelPath.Auto || requested > KernelPath.Scalar)
        {
            throw new ArgumentOutOfRangeException(nameof(requested), requested, "Not a kernel path.");
        }

        if (requested == KernelPath.Auto)
        {
            requested = overridePath ?? best;
        }

        // The enum runs from wide to narrow: a larger value is narrower. Never wider than the best accelerated path.
        return requested > best ? requested : best;
    }

    /// <summary>The widest accelerated path given which widths are accelerated.</summary>
    internal static KernelPath Widest(bool vector512, bool vector256, bool vector128) =>
        vector512 ? KernelPath.Vector512
        : vector256 ? KernelPath.Vector256
        : vector128 ? KernelPath.Vector128
        : KernelPath.Scalar;
}
