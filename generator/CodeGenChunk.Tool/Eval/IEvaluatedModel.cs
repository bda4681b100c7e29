using System;

namespace CodeGenChunk.Tool.Eval;

/// <summary>
/// A generated model compiled by <c>cgc eval</c>, seen through a small adapter compiled beside it (the generated class
/// has no common base type: every shape is a constant of its own class).
/// </summary>
public interface IEvaluatedModel : IDisposable
{
    int InputLength { get; }

    int OutputLength { get; }

    /// <summary>Bytes of the packed weights file.</summary>
    long WeightBytes { get; }

    /// <summary>Dense multiply-adds per inference.</summary>
    long MacsPerRun { get; }

    /// <summary>Multiply-adds the last <see cref="Run"/> executed (with routing: the selected chunks plus estimation).</summary>
    long LastRunMacs { get; }

    /// <summary>Peak RAM of one inference, as the generator computed it.</summary>
    long PeakRamBytes { get; }

    /// <summary>Names of the chunked layers (empty for a model without chunks).</summary>
    string[] ChunkedLayerNames { get; }

    /// <summary>Index of each chunked layer's first chunk in <see cref="ChunkHits"/>.</summary>
    int[] ChunkedLayerOffsets { get; }

    /// <summary>The weight format of every chunk.</summary>
    string[] ChunkFormats { get; }

    /// <summary>How often each chunk ran since the model was created.</summary>
    long[] ChunkHits();

    /// <summary>Input values each integer-activation layer clipped since the model was created (empty without such layers).</summary>
    long[] ClipCounts() => Array.Empty<long>();

    /// <summary>Bytes of intermediate activations (float scratch and u8 codes; 0 without integer-activation layers).</summary>
    long IntermediateBytes => 0;

    /// <summary>Bytes of float scratch the model would use with f32 activations (0 without integer-activation layers).</summary>
    long FloatIntermediateBytes => 0;

    void Run(float[] input, float[] output);
}
