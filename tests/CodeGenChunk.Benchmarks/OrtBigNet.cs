using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.Json;
using CodeGenChunk.Onnx;
using CodeGenChunk.Onnx.Ir;
using Microsoft.ML.OnnxRuntime;
using DataType = CodeGenChunk.Onnx.Ir.TensorProto.Types.DataType;

namespace CodeGenChunk.Benchmarks;

/// <summary>The three ONNX Runtime formats of BigNet.</summary>
public enum OrtFormat
{
    /// <summary>Gemm (transB = 1) over the float32 weights.</summary>
    F32,

    /// <summary>DynamicQuantizeLinear on the activation + MatMulInteger over per-output-channel symmetric int8 weights, Cast, Mul by the scales, Add bias.</summary>
    DynamicInt8,

    /// <summary>com.microsoft MatMulNBits: 4-bit weights, block 32, symmetric (default zero point 8), float scales, accuracy_level 4.</summary>
    MatMulNBits4,
}

/// <summary>
/// BigNet as an ONNX graph built in memory (CodeGenChunk.Onnx) from the float weights of bignet.safetensors, run by
/// ONNX Runtime single-threaded with pre-bound input and output (OrtIoBinding over pinned arrays, nothing allocated per call).
/// </summary>
/// <remarks>
/// Graph per block b (6 blocks, 3 linears each): linear, Relu, linear, Relu, linear, Add(block input),
/// then LayerNormalization (opset 17, axis -1, epsilon 1e-5) between blocks; input "x" and output "y" are [1, 1024].
/// Linear is, per format:
/// <list type="bullet">
/// <item>F32: <c>Gemm(x, W[N,K], bias, transB=1)</c>.</item>
/// <item>DynamicInt8: <c>DynamicQuantizeLinear(x) → (xq u8, xs, xzp)</c>; <c>MatMulInteger(xq, Wq[K,N] s8, xzp)</c> (no weight zero point:
///   symmetric); <c>Cast(to float)</c>; <c>Mul(·, Mul(xs, ws[N]))</c>; <c>Add(bias)</c> — the pattern onnxruntime.quantization's dynamic
///   quantization emits with per_channel, which ORT's optimizer fuses into com.microsoft DynamicQuantizeMatMul (checked and printed at setup).</item>
/// <item>MatMulNBits4: <c>MatMulNBits(x, B[N, K/32, 16] u8, scales[N, K/32])</c> then <c>Add(bias)</c>; codes are q + 8 (q in -8..7,
///   scale = max|w| / 7 per block of 32 along K), two per byte, the even element in the low nibble.</item>
/// </list>
/// </remarks>
internal sealed class OrtBigNet : IDisposable
{
    public const int Dim = PlainBigNet.Dim;
    public const int BlockSize = 32;
    private const int Blocks = PlainBigNet.Blocks;
    private const int Linears = Blocks * PlainBigNet.LinearsPerBlock;

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtIoBinding _binding;
    private readonly OrtValue _inputValue;
    private readonly OrtValue _outputValue;

    private OrtBigNet(OrtFormat format, byte[] model, float[] input, float[] output)
    {
        Format = format;
        using var options = CreateOptions();
        _session = new InferenceSession(model, options);
        _inputValue = OrtValue.CreateTensorValueFromMemory(input, new long[] { 1, Dim });
        _outputValue = OrtValue.CreateTensorValueFromMemory(output, new long[] { 1, Dim });
        _binding = _session.CreateIoBinding();
        _binding.BindInput("x", _inputValue);
        _binding.BindOutput("y", _outputValue);
    }

    public OrtFormat Format { get; }

    /// <summary>The session options every ORT row uses.</summary>
    public static SessionOptions CreateOptions() => new()
    {
        IntraOpNumThreads = 1,
        InterOpNumThreads = 1,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
    };

    /// <summary>Builds the graph of <paramref name="format"/> from the weights and opens a session bound to <paramref name="input"/> and <paramref name="output"/> (both [1024], kept pinned).</summary>
    public static OrtBigNet Create(OrtFormat format, string safetensors, float[] input, float[] output) =>
        new(format, BuildModel(format, ReadTensors(safetensors)), input, output);

    /// <summary>A session over a graph built once by <see cref="BuildModel"/> (the cold rows open many).</summary>
    public static OrtBigNet FromModel(OrtFormat format, byte[] model, float[] input, float[] output) => new(format, model, input, output);

    /// <summary>Runs the graph: input array → output array, through the bound OrtValues.</summary>
    public void Run() => _session.RunWithBinding(_runOptions, _binding);

    /// <summary>Initializer bytes of the graph of <paramref name="format"/> (what one run reads), computed from the shapes.</summary>
    public static long WeightBytes(OrtFormat format)
    {
        const long lnBytes = (Blocks - 1) * 2L * Dim * sizeof(float);
        const long bias = Dim * sizeof(float);
        var perLinear = format switch
        {
            OrtFormat.F32 => ((long)Dim * Dim * sizeof(float)) + bias,
            OrtFormat.DynamicInt8 => ((long)Dim * Dim) + (Dim * sizeof(float)) + bias,
            OrtFormat.MatMulNBits4 => ((long)Dim * Dim / 2) + ((long)Dim * (Dim / BlockSize) * sizeof(float)) + bias,
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
        return (Linears * perLinear) + lnBytes;
    }

    /// <summary>The op types of the graph after ORT's optimizations (ORT_ENABLE_ALL), counted, e.g. "DynamicQuantizeMatMul×18, ...".</summary>
    public static string OptimizedOps(OrtFormat format, string safetensors)
    {
        var path = Path.Combine(Path.GetTempPath(), $"cgc-bignet-{format}-{Environment.ProcessId}.onnx");
        try
        {
            using (var options = CreateOptions())
            {
                options.OptimizedModelFilePath = path;
                options.LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR; // not the warning that the dump is hardware-specific
                using var session = new InferenceSession(BuildModel(format, ReadTensors(safetensors)), options);
            }

            var optimized = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
            return string.Join(", ", optimized.Graph.Node
                .GroupBy(n => string.IsNullOrEmpty(n.Domain) ? n.OpType : n.Domain + "." + n.OpType)
                .Select(g => $"{g.Key}×{g.Count()}"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The serialized ONNX model of <paramref name="format"/>.</summary>
    public static byte[] BuildModel(OrtFormat format, IReadOnlyDictionary<string, float[]> tensors)
    {
        var b = new OnnxModelBuilder($"BigNet{format}", opset: 17);
        if (format == OrtFormat.MatMulNBits4)
        {
            b.ImportOpset(OnnxModelBuilder.MicrosoftDomain, 1);
        }

        b.AddMetadata("source", "bignet.safetensors (CodeGenChunk benchmarks)");
        b.AddInput("x", DataType.Float, 1, Dim);
        b.AddOutput("y", DataType.Float, 1, Dim);
        var x = "x";
        for (var blk = 0; blk < Blocks; blk++)
        {
            var h = x;
            for (var j = 0; j < PlainBigNet.LinearsPerBlock; j++)
            {
                var name = $"blocks.{blk}.l{j}";
                h = Linear(b, format, name, Get(tensors, name + ".weight", Dim * Dim), Get(tensors, name + ".bias", Dim), h);
                if (j < PlainBigNet.LinearsPerBlock - 1)
                {
                    b.AddNode("Relu", new[] { h }, new[] { name + ".relu" });
                    h = name + ".relu";
                }
            }

            var sum = blk == Blocks - 1 ? "y" : $"blocks.{blk}.sum";
            b.AddNode("Add", new[] { h, x }, new[] { sum });
            if (blk < Blocks - 1)
            {
                var ln = $"ln.{blk}";
                b.AddInitializer(ln + ".weight", Get(tensors, ln + ".weight", Dim), Dim);
                b.AddInitializer(ln + ".bias", Get(tensors, ln + ".bias", Dim), Dim);
                b.AddNode("LayerNormalization", new[] { sum, ln + ".weight", ln + ".bias" }, new[] { ln + ".out" },
                    new Dictionary<string, object> { ["axis"] = -1L, ["epsilon"] = 1e-5f });
                x = ln + ".out";
            }
        }

        if (b.InitializerBytes != WeightBytes(format))
        {
            throw new InvalidOperationException($"{format}: initializers hold {b.InitializerBytes} bytes, expected {WeightBytes(format)}.");
        }

        return b.ToByteArray();
    }

    private static string Linear(OnnxModelBuilder b, OrtFormat format, string name, float[] w, float[] bias, string x)
    {
        var y = name + ".out";
        b.AddInitializer(name + ".bias", bias, Dim);
        switch (format)
        {
            case OrtFormat.F32:
                b.AddInitializer(name + ".weight", w, Dim, Dim);
                b.AddNode("Gemm", new[] { x, name + ".weight", name + ".bias" }, new[] { y }, new Dictionary<string, object> { ["transB"] = 1L });
                return y;

            case OrtFormat.DynamicInt8:
            {
                // Per output channel n (column n of B = W^T): scale = max|W[n,:]| / 127, symmetric (zero point 0, omitted).
                var q = new sbyte[Dim * Dim];
                var scales = new float[Dim];
                for (var n = 0; n < Dim; n++)
                {
                    var max = 0f;
                    for (var k = 0; k < Dim; k++)
                    {
                        max = MathF.Max(max, MathF.Abs(w[(n * Dim) + k]));
                    }

                    var scale = max > 0 ? max / 127f : 1f;
                    scales[n] = scale;
                    for (var k = 0; k < Dim; k++)
                    {
                        q[(k * Dim) + n] = (sbyte)Math.Clamp(MathF.Round(w[(n * Dim) + k] / scale), -127f, 127f);
                    }
                }

                b.AddInitializer(name + ".wq", q, Dim, Dim);
                b.AddInitializer(name + ".ws", scales, Dim);
                b.AddNode("DynamicQuantizeLinear", new[] { x }, new[] { name + ".xq", name + ".xs", name + ".xzp" });
                b.AddNode("Mul", new[] { name + ".xs", name + ".ws" }, new[] { name + ".scale" });
                b.AddNode("MatMulInteger", new[] { name + ".xq", name + ".wq", name + ".xzp" }, new[] { name + ".acc" });
                b.AddNode("Cast", new[] { name + ".acc" }, new[] { name + ".accf" }, new Dictionary<string, object> { ["to"] = (long)DataType.Float });
                b.AddNode("Mul", new[] { name + ".accf", name + ".scale" }, new[] { name + ".mm" });
                b.AddNode("Add", new[] { name + ".mm", name + ".bias" }, new[] { y });
                return y;
            }

            case OrtFormat.MatMulNBits4:
            {
                const int blocksPerRow = Dim / BlockSize;
                const int blob = BlockSize / 2;
                var packed = new byte[Dim * blocksPerRow * blob];
                var scales = new float[Dim * blocksPerRow];
                for (var n = 0; n < Dim; n++)
                {
                    for (var g = 0; g < blocksPerRow; g++)
                    {
                        var start = (n * Dim) + (g * BlockSize);
                        var max = 0f;
                        for (var i = 0; i < BlockSize; i++)
                        {
                            max = MathF.Max(max, MathF.Abs(w[start + i]));
                        }

                        var scale = max > 0 ? max / 7f : 1f;
                        scales[(n * blocksPerRow) + g] = scale;
                        var dst = ((n * blocksPerRow) + g) * blob;
                        for (var i = 0; i < BlockSize; i += 2)
                        {
                            var lo = Code(w[start + i], scale);
                            var hi = Code(w[start + i + 1], scale);
                            packed[dst + (i / 2)] = (byte)(lo | (hi << 4));
                        }
                    }
                }

                b.AddInitializer(name + ".wq", packed, Dim, blocksPerRow, blob);
                b.AddInitializer(name + ".ws", scales, Dim, blocksPerRow);
                b.AddNode("MatMulNBits", new[] { x, name + ".wq", name + ".ws" }, new[] { name + ".mm" },
                    new Dictionary<string, object>
                    {
                        ["K"] = (long)Dim,
                        ["N"] = (long)Dim,
                        ["bits"] = 4L,
                        ["block_size"] = (long)BlockSize,
                        ["accuracy_level"] = 4L,
                    },
                    domain: OnnxModelBuilder.MicrosoftDomain);
                b.AddNode("Add", new[] { name + ".mm", name + ".bias" }, new[] { y });
                return y;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(format));
        }
    }

    /// <summary>4-bit code of <paramref name="v"/>: round(v / scale) clamped to -8..7, plus the default zero point 8.</summary>
    private static int Code(float v, float scale) => (int)Math.Clamp(MathF.Round(v / scale), -8f, 7f) + 8;

    private static float[] Get(IReadOnlyDictionary<string, float[]> tensors, string name, int length) =>
        tensors.TryGetValue(name, out var t) && t.Length == length
            ? t
            : throw new InvalidDataException($"bignet.safetensors: tensor '{name}' missing or not {length} floats");

    /// <summary>All F32 tensors of a safetensors file by name.</summary>
    public static Dictionary<string, float[]> ReadTensors(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__")
            {
                continue;
            }

            if (p.Value.GetProperty("dtype").GetString() != "F32")
            {
                throw new InvalidDataException($"{path}: tensor '{p.Name}' is not F32");
            }

            var offsets = p.Value.GetProperty("data_offsets");
            var begin = 8 + headerLength + offsets[0].GetInt32();
            var end = 8 + headerLength + offsets[1].GetInt32();
            result[p.Name] = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(begin, end - begin)).ToArray();
        }

        return result;
    }

    public void Dispose()
    {
        _binding.Dispose();
        _inputValue.Dispose();
        _outputValue.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
