using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Samples.Mnist;
using Samples.MnistTrain;

// The MNIST MLP in every weight format, with mixed precision per chunk and with top-k routing (also on its reordered
// weights), over the 2,000 held-out digits (index % 5 == 4; samples/MnistTrain trained on the others). Prints top-1
// accuracy, the drop against the f32 model, agreement with it, the MACs executed per digit and the weight bytes; then
// seed 000's size arithmetic on the mixed model's real layers.
//
//   dotnet run -c Release --project samples/Mnist                       # the table
//   dotnet run -c Release --project samples/Mnist -- --write-calibration mnist-cal.f32 --count 2000 --stride 4
//       writes the calibration inputs of mlp.mixed.cgc.json: 2,000 training digits over every class, float32, pixels / 255;
//       then: cgc calibrate samples/Mnist/mlp.mixed.cgc.json --inputs mnist-cal.f32 --limit 2000
//   dotnet run -c Release --project samples/Mnist -- --write-calibration mnist-reorder.f32 --count 2000 --stride 4
//       writes the inputs mlp.reordered.safetensors was reordered on: every 4th training digit (all classes);
//       then: cgc reorder samples/Mnist/mlp.f32.cgc.json --inputs mnist-reorder.f32 --groups 32 --top-k 8 --out samples/Mnist/mlp.reordered.safetensors
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var root = FindRoot();
var digits = MnistDigits.Load(Path.Combine(root, "samples", "data", "mnist"));
var labels = digits.Labels;
const int Pixels = MnistDigits.Pixels;

if (args.Length >= 2 && args[0] == "--write-calibration")
{
    // --count N (default 512) training digits, every --stride S-th one (default 1: the first N). The digits are sorted
    // by label, so the first 512 are all zeros; --count 2000 --stride 4 spreads them over every class.
    int count = 512, stride = 1;
    for (var a = 2; a + 1 < args.Length; a += 2)
    {
        _ = args[a] switch
        {
            "--count" => count = int.Parse(args[a + 1], CultureInfo.InvariantCulture),
            "--stride" => stride = int.Parse(args[a + 1], CultureInfo.InvariantCulture),
            _ => throw new ArgumentException($"unknown option {args[a]} (expected --count N or --stride S)"),
        };
    }

    using var file = File.Create(args[1]);
    int written = 0, seen = 0;
    var pixels = new float[Pixels];
    for (var i = 0; i < labels.Length && written < count; i++)
    {
        if (MnistDigits.IsHeldOut(i) || seen++ % stride != 0)
        {
            continue;
        }

        digits.CopyScaled(i, pixels);
        file.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(pixels.AsSpan()));
        written++;
    }

    Console.WriteLine($"{args[1]}: {written} training digits");
    return 0;
}

var models = new List<(string Name, Action<float[], float[]> Run, Func<long> Macs, long Bytes, long Dense)>();
void Add<T>(string name, T m, Action<T, float[], float[]> run, Func<T, long> macs, long bytes, long dense) =>
    models.Add((name, (x, y) => run(m, x, y), () => macs(m), bytes, dense));

Add("f32", new MnistMlp(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlp.WeightBytes, MnistMlp.MacsPerRun);
Add("int8", new MnistMlpInt8(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpInt8.WeightBytes, MnistMlpInt8.MacsPerRun);
// int8 weights with int8 activations (docs/activations.md): the input quantized at its own range every digit (dynamic),
// at calibrated ranges (static), or each hidden layer's output written as codes at a range predicted before it runs.
Add("int8 x int8 dynamic", new MnistMlpInt8ADynamic(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpInt8ADynamic.WeightBytes, MnistMlpInt8ADynamic.MacsPerRun);
Add("int8 x int8 static", new MnistMlpInt8AStatic(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpInt8AStatic.WeightBytes, MnistMlpInt8AStatic.MacsPerRun);
Add("int8 x int8 predicted", new MnistMlpInt8APredicted(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpInt8APredicted.WeightBytes, MnistMlpInt8APredicted.MacsPerRun);
// The same with fc1 reading the float image in place and writing fc2's codes (no codes of the input).
Add("int8 x int8 static fin", new MnistMlpInt8AStaticFloatIn(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpInt8AStaticFloatIn.WeightBytes, MnistMlpInt8AStaticFloatIn.MacsPerRun);
Add("int8 x int8 pred. fin", new MnistMlpInt8APredictedFloatIn(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpInt8APredictedFloatIn.WeightBytes, MnistMlpInt8APredictedFloatIn.MacsPerRun);
Add("int4", new MnistMlpInt4(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpInt4.WeightBytes, MnistMlpInt4.MacsPerRun);
Add("base11", new MnistMlpBase11(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpBase11.WeightBytes, MnistMlpBase11.MacsPerRun);
// the same base11 weights in the pairs layout (two indices per 7-bit code), float activations (Base11PairsFloat)
Add("base11 pairs", new MnistMlpBase11P(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpBase11P.WeightBytes, MnistMlpBase11P.MacsPerRun);
Add("ternary", new MnistMlpTernary(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpTernary.WeightBytes, MnistMlpTernary.MacsPerRun);
Add("ternary x int8 pred.", new MnistMlpTernaryA(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpTernaryA.WeightBytes, MnistMlpTernaryA.MacsPerRun);
Add("mixed 32/8/1", new MnistMlpMixed(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpMixed.WeightBytes, MnistMlpMixed.MacsPerRun);
Add("input k=6/12", new MnistMlpInput6(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpInput6.WeightBytes, MnistMlpInput6.MacsPerRun);
Add("input k=4/12", new MnistMlpInput4(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpInput4.WeightBytes, MnistMlpInput4.MacsPerRun);
Add("input k=3/12", new MnistMlpInput3(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpInput3.WeightBytes, MnistMlpInput3.MacsPerRun);
Add("proxy k=6/12", new MnistMlpProxy6(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpProxy6.WeightBytes, MnistMlpProxy6.MacsPerRun);
Add("proxy k=4/12", new MnistMlpProxy4(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpProxy4.WeightBytes, MnistMlpProxy4.MacsPerRun);
Add("proxy k=3/12", new MnistMlpProxy3(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpProxy3.WeightBytes, MnistMlpProxy3.MacsPerRun);

// The same MLP with its hidden units reordered by `cgc reorder` (mlp.reordered.safetensors: the same function, units that
// fire together in the same chunk; docs/routing.md, "Reordering hidden units").
Add("reordered input k=6/12", new MnistMlpReordInput6(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpReordInput6.WeightBytes, MnistMlpReordInput6.MacsPerRun);
Add("reordered proxy k=6/12", new MnistMlpReordProxy6(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpReordProxy6.WeightBytes, MnistMlpReordProxy6.MacsPerRun);
Add("reordered zero-skip", new MnistMlpReordZeroSkip(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpReordZeroSkip.WeightBytes, MnistMlpReordZeroSkip.MacsPerRun);
Add("reordered top-10/32", new MnistMlpReordTop10(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpReordTop10.WeightBytes, MnistMlpReordTop10.MacsPerRun);
Add("reordered lowrank 12/32", new MnistMlpReordLowRank12(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpReordLowRank12.WeightBytes, MnistMlpReordLowRank12.MacsPerRun);
Add("reordered lowrank 10/32", new MnistMlpReordLowRank10(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, MnistMlpReordLowRank10.WeightBytes, MnistMlpReordLowRank10.MacsPerRun);

var heldOut = Enumerable.Range(0, labels.Length).Where(MnistDigits.IsHeldOut).ToArray();
var input = new float[Pixels];
var logits = new float[10];
var reference = new int[heldOut.Length];
Console.WriteLine($"MNIST MLP 784-512-512-10 over {heldOut.Length} held-out digits (index % 5 == 4)");
Console.WriteLine($"{"model",-23} {"top-1",8} {"drop pp",8} {"agree f32",10} {"MACs/digit",11} {"MAC cut",8} {"weight bytes",13} {"size cut",9}");
var f32Accuracy = 0.0;
for (var m = 0; m < models.Count; m++)
{
    var (name, run, macs, bytes, dense) = models[m];
    int correct = 0, agree = 0;
    long macSum = 0;
    for (var n = 0; n < heldOut.Length; n++)
    {
        var i = heldOut[n];
        digits.CopyScaled(i, input);

        run(input, logits);
        macSum += macs();
        var top = ArgMax(logits);
        if (m == 0)
        {
            reference[n] = top;
        }

        correct += top == labels[i] ? 1 : 0;
        agree += top == reference[n] ? 1 : 0;
    }

    var accuracy = 100.0 * correct / heldOut.Length;
    if (m == 0)
    {
        f32Accuracy = accuracy;
    }

    var meanMacs = (double)macSum / heldOut.Length;
    Console.WriteLine($"{name,-23} {accuracy,7:0.00}% {f32Accuracy - accuracy,8:0.00} {100.0 * agree / heldOut.Length,9:0.00}% {meanMacs,11:N0} {100 * (1 - (meanMacs / dense)),7:0.0}% {bytes,13:N0} {100 * (1 - ((double)bytes / models[0].Bytes)),8:0.0}%");
}

// Intermediate activation memory, from the generated constants (docs/activations.md): the float scratch of the same
// model with f32 activations against the scratch plus the u8 code buffers of the int8 x int8 models.
Console.WriteLine();
Console.WriteLine($"Intermediate activation bytes per inference: f32 activations {MnistMlpInt8APredicted.FloatIntermediateBytes:N0}; "
    + $"int8 x int8 predicted and static {MnistMlpInt8APredicted.IntermediateBytes:N0} ({MnistMlpInt8APredicted.QuantizedActivationBytes:N0} of u8 codes, "
    + $"{(double)MnistMlpInt8APredicted.FloatIntermediateBytes / MnistMlpInt8APredicted.IntermediateBytes:0.00}x smaller); dynamic {MnistMlpInt8ADynamic.IntermediateBytes:N0} (floats and codes)");
Console.WriteLine($"With fc1 reading the float input in place (static fin, pred. fin): {MnistMlpInt8APredictedFloatIn.IntermediateBytes:N0} "
    + $"({MnistMlpInt8APredictedFloatIn.QuantizedActivationBytes:N0} of u8 codes, no codes of the input, "
    + $"{(double)MnistMlpInt8APredictedFloatIn.FloatIntermediateBytes / MnistMlpInt8APredictedFloatIn.IntermediateBytes:0.00}x smaller; static fin {MnistMlpInt8AStaticFloatIn.IntermediateBytes:N0})");

// Seed 000, section 3: S = n_high·q_high + n_mid·q_mid + n_low·q_low, in bits per chunk-weight, against 32 bits for all.
Console.WriteLine();
Console.WriteLine("Seed 000's size arithmetic on the mixed model's layers (chunks × bits, per weight of a chunk):");
var offsets = MnistMlpMixed.ChunkedLayerOffsets.ToArray();
for (var l = 0; l < offsets.Length; l++)
{
    var count = (l + 1 < offsets.Length ? offsets[l + 1] : MnistMlpMixed.ChunkCount) - offsets[l];
    var formats = MnistMlpMixed.ChunkFormats.Skip(offsets[l]).Take(count).ToArray();
    int n32 = formats.Count(f => f == "f32"), n8 = formats.Count(f => f == "int8"), n1 = formats.Count(f => f == "int1");
    var s = (n32 * 32) + (n8 * 8) + (n1 * 1);
    Console.WriteLine($"  {MnistMlpMixed.ChunkedLayerNames[l]}: n_high={n32}, n_mid={n8}, n_low={n1}: S = {n32}×32 + {n8}×8 + {n1}×1 = {s} bits vs {count}×32 = {count * 32} bits: {100.0 * (1 - (s / (32.0 * count))):0.0}% smaller (weights only, before scales)");
}

Console.WriteLine($"  whole model with scales and biases: {MnistMlpMixed.WeightBytes:N0} bytes vs f32 {MnistMlp.WeightBytes:N0} bytes: {100.0 * (1 - ((double)MnistMlpMixed.WeightBytes / MnistMlp.WeightBytes)):0.0}% smaller");

// mnist-8, the ONNX model zoo's CNN, imported by cgc import: all 10,000 digits (it was not trained on this split). Its
// conv2 (80% of the MACs) also runs in chunks of output channels: mixed formats by calibrated activity, and routed
// (12 chunks, the top k by "exact" or "lowrank" activity; docs/routing.md).
var cnns = new List<(string Name, Action<float[], float[]> Run, Func<long> Macs, long Bytes)>();
void AddCnn<T>(string name, T m, Action<T, float[], float[]> run, Func<T, long> macs, long bytes) =>
    cnns.Add((name, (x, y) => run(m, x, y), () => macs(m), bytes));
AddCnn("f32", new Mnist8(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, Mnist8.WeightBytes);
AddCnn("int8", new Mnist8Int8(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, Mnist8Int8.WeightBytes);
// int8 weights with int8 activations in every layer, the convolutions included (docs/activations.md#conv2d): the image
// quantized at its own range (dynamic, predicted) or a calibrated one (static); each conv2d writes the next layer's
// codes (static: calibrated ranges; predicted: from its input's moments), max-pooled as codes.
AddCnn("int8 x int8 dynamic", new Mnist8Int8ADynamic(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, Mnist8Int8ADynamic.WeightBytes);
AddCnn("int8 x int8 static", new Mnist8Int8AStatic(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, Mnist8Int8AStatic.WeightBytes);
AddCnn("int8 x int8 predicted", new Mnist8Int8APredicted(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, Mnist8Int8APredicted.WeightBytes);
AddCnn("int4", new Mnist8Int4(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, Mnist8Int4.WeightBytes);
AddCnn("base11", new Mnist8Base11(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, Mnist8Base11.WeightBytes);
AddCnn("mixed conv2 32/8/4", new Mnist8Mixed(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, Mnist8Mixed.WeightBytes);
AddCnn("exact k=6/12", new Mnist8Exact6(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, Mnist8Exact6.WeightBytes);
AddCnn("exact k=4/12", new Mnist8Exact4(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, Mnist8Exact4.WeightBytes);
AddCnn("exact k=3/12", new Mnist8Exact3(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, Mnist8Exact3.WeightBytes);
AddCnn("lowrank k=6/12", new Mnist8LowRank6(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, Mnist8LowRank6.WeightBytes);
AddCnn("lowrank k=4/12", new Mnist8LowRank4(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, Mnist8LowRank4.WeightBytes);
AddCnn("lowrank k=3/12", new Mnist8LowRank3(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, Mnist8LowRank3.WeightBytes);
// pool routing (docs/routing.md#pool-routing-top-k-positions-per-max-pool-window): conv2, its ReLU and max pool in one step
// that computes, per 3x3 window and channel, only the k positions a proxy of m filter taps ranks highest.
AddCnn("pool k=2/9 taps 16", new Mnist8Pool2T16(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, Mnist8Pool2T16.WeightBytes);
AddCnn("pool k=1/9 taps 25", new Mnist8Pool1T25(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, Mnist8Pool1T25.WeightBytes);
AddCnn("pool k=2/9 taps 25", new Mnist8Pool2T25(), (m, x, y) => m.Run(x, y), m => m.LastRunMacs, Mnist8Pool2T25.WeightBytes);
Console.WriteLine();
Console.WriteLine($"mnist-8 CNN (ONNX model zoo) over all {labels.Length} digits, pixels / 255");
Console.WriteLine($"{"model",-23} {"top-1",8} {"drop pp",8} {"agree f32",10} {"MACs/digit",11} {"MAC cut",8} {"weight bytes",13} {"size cut",9}");
var cnnReference = new int[labels.Length];
var cnnF32 = 0.0;
for (var m = 0; m < cnns.Count; m++)
{
    int correct = 0, agree = 0;
    long macSum = 0;
    for (var i = 0; i < labels.Length; i++)
    {
        digits.CopyScaled(i, input);

        cnns[m].Run(input, logits);
        macSum += cnns[m].Macs();
        var top = ArgMax(logits);
        if (m == 0)
        {
            cnnReference[i] = top;
        }

        correct += top == labels[i] ? 1 : 0;
        agree += top == cnnReference[i] ? 1 : 0;
    }

    var accuracy = 100.0 * correct / labels.Length;
    if (m == 0)
    {
        cnnF32 = accuracy;
    }

    var meanMacs = (double)macSum / labels.Length;
    Console.WriteLine($"{cnns[m].Name,-23} {accuracy,7:0.00}% {cnnF32 - accuracy,8:0.00} {100.0 * agree / labels.Length,9:0.00}% {meanMacs,11:N0} {100 * (1 - (meanMacs / Mnist8.MacsPerRun)),7:0.0}% {cnns[m].Bytes,13:N0} {100 * (1 - ((double)cnns[m].Bytes / Mnist8.WeightBytes)),8:0.0}%");
}

// Intermediate activation memory of mnist-8, from the generated constants: the float scratch with f32 activations
// (conv outputs, padded inputs, pool outputs) against the u8 code buffer (liveness slots, each conv scratch after its input codes).
Console.WriteLine();
Console.WriteLine($"mnist-8 intermediate activation bytes per inference: f32 activations {Mnist8Int8APredicted.FloatIntermediateBytes:N0}; "
    + $"int8 x int8 predicted and static {Mnist8Int8APredicted.IntermediateBytes:N0} ({Mnist8Int8APredicted.QuantizedActivationBytes:N0} of u8 codes, "
    + $"{(double)Mnist8Int8APredicted.FloatIntermediateBytes / Mnist8Int8APredicted.IntermediateBytes:0.00}x smaller); dynamic {Mnist8Int8ADynamic.IntermediateBytes:N0} (floats and codes)");

return 0;

static int ArgMax(float[] v)
{
    var best = 0;
    for (var i = 1; i < v.Length; i++)
    {
        if (v[i] > v[best])
        {
            best = i;
        }
    }

    return best;
}

static string FindRoot()
{
    foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CodeGenChunk.sln")))
            {
                return dir.FullName;
            }
        }
    }

    throw new DirectoryNotFoundException("Run inside the CodeGenChunk repository (samples/data/mnist is needed).");
}
