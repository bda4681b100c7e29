using System;
using System.Collections.Generic;
using System.IO;
using CodeGenChunk.Formats;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Model.Planning;
using CodeGenChunk.Tool.SafeTensors;

namespace CodeGenChunk.Models.Tests;

/// <summary>
/// The plain reference: walks a manifest's layers one by one over the float weights, with double
/// accumulation, no SIMD and plain loops (a convolution tests every tap for padding). Quantized
/// layers use the weights as their format stores them (dequantized), so the comparison measures
/// the kernels, not the quantization.
/// </summary>
internal sealed partial class ReferenceInterpreter
{
    private readonly ManifestSpec _spec;
    private readonly SafeTensorsFile _weights;

    public ReferenceInterpreter(string manifestPath)
    {
        var parsed = ManifestParser.Parse(manifestPath, File.ReadAllText(manifestPath));
        _spec = parsed.Spec ?? throw new InvalidOperationException("Manifest does not parse: " + manifestPath);
        _weights = SafeTensorsFile.Read(Path.Combine(Path.GetDirectoryName(manifestPath)!, _spec.Weights.Source));

        // Linear layers whose ReLU is part of the layer (the generator fuses a ReLU that follows a linear layer unless a
        // residual reads the linear layer's own output): the "lowrank" estimate applies it.
        var referenced = _referenced;
        foreach (var l in _spec.Layers)
        {
            if (l.Op == Ops.Residual && l.From is not null)
            {
                referenced.Add(l.From);
            }
        }

        for (var i = 0; i + 1 < _spec.Layers.Count; i++)
        {
            if (_spec.Layers[i].Op is Ops.Linear or Ops.Conv2d && _spec.Layers[i + 1].Op == Ops.Relu && !referenced.Contains(_spec.Layers[i].Name))
            {
                _reluFollows.Add(_spec.Layers[i].Name);
            }
        }
    }

    private readonly HashSet<string> _reluFollows = new(StringComparer.Ordinal);

    private readonly HashSet<string> _referenced = new(StringComparer.Ordinal);

    public ManifestSpec Spec => _spec;

    public float[] Forward(float[] input)
    {
        LastMacs = 0;
        LastSelection.Clear();
        LastBits.Clear();
        LastClipped.Clear();
        _codes.Clear();
        var values = new Dictionary<string, float[]>(StringComparer.Ordinal) { ["input"] = input };
        var x = input;

        // [C, H, W] of the current tensor while it has one (a three-dimensional input, then conv2d and maxpool outputs).
        var shape = _spec.InputShape.Count == 3 ? new[] { _spec.InputShape[0], _spec.InputShape[1], _spec.InputShape[2] } : null;
        foreach (var l in _spec.Layers)
        {
            x = l.Op switch
            {
                Ops.Linear => Linear(l, x),
                Ops.Relu => Array.ConvertAll(x, v => MathF.Max(v, 0f)),
                Ops.Residual => l.Index + 1 < _spec.Layers.Count && _spec.Layers[l.Index + 1] is { Op: Ops.LayerNorm, Activations: not null } norm
                    ? ResidualSumCodes(l, norm, x, values[l.From!])
                    : Add(x, values[l.From!]),
                Ops.LayerNorm => l.Activations is not null ? LayerNormCodes(l) : LayerNorm(l, x),
                Ops.Conv2d => Conv2d(l, x, ref shape),
                Ops.MaxPool => MaxPool(l, x, ref shape),
                Ops.Flatten => (float[])x.Clone(),
                Ops.Softmax => Softmax(x),
                _ => throw new NotSupportedException(l.Op),
            };
            if (l.Op is Ops.Flatten or Ops.Linear)
            {
                shape = null;
            }

            values[l.Name] = x;
        }

        return x;
    }

    /// <summary>y[o, i, j] = b[o] + Σ w[o, c, ky, kx] · x[c, i·sh + ky − top, j·sw + kx − left], cells outside the input are 0.</summary>
    private float[] Conv2d(LayerSpec l, float[] x, ref int[]? shape)
    {
        if (Chunking.IsChunked(l))
        {
            return ChunkedConv2d(l, x, ref shape);
        }

        var w = WeightFormats.RoundTrip(l.Quant!.Format, Tensor(l.WeightsPrefix + ".weight"), l.OutChannels, l.FilterLength, l.Quant.GroupSize);
        var b = l.Bias ? Tensor(l.WeightsPrefix + ".bias") : new float[l.OutChannels];
        if (l.Activations is { } act)
        {
            // integer activations: the window sums of (q − zero) · w, scaled; padding is code zero, which adds nothing
            var (codes, scale, zero) = QuantizeInput(l, act, x);
            x = Array.ConvertAll(codes, q => scale * (q - zero));
        }

        var y = ConvPlanes(l, x, shape!, w, b, 0, l.OutChannels, out var outH, out var outW);
        if (l.Activations is not null)
        {
            _convOut[l.Index] = y;
        }

        LastMacs += (long)l.OutChannels * outH * outW * l.FilterLength;
        shape = new[] { l.OutChannels, outH, outW };
        return y;
    }

    /// <summary>
    /// A conv2d layer chunked by output channels, written from docs/routing.md: each chunk's filters decoded from its
    /// format; "exact" ranks chunks by the mean |output| of their planes (bias and a following ReLU applied), "lowrank"
    /// by the same measure of the layer's output through U (V * x) + b; skipped channels hold their bias.
    /// </summary>
    private float[] ChunkedConv2d(LayerSpec l, float[] x, ref int[]? shape)
    {
        var c = l.Chunks!;
        var f = l.FilterLength;
        var w = Tensor(l.WeightsPrefix + ".weight");
        var b = l.Bias ? Tensor(l.WeightsPrefix + ".bias") : new float[l.OutChannels];
        var parts = Chunking.Split(l, c);
        var relu = _reluFollows.Contains(l.Name);
        int outH = 0, outW = 0;
        var planes = new float[parts.Length][];
        for (var i = 0; i < parts.Length; i++)
        {
            var (format, group) = Chunking.FormatOf(l, i);
            var sub = w.AsSpan(parts[i].Start * f, parts[i].Length * f).ToArray();
            planes[i] = ConvPlanes(l, x, shape!, WeightFormats.RoundTrip(format, sub, parts[i].Length, f, group), b.AsSpan(parts[i].Start, parts[i].Length).ToArray(), 0, parts[i].Length, out outH, out outW);
        }

        var plane = outH * outW;
        double MeanAct(IEnumerable<double> values)
        {
            double s = 0;
            var n = 0;
            foreach (var v in values)
            {
                s += relu ? Math.Max(v, 0) : Math.Abs(v);
                n++;
            }

            return s / n;
        }

        var activity = new double[parts.Length];
        var executed = 0L;
        if (c.Routed && c.Activity == "exact")
        {
            for (var i = 0; i < parts.Length; i++)
            {
                activity[i] = MeanAct(Array.ConvertAll(planes[i], v => (double)v));
            }

            executed = (long)l.OutChannels * plane * f;
        }
        else if (c.Routed)
        {
            // lowrank: z = V * x (rank planes, no bias), then U z + b per channel.
            var r = c.ProxyRank;
            var (v, u) = CodeGenChunk.Tool.Packing.ProxySketch.LowRank(w, l.OutChannels, f, r);
            var g = WeightFormats.IsGrouped(c.ProxyFormat) ? WeightFormats.DefaultGroupSize(c.ProxyFormat) : 0;
            var z = ConvPlanes(l, x, shape!, WeightFormats.RoundTrip(c.ProxyFormat, v, r, f, g), new float[r], 0, r, out _, out _);
            for (var i = 0; i < parts.Length; i++)
            {
                var estimate = new List<double>();
                for (var o = parts[i].Start; o < parts[i].Start + parts[i].Length; o++)
                {
                    for (var p = 0; p < plane; p++)
                    {
                        double e = b[o];
                        for (var j = 0; j < r; j++)
                        {
                            e += (double)u[(o * r) + j] * z[(j * plane) + p];
                        }

                        estimate.Add(e);
                    }
                }

                activity[i] = MeanAct(estimate);
            }

            executed = ((long)r * plane * f) + ((long)l.OutChannels * plane * r);
        }

        var selected = Select(c, activity);
        LastSelection[l.Name] = selected;
        LastActivity[l.Name] = activity;
        var y = new float[l.OutChannels * plane];
        for (var i = 0; i < parts.Length; i++)
        {
            if (selected[i])
            {
                planes[i].CopyTo(y, parts[i].Start * plane);
                if (!c.Routed || c.Activity != "exact")
                {
                    executed += (long)parts[i].Length * plane * f;
                }
            }
            else
            {
                for (var o = parts[i].Start; o < parts[i].Start + parts[i].Length; o++)
                {
                    Array.Fill(y, b[o], o * plane, plane);
                }
            }
        }

        LastMacs += executed;
        shape = new[] { l.OutChannels, outH, outW };
        return y;
    }

    /// <summary>The chunk selection of docs/routing.md: the limit most active (ties to the lower index), above minActivity if given.</summary>
    private static bool[] Select(ChunksSpec c, double[] activity)
    {
        var selected = new bool[activity.Length];
        if (!c.Routed)
        {
            Array.Fill(selected, true);
            return selected;
        }

        var order = new int[activity.Length];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (p, q) => activity[q] != activity[p] ? activity[q].CompareTo(activity[p]) : p.CompareTo(q));
        var limit = Math.Min(c.TopK ?? c.MaxK ?? c.Count, c.Count);
        for (var n = 0; n < limit; n++)
        {
            if (c.MinActivity is { } min && !(activity[order[n]] > min))
            {
                break;
            }

            selected[order[n]] = true;
        }

        return selected;
    }

    /// <summary>Channels [first, first + count) of w (filters of <see cref="LayerSpec.FilterLength"/>) with bias b[first..] over x.</summary>
    private static float[] ConvPlanes(LayerSpec l, float[] x, int[] shape, float[] w, float[] b, int first, int count, out int outH, out int outW)
    {
        int c = shape[0], h = shape[1], wd = shape[2];
        int kh = l.KernelH, kw = l.KernelW, f = l.FilterLength;
        outH = ((h + l.PadTop + l.PadBottom - kh) / l.StrideH) + 1;
        outW = ((wd + l.PadLeft + l.PadRight - kw) / l.StrideW) + 1;
        var y = new float[count * outH * outW];
        for (var o = first; o < first + count; o++)
        {
            for (var i = 0; i < outH; i++)
            {
                for (var j = 0; j < outW; j++)
                {
                    double s = b[o];
                    for (var ci = 0; ci < c; ci++)
                    {
                        for (var ky = 0; ky < kh; ky++)
                        {
                            for (var kx = 0; kx < kw; kx++)
                            {
                                var r = (i * l.StrideH) + ky - l.PadTop;
                                var col = (j * l.StrideW) + kx - l.PadLeft;
                                if (r >= 0 && r < h && col >= 0 && col < wd)
                                {
                                    s += (double)w[(o * f) + (((ci * kh) + ky) * kw) + kx] * x[(((ci * h) + r) * wd) + col];
                                }
                            }
                        }
                    }

                    y[((((o - first) * outH) + i) * outW) + j] = (float)s;
                }
            }
        }

        return y;
    }

    /// <summary>y[c, i, j] = max over the window's cells inside the input (padding never wins).</summary>
    private static float[] MaxPool(LayerSpec l, float[] x, ref int[]? shape)
    {
        int c = shape![0], h = shape[1], wd = shape[2];
        var outH = ((h + l.PadTop + l.PadBottom - l.KernelH) / l.StrideH) + 1;
        var outW = ((wd + l.PadLeft + l.PadRight - l.KernelW) / l.StrideW) + 1;
        var y = new float[c * outH * outW];
        for (var ci = 0; ci < c; ci++)
        {
            for (var i = 0; i < outH; i++)
            {
                for (var j = 0; j < outW; j++)
                {
                    var m = float.NegativeInfinity;
                    for (var ky = 0; ky < l.KernelH; ky++)
                    {
                        for (var kx = 0; kx < l.KernelW; kx++)
                        {
                            var r = (i * l.StrideH) + ky - l.PadTop;
                            var col = (j * l.StrideW) + kx - l.PadLeft;
                            if (r >= 0 && r < h && col >= 0 && col < wd)
                            {
                                m = Math.Max(m, x[(((ci * h) + r) * wd) + col]);
                            }
                        }
                    }

                    y[(((ci * outH) + i) * outW) + j] = m;
                }
            }
        }

        shape = new[] { c, outH, outW };
        return y;
    }

    /// <summary>exp(x − max) / Σ exp(x − max), in double.</summary>
    private static float[] Softmax(float[] x)
    {
        var max = double.NegativeInfinity;
        foreach (var v in x)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        foreach (var v in x)
        {
            sum += Math.Exp(v - max);
        }

        return Array.ConvertAll(x, v => (float)(Math.Exp(v - max) / sum));
    }

    private float[] Tensor(string name) => _weights.GetFloats(_weights.Tensors[name]).ToArray();

    /// <summary>Chunks computed by the last <see cref="Forward"/>, per chunked layer (for tests of routing).</summary>
    public Dictionary<string, bool[]> LastSelection { get; } = new(StringComparer.Ordinal);

    /// <summary>Chunk activities of the last <see cref="Forward"/>, per routed chunked conv2d layer.</summary>
    public Dictionary<string, double[]> LastActivity { get; } = new(StringComparer.Ordinal);

    /// <summary>Multiply-accumulates executed by the last forward pass, counted as the generated model documents it.</summary>
    public long LastMacs { get; private set; }

    /// <summary>Integer-activation layers: input values the last Forward clipped, by layer name (docs/activations.md).</summary>
    public Dictionary<string, int> LastClipped { get; } = new(StringComparer.Ordinal);

    /// <summary>Each integer-activation layer's input codes, scale and zero point in the last Forward.</summary>
    private readonly Dictionary<int, (byte[] Codes, float Scale, int Zero)> _codes = new();

    /// <summary>
    /// A linear layer with int8 activations, written from docs/activations.md: the float input quantized to u8 codes
    /// (dynamic: its own range; static: the manifest's range; predicted: the range the previous layer predicted from its
    /// own input codes), then y = scale · Σ (q − zero) · w + b in double over the dequantized weights.
    /// </summary>
    /// <summary>
    /// The u8 codes of an integer-activation layer's input (dynamic: its own range; static: the manifest's range;
    /// predicted: the range the producer predicted from its own input codes, a conv2d producer's filters as rows of
    /// InC · KH · KW weights), with the clips counted: on the input itself, or for a conv2d producer on the producer's
    /// whole output (after its ReLU, before pooling), which the producer writes as codes.
    /// </summary>
    private (byte[] Codes, float Scale, int Zero) QuantizeInput(LayerSpec l, ActivationsSpec act, float[] x)
    {
        var producer = Producer(l.Index);
        float scale;
        int zero;
        if (l.Index > 0 && _spec.Layers[l.Index - 1] is { Op: Ops.LayerNorm, Activations: not null } norm)
        {
            // the input is a code LayerNorm's output: its codes as they are, at its exact range (never clipped)
            var (normCodes, ns, nz) = _codes[norm.Index];
            _codes[l.Index] = (normCodes, ns, nz);
            return (normCodes, ns, nz);
        }

        if (act.Params == "static")
        {
            (scale, zero) = RangeParams((float)act.Range[0], (float)act.Range[1]);
        }
        else if (act.Params == "predicted" && producer >= 0)
        {
            var p = _spec.Layers[producer];
            double m, e2;
            if (_codes.TryGetValue(producer, out var pc))
            {
                var (codes, ps, pz) = pc;
                double s1 = 0, s2 = 0;
                foreach (var q in codes)
                {
                    s1 += q;
                    s2 += q * q;
                }

                var mq = s1 / codes.Length;
                m = ps * (mq - pz);
                e2 = (double)ps * ps * ((s2 / codes.Length) - (2.0 * pz * mq) + ((double)pz * pz));
            }
            else
            {
                // a float-input producer: the mean and second moment of its float input
                var fx = _linearIn[producer];
                double s1 = 0, s2 = 0;
                foreach (var v in fx)
                {
                    s1 += v;
                    s2 += (double)v * v;
                }

                m = s1 / fx.Length;
                e2 = s2 / fx.Length;
            }

            var k = act.Z!.Value * Math.Sqrt(Math.Max(e2 - (m * m), 0));
            var pw = Dequantized(p, Tensor(p.WeightsPrefix + ".weight"));
            var rows = p.Op == Ops.Conv2d ? p.OutChannels : p.Out;
            var cols = p.Op == Ops.Conv2d ? p.FilterLength : p.In;
            var pb = p.Bias ? Tensor(p.WeightsPrefix + ".bias") : new float[rows];
            double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
            for (var o = 0; o < rows; o++)
            {
                double sum = 0, sq = 0;
                for (var i = 0; i < cols; i++)
                {
                    sum += pw[(o * cols) + i];
                    sq += (double)pw[(o * cols) + i] * pw[(o * cols) + i];
                }

                var mu = (m * sum) + pb[o];
                lo = Math.Min(lo, mu - (k * Math.Sqrt(sq)));
                hi = Math.Max(hi, mu + (k * Math.Sqrt(sq)));
            }

            if (_reluFollows.Contains(p.Name))
            {
                lo = 0;
            }

            (scale, zero) = RangeParams((float)lo, (float)hi);
        }
        else
        {
            float lo = 0, hi = 0;
            foreach (var v in x)
            {
                lo = Math.Min(lo, v);
                hi = Math.Max(hi, v);
            }

            (scale, zero) = RangeParams(lo, hi);
        }

        var codesOut = new byte[x.Length];
        var clipped = 0;
        for (var i = 0; i < x.Length; i++)
        {
            var c = Math.Round(x[i] / (double)scale, MidpointRounding.ToEven) + zero;
            if (c < 0 || c > 255)
            {
                clipped++;
            }

            codesOut[i] = (byte)Math.Clamp(c, 0, 255);
        }

        _codes[l.Index] = (codesOut, scale, zero);
        if (producer >= 0 && act.Params != "dynamic" && _spec.Layers[producer].Op == Ops.Conv2d)
        {
            clipped = 0;
            var relu = _reluFollows.Contains(_spec.Layers[producer].Name);
            foreach (var v in _convOut[producer])
            {
                var c = Math.Round((relu ? Math.Max(v, 0f) : v) / (double)scale, MidpointRounding.ToEven) + zero;
                clipped += c < 0 || c > 255 ? 1 : 0;
            }
        }

        if (act.Params != "dynamic" && (act.Params == "static" || producer >= 0))
        {
            LastClipped[l.Name] = clipped;
        }

        return (codesOut, scale, zero);
    }

    /// <summary>y = scale · Σ (q − zero) · w + b in double over the dequantized weights, from the input's codes.</summary>
    private float[] IntegerLinear(LayerSpec l, ActivationsSpec act, float[] w, float[] x)
    {
        var (codesOut, scale, zero) = QuantizeInput(l, act, x);
        var b = l.Bias ? Tensor(l.WeightsPrefix + ".bias") : new float[l.Out];
        var y = new float[l.Out];
        for (var o = 0; o < l.Out; o++)
        {
            double acc = 0;
            for (var i = 0; i < l.In; i++)
            {
                acc += (double)w[(o * l.In) + i] * (codesOut[i] - zero);
            }

            y[o] = (float)((scale * acc) + b[o]);
        }

        return y;
    }

    /// <summary>What a code LayerNorm reads: the residual (as stored), the previous layer's output codes, scale and zero point, and the exact Σ and Σ² of the unrounded sum.</summary>
    private (float[] Residual, byte[] Codes, float Scale, int Zero, double Sum, double SumSquares) _sum;

    /// <summary>
    /// The residual stream in codes (docs/activations.md), written from the documentation: the output y of the linear
    /// layer before (after its ReLU, if any) is quantized at the range predicted before that layer runs, from its input
    /// codes' moments with the LayerNorm's z (clipped values counted for the LayerNorm); the residual r is as it is
    /// stored (the dequantized codes of a code LayerNorm, or floats); the exact moments of y + r are kept for the LayerNorm.
    /// </summary>
    private float[] ResidualSumCodes(LayerSpec residual, LayerSpec norm, float[] y, float[] r)
    {
        var j = residual.Index - 1;
        var relu = _spec.Layers[j].Op == Ops.Relu;
        var p = relu ? _spec.Layers[j - 1] : _spec.Layers[j];
        var (codes, ps, pz) = _codes[p.Index];
        double s1 = 0, s2 = 0;
        foreach (var q in codes)
        {
            s1 += q;
            s2 += q * q;
        }

        var mq = s1 / codes.Length;
        var m = ps * (mq - pz);
        var e2 = (double)ps * ps * ((s2 / codes.Length) - (2.0 * pz * mq) + ((double)pz * pz));
        var k = norm.Activations!.Z!.Value * Math.Sqrt(Math.Max(e2 - (m * m), 0));
        var pw = Dequantized(p, Tensor(p.WeightsPrefix + ".weight"));
        var pb = p.Bias ? Tensor(p.WeightsPrefix + ".bias") : new float[p.Out];
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        for (var o = 0; o < p.Out; o++)
        {
            double sum = 0, sq = 0;
            for (var i = 0; i < p.In; i++)
            {
                sum += pw[(o * p.In) + i];
                sq += (double)pw[(o * p.In) + i] * pw[(o * p.In) + i];
            }

            var mu = (m * sum) + pb[o];
            lo = Math.Min(lo, mu - (k * Math.Sqrt(sq)));
            hi = Math.Max(hi, mu + (k * Math.Sqrt(sq)));
        }

        if (relu)
        {
            lo = 0;
        }

        var (scale, zero) = RangeParams((float)lo, (float)hi);
        var outCodes = new byte[y.Length];
        var clipped = 0;
        double t1 = 0, t2 = 0;
        var x = new float[y.Length];
        for (var o = 0; o < y.Length; o++)
        {
            var v = (double)y[o] + r[o];
            t1 += v;
            t2 += v * v;
            var c = Math.Round(y[o] / (double)scale, MidpointRounding.ToEven) + zero;
            if (c < 0 || c > 255)
            {
                clipped++;
            }

            outCodes[o] = (byte)Math.Clamp(c, 0, 255);
            x[o] = (float)v;
        }

        LastClipped[norm.Name] = clipped;
        _sum = (r, outCodes, scale, zero, t1, t2);
        return x;
    }

    /// <summary>
    /// A LayerNorm on codes: s = r + the dequantized output codes, normalised with the exact mean and variance of the
    /// unrounded sum, y_i = γ_i (s_i − mean) / √(var + eps) + β_i, then quantized at y's own range (nothing clips);
    /// returns the codes refined by their 2-bit plane, which is what the residual adds read (the next layer reads the codes).
    /// </summary>
    private float[] LayerNormCodes(LayerSpec l)
    {
        var gamma = Tensor(l.WeightsPrefix + ".weight");
        var beta = Tensor(l.WeightsPrefix + ".bias");
        var (r, codes, scale, zero, sum, sumSquares) = _sum;
        var n = codes.Length;
        var mean = sum / n;
        var inv = 1 / Math.Sqrt(Math.Max((sumSquares / n) - (mean * mean), 0) + l.Eps);
        var y = new double[n];
        float lo = 0, hi = 0;
        for (var i = 0; i < n; i++)
        {
            y[i] = ((r[i] + ((double)scale * (codes[i] - zero)) - mean) * inv * gamma[i]) + beta[i];
            lo = Math.Min(lo, (float)y[i]);
            hi = Math.Max(hi, (float)y[i]);
        }

        var (ys, yz) = RangeParams(lo, hi);
        var outCodes = new byte[n];
        var x = new float[n];
        for (var i = 0; i < n; i++)
        {
            outCodes[i] = (byte)Math.Clamp(Math.Round(y[i] / ys, MidpointRounding.ToEven) + yz, 0, 255);

            // the residual adds read the codes with their 2-bit refinement: the rounding error e = y / scale − (q − zero)
            // in [−1/2, 1/2] as v = floor((e + 1/2) · 4) in 0..3, read back as (v + 1/2) / 4 − 1/2 (the next layer reads q)
            var e = (y[i] / ys) - (outCodes[i] - yz);
            var v = Math.Clamp(Math.Floor((e + 0.5) * 4), 0, 3);
            x[i] = (float)((double)ys * (outCodes[i] - yz + ((v + 0.5) / 4) - 0.5));
        }

        _codes[l.Index] = (outCodes, ys, yz);
        return x;
    }

    /// <summary>[lo, hi] widened to include 0, 255 steps; the zero point rounded to nearest even and clamped.</summary>
    private static (float Scale, int Zero) RangeParams(float lo, float hi)
    {
        lo = Math.Min(lo, 0f);
        hi = Math.Max(hi, 0f);
        var scale = (hi - lo) / 255f;
        return scale > 0f ? (scale, (int)Math.Clamp(Math.Round(-lo / scale, MidpointRounding.ToEven), 0, 255)) : (1f, 0);
    }

    /// <summary>
    /// The integer-activation layer whose output layer <paramref name="i"/> reads as codes (docs/activations.md): the
    /// linear layer just before (a ReLU between allowed), or a conv2d before it with a ReLU, then max pools without
    /// padding and flattens between; or -1.
    /// </summary>
    private int Producer(int i)
    {
        var layers = _spec.Layers;
        var j = i - 1;
        while (j >= 0 && !_referenced.Contains(layers[j].Name) && ((layers[j].Op == Ops.MaxPool && layers[j].PadTop + layers[j].PadLeft + layers[j].PadBottom + layers[j].PadRight == 0) || layers[j].Op == Ops.Flatten))
        {
            j--;
        }

        if (j >= 0 && layers[j].Op == Ops.Relu && !_referenced.Contains(layers[j].Name))
        {
            j--;
        }

        if (j >= 0 && layers[j].Activations is null)
        {
            return FloatInputProducer(i);
        }

        if (j < 0 || layers[j].Activations is null || _referenced.Contains(layers[j].Name))
        {
            return -1;
        }

        // docs/activations.md, int16 activations: codes pass between layers of the same width only
        if (layers[i].Activations is { } consumer && consumer.Format != layers[j].Activations!.Format)
        {
            return -1;
        }

        return layers[j].Op == Ops.Conv2d || (layers[j].Op == Ops.Linear && (i - j == 1 || (i - j == 2 && layers[i - 1].Op == Ops.Relu))) ? j : -1;
    }

    /// <summary>
    /// A float input writing the next layer's codes (docs/activations.md): the linear layer just before layer
    /// <paramref name="i"/> (a ReLU between allowed, nothing else reading its output) with its own f32 activations and
    /// int8 weights, no chunks or policy, when layer <paramref name="i"/> is linear with int8 activations and static
    /// params, or predicted ones with a z; or -1. Its prediction uses the moments of its float input.
    /// </summary>
    private int FloatInputProducer(int i)
    {
        var layers = _spec.Layers;
        if (layers[i].Op != Ops.Linear || layers[i].Activations is not { } a || !(a.Params == "static" || (a.Params == "predicted" && a.Z is not null)))
        {
            return -1;
        }

        var j = i - 1;
        if (layers[j].Op == Ops.Relu && !_referenced.Contains(layers[j].Name))
        {
            j--;
        }

        return j >= 0 && layers[j] is { Op: Ops.Linear, Activations: null, FloatActivations: not null, Chunks: null, Quant: { Format: "int8", Policy: null } }
            && !_referenced.Contains(layers[j].Name) ? j : -1;
    }

    /// <summary>Every linear layer's float input in the last Forward (a float-input producer predicts from its moments).</summary>
    private readonly Dictionary<int, float[]> _linearIn = new();

    /// <summary>Integer-activation conv2d layers: their float output (before the ReLU) in the last Forward.</summary>
    private readonly Dictionary<int, float[]> _convOut = new();

    private float[] Linear(LayerSpec l, float[] x)
    {
        if (Chunking.IsChunked(l))
        {
            return ChunkedLinear(l, x);
        }

        LastMacs += (long)l.In * l.Out;
        _linearIn[l.Index] = x;
        var w = Dequantized(l, Tensor(l.WeightsPrefix + ".weight"));
        if (l.Activations is { IsInt16: true } act16)
        {
            return IntegerLinear16(l, act16, w, x);
        }

        if (l.Activations is { } act)
        {
            return IntegerLinear(l, act, w, x);
        }

        var b = l.Bias ? Tensor(l.WeightsPrefix + ".bias") : new float[l.Out];
        var y = new float[l.Out];
        for (var o = 0; o < l.Out; o++)
        {
            double s = b[o];
            for (var i = 0; i < l.In; i++)
            {
                s += (double)w[(o * l.In) + i] * x[i];
            }

            y[o] = (float)s;
        }

        return y;
    }

    /// <summary>
    /// A chunked linear layer, written from docs/routing.md: activities in double, a plain sort for
    /// the top k, chunk weights decoded by the reference decoders. Skipped output chunks give their
    /// bias; skipped input chunks add nothing. Fused ReLU/residual are separate layers here.
    /// </summary>
    private float[] ChunkedLinear(LayerSpec l, float[] x)
    {
        var c = l.Chunks!;
        var w = Tensor(l.WeightsPrefix + ".weight");
        var b = l.Bias ? Tensor(l.WeightsPrefix + ".bias") : new float[l.Out];
        var parts = Chunking.Split(l, c);
        var output = c.Axis == "output";
        var chunkW = new float[parts.Length][];
        var chunkSub = new float[parts.Length][];
        var scored = Chunking.IsScored(l);
        var planes = l.Quant?.Policy is { IsRuntime: true };
        for (var i = 0; i < parts.Length; i++)
        {
            var (format, group) = Chunking.FormatOf(l, i);
            var rows = output ? parts[i].Length : l.Out;
            var cols = output ? l.In : parts[i].Length;
            var sub = new float[rows * cols];
            for (var r = 0; r < rows; r++)
            {
                for (var k = 0; k < cols; k++)
                {
                    sub[(r * cols) + k] = output ? w[((parts[i].Start + r) * l.In) + k] : w[(r * l.In) + parts[i].Start + k];
                }
            }

            // Bit-plane chunks compute with int8's weights at 8 bits ("exact" estimates with them); see PlaneWeights.
            chunkW[i] = planes ? WeightFormats.RoundTrip(WeightFormats.Int8, sub, rows, cols, group) : WeightFormats.RoundTrip(format, sub, rows, cols, group);
            chunkSub[i] = sub;
        }

        // y_i = W_i x_i for every chunk (output: its rows; input: its contribution to all rows).
        double[] Contribution(int i) => ContributionOf(i, chunkW[i]);

        double[] ContributionOf(int i, float[] weights)
        {
            var rows = output ? parts[i].Length : l.Out;
            var cols = output ? l.In : parts[i].Length;
            var y = new double[rows];
            for (var r = 0; r < rows; r++)
            {
                double s = 0;
                for (var k = 0; k < cols; k++)
                {
                    s += (double)weights[(r * cols) + k] * x[(output ? 0 : parts[i].Start) + k];
                }

                y[r] = s;
            }

            return y;
        }

        var activity = new double[parts.Length];
        var proxyMacs = 0L;
        var exactMacs = 0L;
        for (var i = 0; i < parts.Length && scored; i++)
        {
            switch (c.Activity)
            {
                case "input":
                {
                    double s = 0;
                    for (var k = 0; k < parts[i].Length; k++)
                    {
                        s += Math.Abs(x[parts[i].Start + k]);
                    }

                    activity[i] = s / parts[i].Length;
                    break;
                }

                case "exact":
                {
                    double s = 0;
                    foreach (var v in Contribution(i))
                    {
                        s += Math.Abs(v);
                    }

                    activity[i] = s / parts[i].Length;
                    exactMacs = (long)l.In * l.Out;
                    break;
                }

                case "lowrank":
                {
                    // ŷ = act(U (V x) + b): the layer's outputs through its rank-r factorization, with bias and
                    // (when a ReLU follows) ReLU; the chunk's activity is the mean |ŷ| over its rows.
                    var (v, u) = LowRankOf(l);
                    var r = c.ProxyRank;
                    var z = new double[r];
                    for (var j = 0; j < r; j++)
                    {
                        for (var k = 0; k < l.In; k++)
                        {
                            z[j] += (double)v[(j * l.In) + k] * x[k];
                        }
                    }

                    var relu = _reluFollows.Contains(l.Name);
                    double s = 0;
                    for (var o = parts[i].Start; o < parts[i].Start + parts[i].Length; o++)
                    {
                        double e = b[o];
                        for (var j = 0; j < r; j++)
                        {
                            e += (double)u[(o * r) + j] * z[j];
                        }

                        s += relu ? Math.Max(e, 0) : Math.Abs(e);
                    }

                    activity[i] = s / parts[i].Length;
                    proxyMacs = ((long)r * l.In) + ((long)l.Out * r);
                    break;
                }

                default:
                {
                    var sketch = ProxySketchOf(l);
                    double s = 0;
                    for (var j = 0; j < c.ProxyRank; j++)
                    {
                        double d = 0;
                        for (var k = 0; k < l.In; k++)
                        {
                            d += (double)sketch[(((i * c.ProxyRank) + j) * l.In) + k] * x[k];
                        }

                        s += d * d;
                    }

                    activity[i] = Math.Sqrt(s / parts[i].Length) * Math.Sqrt(2 / Math.PI);
                    proxyMacs = (long)c.Count * c.ProxyRank * l.In;
                    break;
                }
            }
        }

        var selected = new bool[parts.Length];
        if (!scored)
        {
            Array.Fill(selected, true);
        }
        else
        {
            var order = new int[parts.Length];
            for (var i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }

            Array.Sort(order, (p, q) => activity[q] != activity[p] ? activity[q].CompareTo(activity[p]) : p.CompareTo(q));
            var limit = Math.Min(c.TopK ?? c.MaxK ?? c.Count, c.Count);
            for (var n = 0; n < limit; n++)
            {
                if (c.MinActivity is { } min && !(activity[order[n]] > min))
                {
                    break;
                }

                selected[order[n]] = true;
            }
        }

        LastSelection[l.Name] = selected;

        // Per-input precision (docs/routing.md): a selected chunk's normalised score, activity / max activity, picks its bits.
        var bits = new int[parts.Length];
        if (planes)
        {
            var p = l.Quant!.Policy!;
            var max = 0.0;
            foreach (var a in activity)
            {
                max = Math.Max(max, a);
            }

            for (var i = 0; i < parts.Length; i++)
            {
                if (selected[i] && !scored)
                {
                    bits[i] = p.Bits[0]; // one class: every chunk at those bits
                }
                else if (selected[i])
                {
                    var score = max > 0 ? activity[i] / max : 0;
                    var band = 0;
                    while (band < p.Thresholds.Count && !(score < p.Thresholds[band]))
                    {
                        band++;
                    }

                    bits[i] = p.Bits[band];
                }
            }

            LastBits[l.Name] = bits;
        }

        LastMacs += proxyMacs + exactMacs;
        var result = new double[l.Out];
        for (var o = 0; o < l.Out; o++)
        {
            result[o] = b[o];
        }

        for (var i = 0; i < parts.Length; i++)
        {
            if (!selected[i])
            {
                continue;
            }

            var y = planes ? ContributionOf(i, PlaneWeights(chunkSub[i], parts[i].Length, l.In, Chunking.FormatOf(l, i).GroupSize, bits[i])) : Contribution(i);
            if (c.Activity != "exact" || !scored || (planes && bits[i] < 8))
            {
                LastMacs += (long)parts[i].Length * (output ? l.In : l.Out);
            }

            for (var r = 0; r < y.Length; r++)
            {
                result[(output ? parts[i].Start : 0) + r] += y[r];
            }
        }

        return Array.ConvertAll(result, v => (float)v);
    }

    /// <summary>Bits each chunk of a bit-plane layer ran at in the last <see cref="Forward"/> (0: skipped).</summary>
    public Dictionary<string, int[]> LastBits { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// A chunk's weights read from its first <paramref name="bits"/> planes: int8 codes and scales, stored as planes and
    /// decoded by the reference decoder; at 8 bits int8's own round trip (the two are equal, BitPlaneTests).
    /// </summary>
    private static float[] PlaneWeights(float[] w, int rows, int cols, int g, int bits)
    {
        if (bits == 8)
        {
            return WeightFormats.RoundTrip(WeightFormats.Int8, w, rows, cols, g);
        }

        var codes = new sbyte[rows * cols];
        var scales = new float[rows * Int8GroupQuantizer.GroupsPerRow(cols, g)];
        Int8GroupQuantizer.Quantize(w, rows, cols, g, codes, scales);
        var planes = new byte[BitPlaneFormat.Planes * BitPlaneFormat.PlaneBytes(rows, cols)];
        BitPlaneFormat.Pack(codes, rows, cols, planes);
        var decoded = new float[rows * cols];
        BitPlaneFormat.Dequantize(planes, scales, rows, cols, g, bits, decoded);
        return decoded;
    }

    private readonly Dictionary<string, float[]> _sketches = new(StringComparer.Ordinal);

    private readonly Dictionary<string, (float[] V, float[] U)> _lowRank = new(StringComparer.Ordinal);

    /// <summary>The "lowrank" factors as the packer derives and stores them: V decoded from its format, U in f32.</summary>
    private (float[] V, float[] U) LowRankOf(LayerSpec l)
    {
        if (!_lowRank.TryGetValue(l.Name, out var factors))
        {
            var c = l.Chunks!;
            var (v, u) = CodeGenChunk.Tool.Packing.ProxySketch.LowRank(Tensor(l.WeightsPrefix + ".weight"), l.Out, l.In, c.ProxyRank);
            var g = WeightFormats.IsGrouped(c.ProxyFormat) ? WeightFormats.DefaultGroupSize(c.ProxyFormat) : 0;
            factors = (WeightFormats.RoundTrip(c.ProxyFormat, v, c.ProxyRank, l.In, g), u);
            _lowRank[l.Name] = factors;
        }

        return factors;
    }

    /// <summary>The proxy sketch as the packer derives and stores it (decoded from its format).</summary>
    private float[] ProxySketchOf(LayerSpec l)
    {
        if (!_sketches.TryGetValue(l.Name, out var sketch))
        {
            var c = l.Chunks!;
            var raw = CodeGenChunk.Tool.Packing.ProxySketch.Build(Tensor(l.WeightsPrefix + ".weight"), l.Out, l.In, c.Count, c.ProxyRank);
            var g = WeightFormats.IsGrouped(c.ProxyFormat) ? WeightFormats.DefaultGroupSize(c.ProxyFormat) : 0;
            sketch = WeightFormats.RoundTrip(c.ProxyFormat, raw, c.Count * c.ProxyRank, l.In, g);
            _sketches[l.Name] = sketch;
        }

        return sketch;
    }

    /// <summary>The weights as the layer's format stores them, decoded by the formats' reference decoders.</summary>
    private static float[] Dequantized(LayerSpec l, float[] w) => l.Op == Ops.Conv2d
        ? WeightFormats.RoundTrip(l.Quant!.Format, w, l.OutChannels, l.FilterLength, l.Quant.GroupSize)
        : WeightFormats.RoundTrip(l.Quant!.Format, w, l.Out, l.In, l.Quant.GroupSize);

    private static float[] Add(float[] a, float[] b)
    {
        var y = new float[a.Length];
        for (var i = 0; i < y.Length; i++)
        {
            y[i] = a[i] + b[i];
        }

        return y;
    }

    private float[] LayerNorm(LayerSpec l, float[] x)
    {
        var gamma = Tensor(l.WeightsPrefix + ".weight");
        var beta = Tensor(l.WeightsPrefix + ".bias");
        double mean = 0;
        foreach (var v in x)
        {
            mean += v;
        }

        mean /= x.Length;
        double variance = 0;
        foreach (var v in x)
        {
            variance += (v - mean) * (v - mean);
        }

        variance /= x.Length;
        var inv = 1 / Math.Sqrt(variance + l.Eps);
        var y = new float[x.Length];
        for (var i = 0; i < y.Length; i++)
        {
            y[i] = (float)(((x[i] - mean) * inv * gamma[i]) + beta[i]);
        }

        return y;
    }
}
