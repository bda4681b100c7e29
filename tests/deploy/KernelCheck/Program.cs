using System;
using System.Runtime.InteropServices;
using CodeGenChunk.Runtime;
using CodeGenChunk.Runtime.Kernels;

// Usage: KernelCheck [--require PATH]. Exit 0 when every supported path agrees with the scalar path (and the
// required path, if any, is supported and ran); 1 otherwise.
string? required = args.Length == 2 && args[0] == "--require" ? args[1] : null;
var paths = new[] { Int8DotPath.Vector128, Int8DotPath.ArmDp, Int8DotPath.AvxVnni };
Console.WriteLine($"KernelCheck on {RuntimeInformation.ProcessArchitecture}: supported dot-product paths: Scalar, "
    + string.Join(", ", Array.FindAll(paths, Int8Activations.IsSupported)));
var failures = 0;
var ran = new System.Collections.Generic.HashSet<Int8DotPath>();

// Random layers: the paths must agree with the scalar path (same int32 group sums; float sums in another order).
foreach (var (inLen, outLen, groupSize) in new[] { (784, 10, 64), (512, 37, 64), (100, 13, 32), (1024, 64, 64), (37, 6, 100), (130, 5, 48) })
{
    var rng = new Random((inLen * 31) + outLen);
    var groups = (inLen + groupSize - 1) / groupSize;
    var w = new sbyte[inLen * outLen];
    for (var i = 0; i < w.Length; i++)
    {
        w[i] = (sbyte)rng.Next(-127, 128);
    }

    var scales = new float[outLen * groups];
    for (var i = 0; i < scales.Length; i++)
    {
        scales[i] = (float)(0.001 + (rng.NextDouble() * 0.01));
    }

    var bias = new float[outLen];
    var residual = new float[outLen];
    for (var i = 0; i < outLen; i++)
    {
        bias[i] = (float)(rng.NextDouble() - 0.5);
        residual[i] = (float)rng.NextDouble();
    }

    var x = new byte[inLen];
    rng.NextBytes(x);
    var sums = new float[outLen];
    var norms = new float[outLen];
    Int8Activations.RowStats(w, scales, inLen, groupSize, sums, norms);
    foreach (var zero in new[] { 0, 37, 255 })
    {
        foreach (var relu in new[] { false, true })
        {
            var expected = new float[outLen];
            Int8Activations.Linear(w, scales, bias, sums, x, 0.02f, zero, groupSize, relu, residual, expected, default, 0f, 0, Int8DotPath.Scalar);
            var expectedCodes = new byte[outLen];
            var expectedClipped = Int8Activations.Linear(w, scales, bias, sums, x, 0.02f, zero, groupSize, relu, default, default, expectedCodes, 0.05f, 3, Int8DotPath.Scalar);
            foreach (var path in paths)
            {
                if (!Int8Activations.IsSupported(path))
                {
                    continue;
                }

                ran.Add(path);
                var y = new float[outLen];
                Int8Activations.Linear(w, scales, bias, sums, x, 0.02f, zero, groupSize, relu, residual, y, default, 0f, 0, path);
                for (var o = 0; o < outLen; o++)
                {
                    if (!(Math.Abs(y[o] - expected[o]) <= 1e-4 * (1 + Math.Abs(expected[o]))))
                    {
                        Console.WriteLine($"FAILED {path} in {inLen} out {outLen} group {groupSize} zero {zero} relu {relu} row {o}: {y[o]} vs scalar {expected[o]}");
                        failures++;
                        break;
                    }
                }

                var codes = new byte[outLen];
                var clipped = Int8Activations.Linear(w, scales, bias, sums, x, 0.02f, zero, groupSize, relu, default, default, codes, 0.05f, 3, path);
                var codeDiff = 0;
                for (var o = 0; o < outLen; o++)
                {
                    codeDiff = Math.Max(codeDiff, Math.Abs(codes[o] - expectedCodes[o]));
                }

                // a requantized code may round the other way when the float sums differ in their last bits
                if (codeDiff > 1 || Math.Abs(clipped - expectedClipped) > outLen / 8 + 1)
                {
                    Console.WriteLine($"FAILED {path} codes in {inLen} out {outLen} zero {zero} relu {relu}: codes differ by {codeDiff}, clipped {clipped} vs {expectedClipped}");
                    failures++;
                }

                // the residual stream in codes: the residual read from codes, the output before it written as codes with
                // the moments of output + residual (docs/activations.md)
                var rq = new byte[outLen];
                rng.NextBytes(rq);
                var expectedSum = new float[outLen];
                Int8Activations.LinearResidual(w, scales, bias, sums, x, 0.02f, zero, groupSize, relu, default, rq, default, 0.01f, 120, expectedSum, default, 0f, 0, out _, out _, Int8DotPath.Scalar);
                var expectedOut = new byte[outLen];
                Int8Activations.LinearResidual(w, scales, bias, sums, x, 0.02f, zero, groupSize, relu, default, rq, default, 0.01f, 120, default, expectedOut, 0.05f, 3, out var e1, out var e2, Int8DotPath.Scalar);
                var sum = new float[outLen];
                Int8Activations.LinearResidual(w, scales, bias, sums, x, 0.02f, zero, groupSize, relu, default, rq, default, 0.01f, 120, sum, default, 0f, 0, out _, out _, path);
                var outCodes = new byte[outLen];
                Int8Activations.LinearResidual(w, scales, bias, sums, x, 0.02f, zero, groupSize, relu, default, rq, default, 0.01f, 120, default, outCodes, 0.05f, 3, out var m1, out var m2, path);
                var residualDiff = 0.0;
                codeDiff = 0;
                for (var o = 0; o < outLen; o++)
                {
                    residualDiff = Math.Max(residualDiff, Math.Abs(sum[o] - expectedSum[o]) / (1 + Math.Abs(expectedSum[o])));
                    codeDiff = Math.Max(codeDiff, Math.Abs(outCodes[o] - expectedOut[o]));
                }

                if (residualDiff > 1e-4 || codeDiff > 1 || Math.Abs(m1 - e1) > 1e-4 * (1 + e2) || Math.Abs(m2 - e2) > 1e-4 * (1 + e2))
                {
                    Console.WriteLine($"FAILED {path} residual from codes in {inLen} out {outLen} zero {zero} relu {relu}: sums {residualDiff}, codes {codeDiff}, moments {m1}/{m2} vs {e1}/{e2}");
                    failures++;
                }
            }
        }
    }
}

// LayerNorm on codes: the Vector128 twin against the scalar one (residual codes + output codes in, codes out).
foreach (var n in new[] { 1024, 90, 7 })
{
    var rng = new Random(n);
    var r = new byte[n];
    var v = new byte[n];
    rng.NextBytes(r);
    rng.NextBytes(v);
    var gamma = new float[n];
    var beta = new float[n];
    double s1 = 0, s2 = 0;
    for (var i = 0; i < n; i++)
    {
        gamma[i] = (float)(0.5 + rng.NextDouble());
        beta[i] = (float)(rng.NextDouble() - 0.5);
        var s = (0.02 * (r[i] - 128)) + (0.01 * (v[i] - 5));
        s1 += s;
        s2 += s * s;
    }

    var scalar = new byte[n];
    var vector = new byte[n];
    Int8Activations.LayerNormCodes(default, r, default, 0.02f, 128, v, 0.01f, 5, s1, s2, gamma, beta, 1e-5f, scalar, default, Int8DotPath.Scalar, out var ss, out var sz);
    Int8Activations.LayerNormCodes(default, r, default, 0.02f, 128, v, 0.01f, 5, s1, s2, gamma, beta, 1e-5f, vector, default, Int8DotPath.Vector128, out var vs, out var vz);
    var diff = 0;
    for (var i = 0; i < n; i++)
    {
        diff = Math.Max(diff, Math.Abs(scalar[i] - vector[i]));
    }

    if (ss != vs || sz != vz || diff > 1)
    {
        Console.WriteLine($"FAILED LayerNormCodes n {n}: Vector128 scale {vs} zero {vz} vs scalar {ss} {sz}, codes differ by {diff}");
        failures++;
    }
}

// The extremes: the longest group int32 holds, every code and weight at its limit; exact result known.
{
    var groupSize = Int8Activations.MaxInt32GroupLength;
    var inLen = groupSize + 1000;
    const int outLen = 4;
    foreach (var (code, weight, zero) in new[] { (255, 127, 0), (255, -127, 0), (0, 127, 255), (0, -127, 255) })
    {
        var w = new sbyte[outLen * inLen];
        w.AsSpan().Fill((sbyte)weight);
        var scales = new float[outLen * 2];
        scales.AsSpan().Fill(1f);
        var x = new byte[inLen];
        x.AsSpan().Fill((byte)code);
        var sums = new float[outLen];
        var norms = new float[outLen];
        Int8Activations.RowStats(w, scales, inLen, groupSize, sums, norms);
        var exact = (double)(code - zero) * weight * inLen;
        foreach (var path in new[] { Int8DotPath.Scalar, Int8DotPath.Vector128, Int8DotPath.ArmDp, Int8DotPath.AvxVnni })
        {
            if (!Int8Activations.IsSupported(path))
            {
                continue;
            }

            var y = new float[outLen];
            Int8Activations.Linear(w, scales, default, sums, x, 1f, zero, groupSize, false, default, y, default, 0f, 0, path);
            for (var o = 0; o < outLen; o++)
            {
                if (!(Math.Abs(y[o] - exact) <= 1e-5 * Math.Abs(exact)))
                {
                    Console.WriteLine($"FAILED {path} extremes code {code} weight {weight} zero {zero} row {o}: {y[o]} vs exact {exact}");
                    failures++;
                    break;
                }
            }
        }
    }
}

// int4 weights (Int4Activations): random nibbles (0..15, the row-blocked layout as bytes), every path against scalar.
foreach (var (inLen, outLen, groupSize) in new[] { (784, 10, 64), (512, 37, 64), (100, 13, 32), (1024, 64, 64), (37, 6, 64), (130, 5, 96), (8256, 5, 32) })
{
    var rng = new Random((inLen * 17) + outLen);
    var groups = (inLen + groupSize - 1) / groupSize;
    var w = new byte[outLen * Int4Activations.RowBytes(inLen)];
    rng.NextBytes(w);
    var scales = new float[outLen * groups];
    for (var i = 0; i < scales.Length; i++)
    {
        scales[i] = (float)(0.01 + (rng.NextDouble() * 0.1));
    }

    var bias = new float[outLen];
    var residual = new float[outLen];
    for (var i = 0; i < outLen; i++)
    {
        bias[i] = (float)(rng.NextDouble() - 0.5);
        residual[i] = (float)rng.NextDouble();
    }

    var x = new byte[inLen];
    rng.NextBytes(x);
    var sums = new float[outLen];
    var norms = new float[outLen];
    Int4Activations.RowStats(w, scales, inLen, groupSize, sums, norms);
    foreach (var zero in new[] { 0, 37, 255 })
    {
        foreach (var relu in new[] { false, true })
        {
            var expected = new float[outLen];
            Int4Activations.Linear(w, scales, bias, sums, x, 0.02f, zero, groupSize, relu, residual, expected, default, 0f, 0, Int8DotPath.Scalar);
            var expectedCodes = new byte[outLen];
            var expectedClipped = Int4Activations.Linear(w, scales, bias, sums, x, 0.02f, zero, groupSize, relu, default, default, expectedCodes, 0.05f, 3, Int8DotPath.Scalar);
            foreach (var path in paths)
            {
                if (!Int8Activations.IsSupported(path))
                {
                    continue;
                }

                var y = new float[outLen];
                Int4Activations.Linear(w, scales, bias, sums, x, 0.02f, zero, groupSize, relu, residual, y, default, 0f, 0, path);
                for (var o = 0; o < outLen; o++)
                {
                    if (!(Math.Abs(y[o] - expected[o]) <= 1e-4 * (1 + Math.Abs(expected[o])) + (1e-6 * inLen)))
                    {
                        Console.WriteLine($"FAILED int4 {path} in {inLen} out {outLen} group {groupSize} zero {zero} relu {relu} row {o}: {y[o]} vs scalar {expected[o]}");
                        failures++;
                        break;
                    }
                }

                var codes = new byte[outLen];
                var clipped = Int4Activations.Linear(w, scales, bias, sums, x, 0.02f, zero, groupSize, relu, default, default, codes, 0.05f, 3, path);
                var codeDiff = 0;
                for (var o = 0; o < outLen; o++)
                {
                    codeDiff = Math.Max(codeDiff, Math.Abs(codes[o] - expectedCodes[o]));
                }

                if (codeDiff > 1 || Math.Abs(clipped - expectedClipped) > outLen / 8 + 1)
                {
                    Console.WriteLine($"FAILED int4 {path} codes in {inLen} out {outLen} zero {zero} relu {relu}: codes differ by {codeDiff}, clipped {clipped} vs {expectedClipped}");
                    failures++;
                }
            }
        }
    }
}

// int4 extremes: the longest int4 group int32 holds (a multiple of 32), codes 0/255 times nibbles 0 (−8) and 15 (7).
{
    var groupSize = Int4Activations.MaxInt32GroupLength / 32 * 32;
    var inLen = groupSize + 1007;
    const int outLen = 4;
    foreach (var (code, nibble, zero) in new[] { (255, 0, 0), (255, 15, 0), (0, 0, 255), (0, 15, 255) })
    {
        var w = new byte[outLen * Int4Activations.RowBytes(inLen)];
        w.AsSpan().Fill((byte)(nibble | (nibble << 4)));
        var scales = new float[outLen * 2];
        scales.AsSpan().Fill(1f);
        var x = new byte[inLen];
        x.AsSpan().Fill((byte)code);
        var sums = new float[outLen];
        var norms = new float[outLen];
        Int4Activations.RowStats(w, scales, inLen, groupSize, sums, norms);
        var exact = (double)(code - zero) * (nibble - 8) * inLen;
        foreach (var path in new[] { Int8DotPath.Scalar, Int8DotPath.Vector128, Int8DotPath.ArmDp, Int8DotPath.AvxVnni })
        {
            if (!Int8Activations.IsSupported(path))
            {
                continue;
            }

            var y = new float[outLen];
            Int4Activations.Linear(w, scales, default, sums, x, 1f, zero, groupSize, false, default, y, default, 0f, 0, path);
            for (var o = 0; o < outLen; o++)
            {
                if (!(Math.Abs(y[o] - exact) <= 1e-5 * Math.Abs(exact)))
                {
                    Console.WriteLine($"FAILED int4 {path} extremes code {code} nibble {nibble} zero {zero} row {o}: {y[o]} vs exact {exact}");
                    failures++;
                    break;
                }
            }
        }
    }
}

// conv2d (docs/activations.md#conv2d): random filter banks on every path against the scalar path (arm64 sdot corrects
// the zero point with 128 · S_o, so its floats may differ in the last bits), and the extremes over a 66,325-tap filter.
foreach (var (inC, h, wd, outC, k, pad, groupSize) in new[] { (1, 28, 28, 8, 5, 2, 64), (8, 14, 14, 16, 5, 2, 64), (3, 9, 21, 5, 3, 1, 7) })
{
    var rng = new Random((inC * 131) + h + outC);
    var f = inC * k * k;
    var groups = (f + groupSize - 1) / groupSize;
    var w = new sbyte[f * outC];
    for (var i = 0; i < w.Length; i++)
    {
        w[i] = (sbyte)rng.Next(-127, 128);
    }

    var scales = new float[outC * groups];
    for (var i = 0; i < scales.Length; i++)
    {
        scales[i] = (float)(0.001 + (rng.NextDouble() * 0.01));
    }

    var bias = new float[outC];
    for (var i = 0; i < outC; i++)
    {
        bias[i] = (float)(rng.NextDouble() - 0.5);
    }

    var x = new byte[inC * h * wd];
    rng.NextBytes(x);
    var sums = new float[outC];
    var norms = new float[outC];
    Int8Activations.RowMajorStats(w, scales, f, groupSize, sums, norms);
    var scratch = new byte[Int8Activations.ConvScratchBytes(inC, h, wd, k, k, pad, pad, pad, pad)];
    var outLen = outC * (h + (2 * pad) - k + 1) * (wd + (2 * pad) - k + 1);
    foreach (var zero in new[] { 0, 37, 255 })
    {
        var expected = new float[outLen];
        Int8Activations.Conv2d(w, scales, bias, sums, x, 0.02f, zero, inC, h, wd, k, k, 1, 1, pad, pad, pad, pad, groupSize, true, scratch, expected, default, 0f, 0, Int8DotPath.Scalar);
        foreach (var path in paths)
        {
            if (!Int8Activations.IsSupported(path))
            {
                continue;
            }

            var y = new float[outLen];
            Int8Activations.Conv2d(w, scales, bias, sums, x, 0.02f, zero, inC, h, wd, k, k, 1, 1, pad, pad, pad, pad, groupSize, true, scratch, y, default, 0f, 0, path);
            for (var o = 0; o < outLen; o++)
            {
                if (!(Math.Abs(y[o] - expected[o]) <= 1e-4 * (1 + Math.Abs(expected[o]))))
                {
                    Console.WriteLine($"FAILED {path} conv {inC}x{h}x{wd} -> {outC} k{k} zero {zero} output {o}: {y[o]} vs scalar {expected[o]}");
                    failures++;
                    break;
                }
            }
        }
    }
}

{
    const int inC = 2653, k = 5;
    var f = inC * k * k;
    var groupSize = Int8Activations.MaxInt32GroupLength;
    foreach (var (code, weight, zero) in new[] { (255, 127, 0), (255, -127, 0), (0, 127, 255), (0, -127, 255) })
    {
        var w = new sbyte[f];
        w.AsSpan().Fill((sbyte)weight);
        var scales = new[] { 1f, 1f };
        var sums = new float[1];
        var norms = new float[1];
        Int8Activations.RowMajorStats(w, scales, f, groupSize, sums, norms);
        var x = new byte[f];
        x.AsSpan().Fill((byte)code);
        var scratch = new byte[Int8Activations.ConvScratchBytes(inC, k, k, k, k, 0, 0, 0, 0)];
        var exact = (double)(code - zero) * weight * f;
        foreach (var path in new[] { Int8DotPath.Scalar, Int8DotPath.Vector128, Int8DotPath.ArmDp, Int8DotPath.AvxVnni })
        {
            if (!Int8Activations.IsSupported(path))
            {
                continue;
            }

            var y = new float[1];
            Int8Activations.Conv2d(w, scales, default, sums, x, 1f, zero, inC, k, k, k, k, 1, 1, 0, 0, 0, 0, groupSize, false, scratch, y, default, 0f, 0, path);
            if (!(Math.Abs(y[0] - exact) <= 1e-5 * Math.Abs(exact)))
            {
                Console.WriteLine($"FAILED {path} conv extremes code {code} weight {weight} zero {zero}: {y[0]} vs exact {exact}");
                failures++;
            }
        }
    }
}

// int16 activations (Int16Activations, docs/activations.md#int16-activations): symmetric int16 codes times int8 weights
// (every byte −128..127), every path against scalar (floats, int16 codes, clips), and the extremes over groups of 512.
var ran16 = new System.Collections.Generic.HashSet<Int16DotPath>();
foreach (var (inLen, outLen, groupSize) in new[] { (784, 10, 64), (512, 37, 64), (100, 13, 32), (600, 9, 512), (37, 6, 17), (130, 5, 96), (48, 5, 48) })
{
    var rng = new Random((inLen * 23) + outLen);
    var groups = (inLen + groupSize - 1) / groupSize;
    var w = new sbyte[inLen * outLen];
    for (var i = 0; i < w.Length; i++)
    {
        w[i] = (sbyte)rng.Next(-128, 128);
    }

    var scales = new float[outLen * groups];
    for (var i = 0; i < scales.Length; i++)
    {
        scales[i] = (float)(0.001 + (rng.NextDouble() * 0.01));
    }

    var bias = new float[outLen];
    var residual = new float[outLen];
    for (var i = 0; i < outLen; i++)
    {
        bias[i] = (float)(rng.NextDouble() - 0.5);
        residual[i] = (float)rng.NextDouble();
    }

    var x = new short[inLen];
    for (var i = 0; i < inLen; i++)
    {
        x[i] = (short)rng.Next(-32767, 32768);
    }

    var sums = new float[outLen];
    var norms = new float[outLen];
    Int8Activations.RowStats(w, scales, inLen, groupSize, sums, norms);
    foreach (var relu in new[] { false, true })
    {
        var expected = new float[outLen];
        Int16Activations.Linear(w, scales, bias, sums, x, 3e-5f, groupSize, relu, residual, expected, default, 0f, Int16DotPath.Scalar);
        var expectedCodes = new short[outLen];
        var expectedClipped = Int16Activations.Linear(w, scales, bias, sums, x, 3e-5f, groupSize, relu, default, default, expectedCodes, 2e-5f, Int16DotPath.Scalar);
        foreach (var path in new[] { Int16DotPath.Vector128, Int16DotPath.AdvSimd, Int16DotPath.Avx2, Int16DotPath.AvxVnni, Int16DotPath.Avx512BW })
        {
            if (!Int16Activations.IsSupported(path))
            {
                continue;
            }

            ran16.Add(path);
            var y = new float[outLen];
            Int16Activations.Linear(w, scales, bias, sums, x, 3e-5f, groupSize, relu, residual, y, default, 0f, path);
            for (var o = 0; o < outLen; o++)
            {
                if (!(Math.Abs(y[o] - expected[o]) <= 1e-4 * (1 + Math.Abs(expected[o]))))
                {
                    Console.WriteLine($"FAILED int16 {path} in {inLen} out {outLen} group {groupSize} relu {relu} row {o}: {y[o]} vs scalar {expected[o]}");
                    failures++;
                    break;
                }
            }

            var codes = new short[outLen];
            var clipped = Int16Activations.Linear(w, scales, bias, sums, x, 3e-5f, groupSize, relu, default, default, codes, 2e-5f, path);
            var codeDiff = 0;
            for (var o = 0; o < outLen; o++)
            {
                codeDiff = Math.Max(codeDiff, Math.Abs(codes[o] - expectedCodes[o]));
            }

            if (codeDiff > 1 || Math.Abs(clipped - expectedClipped) > outLen / 8 + 1)
            {
                Console.WriteLine($"FAILED int16 {path} codes in {inLen} out {outLen} relu {relu}: codes differ by {codeDiff}, clipped {clipped} vs {expectedClipped}");
                failures++;
            }
        }
    }
}

// int16 extremes: groups of 512 (the int32 bound), codes ±32767 times weights −128 and 127, a short last group
{
    const int groupSize = 512;
    const int inLen = (2 * groupSize) + 307;
    const int outLen = 5;
    foreach (var (code, weight) in new[] { (32767, -128), (-32767, -128), (32767, 127), (-32767, 127) })
    {
        var w = new sbyte[outLen * inLen];
        w.AsSpan().Fill((sbyte)weight);
        var scales = new float[outLen * 3];
        scales.AsSpan().Fill(1f);
        var x = new short[inLen];
        x.AsSpan().Fill((short)code);
        var sums = new float[outLen];
        var norms = new float[outLen];
        Int8Activations.RowStats(w, scales, inLen, groupSize, sums, norms);
        var exact = (double)code * weight * inLen;
        foreach (var path in new[] { Int16DotPath.Scalar, Int16DotPath.Vector128, Int16DotPath.AdvSimd, Int16DotPath.Avx2, Int16DotPath.AvxVnni, Int16DotPath.Avx512BW })
        {
            if (!Int16Activations.IsSupported(path))
            {
                continue;
            }

            var y = new float[outLen];
            Int16Activations.Linear(w, scales, default, sums, x, 1f, groupSize, false, default, y, default, 0f, path);
            for (var o = 0; o < outLen; o++)
            {
                if (!(Math.Abs(y[o] - exact) <= 1e-6 * Math.Abs(exact)))
                {
                    Console.WriteLine($"FAILED int16 {path} extremes code {code} weight {weight} row {o}: {y[o]} vs exact {exact}");
                    failures++;
                    break;
                }
            }
        }
    }
}

Console.WriteLine($"int16 activations: paths Scalar, {string.Join(", ", ran16)} checked (against scalar; extremes over groups of 512 exact)");

// int8 weights x a float input writing floats or the next layer's codes (Int8FloatInput): the vector paths this machine
// runs as themselves (Vector128 on arm64) against the scalar path; float sums in another order
var floatInPaths = new System.Collections.Generic.List<CodeGenChunk.Runtime.KernelPath>();
foreach (var (inLen, outLen, groupSize) in new[] { (784, 10, 64), (100, 13, 32), (37, 6, 100), (23, 7, 7) })
{
    var rng = new Random((inLen * 17) + outLen);
    var groups = (inLen + groupSize - 1) / groupSize;
    var w = new sbyte[inLen * outLen];
    for (var i = 0; i < w.Length; i++)
    {
        w[i] = (sbyte)rng.Next(-127, 128);
    }

    var scales = new float[outLen * groups];
    for (var i = 0; i < scales.Length; i++)
    {
        scales[i] = (float)(0.001 + (rng.NextDouble() * 0.01));
    }

    var bias = new float[outLen];
    for (var i = 0; i < outLen; i++)
    {
        bias[i] = (float)(rng.NextDouble() - 0.5);
    }

    var x = new float[inLen];
    for (var i = 0; i < inLen; i++)
    {
        x[i] = (float)rng.NextDouble() * (i % 10 == 3 ? -1 : 1);
    }

    var expected = new float[outLen];
    Int8FloatInput.Linear(w, scales, bias, x, outLen, groupSize, true, expected, default, 0f, 0, CodeGenChunk.Runtime.KernelPath.Scalar);
    var expectedCodes = new byte[outLen];
    var expectedClipped = Int8FloatInput.Linear(w, scales, bias, x, outLen, groupSize, true, default, expectedCodes, 0.004f, 0, CodeGenChunk.Runtime.KernelPath.Scalar);
    foreach (var path in new[] { CodeGenChunk.Runtime.KernelPath.Vector128, CodeGenChunk.Runtime.KernelPath.Vector256, CodeGenChunk.Runtime.KernelPath.Vector512 })
    {
        if (Int8FloatInput.Resolve(path) != path)
        {
            continue;
        }

        if (!floatInPaths.Contains(path))
        {
            floatInPaths.Add(path);
        }

        var y = new float[outLen];
        Int8FloatInput.Linear(w, scales, bias, x, outLen, groupSize, true, y, default, 0f, 0, path);
        var codes = new byte[outLen];
        var clipped = Int8FloatInput.Linear(w, scales, bias, x, outLen, groupSize, true, default, codes, 0.004f, 0, path);
        for (var o = 0; o < outLen; o++)
        {
            if (!(Math.Abs(y[o] - expected[o]) <= 1e-4 * (1 + Math.Abs(expected[o]))) || Math.Abs(codes[o] - expectedCodes[o]) > 1)
            {
                Console.WriteLine($"FAILED float input {path} in {inLen} out {outLen} group {groupSize} row {o}: {y[o]} vs scalar {expected[o]}, code {codes[o]} vs {expectedCodes[o]}");
                failures++;
                break;
            }
        }

        if (Math.Abs(clipped - expectedClipped) > 1)
        {
            Console.WriteLine($"FAILED float input {path} in {inLen} out {outLen}: {clipped} clips vs scalar {expectedClipped}");
            failures++;
        }
    }
}

Console.WriteLine($"int8 weights x float input: paths {string.Join(", ", floatInPaths)} checked against the scalar path");

// base11 weights (Base11Activations): random words (nine indices 0..10 each, the row-major layout), the Vector128 path
// (the arm64 one) and the wider paths this machine accelerates against scalar, and the extremes at the longest group.
foreach (var (inLen, outLen, groupSize) in new[] { (784, 10, 256), (512, 37, 256), (100, 13, 9), (1024, 64, 144), (37, 6, 256), (130, 5, 100) })
{
    var rng = new Random((inLen * 13) + outLen);
    var groups = (inLen + groupSize - 1) / groupSize;
    var rowBytes = Base11Activations.RowBytes(inLen, groupSize);
    var w = new byte[outLen * rowBytes];
    for (var i = 0; i + 4 <= w.Length; i += 4)
    {
        uint word = 0;
        for (var d = 0; d < 9; d++)
        {
            word = (word * 11) + (uint)rng.Next(0, 11);
        }

        BitConverter.TryWriteBytes(w.AsSpan(i), word);
    }

    var mins = new ushort[outLen * groups];
    var ranges = new ushort[outLen * groups];
    for (var i = 0; i < mins.Length; i++)
    {
        var range = 0.1 + (rng.NextDouble() * 0.5);
        ranges[i] = BitConverter.HalfToUInt16Bits((Half)range);
        mins[i] = BitConverter.HalfToUInt16Bits((Half)(-range / 2));
    }

    var bias = new float[outLen];
    var residual = new float[outLen];
    for (var i = 0; i < outLen; i++)
    {
        bias[i] = (float)(rng.NextDouble() - 0.5);
        residual[i] = (float)rng.NextDouble();
    }

    var x = new byte[inLen];
    rng.NextBytes(x);
    var sums = new float[outLen];
    var norms = new float[outLen];
    Base11Activations.RowStats(w, mins, ranges, inLen, groupSize, sums, norms);
    var scratch = new byte[Base11Activations.ScratchBytes(inLen, groupSize)];
    foreach (var zero in new[] { 0, 37, 255 })
    {
        foreach (var relu in new[] { false, true })
        {
            var expected = new float[outLen];
            Base11Activations.Linear(w, mins, ranges, bias, sums, x, 0.02f, zero, groupSize, relu, scratch, residual, expected, default, 0f, 0, KernelPath.Scalar);
            var expectedCodes = new byte[outLen];
            var expectedClipped = Base11Activations.Linear(w, mins, ranges, bias, sums, x, 0.02f, zero, groupSize, relu, scratch, default, default, expectedCodes, 0.05f, 3, KernelPath.Scalar);
            foreach (var path in new[] { KernelPath.Vector128, KernelPath.Vector256, KernelPath.Vector512 })
            {
                if (path != KernelPath.Vector128 && KernelPaths.Resolve(path) != path)
                {
                    continue;
                }

                var y = new float[outLen];
                Base11Activations.Linear(w, mins, ranges, bias, sums, x, 0.02f, zero, groupSize, relu, scratch, residual, y, default, 0f, 0, path);
                for (var o = 0; o < outLen; o++)
                {
                    if (!(Math.Abs(y[o] - expected[o]) <= 1e-4 * (1 + Math.Abs(expected[o])) + (1e-6 * inLen)))
                    {
                        Console.WriteLine($"FAILED base11 {path} in {inLen} out {outLen} group {groupSize} zero {zero} relu {relu} row {o}: {y[o]} vs scalar {expected[o]}");
                        failures++;
                        break;
                    }
                }

                var codes = new byte[outLen];
                var clipped = Base11Activations.Linear(w, mins, ranges, bias, sums, x, 0.02f, zero, groupSize, relu, scratch, default, default, codes, 0.05f, 3, path);
                var codeDiff = 0;
                for (var o = 0; o < outLen; o++)
                {
                    codeDiff = Math.Max(codeDiff, Math.Abs(codes[o] - expectedCodes[o]));
                }

                if (codeDiff > 1 || Math.Abs(clipped - expectedClipped) > outLen / 8 + 1)
                {
                    Console.WriteLine($"FAILED base11 {path} codes in {inLen} out {outLen} zero {zero} relu {relu}: codes differ by {codeDiff}, clipped {clipped} vs {expectedClipped}");
                    failures++;
                }
            }
        }
    }
}

// base11 extremes: the longest group whose float sums are exact (6,579 inputs) and a short one, indices 10, codes 0/255;
// range 10 (0.1 · range = 1) and min 0, so every path must give Σ d · (q − z) exactly.
{
    var groupSize = Base11Activations.MaxExactGroupLength;
    var inLen = groupSize + 50;
    const int outLen = 5;
    var w = new byte[outLen * Base11Activations.RowBytes(inLen, groupSize)];
    for (var r = 0; r < outLen; r++)
    {
        for (var g = 0; g < 2; g++)
        {
            var len = Math.Min(groupSize, inLen - (g * groupSize));
            var at = (r * Base11Activations.RowBytes(inLen, groupSize)) + (g * Base11Activations.PackBytes(groupSize));
            for (var j = 0; j * 9 < len; j++)
            {
                uint word = 0;
                for (var d = Math.Min(9, len - (j * 9)) - 1; d >= 0; d--)
                {
                    word = (word * 11) + 10;
                }

                BitConverter.TryWriteBytes(w.AsSpan(at + (j * 4)), word);
            }
        }
    }

    var mins = new ushort[outLen * 2];
    var ranges = new ushort[outLen * 2];
    ranges.AsSpan().Fill(BitConverter.HalfToUInt16Bits((Half)10f));
    var sums = new float[outLen];
    var norms = new float[outLen];
    Base11Activations.RowStats(w, mins, ranges, inLen, groupSize, sums, norms);
    var scratch = new byte[Base11Activations.ScratchBytes(inLen, groupSize)];
    foreach (var (code, zero) in new[] { (255, 0), (0, 255), (255, 255) })
    {
        var x = new byte[inLen];
        x.AsSpan().Fill((byte)code);
        var exact = (double)(code - zero) * 10 * inLen;
        foreach (var path in new[] { KernelPath.Scalar, KernelPath.Vector128, KernelPath.Vector256, KernelPath.Vector512 })
        {
            var y = new float[outLen];
            Base11Activations.Linear(w, mins, ranges, default, sums, x, 1f, zero, groupSize, false, scratch, default, y, default, 0f, 0, path);
            for (var o = 0; o < outLen; o++)
            {
                if (y[o] != exact)
                {
                    Console.WriteLine($"FAILED base11 {path} extremes code {code} zero {zero} row {o}: {y[o]} vs exact {exact}");
                    failures++;
                    break;
                }
            }
        }
    }
}

// base11 conv2d (Base11Activations.Conv2d): random filters, the Vector128 path (the arm64 one) and Vector256 (AVX-VNNI on x64) against scalar bit for bit
// (floats, codes and clips; mnist-8's two convs and an odd shape), and the longest exact group (6,579 taps) at the extremes.
foreach (var (inC, h, wd, outC, k, pad, groupSize) in new[] { (1, 28, 28, 8, 5, 2, 256), (8, 14, 14, 16, 5, 2, 64), (3, 9, 21, 5, 3, 1, 7) })
{
    var rng = new Random((inC * 131) + outC);
    var f = inC * k * k;
    var groups = (f + groupSize - 1) / groupSize;
    var rowBytes = Base11Activations.RowBytes(f, groupSize);
    var w = new byte[outC * rowBytes];
    for (var r = 0; r < outC; r++)
    {
        for (var g = 0; g < groups; g++)
        {
            var len = Math.Min(groupSize, f - (g * groupSize));
            for (var j = 0; j * 9 < len; j++)
            {
                uint word = 0;
                for (var d = Math.Min(9, len - (j * 9)) - 1; d >= 0; d--)
                {
                    word = (word * 11) + (uint)rng.Next(0, 11);
                }

                BitConverter.TryWriteBytes(w.AsSpan((r * rowBytes) + (g * Base11Activations.PackBytes(groupSize)) + (j * 4)), word);
            }
        }
    }

    var mins = new ushort[outC * groups];
    var ranges = new ushort[outC * groups];
    for (var i = 0; i < mins.Length; i++)
    {
        ranges[i] = BitConverter.HalfToUInt16Bits((Half)(0.1 + (rng.NextDouble() * 0.5)));
        mins[i] = BitConverter.HalfToUInt16Bits((Half)(-0.2 + (rng.NextDouble() * 0.1)));
    }

    var bias = new float[outC];
    var x = new byte[inC * h * wd];
    rng.NextBytes(x);
    var sums = new float[outC];
    var norms = new float[outC];
    Base11Activations.RowStats(w, mins, ranges, f, groupSize, sums, norms);
    var scratch = new byte[Base11Activations.ConvScratchBytes(inC, h, wd, k, k, pad, pad, pad, pad, groupSize)];
    foreach (var zero in new[] { 0, 37, 128, 255 })
    {
        var expected = new float[outC * h * wd];
        var expectedCodes = new byte[expected.Length];
        Base11Activations.Conv2d(w, mins, ranges, bias, sums, x, 0.02f, zero, inC, h, wd, k, k, 1, 1, pad, pad, pad, pad, groupSize, true, scratch, expected, default, 0f, 0, KernelPath.Scalar);
        var expectedClipped = Base11Activations.Conv2d(w, mins, ranges, bias, sums, x, 0.02f, zero, inC, h, wd, k, k, 1, 1, pad, pad, pad, pad, groupSize, true, scratch, default, expectedCodes, 0.004f, 60, KernelPath.Scalar);
        foreach (var path in new[] { KernelPath.Vector128, KernelPath.Vector256 })
        {
            var y = new float[expected.Length];
            var codes = new byte[expected.Length];
            Base11Activations.Conv2d(w, mins, ranges, bias, sums, x, 0.02f, zero, inC, h, wd, k, k, 1, 1, pad, pad, pad, pad, groupSize, true, scratch, y, default, 0f, 0, path);
            var clipped = Base11Activations.Conv2d(w, mins, ranges, bias, sums, x, 0.02f, zero, inC, h, wd, k, k, 1, 1, pad, pad, pad, pad, groupSize, true, scratch, default, codes, 0.004f, 60, path);
            if (!y.AsSpan().SequenceEqual(expected) || !codes.AsSpan().SequenceEqual(expectedCodes) || clipped != expectedClipped)
            {
                Console.WriteLine($"FAILED base11 conv {path} {inC}x{h}x{wd} -> {outC} k{k} group {groupSize} zero {zero}: differs from scalar (clips {clipped} vs {expectedClipped})");
                failures++;
            }
        }
    }
}

{
    // 264 channels x 5 x 5 = 6,600 taps: a group of 6,579 (0.1 · range = 1, min 0) and one of 21 (range and min 0)
    const int inC = 264, k = 5;
    var f = inC * k * k;
    var groupSize = Base11Activations.MaxExactGroupLength;
    var rowBytes = Base11Activations.RowBytes(f, groupSize);
    var w = new byte[rowBytes];
    var tens = 0u;
    for (var d = 0; d < 9; d++)
    {
        tens = (tens * 11) + 10;
    }

    for (var i = 0; i + 4 <= w.Length; i += 4)
    {
        BitConverter.TryWriteBytes(w.AsSpan(i), tens);
    }

    var ranges = new[] { BitConverter.HalfToUInt16Bits((Half)10), (ushort)0 };
    var mins = new ushort[2];
    var sums = new float[1];
    var norms = new float[1];
    Base11Activations.RowStats(w, mins, ranges, f, groupSize, sums, norms);
    var scratch = new byte[Base11Activations.ConvScratchBytes(inC, k, k, k, k, 0, 0, 0, 0, groupSize)];
    foreach (var (code, zero) in new[] { (255, 0), (0, 255) })
    {
        var x = new byte[f];
        x.AsSpan().Fill((byte)code);
        float exact = 10f * (code - zero) * groupSize;
        foreach (var path in new[] { KernelPath.Scalar, KernelPath.Vector128, KernelPath.Vector256 })
        {
            var y = new float[1];
            Base11Activations.Conv2d(w, mins, ranges, default, sums, x, 1f, zero, inC, k, k, k, k, 1, 1, 0, 0, 0, 0, groupSize, false, scratch, y, default, 0f, 0, path);
            if (y[0] != exact)
            {
                Console.WriteLine($"FAILED base11 conv {path} extremes code {code} zero {zero}: {y[0]} vs exact {exact}");
                failures++;
            }
        }
    }
}

Console.WriteLine("base11 conv2d: Vector128 and Vector256 (AVX-VNNI where the machine has it) agree with the scalar path bit for bit; extremes at the longest group exact");

// base11 weights in the pairs layout (two indices per 7-bit code): every path's int32 group sums Σ d · q equal a plain
// integer reference, including a short last group (padded codes) and the longest exact group
foreach (var (inLen, rows, groupSize) in new[] { (1024, 9, 256), (784, 6, 256), (300, 5, 100), (6600, 5, 6579) })
{
    var rng = new Random(inLen + rows);
    var rowBytes = Base11PairsActivations.RowBytes(inLen, groupSize);
    var groups = (inLen + groupSize - 1) / groupSize;
    var digits = new byte[rows * inLen];
    var pairs = new byte[rows * rowBytes];
    for (var i = 0; i < digits.Length; i++)
    {
        digits[i] = (byte)rng.Next(0, 11);
    }

    for (var r = 0; r < rows; r++)
    {
        for (var g = 0; g < groups; g++)
        {
            var len = Math.Min(groupSize, inLen - (g * groupSize));
            CodeGenChunk.Formats.Base11PairsFormat.PackGroup(digits.AsSpan((r * inLen) + (g * groupSize), len), pairs.AsSpan((r * rowBytes) + (g * Base11PairsActivations.PackBytes(groupSize)), Base11PairsActivations.PackBytes(len)));
        }
    }

    var x = new byte[inLen];
    rng.NextBytes(x);
    var expected = new int[rows * groups];
    for (var r = 0; r < rows; r++)
    {
        for (var i = 0; i < inLen; i++)
        {
            expected[(r * groups) + (i / groupSize)] += digits[(r * inLen) + i] * x[i];
        }
    }

    var scratch = new byte[Base11PairsActivations.ScratchBytes(inLen, groupSize)];
    foreach (var path in new[] { KernelPath.Scalar, KernelPath.Vector128, KernelPath.Vector512 })
    {
        var dots = new int[rows * groups];
        Base11PairsActivations.GroupDots(pairs, x, rows, groupSize, scratch, dots, path);
        if (!dots.AsSpan().SequenceEqual(expected))
        {
            Console.WriteLine($"FAILED base11 pairs {path} ({Base11PairsActivations.Resolve(path)}) {inLen}x{rows} group {groupSize}: group sums differ");
            failures++;
        }
    }
}

Console.WriteLine($"base11 pairs linear: scalar, Vector128 and {Base11PairsActivations.Resolve(KernelPath.Vector512)} give the exact int32 group sums");

// base11 pairs weights with float activations (Base11PairsFloat): every path against a double-precision reference of the
// same convention (w = 0.1 · range · d + min), within 1e-5 of the sum of the terms' magnitudes; short last groups and
// blocks, rows not a multiple of 4, bias, ReLU and residual
foreach (var (inLen, rows, groupSize) in new[] { (1024, 9, 256), (784, 6, 256), (1024, 5, 384), (300, 7, 100) })
{
    var rng = new Random((inLen * 3) + rows);
    var rowBytes = Base11PairsActivations.RowBytes(inLen, groupSize);
    var groups = (inLen + groupSize - 1) / groupSize;
    var digits = new byte[rows * inLen];
    var pairs = new byte[rows * rowBytes];
    for (var i = 0; i < digits.Length; i++)
    {
        digits[i] = (byte)rng.Next(0, 11);
    }

    for (var r = 0; r < rows; r++)
    {
        for (var g = 0; g < groups; g++)
        {
            var len = Math.Min(groupSize, inLen - (g * groupSize));
            CodeGenChunk.Formats.Base11PairsFormat.PackGroup(digits.AsSpan((r * inLen) + (g * groupSize), len), pairs.AsSpan((r * rowBytes) + (g * Base11PairsActivations.PackBytes(groupSize)), Base11PairsActivations.PackBytes(len)));
        }
    }

    var mins = new ushort[rows * groups];
    var ranges = new ushort[rows * groups];
    for (var i = 0; i < mins.Length; i++)
    {
        mins[i] = BitConverter.HalfToUInt16Bits((Half)(-rng.NextDouble()));
        ranges[i] = BitConverter.HalfToUInt16Bits((Half)(2 * rng.NextDouble()));
    }

    var x = new float[inLen];
    for (var i = 0; i < inLen; i++)
    {
        x[i] = (float)((rng.NextDouble() * 4) - 2);
    }

    var bias = new float[rows];
    var residual = new float[rows];
    for (var o = 0; o < rows; o++)
    {
        bias[o] = (float)(rng.NextDouble() - 0.5);
        residual[o] = (float)(rng.NextDouble() - 0.5);
    }

    var expected = new double[rows];
    var bound = new double[rows];
    for (var o = 0; o < rows; o++)
    {
        double sum = 0, mag = 0;
        for (var g = 0; g < groups; g++)
        {
            double range = (float)BitConverter.UInt16BitsToHalf(ranges[(o * groups) + g]);
            double min = (float)BitConverter.UInt16BitsToHalf(mins[(o * groups) + g]);
            for (var i = g * groupSize; i < Math.Min(inLen, (g + 1) * groupSize); i++)
            {
                sum += ((0.1 * range * digits[(o * inLen) + i]) + min) * x[i];
                mag += ((0.1 * Math.Abs(range) * digits[(o * inLen) + i]) + Math.Abs(min)) * Math.Abs(x[i]);
            }
        }

        expected[o] = Math.Max(sum + bias[o], 0) + residual[o];
        bound[o] = 1e-5 * (1 + mag + Math.Abs(bias[o]) + Math.Abs(residual[o]));
    }

    var scratch = new float[Base11PairsFloat.ScratchFloats(inLen, groupSize)];
    foreach (var path in new[] { KernelPath.Scalar, KernelPath.Vector128, KernelPath.Vector256, KernelPath.Vector512 })
    {
        var y = new float[rows];
        Base11PairsFloat.Linear(pairs, mins, ranges, bias, x, groupSize, true, scratch, residual, y, path);
        for (var o = 0; o < rows; o++)
        {
            if (!(Math.Abs(y[o] - expected[o]) <= bound[o]))
            {
                Console.WriteLine($"FAILED base11 pairs float {path} ({Base11PairsFloat.Resolve(path)}) {inLen}x{rows} group {groupSize} row {o}: {y[o]} vs {expected[o]} (bound {bound[o]:E2})");
                failures++;
            }
        }
    }
}

Console.WriteLine($"base11 pairs x float: scalar, Vector128, {Base11PairsFloat.Resolve(KernelPath.Vector256)} and {Base11PairsFloat.Resolve(KernelPath.Vector512)} agree with a double reference within 1e-5 of the terms' magnitudes");

// ternary weights (five trits per byte, row-blocked): every path's int32 group sums Σ q · x equal a plain integer reference,
// including all 243 byte values, a partial last block (padded codes), tail rows and groups of one and of 13 blocks
foreach (var (inLen, rows, groupSize) in new[] { (1024, 9, 320), (1000, 6, 80), (1985, 5, 1040), (37, 4, 80) })
{
    var rng = new Random(inLen + rows);
    var rowBytes = TernaryActivations.RowBytes(inLen);
    var groups = (inLen + groupSize - 1) / groupSize;
    var rowMajor = new byte[rows * rowBytes];
    for (var i = 0; i < rowMajor.Length; i++)
    {
        rowMajor[i] = (byte)(i < 243 ? i : rng.Next(0, 243));
    }

    // the trits past the last input are random here (the format writes q = 0): the kernel multiplies them by zero-padded codes
    var q = new int[rows * inLen];
    for (var r = 0; r < rows; r++)
    {
        for (var i = 0; i < inLen; i++)
        {
            var b = rowMajor[(r * rowBytes) + ((i / 80) * 16) + (i % 16)];
            var digit = (i % 80) / 16;
            q[(r * inLen) + i] = (digit == 0 ? b % 3 : digit == 1 ? (b / 3) % 3 : digit == 2 ? (b / 9) % 3 : digit == 3 ? (b / 27) % 3 : b / 81) - 1;
        }
    }

    var packed = new byte[rowMajor.Length];
    var written = 0;
    for (var first = 0; first < rows;)
    {
        var block = rows - first >= 4 ? 4 : 1;
        for (var start = 0; start < rowBytes; start += 16)
        {
            for (var r = 0; r < block; r++)
            {
                rowMajor.AsSpan(((first + r) * rowBytes) + start, 16).CopyTo(packed.AsSpan(written));
                written += 16;
            }
        }

        first += block;
    }

    var x = new byte[inLen];
    rng.NextBytes(x);
    var expected = new int[rows * groups];
    for (var r = 0; r < rows; r++)
    {
        for (var i = 0; i < inLen; i++)
        {
            expected[(r * groups) + (i / groupSize)] += q[(r * inLen) + i] * x[i];
        }
    }

    var scratch = new byte[TernaryActivations.ScratchBytes(inLen, groupSize)];
    foreach (var path in new[] { KernelPath.Scalar, KernelPath.Vector128, KernelPath.Vector512 })
    {
        var dots = new int[rows * groups];
        TernaryActivations.GroupDots(packed, x, rows, groupSize, scratch, dots, path);
        if (!dots.AsSpan().SequenceEqual(expected))
        {
            Console.WriteLine($"FAILED ternary {path} ({TernaryActivations.Resolve(path)}) {inLen}x{rows} group {groupSize}: group sums differ");
            failures++;
        }
    }
}

Console.WriteLine($"ternary linear: scalar, Vector128 and {TernaryActivations.Resolve(KernelPath.Vector512)} give the exact int32 group sums");

if (required is not null && !ran.Contains(Enum.Parse<Int8DotPath>(required)))
{
    Console.WriteLine($"FAILED the required path {required} is not supported here");
    failures++;
}

Console.WriteLine(failures == 0 ? $"integer-activation kernels (linear with int8, int4, ternary and base11 weights, conv2d with int8 and base11 weights): paths {string.Join(", ", ran)} agree with the scalar path (residual from codes too); LayerNorm on codes: Vector128 agrees with scalar; extremes exact" : $"{failures} failures");
Console.WriteLine(failures == 0 ? "OK" : "FAILED");
return failures == 0 ? 0 : 1;
