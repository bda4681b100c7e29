namespace CodeGenChunk.Runtime;

/// <summary>Which instruction width a generated kernel runs with.</summary>
public enum KernelPath
{
    /// <summary>The widest accelerated path, unless the <c>CGC_KERNEL_PATH</c> environment variable says otherwise.</summary>
    Auto = 0,

    /// <summary>512-bit vectors (<see cref="System.Runtime.Intrinsics.Vector512"/>).</summary>
    Vector512,

    /// <summary>256-bit vectors (<see cref="System.Runtime.Intrinsics.Vector256"/>).</summary>
    Vector256,

    /// <summary>128-bit vectors (<see cref="System.Runtime.Intrinsics.Vector128"/>).</summary>
    Vector128,

    /// <summary>Plain scalar code; always available.</summary>
    Scalar,
}
