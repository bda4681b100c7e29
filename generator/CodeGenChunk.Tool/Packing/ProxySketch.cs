using System;
using CodeGenChunk.Model.Planning;

namespace CodeGenChunk.Tool.Packing;

/// <summary>
/// The "proxy" activity estimator's sketch (docs/routing.md): for each output chunk W_i (rows × in)
/// the <c>rank</c> rows u_j^T W_i, where u_j are the top eigenvectors of W_i W_i^T (the chunk's top
/// left singular vectors). Then |S_i x|^2 = Σ_j (u_j · W_i x)^2 is the energy of W_i x in the chunk's
/// dominant directions: a rank-r estimate of |W_i x|^2 that costs r·in multiply-adds instead of rows·in.
/// Computed in double by subspace iteration from a fixed seed, so the same weights give the same sketch.
/// </summary>
public static class ProxySketch
{
    private const int Iterations = 40;

    public static float[] Build(float[] w, int rows, int cols, int count, int rank)
    {
        var sketch = new float[count * rank * cols];
        var parts = Chunking.Split(rows, count, KernelSpecShape.RowBlock);
        for (var c = 0; c < count; c++)
        {
            var (start, m) = parts[c];
            var u = TopEigenvectors(w, start, m, cols, Math.Min(rank, m), (ulong)c);
            for (var j = 0; j < u.Length; j++)
            {
                var row = sketch.AsSpan(((c * rank) + j) * cols, cols);
                for (var k = 0; k < cols; k++)
                {
                    double s = 0;
                    for (var r = 0; r < m; r++)
                    {
                        s += u[j][r] * w[((start + r) * cols) + k];
                    }

                    row[k] = (float)s;
                }
            }
        }

        return sketch;
    }

    /// <summary>
    /// The "lowrank" estimator's factors (docs/routing.md): W ≈ U V with U = U_r (rows × rank: the top-r eigenvectors of
    /// W Wᵀ, the left singular vectors) and V = U_rᵀ W (rank × cols), so that U V x = U_r U_rᵀ W x is W x projected on
    /// its dominant output directions: the truncated SVD of W. Same computation, seed and iterations as
    /// <see cref="Build"/> with one chunk, so the same weights give the same factors.
    /// </summary>
    public static (float[] V, float[] U) LowRank(float[] w, int rows, int cols, int rank)
    {
        var r = Math.Min(rank, rows);
        var u = TopEigenvectors(w, 0, rows, cols, r, 0);
        var v = new float[rank * cols];
        var uf = new float[rows * rank];
        for (var j = 0; j < r; j++)
        {
            for (var k = 0; k < cols; k++)
            {
                double s = 0;
                for (var i = 0; i < rows; i++)
                {
                    s += u[j][i] * w[(i * cols) + k];
                }

                v[(j * cols) + k] = (float)s;
            }

            for (var i = 0; i < rows; i++)
            {
                uf[(i * rank) + j] = (float)u[j][i];
            }
        }

        return (v, uf);
    }

    /// <summary>Unit eigenvectors of the r largest eigenvalues of G = W W^T (m × m) for the rows [start, start + m).</summary>
    private static double[][] TopEigenvectors(float[] w, int start, int m, int cols, int r, ulong seed)
    {
        var g = new double[m, m];
        for (var a = 0; a < m; a++)
        {
            for (var b = a; b < m; b++)
            {
                double s = 0;
                var ra = (start + a) * cols;
                var rb = (start + b) * cols;
                for (var k = 0; k < cols; k++)
                {
                    s += (double)w[ra + k] * w[rb + k];
                }

                g[a, b] = s;
                g[b, a] = s;
            }
        }

        var p = Math.Min(m, r + 4);
        var q = new double[p][];
        var state = 0x9E3779B97F4A7C15UL ^ (seed * 0xBF58476D1CE4E5B9UL);
        for (var j = 0; j < p; j++)
        {
            q[j] = new double[m];
            for (var i = 0; i < m; i++)
            {
                q[j][i] = (NextUnit(ref state) * 2) - 1;
            }
        }

        Orthonormalize(q);
        for (var it = 0; it < Iterations; it++)
        {
            for (var j = 0; j < p; j++)
            {
                q[j] = Multiply(g, q[j]);
            }

            Orthonormalize(q);
        }

        // Rayleigh-Ritz: eigenvectors of T = Q^T G Q (p × p) by Jacobi rotations.
        var t = new double[p, p];
        var gq = new double[p][];
        for (var j = 0; j < p; j++)
        {
            gq[j] = Multiply(g, q[j]);
        }

        for (var a = 0; a < p; a++)
        {
            for (var b = 0; b < p; b++)
            {
                t[a, b] = Dot(q[a], gq[b]);
            }
        }

        var (values, vectors) = Jacobi(t);
        var order = new int[p];
        for (var i = 0; i < p; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (x, y) => values[y].CompareTo(values[x]) is var c && c != 0 ? c : x.CompareTo(y));
        var result = new double[r][];
        for (var j = 0; j < r; j++)
        {
            var v = new double[m];
            for (var a = 0; a < p; a++)
            {
                var z = vectors[a, order[j]];
                for (var i = 0; i < m; i++)
                {
                    v[i] += z * q[a][i];
                }
            }

            result[j] = v;
        }

        return result;
    }

    private static double[] Multiply(double[,] g, double[] v)
    {
        var m = v.Length;
        var result = new double[m];
        for (var a = 0; a < m; a++)
        {
            double s = 0;
            for (var b = 0; b < m; b++)
            {
                s += g[a, b] * v[b];
            }

            result[a] = s;
        }

        return result;
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (var i = 0; i < a.Length; i++)
        {
            s += a[i] * b[i];
        }

        return s;
    }

    /// <summary>Modified Gram-Schmidt; a vector that vanishes (rank-deficient chunk) becomes zero.</summary>
    private static void Orthonormalize(double[][] q)
    {
        for (var j = 0; j < q.Length; j++)
        {
            for (var k = 0; k < j; k++)
            {
                var d = Dot(q[j], q[k]);
                for (var i = 0; i < q[j].Length; i++)
                {
                    q[j][i] -= d * q[k][i];
                }
            }

            var norm = Math.Sqrt(Dot(q[j], q[j]));
            for (var i = 0; i < q[j].Length; i++)
            {
                q[j][i] = norm > 1e-300 ? q[j][i] / norm : 0;
            }
        }
    }

    /// <summary>Cyclic Jacobi eigenvalue algorithm for a small symmetric matrix.</summary>
    private static (double[] Values, double[,] Vectors) Jacobi(double[,] input)
    {
        var n = input.GetLength(0);
        var a = (double[,])input.Clone();
        var v = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            v[i, i] = 1;
        }

        for (var sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (var i = 0; i < n; i++)
            {
                for (var j = i + 1; j < n; j++)
                {
                    off += a[i, j] * a[i, j];
                }
            }

            if (off < 1e-30)
            {
                break;
            }

            for (var pp = 0; pp < n; pp++)
            {
                for (var qq = pp + 1; qq < n; qq++)
                {
                    if (Math.Abs(a[pp, qq]) < 1e-300)
                    {
                        continue;
                    }

                    var theta = (a[qq, qq] - a[pp, pp]) / (2 * a[pp, qq]);
                    var tt = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt((theta * theta) + 1));
                    if (theta == 0)
                    {
                        tt = 1;
                    }

                    var c = 1 / Math.Sqrt((tt * tt) + 1);
                    var s = tt * c;
                    for (var k = 0; k < n; k++)
                    {
                        var akp = a[k, pp];
                        var akq = a[k, qq];
                        a[k, pp] = (c * akp) - (s * akq);
                        a[k, qq] = (s * akp) + (c * akq);
                    }

                    for (var k = 0; k < n; k++)
                    {
                        var apk = a[pp, k];
                        var aqk = a[qq, k];
                        a[pp, k] = (c * apk) - (s * aqk);
                        a[qq, k] = (s * apk) + (c * aqk);
                    }

                    for (var k = 0; k < n; k++)
                    {
                        var vkp = v[k, pp];
                        var vkq = v[k, qq];
                        v[k, pp] = (c * vkp) - (s * vkq);
                        v[k, qq] = (s * vkp) + (c * vkq);
                    }
                }
            }
        }

        var values = new double[n];
        for (var i = 0; i < n; i++)
        {
            values[i] = a[i, i];
        }

        return (values, v);
    }

    private static double NextUnit(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        var z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }
}
