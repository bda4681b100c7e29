using System;
using System.Collections.Generic;
using System.Linq;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Model.Planning;
using CodeGenChunk.Tool.Calibration;
using CodeGenChunk.Tool.SafeTensors;

namespace CodeGenChunk.Tool.Reordering;

/// <summary>
/// Function-preserving hidden-unit reordering (docs/routing.md, "Reordering hidden units"). Between two linear layers
/// joined only by element-wise ReLUs (<c>A → relu → B</c>), the hidden units can be listed in any order: permuting A's
/// rows and bias and B's columns the same way leaves the model's function unchanged (up to the order of B's float sums).
/// This picks the order in which units that are active together on calibration inputs sit in the same chunk, so that
/// a chunk is either busy or idle as a whole and top-k routing (A split by outputs, B by inputs) skips little that matters.
/// <para>
/// Per hidden layer of <c>dim</c> units, split into <c>groups</c> ranges as <see cref="Chunking.Split(int, int, int)"/>
/// splits B's inputs (16-aligned):
/// </para>
/// <list type="number">
/// <item>Each unit's |activation| over the N calibration inputs (after the ReLUs) is a vector in R^N, scaled to unit
/// length (a unit never active stays zero).</item>
/// <item>Farthest-point start: the first group's seed is the unit of largest activation norm, each next seed the unit
/// least similar (cosine) to every seed so far; each unit then goes to its most similar seed's group, as long as the
/// group has room (all unit-group pairs by similarity, highest first).</item>
/// <item>Balanced k-means: each group's centroid is the normalised sum of its units; units are reassigned the same way,
/// until nothing moves (at most <see cref="MaxIterations"/> rounds).</item>
/// <item>Top-k refinement, the routing objective itself: for each input, the <c>topK</c> groups of highest mean
/// activation are "selected"; a unit's gain for a group is the activation it would add to the selected chunks summed
/// over the inputs where that group is selected; units are reassigned by gain (same balanced rule). The assignment
/// with the largest captured activation (the share of all activation inside the selected groups) is kept.</item>
/// </list>
/// Groups keep their positions; inside a group the units keep their original order. Everything runs in double, in a
/// fixed order, single-threaded: the same weights and inputs give the same permutation, hence the same bytes.
/// </summary>
public static class HiddenUnitReorder
{
    /// <summary>Rounds of k-means and of the top-k refinement, each.</summary>
    public const int MaxIterations = 50;

    /// <summary>A hidden layer that can be reordered: the rows of <see cref="Producer"/>, the columns of <see cref="Consumer"/>.</summary>
    public sealed record HiddenLayer(LayerSpec Producer, LayerSpec Consumer)
    {
        public int Units => Producer.Out;
    }

    /// <summary>What reordering one hidden layer did: the permutation (new position → old unit) and the captured activation.</summary>
    public sealed record Result(HiddenLayer Layer, int[] Order, int Groups, int TopK, double CapturedBefore, double CapturedAfter, int KMeansRounds, int RefineRounds);

    /// <summary>
    /// The hidden layers of a manifest that can be reordered: <c>linear A</c>, then only unnamed-or-unreferenced
    /// <c>relu</c> layers, then <c>linear B</c>, where no residual reads A's output or the ReLUs', and A's and B's
    /// tensors belong to no other layer.
    /// </summary>
    public static List<HiddenLayer> Find(ManifestSpec spec)
    {
        var layers = spec.Layers.ToList();
        var referenced = new HashSet<string>(layers.Where(l => l.Op == Ops.Residual && l.From is not null).Select(l => l.From!), StringComparer.Ordinal);
        var prefixCount = layers.Where(l => l.Op is Ops.Linear or Ops.LayerNorm or Ops.Conv2d).GroupBy(l => l.WeightsPrefix, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var result = new List<HiddenLayer>();
        for (var a = 0; a < layers.Count; a++)
        {
            if (layers[a].Op != Ops.Linear || referenced.Contains(layers[a].Name))
            {
                continue;
            }

            var b = a + 1;
            var ok = true;
            while (b < layers.Count && layers[b].Op == Ops.Relu)
            {
                ok &= !referenced.Contains(layers[b].Name);
                b++;
            }

            if (ok && b < layers.Count && layers[b].Op == Ops.Linear && prefixCount[layers[a].WeightsPrefix] == 1 && prefixCount[layers[b].WeightsPrefix] == 1)
            {
                result.Add(new HiddenLayer(layers[a], layers[b]));
            }
        }

        return result;
    }

    /// <summary>
    /// Computes the permutation of every given hidden layer from the calibration inputs (the activations are those of
    /// the original model: permuting one hidden layer does not change what any other hidden layer computes).
    /// </summary>
    public static List<Result> Plan(ManifestSpec spec, SafeTensorsFile weights, IReadOnlyList<HiddenLayer> hidden, IReadOnlyList<float[]> inputs, int groups, int topK, Action<int>? progress = null)
    {
        var activations = hidden.ToDictionary(h => h.Consumer.Name, h => new float[inputs.Count][], StringComparer.Ordinal);
        var forward = new FloatForward(spec, weights);
        for (var n = 0; n < inputs.Count; n++)
        {
            forward.Run(inputs[n], (layer, x) =>
            {
                if (activations.TryGetValue(layer.Name, out var rows))
                {
                    // |activation|: what seed 000's "input" estimator averages (after a ReLU, the activation itself).
                    rows[n] = Array.ConvertAll(x, MathF.Abs);
                }
            });
            progress?.Invoke(n + 1);
        }

        var results = new List<Result>();
        foreach (var h in hidden)
        {
            results.Add(Order(h, activations[h.Consumer.Name], groups, topK));
        }

        return results;
    }

    /// <summary>The order of one hidden layer's units (new position → old unit) from its |activations| [input][unit].</summary>
    public static Result Order(HiddenLayer layer, float[][] activations, int groups, int topK)
    {
        var units = layer.Units;
        if (groups < 2 || groups > units)
        {
            throw new InvalidOperationException($"layer '{layer.Producer.Name}': {groups} groups of {units} hidden units; need 2 to {units}.");
        }

        if (topK < 1 || topK >= groups)
        {
            throw new InvalidOperationException($"layer '{layer.Producer.Name}': --top-k {topK} must be between 1 and the number of groups less one ({groups - 1}).");
        }

        var parts = Chunking.Split(units, groups, Chunking.InputAlignment);
        var capacity = parts.Select(p => p.Length).ToArray();
        var n = activations.Length;

        // Unit vectors over the inputs: a[unit][input].
        var a = new double[units][];
        var norm = new double[units];
        for (var j = 0; j < units; j++)
        {
            var v = new double[n];
            double s = 0;
            for (var i = 0; i < n; i++)
            {
                v[i] = activations[i][j];
                s += v[i] * v[i];
            }

            norm[j] = Math.Sqrt(s);
            if (norm[j] > 0)
            {
                for (var i = 0; i < n; i++)
                {
                    v[i] /= norm[j];
                }
            }

            a[j] = v;
        }

        // 1-2. Farthest-point seeds, then the balanced assignment to the most similar seed.
        var seeds = new List<int>();
        var first = 0;
        for (var j = 1; j < units; j++)
        {
            if (norm[j] > norm[first])
            {
                first = j;
            }
        }

        seeds.Add(first);
        var closest = new double[units];
        for (var j = 0; j < units; j++)
        {
            closest[j] = Dot(a[j], a[first]);
        }

        while (seeds.Count < groups)
        {
            var next = -1;
            for (var j = 0; j < units; j++)
            {
                if (norm[j] > 0 && !seeds.Contains(j) && (next < 0 || closest[j] < closest[next]))
                {
                    next = j;
                }
            }

            if (next < 0)
            {
                // Fewer active units than groups: the remaining seeds are the first unused units.
                next = Enumerable.Range(0, units).First(j => !seeds.Contains(j));
            }

            seeds.Add(next);
            for (var j = 0; j < units; j++)
            {
                closest[j] = Math.Max(closest[j], Dot(a[j], a[next]));
            }
        }

        var score = new double[units, groups];
        for (var j = 0; j < units; j++)
        {
            for (var g = 0; g < groups; g++)
            {
                score[j, g] = Dot(a[j], a[seeds[g]]);
            }
        }

        var assign = Assign(score, capacity, null);

        // 3. Balanced k-means on the cosine.
        var kmeansRounds = 0;
        for (var round = 0; round < MaxIterations; round++)
        {
            kmeansRounds++;
            var centroids = new double[groups][];
            for (var g = 0; g < groups; g++)
            {
                centroids[g] = new double[n];
            }

            for (var j = 0; j < units; j++)
            {
                var c = centroids[assign[j]];
                for (var i = 0; i < n; i++)
                {
                    c[i] += a[j][i];
                }
            }

            foreach (var c in centroids)
            {
                var length = Math.Sqrt(Dot(c, c));
                for (var i = 0; length > 0 && i < n; i++)
                {
                    c[i] /= length;
                }
            }

            for (var j = 0; j < units; j++)
            {
                for (var g = 0; g < groups; g++)
                {
                    score[j, g] = Dot(a[j], centroids[g]);
                }
            }

            var next = Assign(score, capacity, assign);
            var moved = !next.AsSpan().SequenceEqual(assign);
            assign = next;
            if (!moved)
            {
                break;
            }
        }

        // 4. Top-k refinement on the captured activation.
        var identity = new int[units];
        for (var g = 0; g < groups; g++)
        {
            Array.Fill(identity, g, parts[g].Start, parts[g].Length);
        }

        var before = Captured(activations, identity, capacity, topK, null);
        var best = assign;
        var bestCaptured = Captured(activations, assign, capacity, topK, null);
        var refineRounds = 0;
        for (var round = 0; round < MaxIterations; round++)
        {
            refineRounds++;
            var gain = new double[units, groups];
            Captured(activations, assign, capacity, topK, gain);
            var next = Assign(gain, capacity, assign);
            if (next.AsSpan().SequenceEqual(assign))
            {
                break;
            }

            assign = next;
            var captured = Captured(activations, assign, capacity, topK, null);
            if (captured > bestCaptured)
            {
                bestCaptured = captured;
                best = assign;
            }
        }

        var order = new int[units];
        var position = 0;
        for (var g = 0; g < groups; g++)
        {
            for (var j = 0; j < units; j++)
            {
                if (best[j] == g)
                {
                    order[position++] = j;
                }
            }
        }

        return new Result(layer, order, groups, topK, before, bestCaptured, kmeansRounds, refineRounds);
    }

    /// <summary>
    /// Share of all activation that the top-k groups of each input hold (groups ranked by mean activation, ties to the
    /// lower group, as <c>ChunkRouting.Select</c> ranks chunks). With <paramref name="gain"/>, also adds each unit's
    /// activation to its gain for every group selected for that input.
    /// </summary>
    private static double Captured(float[][] activations, int[] assign, int[] capacity, int topK, double[,]? gain)
    {
        var groups = capacity.Length;
        var units = assign.Length;
        var sums = new double[groups];
        var selected = new bool[groups];
        double captured = 0, total = 0;
        foreach (var h in activations)
        {
            Array.Clear(sums);
            for (var j = 0; j < units; j++)
            {
                sums[assign[j]] += h[j];
            }

            Array.Clear(selected);
            for (var k = 0; k < topK; k++)
            {
                var pick = -1;
                for (var g = 0; g < groups; g++)
                {
                    if (!selected[g] && (pick < 0 || sums[g] / capacity[g] > sums[pick] / capacity[pick]))
                    {
                        pick = g;
                    }
                }

                selected[pick] = true;
                captured += sums[pick];
            }

            foreach (var s in sums)
            {
                total += s;
            }

            if (gain is null)
            {
                continue;
            }

            for (var j = 0; j < units; j++)
            {
                if (h[j] == 0)
                {
                    continue;
                }

                for (var g = 0; g < groups; g++)
                {
                    if (selected[g])
                    {
                        gain[j, g] += h[j];
                    }
                }
            }
        }

        return total > 0 ? captured / total : 1;
    }

    /// <summary>
    /// Balanced assignment: every (unit, group) pair by score, highest first (ties: the unit's current group, then the
    /// lower unit, then the lower group); a unit takes the first group that still has room.
    /// </summary>
    private static int[] Assign(double[,] score, int[] capacity, int[]? current)
    {
        var units = score.GetLength(0);
        var groups = score.GetLength(1);
        var pairs = new (double Score, bool Current, int Unit, int Group)[units * groups];
        for (var j = 0; j < units; j++)
        {
            for (var g = 0; g < groups; g++)
            {
                pairs[(j * groups) + g] = (score[j, g], current is not null && current[j] == g, j, g);
            }
        }

        Array.Sort(pairs, (x, y) =>
        {
            var c = y.Score.CompareTo(x.Score);
            if (c != 0)
            {
                return c;
            }

            c = y.Current.CompareTo(x.Current);
            return c != 0 ? c : x.Unit != y.Unit ? x.Unit.CompareTo(y.Unit) : x.Group.CompareTo(y.Group);
        });
        var assign = new int[units];
        Array.Fill(assign, -1);
        var fill = new int[groups];
        foreach (var (_, _, j, g) in pairs)
        {
            if (assign[j] < 0 && fill[g] < capacity[g])
            {
                assign[j] = g;
                fill[g]++;
            }
        }

        return assign;
    }

    private static double Dot(double[] x, double[] y)
    {
        double s = 0;
        for (var i = 0; i < x.Length; i++)
        {
            s += x[i] * y[i];
        }

        return s;
    }

    /// <summary>
    /// The weights with every hidden layer permuted: A's rows and bias, B's columns. Tensors keep the source file's
    /// order; tensors of other layers are copied as they are.
    /// </summary>
    public static List<(string Name, long[] Shape, float[] Values)> Apply(SafeTensorsFile weights, IEnumerable<Result> results)
    {
        var tensors = weights.Tensors.Values.OrderBy(t => t.Begin).ThenBy(t => t.Name, StringComparer.Ordinal)
            .ToDictionary(t => t.Name, t => (t.Shape, Values: weights.ToFloatArray(t)), StringComparer.Ordinal);
        foreach (var r in results)
        {
            var a = r.Layer.Producer;
            var b = r.Layer.Consumer;
            var units = r.Order.Length;
            var aw = Get(tensors, a.WeightsPrefix + ".weight", units * a.In);
            var rows = new float[aw.Length];
            for (var j = 0; j < units; j++)
            {
                Array.Copy(aw, r.Order[j] * a.In, rows, j * a.In, a.In);
            }

            tensors[a.WeightsPrefix + ".weight"] = (tensors[a.WeightsPrefix + ".weight"].Shape, rows);
            if (a.Bias)
            {
                var ab = Get(tensors, a.WeightsPrefix + ".bias", units);
                tensors[a.WeightsPrefix + ".bias"] = (tensors[a.WeightsPrefix + ".bias"].Shape, r.Order.Select(j => ab[j]).ToArray());
            }

            var bw = Get(tensors, b.WeightsPrefix + ".weight", b.Out * units);
            var columns = new float[bw.Length];
            for (var o = 0; o < b.Out; o++)
            {
                for (var j = 0; j < units; j++)
                {
                    columns[(o * units) + j] = bw[(o * units) + r.Order[j]];
                }
            }

            tensors[b.WeightsPrefix + ".weight"] = (tensors[b.WeightsPrefix + ".weight"].Shape, columns);
        }

        return weights.Tensors.Values.OrderBy(t => t.Begin).ThenBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => (t.Name, tensors[t.Name].Shape, tensors[t.Name].Values)).ToList();
    }

    private static float[] Get(Dictionary<string, (long[] Shape, float[] Values)> tensors, string name, int length)
    {
        if (!tensors.TryGetValue(name, out var t))
        {
            throw new InvalidOperationException($"The weights have no tensor '{name}'.");
        }

        if (t.Values.Length != length)
        {
            throw new InvalidOperationException($"Tensor '{name}' has {t.Values.Length} values; the manifest's layer needs {length}.");
        }

        return t.Values;
    }
}
