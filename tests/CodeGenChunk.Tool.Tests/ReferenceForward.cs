using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using CodeGenChunk.Tool.SafeTensors;

namespace CodeGenChunk.Tool.Tests;

/// <summary>
/// A plain forward pass over a manifest and its safetensors file, read back from disk: straightforward loops, double
/// accumulators, activations CHW. It knows the manifest's ops, not the importer's code, so it checks what was written.
/// </summary>
internal sealed class ReferenceForward
{
    private readonly int[] _inputShape;
    private readonly JsonElement[] _layers;
    private readonly SafeTensorsFile _weights;

    public ReferenceForward(string manifestPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(manifestPath));
        var root = doc.RootElement;
        _inputShape = root.GetProperty("input").GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        _layers = root.GetProperty("layers").EnumerateArray().Select(e => e.Clone()).ToArray();
        var source = root.GetProperty("weights").GetProperty("source").GetString()!;
        _weights = SafeTensorsFile.Read(Path.Combine(Path.GetDirectoryName(manifestPath)!, source));
    }

    public float[] Run(float[] input)
    {
        var outputs = new Dictionary<string, float[]> { ["input"] = input };
        var x = input;
        var shape = _inputShape;
        for (var i = 0; i < _layers.Length; i++)
        {
            var l = _layers[i];
            var op = l.GetProperty("op").GetString()!;
            var name = l.TryGetProperty("name", out var n) ? n.GetString()! : op + i;
            var prefix = l.TryGetProperty("weights", out var w) ? w.GetString()! : name;
            var bias = !l.TryGetProperty("bias", out var b) || b.GetBoolean();
            switch (op)
            {
                case "linear":
                    x = Linear(x, Tensor(prefix + ".weight"), bias ? Tensor(prefix + ".bias") : null, l.GetProperty("in").GetInt32(), l.GetProperty("out").GetInt32());
                    shape = new[] { x.Length };
                    break;
                case "conv2d":
                    (x, shape) = Conv(x, shape, Tensor(prefix + ".weight"), bias ? Tensor(prefix + ".bias") : null, l.GetProperty("outChannels").GetInt32(), Ints(l, "kernel"), Ints(l, "stride"), Ints(l, "pad"));
                    break;
                case "maxpool":
                    (x, shape) = MaxPool(x, shape, Ints(l, "kernel"), Ints(l, "stride"), Ints(l, "pad"));
                    break;
                case "flatten":
                    shape = new[] { x.Length };
                    break;
                case "relu":
                    x = x.Select(v => Math.Max(v, 0f)).ToArray();
                    break;
                case "softmax":
                    x = Softmax(x);
                    break;
                case "residual":
                    var from = outputs[l.GetProperty("from").GetString()!];
                    x = x.Select((v, k) => v + from[k]).ToArray();
                    break;
                case "layernorm":
                    x = LayerNorm(x, Tensor(prefix + ".weight"), Tensor(prefix + ".bias"), l.TryGetProperty("eps", out var e) ? e.GetDouble() : 1e-5);
                    break;
                default:
                    throw new NotSupportedException(op);
            }

            outputs[name] = x;
        }

        return x;
    }

    private float[] Tensor(string name) => _weights.GetFloats(_weights.Tensors[name]).ToArray();

    private static int[] Ints(JsonElement layer, string key) => layer.GetProperty(key).EnumerateArray().Select(e => e.GetInt32()).ToArray();

    private static float[] Linear(float[] x, float[] w, float[]? b, int inputs, int outputs)
    {
        var y = new float[outputs];
        for (var o = 0; o < outputs; o++)
        {
            double sum = b?[o] ?? 0;
            for (var i = 0; i < inputs; i++)
            {
                sum += (double)w[(o * inputs) + i] * x[i];
            }

            y[o] = (float)sum;
        }

        return y;
    }

    private static (float[], int[]) Conv(float[] x, int[] shape, float[] w, float[]? b, int outChannels, int[] k, int[] s, int[] p)
    {
        int c = shape[0], h = shape[1], wd = shape[2];
        var oh = ((h + p[0] + p[2] - k[0]) / s[0]) + 1;
        var ow = ((wd + p[1] + p[3] - k[1]) / s[1]) + 1;
        var y = new float[outChannels * oh * ow];
        for (var m = 0; m < outChannels; m++)
        {
            for (var oy = 0; oy < oh; oy++)
            {
                for (var ox = 0; ox < ow; ox++)
                {
                    double sum = b?[m] ?? 0;
                    for (var ci = 0; ci < c; ci++)
                    {
                        for (var ky = 0; ky < k[0]; ky++)
                        {
                            var iy = (oy * s[0]) - p[0] + ky;
                            if (iy < 0 || iy >= h)
                            {
                                continue;
                            }

                            for (var kx = 0; kx < k[1]; kx++)
                            {
                                var ix = (ox * s[1]) - p[1] + kx;
                                if (ix < 0 || ix >= wd)
                                {
                                    continue;
                                }

                                sum += (double)w[(((((m * c) + ci) * k[0]) + ky) * k[1]) + kx] * x[(((ci * h) + iy) * wd) + ix];
                            }
                        }
                    }

                    y[(((m * oh) + oy) * ow) + ox] = (float)sum;
                }
            }
        }

        return (y, new[] { outChannels, oh, ow });
    }

    private static (float[], int[]) MaxPool(float[] x, int[] shape, int[] k, int[] s, int[] p)
    {
        int c = shape[0], h = shape[1], wd = shape[2];
        var oh = ((h + p[0] + p[2] - k[0]) / s[0]) + 1;
        var ow = ((wd + p[1] + p[3] - k[1]) / s[1]) + 1;
        var y = new float[c * oh * ow];
        for (var ci = 0; ci < c; ci++)
        {
            for (var oy = 0; oy < oh; oy++)
            {
                for (var ox = 0; ox < ow; ox++)
                {
                    var max = float.NegativeInfinity; // padding never wins, as in ONNX
                    for (var ky = 0; ky < k[0]; ky++)
                    {
                        for (var kx = 0; kx < k[1]; kx++)
                        {
                            int iy = (oy * s[0]) - p[0] + ky, ix = (ox * s[1]) - p[1] + kx;
                            if (iy >= 0 && iy < h && ix >= 0 && ix < wd)
                            {
                                max = Math.Max(max, x[(((ci * h) + iy) * wd) + ix]);
                            }
                        }
                    }

                    y[(((ci * oh) + oy) * ow) + ox] = max;
                }
            }
        }

        return (y, new[] { c, oh, ow });
    }

    private static float[] Softmax(float[] x)
    {
        var max = x.Max();
        var e = x.Select(v => Math.Exp(v - max)).ToArray();
        var sum = e.Sum();
        return e.Select(v => (float)(v / sum)).ToArray();
    }

    private static float[] LayerNorm(float[] x, float[] w, float[] b, double eps)
    {
        var mean = x.Average(v => (double)v);
        var variance = x.Average(v => (v - mean) * (v - mean));
        var inv = 1 / Math.Sqrt(variance + eps);
        return x.Select((v, i) => (float)(((v - mean) * inv * w[i]) + b[i])).ToArray();
    }
}
