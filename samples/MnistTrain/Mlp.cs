using System;

namespace Samples.MnistTrain;

/// <summary>
/// A ReLU MLP (linear, ReLU, ..., linear) trained by mini-batch SGD with momentum on softmax cross-entropy.
/// Weights are stored input-major (<c>[in][out]</c>): a layer's forward pass adds one row per non-zero input
/// (most pixels and about half the hidden units are zero), and its backward pass reads the same rows.
/// <see cref="WeightOutIn"/> gives the usual <c>[out][in]</c> matrix.
/// </summary>
internal sealed class Mlp
{
    private readonly int[] _sizes;
    private readonly float[][] _w;      // [layer][in * out], input-major
    private readonly float[][] _b;      // [layer][out]
    private readonly float[][] _gw;     // gradient sums over the current batch
    private readonly float[][] _gb;
    private readonly float[][] _vw;     // momentum
    private readonly float[][] _vb;
    private readonly float[][] _act;    // [0] = input, [l + 1] = output of layer l (after ReLU for hidden layers)
    private readonly float[][] _delta;  // dLoss/d(pre-activation) of layer l
    private int _batchCount;

    public Mlp(int[] sizes, SplitMix64 random)
    {
        _sizes = sizes;
        var layers = sizes.Length - 1;
        _w = new float[layers][];
        _b = new float[layers][];
        _gw = new float[layers][];
        _gb = new float[layers][];
        _vw = new float[layers][];
        _vb = new float[layers][];
        _delta = new float[layers][];
        _act = new float[sizes.Length][];
        _act[0] = new float[sizes[0]];
        for (var l = 0; l < layers; l++)
        {
            int fanIn = sizes[l], fanOut = sizes[l + 1];
            _w[l] = new float[fanIn * fanOut];
            _b[l] = new float[fanOut];
            _gw[l] = new float[fanIn * fanOut];
            _gb[l] = new float[fanOut];
            _vw[l] = new float[fanIn * fanOut];
            _vb[l] = new float[fanOut];
            _delta[l] = new float[fanOut];
            _act[l + 1] = new float[fanOut];

            // He-uniform for layers followed by ReLU, 1/sqrt(fan-in) for the output layer; biases start at zero.
            var bound = l < layers - 1 ? MathF.Sqrt(6f / fanIn) : 1f / MathF.Sqrt(fanIn);
            for (var i = 0; i < _w[l].Length; i++)
            {
                _w[l][i] = ((2f * random.NextFloat()) - 1f) * bound;
            }
        }
    }

    public int Layers => _sizes.Length - 1;

    public int InputSize => _sizes[0];

    public int OutputSize => _sizes[^1];

    /// <summary>The input buffer the next <see cref="Forward"/> reads.</summary>
    public Span<float> Input => _act[0];

    /// <summary>Logits of the last <see cref="Forward"/>.</summary>
    public ReadOnlySpan<float> Logits => _act[^1];

    public void Forward()
    {
        for (var l = 0; l < Layers; l++)
        {
            int fanOut = _sizes[l + 1];
            var x = _act[l];
            var y = _act[l + 1];
            _b[l].CopyTo(y, 0);
            for (var i = 0; i < x.Length; i++)
            {
                if (x[i] != 0f)
                {
                    VectorMath.Axpy(y, x[i], _w[l].AsSpan(i * fanOut, fanOut));
                }
            }

            if (l < Layers - 1)
            {
                for (var o = 0; o < fanOut; o++)
                {
                    if (y[o] < 0f)
                    {
                        y[o] = 0f;
                    }
                }
            }
        }
    }

    /// <summary>Softmax cross-entropy against <paramref name="label"/> after <see cref="Forward"/>; adds the gradients to the batch sums.</summary>
    public float Backward(int label)
    {
        var top = Layers - 1;
        var logits = _act[^1];
        var max = logits[0];
        for (var k = 1; k < logits.Length; k++)
        {
            max = Math.Max(max, logits[k]);
        }

        var sum = 0.0;
        var delta = _delta[top];
        for (var k = 0; k < logits.Length; k++)
        {
            var e = VectorMath.ExpNonPositive(logits[k] - max);
            delta[k] = (float)e;
            sum += e;
        }

        for (var k = 0; k < logits.Length; k++)
        {
            delta[k] = (float)(delta[k] / sum);
        }

        var loss = -Math.Log(Math.Max(delta[label], 1e-30f));
        delta[label] -= 1f;

        for (var l = top; l >= 0; l--)
        {
            int fanOut = _sizes[l + 1];
            var x = _act[l];
            var d = _delta[l];
            var gb = _gb[l];
            for (var o = 0; o < fanOut; o++)
            {
                gb[o] += d[o];
            }

            var previous = l > 0 ? _delta[l - 1] : null;
            for (var i = 0; i < x.Length; i++)
            {
                if (x[i] == 0f)
                {
                    // No contribution to this layer's gradient; and for a hidden unit, ReLU's derivative is 0 here.
                    if (previous is not null)
                    {
                        previous[i] = 0f;
                    }

                    continue;
                }

                var row = _w[l].AsSpan(i * fanOut, fanOut);
                if (previous is not null)
                {
                    previous[i] = VectorMath.Dot(row, d);
                }

                VectorMath.Axpy(_gw[l].AsSpan(i * fanOut, fanOut), x[i], d);
            }
        }

        _batchCount++;
        return (float)loss;
    }

    /// <summary>v = μ·v + mean gradient; w -= η·v; then clears the batch sums.</summary>
    public void Step(float learningRate, float momentum)
    {
        if (_batchCount == 0)
        {
            return;
        }

        var scale = 1f / _batchCount;
        for (var l = 0; l < Layers; l++)
        {
            Update(_w[l], _gw[l], _vw[l], scale, learningRate, momentum);
            Update(_b[l], _gb[l], _vb[l], scale, learningRate, momentum);
        }

        _batchCount = 0;
    }

    /// <summary>Layer <paramref name="layer"/>'s weights as a row-major [out][in] matrix.</summary>
    public float[] WeightOutIn(int layer)
    {
        int fanIn = _sizes[layer], fanOut = _sizes[layer + 1];
        var result = new float[fanIn * fanOut];
        for (var i = 0; i < fanIn; i++)
        {
            for (var o = 0; o < fanOut; o++)
            {
                result[(o * fanIn) + i] = _w[layer][(i * fanOut) + o];
            }
        }

        return result;
    }

    public float[] Bias(int layer) => (float[])_b[layer].Clone();

    public int Predict()
    {
        Forward();
        var logits = Logits;
        var best = 0;
        for (var k = 1; k < logits.Length; k++)
        {
            if (logits[k] > logits[best])
            {
                best = k;
            }
        }

        return best;
    }

    private static void Update(float[] w, float[] g, float[] v, float scale, float learningRate, float momentum)
    {
        for (var i = 0; i < w.Length; i++)
        {
            v[i] = (momentum * v[i]) + (g[i] * scale);
            w[i] -= learningRate * v[i];
            g[i] = 0f;
        }
    }
}
