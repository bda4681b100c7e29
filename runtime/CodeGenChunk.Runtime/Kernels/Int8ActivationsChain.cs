using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CodeGenChunk.Runtime.Kernels;

/// <summary>
/// The residual stream in u8 codes (docs/activations.md, "The residual stream in codes"): the last linear layer of a
/// block writes its output before the residual add as u8 codes at a range predicted before it runs
/// (<see cref="PredictParams"/>) and accumulates the exact moments of output + residual (the residual read from codes,
/// or floats: the model's input); the LayerNorm adds the residual and the output back from their codes, normalises
/// with those moments and writes its output as codes at its own exact range, the next block's input and residual.
/// No float vector lives between the layers.
/// </summary>
public static partial class Int8Activations
{
    /// <summary>
    /// Bytes of the refinement plane of <paramref name="length"/> codes: 2 bits per value, four values per byte
    /// (value i in bits 2·(i mod 4) of byte i / 4).
    /// </summary>
    public static int PlaneBytes(int length) => (length + 3) / 4;

    /// <summary>The four 2-bit refinements of a plane byte, as floats (lane k: bits 2k..2k+1).</summary>
    private static readonly float[] s_planeLanes = CreatePlaneLanes();

    private static float[] CreatePlaneLanes()
    {
        var t = new float[256 * 4];
        for (var b = 0; b < 256; b++)
        {
            for (var k = 0; k < 4; k++)
            {
                t[(b * 4) + k] = (b >> (2 * k)) & 3;
            }
        }

        return t;
    }

    /// <summary>
    /// The offset of codes with a refinement plane: a value is <c>scale · (q + (v + 0.5) / 4 − 0.5 − zero)</c>, v the
    /// 2-bit refinement (docs/activations.md); without a plane, <c>scale · (q − zero)</c>.
    /// </summary>
    private static float ResidualOffset(float scale, int zero, bool plane) => plane ? (-zero - 0.375f) * scale : -zero * scale;

    /// <summary>Four residual values from codes and, when <paramref name="hasPlane"/>, their refinement plane; o a multiple of 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Refined4(ref byte q, ref byte plane, bool hasPlane, int o, float scale, float offset)
    {
        var r = Residual4(ref q, o, scale, offset);
        if (hasPlane)
        {
            r += Vector128.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(s_planeLanes), (nuint)Unsafe.Add(ref plane, o >> 2) * 4) * Vector128.Create(scale * 0.25f);
        }

        return r;
    }

    /// <summary>One residual value: the scalar twin of <see cref="Refined4"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Refined1(ref byte q, ref byte plane, bool hasPlane, int o, float scale, float offset)
    {
        float r = (Unsafe.Add(ref q, o) * scale) + offset;
        if (hasPlane)
        {
            r += ((Unsafe.Add(ref plane, o >> 2) >> (2 * (o & 3))) & 3) * (scale * 0.25f);
        }

        return r;
    }

    /// <summary>Four residual codes as floats: <c>q · rScale + rOffset</c> (rOffset = −zero · scale), as the scalar twin computes one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Residual4(ref byte q, int o, float rScale, float rOffset)
    {
        var b = Vector128.CreateScalar(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref q, o))).AsByte();
        var f = Vector128.ConvertToSingle(Vector128.WidenLower(Vector128.WidenLower(b)).AsInt32());
        return (f * Vector128.Create(rScale)) + Vector128.Create(rOffset);
    }

    /// <summary>
    /// <see cref="Linear"/> with the residual of a block: v = act(W x + b), r read from <paramref name="residualCodes"/>
    /// (scale <paramref name="rScale"/>, zero point <paramref name="rZero"/>) when not empty, else from
    /// <paramref name="residual"/>. Writes v + r as floats to <paramref name="y"/>; or, when <paramref name="yq"/> is not
    /// empty, v (before the residual add) as u8 codes (scale <paramref name="yScale"/>, zero point <paramref name="yZero"/>)
    /// together with the exact Σ (v + r) and Σ (v + r)² of the unrounded values (for the LayerNorm that adds the two
    /// back); returns the number of clipped codes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int LinearResidual(
        ReadOnlySpan<sbyte> w,
        ReadOnlySpan<float> scales,
        ReadOnlySpan<float> bias,
        ReadOnlySpan<float> sums,
        ReadOnlySpan<byte> x,
        float xScale,
        int xZero,
        int groupSize,
        bool relu,
        ReadOnlySpan<float> residual,
        ReadOnlySpan<byte> residualCodes,
        ReadOnlySpan<byte> residualPlane,
        float rScale,
        int rZero,
        Span<float> y,
        Span<byte> yq,
        float yScale,
        int yZero,
        out double sum,
        out double sumSquares,
        Int8DotPath path)
    {
        int outLen = sums.Length;
        int inLen = x.Length;
        int groups = (inLen + groupSize - 1) / groupSize;
        bool codes = !residualCodes.IsEmpty;
        if (groupSize > MaxInt32GroupLength || w.Length < (long)outLen * inLen || scales.Length < (long)outLen * groups
            || (yq.IsEmpty ? y.Length < outLen : yq.Length < outLen) || (!bias.IsEmpty && bias.Length < outLen)
            || (codes ? residualCodes.Length < outLen : residual.Length < outLen) || (!residualPlane.IsEmpty && residualPlane.Length < PlaneBytes(outLen)))
        {
            throw new ArgumentException("Int8Activations.LinearResidual: spans do not match the shape.");
        }

        if (!IsSupported(path))
        {
            path = Int8DotPath.Vector128;
        }

        var e = new ResidualEpilogue(
            ref MemoryMarshal.GetReference(bias),
            !bias.IsEmpty,
            ref MemoryMarshal.GetReference(sums),
            ref MemoryMarshal.GetReference(residual),
            ref MemoryMarshal.GetReference(residualCodes),
            ref MemoryMarshal.GetReference(residualPlane),
            codes,
            codes && !residualPlane.IsEmpty,
            rScale,
            ResidualOffset(rScale, rZero, codes && !residualPlane.IsEmpty),
            relu,
            xScale,
            (path == Int8DotPath.ArmDp ? 128 : 0) - xZero,
            yScale,
            yZero,
            yq.IsEmpty);
        ref sbyte wr = ref MemoryMarshal.GetReference(w);
        ref float sr = ref MemoryMarshal.GetReference(scales);
        ref byte xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref byte qr = ref MemoryMarshal.GetReference(yq);
        int rowMain = outLen - (outLen % RowBlock);
        int clipped = 0;
        Vector128<double> m1 = default, m2 = default;
        double t1 = 0, t2 = 0;
        int pairs = path == Int8DotPath.AvxVnni ? TwoStreamPairs(inLen, groupSize, rowMain) : 0;
        for (int i = 0; i < pairs; i++)
        {
            // row blocks i and i + pairs together: two streams of weights (Int8Activations.TwoStreamPairs)
            VnniPair(ref xr, ref wr, ref sr, inLen, groups, i, pairs, out var da, out var db);
            clipped += e.Store4(ref yr, ref qr, i * RowBlock, da, ref m1, ref m2);
            clipped += e.Store4(ref yr, ref qr, (i + pairs) * RowBlock, db, ref m1, ref m2);
        }

        for (int o = 2 * pairs * RowBlock; o < outLen;)
        {
            int rc = o < rowMain ? RowBlock : 1;
            ref sbyte blk = ref Unsafe.Add(ref wr, (nint)o * inLen);
            ref float sc = ref Unsafe.Add(ref sr, (nint)o * groups);
            float d0, d1 = 0f, d2 = 0f, d3 = 0f;
            switch (path)
            {
                case Int8DotPath.AvxVnni:
                    if (rc == 4)
                    {
                        Vnni4(ref xr, ref blk, ref sc, inLen, groupSize, groups, out d0, out d1, out d2, out d3);
                    }
                    else
                    {
                        d0 = Vnni1(ref xr, ref blk, ref sc, inLen, groupSize);
                    }

                    break;
                case Int8DotPath.ArmDp:
                    DpRows(ref xr, ref blk, ref sc, inLen, groupSize, groups, rc, out d0, out d1, out d2, out d3);
                    break;
                case Int8DotPath.Vector128:
                    V128Rows(ref xr, ref blk, ref sc, inLen, groupSize, groups, rc, out d0, out d1, out d2, out d3);
                    break;
                default:
                    ScalarRows(ref xr, ref blk, ref sc, inLen, groupSize, groups, rc, out d0, out d1, out d2, out d3);
                    break;
            }

            if (rc == 4)
            {
                clipped += e.Store4(ref yr, ref qr, o, Vector128.Create(d0, d1, d2, d3), ref m1, ref m2);
            }
            else
            {
                clipped += e.Store(ref yr, ref qr, o, d0, ref t1, ref t2);
            }

            o += rc;
        }

        sum = m1[0] + m1[1] + t1;
        sumSquares = m2[0] + m2[1] + t2;
        return clipped;
    }

    /// <summary>The residual epilogue: v = act(xScale · (d + correction · S_o) + b_o); v + r_o as float, or v as u8 codes and the moments of v + r_o.</summary>
    private readonly ref struct ResidualEpilogue
    {
        private readonly ref float _bias;
        private readonly ref float _sums;
        private readonly ref float _residual;
        private readonly ref byte _residualCodes;
        private readonly ref byte _residualPlane;
        private readonly bool _plane;
        private readonly bool _hasBias;
        private readonly bool _codes;
        private readonly float _rScale;
        private readonly float _rOffset;
        private readonly bool _relu;
        private readonly float _xScale;
        private readonly float _correction;
        private readonly float _inv;
        private readonly int _yZero;
        private readonly bool _float;

        public ResidualEpilogue(ref float bias, bool hasBias, ref float sums, ref float residual, ref byte residualCodes, ref byte residualPlane, bool codes, bool plane, float rScale, float rOffset, bool relu, float xScale, int correction, float yScale, int yZero, bool isFloat)
        {
            _bias = ref bias;
            _sums = ref sums;
            _residual = ref residual;
            _residualCodes = ref residualCodes;
            _residualPlane = ref residualPlane;
            _plane = plane;
            _hasBias = hasBias;
            _codes = codes;
            _rScale = rScale;
            _rOffset = rOffset;
            _relu = relu;
            _xScale = xScale;
            _correction = correction;
            _inv = isFloat ? 0f : 1f / yScale;
            _yZero = yZero;
            _float = isFloat;
        }

        /// <summary>Four rows at once: the same arithmetic as <see cref="Store"/>, lane by lane; the moments in double.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Store4(ref float y, ref byte q, int o, Vector128<float> d, ref Vector128<double> m1, ref Vector128<double> m2)
        {
            var v = Vector128.Create(_xScale) * Vector128.MultiplyAddEstimate(Vector128.Create(_correction), Vector128.LoadUnsafe(ref _sums, (nuint)o), d);
            if (_hasBias)
            {
                v += Vector128.LoadUnsafe(ref _bias, (nuint)o);
            }

            if (_relu)
            {
                v = Vector128.Max(v, Vector128<float>.Zero);
            }

            var sum = v + (_codes ? Refined4(ref _residualCodes, ref _residualPlane, _plane, o, _rScale, _rOffset) : Vector128.LoadUnsafe(ref _residual, (nuint)o));
            if (_float)
            {
                sum.StoreUnsafe(ref y, (nuint)o);
                return 0;
            }

            var lo = Vector128.WidenLower(sum);
            var hi = Vector128.WidenUpper(sum);
            m1 += lo + hi;
            m2 += (lo * lo) + (hi * hi);
            int clipped = 0;
            var c = Code(v, Vector128.Create(_inv), Vector128.Create((float)_yZero), Vector128.Create((float)MaxCode), ref clipped);
            var shorts = Vector128.Narrow(c, c).AsUInt16();
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref q, o), Vector128.Narrow(shorts, shorts).AsUInt32().ToScalar());
            return clipped;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Store(ref float y, ref byte q, int o, float d, ref double m1, ref double m2)
        {
            float v = _xScale * float.MultiplyAddEstimate(_correction, Unsafe.Add(ref _sums, o), d);
            if (_hasBias)
            {
                v += Unsafe.Add(ref _bias, o);
            }

            if (_relu)
            {
                v = MathF.Max(v, 0f);
            }

            float sum = v + (_codes ? Refined1(ref _residualCodes, ref _residualPlane, _plane, o, _rScale, _rOffset) : Unsafe.Add(ref _residual, o));
            if (_float)
            {
                Unsafe.Add(ref y, o) = sum;
                return 0;
            }

            m1 += sum;
            m2 += (double)sum * sum;
            int clipped = 0;
            Unsafe.Add(ref q, o) = CodeOf(v, _inv, _yZero, ref clipped);
            return clipped;
        }
    }

    /// <summary>
    /// LayerNorm of a residual sum held as two parts: s_i = r_i + v_i, r from <paramref name="residualCodes"/> (scale
    /// <paramref name="rScale"/>, zero point <paramref name="rZero"/>) when not empty, else <paramref name="residual"/>;
    /// v the linear layer's output codes <paramref name="x"/> (scale <paramref name="xScale"/>, zero point
    /// <paramref name="xZero"/>). Normalised with the exact moments of the unrounded sum (<paramref name="sum"/>,
    /// <paramref name="sumSquares"/>, from <see cref="LinearResidual"/>): y_i = γ_i · (s_i − mean) / √(var + eps) + β_i,
    /// written as u8 codes at the exact range of y (a first pass finds it, the second writes the codes: nothing clips,
    /// no calibration). Returns the output's scale and zero point. <paramref name="path"/> Scalar runs plain loops, any
    /// other path Vector128. <paramref name="y"/> may be <paramref name="residualCodes"/> itself (element by element).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LayerNormCodes(
        ReadOnlySpan<float> residual,
        ReadOnlySpan<byte> residualCodes,
        ReadOnlySpan<byte> residualPlane,
        float rScale,
        int rZero,
        ReadOnlySpan<byte> x,
        float xScale,
        int xZero,
        double sum,
        double sumSquares,
        ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> beta,
        float eps,
        Span<byte> y,
        Span<byte> yPlane,
        Int8DotPath path,
        out float yScale,
        out int yZero)
    {
        int n = x.Length;
        bool codes = !residualCodes.IsEmpty;
        bool plane = codes && !residualPlane.IsEmpty;
        bool outPlane = !yPlane.IsEmpty;
        if (gamma.Length < n || beta.Length < n || y.Length < n || (codes ? residualCodes.Length < n : residual.Length < n)
            || (plane && residualPlane.Length < PlaneBytes(n)) || (outPlane && yPlane.Length < PlaneBytes(n)))
        {
            throw new ArgumentException("Int8Activations.LayerNormCodes: spans do not match the shape.");
        }

        double mean = sum / n;
        double variance = Math.Max((sumSquares / n) - (mean * mean), 0);
        double inv = 1 / Math.Sqrt(variance + eps);

        // u_i = (r_i + v_i) · inv + c, v_i = q_i · a + b: per element two multiply-adds before γ and β
        var k = new NormConstants(rScale, ResidualOffset(rScale, rZero, plane), xScale, -xZero * xScale, (float)inv, (float)(-mean * inv), plane);
        ref byte rp = ref MemoryMarshal.GetReference(residualPlane);
        ref byte yp = ref MemoryMarshal.GetReference(yPlane);
        ref float rr = ref MemoryMarshal.GetReference(residual);
        ref byte rq = ref MemoryMarshal.GetReference(residualCodes);
        ref byte xr = ref MemoryMarshal.GetReference(x);
        ref float gr = ref MemoryMarshal.GetReference(gamma);
        ref float br = ref MemoryMarshal.GetReference(beta);
        ref byte yr = ref MemoryMarshal.GetReference(y);
        bool vector = path != Int8DotPath.Scalar;
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        int i = 0;
        if (vector && n >= 4)
        {
            var vlo = Vector128.Create(float.PositiveInfinity);
            var vhi = Vector128.Create(float.NegativeInfinity);
            for (; i + 4 <= n; i += 4)
            {
                var v = Norm4(ref rr, ref rq, ref rp, codes, ref xr, ref gr, ref br, i, k);
                vlo = Vector128.Min(vlo, v);
                vhi = Vector128.Max(vhi, v);
            }

            lo = MathF.Min(MathF.Min(vlo[0], vlo[1]), MathF.Min(vlo[2], vlo[3]));
            hi = MathF.Max(MathF.Max(vhi[0], vhi[1]), MathF.Max(vhi[2], vhi[3]));
        }

        for (; i < n; i++)
        {
            float v = Norm1(ref rr, ref rq, ref rp, codes, ref xr, ref gr, ref br, i, k);
            lo = MathF.Min(lo, v);
            hi = MathF.Max(hi, v);
        }

        RangeParams(lo, hi, out yScale, out yZero);
        float q = 1f / yScale;
        int ignored = 0;
        i = 0;
        if (vector && n >= 4)
        {
            var vinv = Vector128.Create(q);
            var vzero = Vector128.Create((float)yZero);
            var vmax = Vector128.Create((float)MaxCode);
            for (; i + 4 <= n; i += 4)
            {
                // a value at the very end of the range can round one code past 255: clamped, not a clip
                var v = Norm4(ref rr, ref rq, ref rp, codes, ref xr, ref gr, ref br, i, k);
                var c = Code(v, vinv, vzero, vmax, ref ignored);
                var shorts = Vector128.Narrow(c, c).AsUInt16();
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref yr, i), Vector128.Narrow(shorts, shorts).AsUInt32().ToScalar());
                if (outPlane)
                {
                    // v − scale · (q − zero) in [−scale/2, scale/2] as 2 bits: floor((e / scale + 1/2) · 4), clamped to 0..3
                    var e = (v * vinv) - (Vector128.ConvertToSingle(c) - vzero);
                    var f = Vector128.ConvertToInt32(Vector128.Min(Vector128.Max(Vector128.Floor((e + Vector128.Create(0.5f)) * Vector128.Create(4f)), Vector128<float>.Zero), Vector128.Create(3f)));
                    Unsafe.Add(ref yp, i >> 2) = (byte)Vector128.Sum(f * Vector128.Create(1, 4, 16, 64));
                }
            }
        }

        for (; i < n; i++)
        {
            float v = Norm1(ref rr, ref rq, ref rp, codes, ref xr, ref gr, ref br, i, k);
            byte c = CodeOf(v, q, yZero, ref ignored);
            Unsafe.Add(ref yr, i) = c;
            if (outPlane)
            {
                float e = (v * q) - ((float)c - yZero);
                int f = (int)Math.Clamp(MathF.Floor((e + 0.5f) * 4f), 0f, 3f);
                int shift = 2 * (i & 3);
                ref byte b = ref Unsafe.Add(ref yp, i >> 2);
                b = (byte)((b & ~(3 << shift)) | (f << shift));
            }
        }
    }

    private readonly struct NormConstants
    {
        public readonly float RScale;
        public readonly float ROffset;
        public readonly float XScale;
        public readonly float XOffset;
        public readonly float Inv;
        public readonly float Shift;
        public readonly bool Plane;

        public NormConstants(float rScale, float rOffset, float xScale, float xOffset, float inv, float shift, bool plane)
        {
            Plane = plane;
            RScale = rScale;
            ROffset = rOffset;
            XScale = xScale;
            XOffset = xOffset;
            Inv = inv;
            Shift = shift;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Norm1(ref float rr, ref byte rq, ref byte rp, bool codes, ref byte x, ref float gamma, ref float beta, int i, in NormConstants k)
    {
        float r = codes ? Refined1(ref rq, ref rp, k.Plane, i, k.RScale, k.ROffset) : Unsafe.Add(ref rr, i);
        float s = r + ((Unsafe.Add(ref x, i) * k.XScale) + k.XOffset);
        return (((s * k.Inv) + k.Shift) * Unsafe.Add(ref gamma, i)) + Unsafe.Add(ref beta, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Norm4(ref float rr, ref byte rq, ref byte rp, bool codes, ref byte x, ref float gamma, ref float beta, int i, in NormConstants k)
    {
        var r = codes ? Refined4(ref rq, ref rp, k.Plane, i, k.RScale, k.ROffset) : Vector128.LoadUnsafe(ref rr, (nuint)i);
        var s = r + Residual4(ref x, i, k.XScale, k.XOffset);
        return (((s * Vector128.Create(k.Inv)) + Vector128.Create(k.Shift)) * Vector128.LoadUnsafe(ref gamma, (nuint)i)) + Vector128.LoadUnsafe(ref beta, (nuint)i);
    }
}
