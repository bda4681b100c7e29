using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using CodeGenChunk.Onnx;
using CodeGenChunk.Tool.SafeTensors;
using Samples.MnistTrain;
using DataType = CodeGenChunk.Onnx.Ir.TensorProto.Types.DataType;

// Trains a 784-512-512-10 ReLU MLP on 8,000 of the 10,000 digits of samples/data/mnist and reports accuracy on the
// other 2,000 after every epoch. The file is sorted by label (all 0s, then all 1s, ...), so a split into the first 8,000
// and the last 2,000 would train on no 8 or 9: digit i is held out when i % 5 == 4 (every fifth digit, about 20 % of
// each class), the rest train. Deterministic: fixed seed, one thread, a seeded shuffle per epoch, float math whose
// results do not depend on the CPU (VectorMath). Writes {out}/mlp.safetensors (fc1..fc3, weights [out, in]) and
// {out}/mlp.onnx (Gemm + Relu, input "input" [1,784], output "logits" [1,10]).
//
//   dotnet run -c Release --project samples/MnistTrain [-- --epochs 10 --seed 1 --out samples/Mnist]
var options = Options.Parse(args);
var root = Options.FindRepositoryRoot();
var dataDir = options.Data ?? Path.Combine(root, "samples", "data", "mnist");
var outDir = options.Out ?? Path.Combine(root, "samples", "Mnist");

int[] sizes = [784, 512, 512, 10];

var digits = MnistDigits.Load(dataDir);
var order = new List<int>();
var heldOut = new List<int>();
for (var i = 0; i < digits.Count; i++)
{
    (MnistDigits.IsHeldOut(i) ? heldOut : order).Add(i);
}

var random = new SplitMix64(options.Seed);
var mlp = new Mlp(sizes, random);

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"MLP {string.Join('-', sizes)}, ReLU; {order.Count} training digits, {heldOut.Count} held out (index % 5 == 4); SGD batch {options.Batch}, momentum {options.Momentum}, learning rate {options.LearningRate} (halved for the last third of the epochs), seed {options.Seed}"));
var clock = Stopwatch.StartNew();
var correct = 0;
for (var epoch = 1; epoch <= options.Epochs; epoch++)
{
    // Fisher-Yates with the seeded generator: the sample order is a function of the seed.
    for (var i = order.Count - 1; i > 0; i--)
    {
        var j = random.NextInt(i + 1);
        (order[i], order[j]) = (order[j], order[i]);
    }

    var rate = epoch > options.Epochs - (options.Epochs / 3) ? options.LearningRate / 2 : options.LearningRate;
    var loss = 0.0;
    for (var n = 0; n < order.Count; n++)
    {
        digits.CopyScaled(order[n], mlp.Input);
        mlp.Forward();
        loss += mlp.Backward(digits.Labels[order[n]]);
        if ((n + 1) % options.Batch == 0 || n == order.Count - 1)
        {
            mlp.Step(rate, options.Momentum);
        }
    }

    correct = 0;
    foreach (var n in heldOut)
    {
        digits.CopyScaled(n, mlp.Input);
        if (mlp.Predict() == digits.Labels[n])
        {
            correct++;
        }
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"epoch {epoch,2}: training loss {loss / order.Count:0.0000}, held-out {correct}/{heldOut.Count} = {100.0 * correct / heldOut.Count:0.00}% ({clock.Elapsed.TotalSeconds:0.0} s)"));
}

// The float tensors: linear weights [out, in], as `cgc import` writes them.
var tensors = new List<(string Name, long[] Shape, float[] Values)>();
for (var l = 0; l < mlp.Layers; l++)
{
    tensors.Add(($"fc{l + 1}.weight", [sizes[l + 1], sizes[l]], mlp.WeightOutIn(l)));
    tensors.Add(($"fc{l + 1}.bias", [sizes[l + 1]], mlp.Bias(l)));
}

Directory.CreateDirectory(outDir);
var safetensorsPath = Path.Combine(outDir, "mlp.safetensors");
SafeTensorsWriter.Write(safetensorsPath, tensors);

// The same network as ONNX: Gemm(x, W[out, in], b, transB = 1), Relu between the layers.
var onnx = new OnnxModelBuilder("mnist_mlp");
onnx.AddMetadata("training", $"samples/MnistTrain: the {order.Count} digits i of samples/data/mnist with i % 5 != 4, seed {options.Seed}, {options.Epochs} epochs");
onnx.AddMetadata("heldout_correct", correct.ToString(CultureInfo.InvariantCulture));
onnx.AddMetadata("heldout_count", heldOut.Count.ToString(CultureInfo.InvariantCulture));
onnx.AddInput("input", DataType.Float, 1, sizes[0]);
var current = "input";
for (var l = 0; l < mlp.Layers; l++)
{
    var name = $"fc{l + 1}";
    var weight = onnx.AddInitializer(name + ".weight", tensors[2 * l].Values, tensors[2 * l].Shape);
    var bias = onnx.AddInitializer(name + ".bias", tensors[(2 * l) + 1].Values, tensors[(2 * l) + 1].Shape);
    var last = l == mlp.Layers - 1;
    var output = last ? "logits" : name + ".out";
    onnx.AddNode("Gemm", [current, weight, bias], [output], new Dictionary<string, object> { ["transB"] = 1L }, name: name);
    current = output;
    if (!last)
    {
        onnx.AddNode("Relu", [current], [name + ".relu"], name: name + ".relu");
        current = name + ".relu";
    }
}

onnx.AddOutput("logits", DataType.Float, 1, sizes[^1]);
var onnxPath = Path.Combine(outDir, "mlp.onnx");
File.WriteAllBytes(onnxPath, onnx.ToByteArray());

Console.WriteLine($"wrote {safetensorsPath} and {onnxPath}");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"held-out accuracy {correct}/{heldOut.Count} = {100.0 * correct / heldOut.Count:0.00}%"));
return 0;

/// <summary>Command-line options of the trainer.</summary>
internal sealed record Options(int Epochs, ulong Seed, int Batch, float LearningRate, float Momentum, string? Data, string? Out)
{
    public static Options Parse(string[] args)
    {
        var o = new Options(Epochs: 10, Seed: 1, Batch: 32, LearningRate: 0.05f, Momentum: 0.9f, Data: null, Out: null);
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            o = args[i] switch
            {
                "--epochs" => o with { Epochs = int.Parse(value, CultureInfo.InvariantCulture) },
                "--seed" => o with { Seed = ulong.Parse(value, CultureInfo.InvariantCulture) },
                "--batch" => o with { Batch = int.Parse(value, CultureInfo.InvariantCulture) },
                "--lr" => o with { LearningRate = float.Parse(value, CultureInfo.InvariantCulture) },
                "--momentum" => o with { Momentum = float.Parse(value, CultureInfo.InvariantCulture) },
                "--data" => o with { Data = value },
                "--out" => o with { Out = value },
                _ => throw new ArgumentException($"unknown option {args[i]} (known: --epochs --seed --batch --lr --momentum --data --out)"),
            };
            i++;
        }

        return o;
    }

    /// <summary>The nearest folder above the working directory (or else above the program) that holds CodeGenChunk.sln.</summary>
    public static string FindRepositoryRoot()
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

        throw new InvalidOperationException("CodeGenChunk.sln not found above the working directory: run from the repository or pass --data and --out");
    }
}
