using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>
/// The run-time half of chunk routing (docs/routing.md): activity estimates, allocation-free top-k
/// selection, and the epilogue of output chunks that were skipped or computed without it.
/// Generated code calls these with spans over its scratch and stack memory; nothing allocates.
/// </summary>
public static class ChunkRouting
{
    /// <summary>sqrt(2 / pi): mean |y| of a zero-mean Gaussian y per unit of its RMS.</summary>
    public const float GaussianMeanAbsPerRms = 0.7978845608f;

    /// <summary>Mean |x| of a segment (the "input" estimator, seed 000; also "exact" over W_i x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MeanAbs(ReadOnlySpan<float> values) =>
        values.Length == 0 ? 0f : TensorPrimitives.SumOfMagnitudes(values) / values.Length;

    /// <summary>
    /// The "proxy" estimate of a chunk's mean |W_i x| from its sketch S_i x (rank r):
    /// sqrt(|S_i x|^2 / rows) is the RMS of W_i x restricted to the chunk's top-r singular directions,
    /// scaled by sqrt(2/pi), the mean-|y| to RMS ratio of a Gaussian.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SketchActivity(ReadOnlySpan<float> sketch, int rows) =>
        MathF.Sqrt(TensorPrimitives.SumOfSquares(sketch) / rows) * GaussianMeanAbsPerRms;

    /// <summary>
    /// Marks the chunks to compute: at most <paramref name="limit"/> of them, most active first (ties:
    /// lower index first), and with <paramref name="hasMinActivity"/> only those whose activity is
    /// above <paramref name="minActivity"/>. <paramref name="selected"/>[i] becomes 1 or 0.
    /// O(C·k) comparisons, no allocation. Returns the number selected.
    /// </summary>
    public static int Select(ReadOnlySpan<float> activity, int limit, bool hasMinActivity, float minActivity, Span<byte> selected)
    {
        var count = activity.Length;
        if (selected.Length < count)
        {
            throw new ArgumentException("The selection span is shorter than the activity span.", nameof(selected));
        }

        selected.Slice(0, count).Clear();
        if (limit >= count && !hasMinActivity)
        {
            selected.Slice(0, count).Fill(1);
            return count;
        }

        var chosen = 0;
        while (chosen < limit)
        {
            var best = -1;
            var bestValue = 0f;
            for (var i = 0; i < count; i++)
            {
                // NaN activity never wins (a NaN input poisons every chunk alike).
                if (selected[i] == 0 && (best < 0 || activity[i] > bestValue) && !float.IsNaN(activity[i]))
                {
                    best = i;
                    bestValue = activity[i];
                }
            }

            if (best < 0 || (hasMinActivity && !(bestValue > minActivity)))
            {
                break;
            }

            selected[best] = 1;
            chosen++;
        }

        return chosen;
    }

    /// <summary>Output rows of a skipped chunk: the layer's epilogue applied to zero, i.e. bias, ReLU, + residual.</summary>
    public static void Skip(ReadOnlySpan<float> bias, bool relu, ReadOnlySpan<float> residual, Span<float> y)
    {
        if (bias.IsEmpty)
        {
            y.Clear();
        }
        else if (relu)
        {
            TensorPrimitives.Max(bias, 0f, y);
        }
        else
        {
            bias.CopyTo(y);
        }

        if (!residual.IsEmpty)
        {
            TensorPrimitives.Add(y, residual, y);
        }
    }

    /// <summary>
    /// Output channels of a skipped conv2d chunk: each plane of <paramref name="plane"/> floats holds its channel's
    /// bias (ReLU(bias) when a ReLU is fused), or zeros without bias.
    /// </summary>
    public static void SkipPlanes(ReadOnlySpan<float> bias, bool relu, int plane, Span<float> y)
    {
        if (bias.IsEmpty)
        {
            y.Clear();
            return;
        }

        for (var c = 0; c < bias.Length; c++)
        {
            y.Slice(c * plane, plane).Fill(relu ? MathF.Max(bias[c], 0f) : bias[c]);
        }
    }

    /// <summary>The epilogue of output rows computed without one (the "exact" estimator): + bias, ReLU, + residual.</summary>
    public static void Epilogue(ReadOnlySpan<float> bias, bool relu, ReadOnlySpan<float> residual, Span<float> y)
    {
        if (!bias.IsEmpty)
        {
            TensorPrimitives.Add(y, bias, y);
        }

        if (relu)
        {
            TensorPrimitives.Max(y, 0f, y);
        }

        if (!residual.IsEmpty)
        {
            TensorPrimitives.Add(y, residual, y);
        }
    }

    /// <summary>The starting value of an input-chunked layer's output: its bias, or zeros.</summary>
    public static void Start(ReadOnlySpan<float> bias, Span<float> y)
    {
        if (bias.IsEmpty)
        {
            y.Clear();
        }
        else
        {
            bias.CopyTo(y);
        }
    }

    /// <summary>The end of an input-chunked layer once its chunks are summed: ReLU, + residual.</summary>
    public static void Finish(bool relu, ReadOnlySpan<float> residual, Span<float> y) => Epilogue(default, relu, residual, y);
}
