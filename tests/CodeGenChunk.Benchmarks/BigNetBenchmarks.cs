using System;
using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;
using Samples.BigNet;

namespace CodeGenChunk.Benchmarks;

/// <summary>
/// BigNet (6 residual blocks of 3 x Linear(1024,1024), ReLU, LayerNorm between blocks) at batch 1:
/// plain C# against the generated kernels, warm and cold, plus a DRAM read-bandwidth probe, in one
/// summary. The baseline is the TensorPrimitives forward pass, so every row gets a ratio. Warm only: the generated
/// int4, base11 and ternary models, and the ONNX Runtime peer (OrtBigNet: f32, dynamic int8, MatMulNBits 4-bit; one thread).
/// </summary>
/// <remarks>
/// Cold-cache variants: each invocation runs the next of K independent copies of the weights, and the
/// K copies together are at least <see cref="ColdSetFactor"/> x the last-level cache, so by the time a
/// copy comes round again its lines have long been evicted and its weights stream from DRAM.
/// The job (iterations, warm-up) is set by Program.cs, not here, so --quick can swap it.
/// </remarks>
[MemoryDiagnoser]
[CategoriesColumn]
public class BigNetBenchmarks
{
    /// <summary>The cold rotation set is at least this many times the last-level cache.</summary>
    public const int ColdSetFactor = 4;

    /// <summary>The bandwidth probe reads at least 1 GiB and at least this many times the last-level cache.</summary>
    public const int ProbeFactor = 4;

    // Category names sort in the order the summary should show them (BenchmarkDotNet orders by category first).

    /// <summary>The same weights every invocation (f32: 75.6 MB, larger than one CCD's 32 MiB L3; int8: 20 MB, smaller).</summary>
    public const string Warm = "Back-to-back (warm)";

    /// <summary>Each invocation on the next of K copies whose total is at least 4 x LLC: weights come from DRAM.</summary>
    public const string Cold = "Cold (DRAM)";

    public const string Probe = "DRAM probe";

    private readonly float[] _input = CreateInput();
    private readonly float[] _output = new float[PlainBigNet.Dim];

    private PlainBigNet? _plain;
    private BigNetF32? _f32;
    private BigNetInt8? _int8;
    private BigNetInt8A? _int8a;
    private BigNetBase11A? _base11a;
    private BigNetTernaryA? _ternarya;
    private BigNetInt8ARow? _int8arow;
    private BigNetInt8Chain? _int8chain;
    private BigNetInt4A? _int4a;
    private BigNetInt4? _int4;
    private BigNetBase11? _base11;
    private BigNetBase11P? _base11p;
    private BigNetTernary? _ternary;
    private BigNetF16? _f16;
    private BigNetInt1? _int1;
    private BigNetF16[] _f16Copies = Array.Empty<BigNetF16>();
    private BigNetInt1[] _int1Copies = Array.Empty<BigNetInt1>();
    private BigNetInt4[] _int4Copies = Array.Empty<BigNetInt4>();
    private BigNetBase11[] _base11Copies = Array.Empty<BigNetBase11>();
    private BigNetBase11P[] _base11pCopies = Array.Empty<BigNetBase11P>();
    private BigNetTernary[] _ternaryCopies = Array.Empty<BigNetTernary>();
    private OrtBigNet? _ort;
    private readonly float[] _ortOutput = new float[PlainBigNet.Dim];
    private PlainBigNet[] _plainCopies = Array.Empty<PlainBigNet>();
    private BigNetF32[] _f32Copies = Array.Empty<BigNetF32>();
    private BigNetInt8[] _int8Copies = Array.Empty<BigNetInt8>();
    private BigNetInt8A[] _int8aCopies = Array.Empty<BigNetInt8A>();
    private BigNetBase11A[] _base11aCopies = Array.Empty<BigNetBase11A>();
    private BigNetTernaryA[] _ternaryaCopies = Array.Empty<BigNetTernaryA>();
    private BigNetInt8ARow[] _int8arowCopies = Array.Empty<BigNetInt8ARow>();
    private BigNetInt8Chain[] _int8chainCopies = Array.Empty<BigNetInt8Chain>();
    private BigNetInt4A[] _int4aCopies = Array.Empty<BigNetInt4A>();
    private OrtBigNet[] _ortCopies = Array.Empty<OrtBigNet>();
    private int _next;
    private ReadBandwidthProbe? _probe;

    /// <summary>Bytes the bandwidth probe reads per invocation: max(1 GiB, 4 x LLC), rounded up to 64 MiB.</summary>
    public static long ProbeBytes => RoundUp(Math.Max(1L << 30, ProbeFactor * MachineInfo.LlcBytes), 64L << 20);

    /// <summary>Number of independent weight copies a cold benchmark rotates over.</summary>
    public static int ColdCopies(long bytesPerCopy) =>
        (int)Math.Max(2, (ColdSetFactor * MachineInfo.LlcBytes + bytesPerCopy - 1) / bytesPerCopy);

    /// <summary>Bytes of memory one invocation of <paramref name="method"/> must read (weights, or the probe buffer).</summary>
    public static long BytesRead(string method) => method switch
    {
        nameof(Dram_ReadBandwidth) => ProbeBytes,
        nameof(Int8_Generated) or nameof(Int8_Generated_Cold) => BigNetInt8.WeightBytes,
        nameof(Int8A_Generated) or nameof(Int8A_Generated_Cold) => BigNetInt8A.WeightBytes,
        nameof(Base11A_Generated) or nameof(Base11A_Generated_Cold) => BigNetBase11A.WeightBytes,
        nameof(TernaryA_Generated) or nameof(TernaryA_Generated_Cold) => BigNetTernaryA.WeightBytes,
        nameof(Int8ARow_Generated) or nameof(Int8ARow_Generated_Cold) => BigNetInt8ARow.WeightBytes,
        nameof(Int8Chain_Generated) or nameof(Int8Chain_Generated_Cold) => BigNetInt8Chain.WeightBytes,
        nameof(Int4A_Generated) or nameof(Int4A_Generated_Cold) => BigNetInt4A.WeightBytes,
        nameof(Int4_Generated) or nameof(Int4_Generated_Cold) => BigNetInt4.WeightBytes,
        nameof(Base11_Generated) or nameof(Base11_Generated_Cold) => BigNetBase11.WeightBytes,
        nameof(Base11P_Generated) or nameof(Base11P_Generated_Cold) => BigNetBase11P.WeightBytes,
        nameof(Ternary_Generated) or nameof(Ternary_Generated_Cold) => BigNetTernary.WeightBytes,
        nameof(F16_Generated) or nameof(F16_Generated_Cold) => BigNetF16.WeightBytes,
        nameof(Int1_Generated) or nameof(Int1_Generated_Cold) => BigNetInt1.WeightBytes,
        nameof(Ort_F32) or nameof(Ort_F32_Cold) => OrtBigNet.WeightBytes(OrtFormat.F32),
        nameof(Ort_DynamicInt8) or nameof(Ort_DynamicInt8_Cold) => OrtBigNet.WeightBytes(OrtFormat.DynamicInt8),
        nameof(Ort_MatMulNBits4) or nameof(Ort_MatMulNBits4_Cold) => OrtBigNet.WeightBytes(OrtFormat.MatMulNBits4),
        _ => BigNetF32.WeightBytes,
    };

    // ---------------------------------------------------------------- warm

    [GlobalSetup(Targets = new[] { nameof(F32_TensorPrimitivesDot), nameof(F32_NaiveLoop) })]
    public void SetupPlain()
    {
        _plain = PlainBigNet.Load(Paths.SafeTensors());
        Verify(nameof(PlainBigNet.ForwardDot), _plain.ForwardDot, 1e-3f);
        Verify(nameof(PlainBigNet.ForwardNaive), _plain.ForwardNaive, 1e-3f);
    }

    [GlobalSetup(Target = nameof(F32_Generated))]
    public void SetupF32() => _f32 = new BigNetF32();

    [GlobalSetup(Target = nameof(Int8_Generated))]
    public void SetupInt8() => _int8 = new BigNetInt8();

    [GlobalSetup(Target = nameof(Int8A_Generated))]
    public void SetupInt8A()
    {
        _int8a = BigNetInt8A.Open();
        ReportDifference("BigNetInt8A", _int8a.Run);
    }

    [GlobalSetup(Target = nameof(Base11A_Generated))]
    public void SetupBase11A()
    {
        _base11a = BigNetBase11A.Open();
        ReportDifference("BigNetBase11A", _base11a.Run);
    }

    [GlobalSetup(Target = nameof(TernaryA_Generated))]
    public void SetupTernaryA()
    {
        _ternarya = BigNetTernaryA.Open();
        ReportDifference("BigNetTernaryA", _ternarya.Run);
    }

    [GlobalSetup(Target = nameof(Int8ARow_Generated))]
    public void SetupInt8ARow()
    {
        _int8arow = BigNetInt8ARow.Open();
        ReportDifference("BigNetInt8ARow", _int8arow.Run);
    }

    [GlobalSetup(Target = nameof(Int8Chain_Generated))]
    public void SetupInt8Chain()
    {
        _int8chain = BigNetInt8Chain.Open();
        ReportDifference("BigNetInt8Chain", _int8chain.Run);
    }

    [GlobalSetup(Target = nameof(Int4A_Generated))]
    public void SetupInt4A()
    {
        _int4a = BigNetInt4A.Open();
        ReportDifference("BigNetInt4A", _int4a.Run);
    }

    [GlobalSetup(Target = nameof(Int4_Generated))]
    public void SetupInt4()
    {
        _int4 = new BigNetInt4();
        ReportDifference("BigNetInt4", _int4.Run);
    }

    [GlobalSetup(Target = nameof(Base11_Generated))]
    public void SetupBase11()
    {
        _base11 = new BigNetBase11();
        ReportDifference("BigNetBase11", _base11.Run);
    }

    [GlobalSetup(Target = nameof(Base11P_Generated))]
    public void SetupBase11P()
    {
        _base11p = BigNetBase11P.Open();
        ReportDifference("BigNetBase11P", _base11p.Run);
    }

    [GlobalSetup(Target = nameof(Ternary_Generated))]
    public void SetupTernary()
    {
        _ternary = new BigNetTernary();
        ReportDifference("BigNetTernary", _ternary.Run);
    }

    [GlobalSetup(Target = nameof(F16_Generated))]
    public void SetupF16()
    {
        _f16 = BigNetF16.Open();
        ReportDifference("BigNetF16", _f16.Run);
    }

    [GlobalSetup(Target = nameof(Int1_Generated))]
    public void SetupInt1()
    {
        _int1 = BigNetInt1.Open();
        ReportDifference("BigNetInt1", _int1.Run);
    }

    [GlobalSetup(Target = nameof(Ort_F32))]
    public void SetupOrtF32() => SetupOrt(OrtFormat.F32, OrtF32Tolerance);

    [GlobalSetup(Target = nameof(Ort_DynamicInt8))]
    public void SetupOrtDynamicInt8() => SetupOrt(OrtFormat.DynamicInt8, OrtInt8Tolerance);

    [GlobalSetup(Target = nameof(Ort_MatMulNBits4))]
    public void SetupOrtMatMulNBits4() => SetupOrt(OrtFormat.MatMulNBits4, OrtInt4Tolerance);

    /// <summary>Plain C#: every output is TensorPrimitives.Dot(weight row, x) + bias. The baseline.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory(Warm)]
    public float F32_TensorPrimitivesDot()
    {
        _plain!.ForwardDot(_input, _output);
        return _output[0];
    }

    /// <summary>Plain C#: nested for-loops, float accumulation.</summary>
    [Benchmark]
    [BenchmarkCategory(Warm)]
    public float F32_NaiveLoop()
    {
        _plain!.ForwardNaive(_input, _output);
        return _output[0];
    }

    /// <summary>The generated f32 model over its embedded weights.</summary>
    [Benchmark]
    [BenchmarkCategory(Warm)]
    public float F32_Generated()
    {
        _f32!.Run(_input, _output);
        return _output[0];
    }

    /// <summary>The generated int8 (group 64) model over its embedded weights.</summary>
    [Benchmark]
    [BenchmarkCategory(Warm)]
    public float Int8_Generated()
    {
        _int8!.Run(_input, _output);
        return _output[0];
    }

    /// <summary>The generated int8 model with int8 activations (docs/activations.md: VNNI, predicted output ranges) over its embedded weights.</summary>
    [Benchmark]
    [BenchmarkCategory(Warm)]
    public float Int8A_Generated()
    {
        _int8a!.Run(_input, _output);
        return _output[0];
    }

    /// <summary>
    /// The base11 model in the "pairs" layout (3.625 bits per weight) with the int8 activations of Int8A_Generated
    /// (docs/activations.md, "base11 pairs": vpermb / vpmultishiftqb / vpermi2b decode, vpmaddubsw) over its weights file.
    /// </summary>
    [Benchmark]
    [BenchmarkCategory(Warm)]
    public float Base11A_Generated()
    {
        _base11a!.Run(_input, _output);
        return _output[0];
    }

    /// <summary>
    /// The ternary model (group 320, 1.75 bits per weight) with the int8 activations of Int8A_Generated (docs/activations.md,
    /// "ternary weights": TernaryActivations, vpermb digit lookups and vpmaddubsw on the codes) over its weights file.
    /// </summary>
    [Benchmark]
    [BenchmarkCategory(Warm)]
    public float TernaryA_Generated()
    {
        _ternarya!.Run(_input, _output);
        return _output[0];
    }

    /// <summary>The int8 x int8 model with one weight scale per row (8.03 bits per weight, as ONNX Runtime's per-channel int8), predicted activations.</summary>
    [Benchmark]
    [BenchmarkCategory(Warm)]
    public float Int8ARow_Generated()
    {
        _int8arow!.Run(_input, _output);
        return _output[0];
    }

    /// <summary>The int8 x int8 model with the residual stream and the LayerNorms in u8 codes (docs/activations.md): no float intermediates.</summary>
    [Benchmark]
    [BenchmarkCategory(Warm)]
    public float Int8Chain_Generated()
    {
        _int8chain!.Run(_input, _output);
        return _output[0];
    }

    /// <summary>The generated int4 model with int8 activations (docs/activations.md: nibbles unpacked in registers, VNNI, predicted output ranges) over its weights file.</summary>
    [Benchmark]
    [BenchmarkCategory(Warm)]
    public float Int4A_Generated()
    {
        _int4a!.Run(_input, _output);
        return _output[0];
    }

    /// <summary>The generated int4 model over its embedded weights.</summary>
    [Benchmark]
    [BenchmarkCategory(Warm)]
    public float Int4_Generated()
    {
        _int4!.Run(_input, _output);
        return _output[0];
    }

    /// <summary>The generated base11 model over its embedded weights.</summary>
    [Benchmark]
    [BenchmarkCategory(Warm)]
    public float Base11_Generated()
    {
        _base11!.Run(_input, _output);
        return _output[0];
    }

    /// <summary>
    /// The base11 model in the "pairs" layout (3.625 bits per weight) with float activations (Base11PairsFloat: the
    /// VBMI decode of Base11A_Generated, indices widened to float, FMA with the input) over its weights file.
    /// </summary>
    [Benchmark]
    [BenchmarkCategory(Warm)]
    public float Base11P_Generated()
    {
        _base11p!.Run(_input, _output);
        return _output[0];
    }

    /// <summary>The generated ternary model over its embedded weights.</summary>
    [Benchmark]
    [BenchmarkCategory(Warm)]
    public float Ternary_Generated()
    {
        _ternary!.Run(_input, _output);
        return _output[0];
    }

    /// <summary>The generated f16 model (binary16 weights, float activations) over its weights file.</summary>
    [Benchmark]
    [BenchmarkCategory(Warm)]
    public float F16_Generated()
    {
        _f16!.Run(_input, _output);
        return _output[0];
    }

    /// <summary>The generated int1 model (sign x group mean |w|, group 128, float activations) over its weights file.</summary>
    [Benchmark]
    [BenchmarkCategory(Warm)]
    public float Int1_Generated()
    {
        _int1!.Run(_input, _output);
        return _output[0];
    }

    /// <summary>ONNX Runtime, f32 graph (Gemm transB=1), one thread, input/output pre-bound.</summary>
    [Benchmark]
    [BenchmarkCategory(Warm)]
    public float Ort_F32()
    {
        _ort!.Run();
        return _ortOutput[0];
    }

    /// <summary>ONNX Runtime, dynamic int8 graph (DynamicQuantizeLinear + MatMulInteger, per-channel int8 weights), one thread.</summary>
    [Benchmark]
    [BenchmarkCategory(Warm)]
    public float Ort_DynamicInt8()
    {
        _ort!.Run();
        return _ortOutput[0];
    }

    /// <summary>ONNX Runtime, com.microsoft MatMulNBits 4-bit (block 32, accuracy_level 4), one thread.</summary>
    [Benchmark]
    [BenchmarkCategory(Warm)]
    public float Ort_MatMulNBits4()
    {
        _ort!.Run();
        return _ortOutput[0];
    }

    // ---------------------------------------------------------------- cold

    [GlobalSetup(Target = nameof(F32_TensorPrimitivesDot_Cold))]
    public void SetupPlainCold()
    {
        using var master = PlainBigNet.Load(Paths.SafeTensors());
        _plainCopies = new PlainBigNet[ColdCopies(master.WeightBytes)];
        for (var k = 0; k < _plainCopies.Length; k++)
        {
            _plainCopies[k] = master.Clone();
            Verify($"plain copy {k}", _plainCopies[k].ForwardDot, 1e-3f);
        }

        Report(_plainCopies.Length, master.WeightBytes);
    }

    [GlobalSetup(Target = nameof(F32_Generated_Cold))]
    public void SetupF32Cold()
    {
        var bytes = BigNetF32.EmbeddedWeights.Bytes;
        _f32Copies = new BigNetF32[ColdCopies(BigNetF32.WeightBytes)];
        for (var k = 0; k < _f32Copies.Length; k++)
        {
            _f32Copies[k] = BigNetF32.FromBytes(bytes, $"copy {k}");
            Verify($"f32 copy {k}", _f32Copies[k].Run, 1e-3f);
        }

        Report(_f32Copies.Length, BigNetF32.WeightBytes);
    }

    [GlobalSetup(Target = nameof(Int8_Generated_Cold))]
    public void SetupInt8Cold()
    {
        var bytes = BigNetInt8.EmbeddedWeights.Bytes;
        _int8Copies = new BigNetInt8[ColdCopies(BigNetInt8.WeightBytes)];
        for (var k = 0; k < _int8Copies.Length; k++)
        {
            _int8Copies[k] = BigNetInt8.FromBytes(bytes, $"copy {k}");
            Verify($"int8 copy {k}", _int8Copies[k].Run, 1e-2f); // int8 vs f32 reference: quantization error
        }

        Report(_int8Copies.Length, BigNetInt8.WeightBytes);
    }

    [GlobalSetup(Target = nameof(Int8A_Generated_Cold))]
    public void SetupInt8ACold() =>
        _int8aCopies = LoadColdCopies(BigNetInt8A.WeightsFileName, BigNetInt8A.WeightBytes, (b, n) => BigNetInt8A.FromBytes(b, n), m => m.Run, "int8a", 5e-2f); // int8 weights and activations vs f32 reference

    [GlobalSetup(Target = nameof(Base11A_Generated_Cold))]
    public void SetupBase11ACold() =>
        _base11aCopies = LoadColdCopies(BigNetBase11A.WeightsFileName, BigNetBase11A.WeightBytes, (b, n) => BigNetBase11A.FromBytes(b, n), m => m.Run, "base11a", 2e-1f); // base11 weights (11 levels, 3.6 bits) and int8 activations vs f32 reference: 0.126 measured

    [GlobalSetup(Target = nameof(TernaryA_Generated_Cold))]
    public void SetupTernaryACold() =>
        _ternaryaCopies = LoadColdCopies(BigNetTernaryA.WeightsFileName, BigNetTernaryA.WeightBytes, (b, n) => BigNetTernaryA.FromBytes(b, n), m => m.Run, "ternarya", 6e-1f); // ternary weights (1.75 bits) and int8 activations vs f32 reference: 0.480 measured (the ternary float-activation model: 0.478)

    [GlobalSetup(Target = nameof(Int8ARow_Generated_Cold))]
    public void SetupInt8ARowCold() =>
        _int8arowCopies = LoadColdCopies(BigNetInt8ARow.WeightsFileName, BigNetInt8ARow.WeightBytes, (b, n) => BigNetInt8ARow.FromBytes(b, n), m => m.Run, "int8arow", 5e-2f); // int8 weights (a scale per row) and activations vs f32 reference

    [GlobalSetup(Target = nameof(Int8Chain_Generated_Cold))]
    public void SetupInt8ChainCold() =>
        _int8chainCopies = LoadColdCopies(BigNetInt8Chain.WeightsFileName, BigNetInt8Chain.WeightBytes, (b, n) => BigNetInt8Chain.FromBytes(b, n), m => m.Run, "int8chain", 5e-2f); // int8 weights and activations vs f32 reference

    [GlobalSetup(Target = nameof(Int4A_Generated_Cold))]
    public void SetupInt4ACold() =>
        _int4aCopies = LoadColdCopies(BigNetInt4A.WeightsFileName, BigNetInt4A.WeightBytes, (b, n) => BigNetInt4A.FromBytes(b, n), m => m.Run, "int4a", 1e-1f); // int4 weights and int8 activations vs f32 reference

    [GlobalSetup(Target = nameof(F16_Generated_Cold))]
    public void SetupF16Cold() =>
        _f16Copies = LoadColdCopiesOfOne(System.IO.File.ReadAllBytes(System.IO.Path.Combine(AppContext.BaseDirectory, BigNetF16.WeightsFileName)), BigNetF16.WeightBytes, (b, n) => BigNetF16.FromBytes(b, n), m => m.Run, "f16");

    [GlobalSetup(Target = nameof(Int1_Generated_Cold))]
    public void SetupInt1Cold() =>
        _int1Copies = LoadColdCopiesOfOne(System.IO.File.ReadAllBytes(System.IO.Path.Combine(AppContext.BaseDirectory, BigNetInt1.WeightsFileName)), BigNetInt1.WeightBytes, (b, n) => BigNetInt1.FromBytes(b, n), m => m.Run, "int1");

    [GlobalSetup(Target = nameof(Int4_Generated_Cold))]
    public void SetupInt4Cold() =>
        _int4Copies = LoadColdCopiesOfOne(BigNetInt4.EmbeddedWeights.Bytes.ToArray(), BigNetInt4.WeightBytes, (b, n) => BigNetInt4.FromBytes(b, n), m => m.Run, "int4");

    [GlobalSetup(Target = nameof(Base11P_Generated_Cold))]
    public void SetupBase11PCold() =>
        _base11pCopies = LoadColdCopies(BigNetBase11P.WeightsFileName, BigNetBase11P.WeightBytes, (b, n) => BigNetBase11P.FromBytes(b, n), m => m.Run, "base11p", 2e-1f); // base11 weights (11 levels, 3.6 bits), float activations vs f32 reference: 0.124 measured (the words layout: the same)

    [GlobalSetup(Target = nameof(Base11_Generated_Cold))]
    public void SetupBase11Cold() =>
        _base11Copies = LoadColdCopiesOfOne(BigNetBase11.EmbeddedWeights.Bytes.ToArray(), BigNetBase11.WeightBytes, (b, n) => BigNetBase11.FromBytes(b, n), m => m.Run, "base11");

    [GlobalSetup(Target = nameof(Ternary_Generated_Cold))]
    public void SetupTernaryCold() =>
        _ternaryCopies = LoadColdCopiesOfOne(BigNetTernary.EmbeddedWeights.Bytes.ToArray(), BigNetTernary.WeightBytes, (b, n) => BigNetTernary.FromBytes(b, n), m => m.Run, "ternary");

    /// <summary>Generated f16, each invocation on the next copy of the weights.</summary>
    [Benchmark]
    [BenchmarkCategory(Cold)]
    public float F16_Generated_Cold() => RunNext(_f16Copies, static (m, x, y) => m.Run(x, y));

    /// <summary>Generated int1, each invocation on the next copy of the weights.</summary>
    [Benchmark]
    [BenchmarkCategory(Cold)]
    public float Int1_Generated_Cold() => RunNext(_int1Copies, static (m, x, y) => m.Run(x, y));

    /// <summary>Generated int4 (float activations), each invocation on the next copy of the weights.</summary>
    [Benchmark]
    [BenchmarkCategory(Cold)]
    public float Int4_Generated_Cold() => RunNext(_int4Copies, static (m, x, y) => m.Run(x, y));

    /// <summary>Generated base11 (float activations), each invocation on the next copy of the weights.</summary>
    [Benchmark]
    [BenchmarkCategory(Cold)]
    public float Base11_Generated_Cold() => RunNext(_base11Copies, static (m, x, y) => m.Run(x, y));

    /// <summary>Generated base11 pairs (float activations), each invocation on the next copy of the weights.</summary>
    [Benchmark]
    [BenchmarkCategory(Cold)]
    public float Base11P_Generated_Cold() => RunNext(_base11pCopies, static (m, x, y) => m.Run(x, y));

    /// <summary>Generated ternary (float activations), each invocation on the next copy of the weights.</summary>
    [Benchmark]
    [BenchmarkCategory(Cold)]
    public float Ternary_Generated_Cold() => RunNext(_ternaryCopies, static (m, x, y) => m.Run(x, y));

    private delegate void RunOn<T>(T model, ReadOnlySpan<float> input, Span<float> output);

    private float RunNext<T>(T[] copies, RunOn<T> run)
    {
        var k = _next;
        _next = k + 1 == copies.Length ? 0 : k + 1;
        run(copies[k], _input, _output);
        return _output[0];
    }

    /// <summary>TensorPrimitives forward pass, each invocation on the next copy of the weights.</summary>
    [Benchmark]
    [BenchmarkCategory(Cold)]
    public float F32_TensorPrimitivesDot_Cold()
    {
        var copies = _plainCopies;
        var k = _next;
        _next = k + 1 == copies.Length ? 0 : k + 1;
        copies[k].ForwardDot(_input, _output);
        return _output[0];
    }

    /// <summary>Generated f32, each invocation on the next copy of the weights (FromBytes: 64-byte aligned native memory).</summary>
    [Benchmark]
    [BenchmarkCategory(Cold)]
    public float F32_Generated_Cold() => RunNext(_f32Copies, static (m, x, y) => m.Run(x, y));

    /// <summary>Generated int8, each invocation on the next copy of the weights.</summary>
    [Benchmark]
    [BenchmarkCategory(Cold)]
    public float Int8_Generated_Cold() => RunNext(_int8Copies, static (m, x, y) => m.Run(x, y));

    /// <summary>Generated int8 with int8 activations, each invocation on the next copy of the weights.</summary>
    [Benchmark]
    [BenchmarkCategory(Cold)]
    public float Int8A_Generated_Cold() => RunNext(_int8aCopies, static (m, x, y) => m.Run(x, y));

    /// <summary>Generated base11 pairs x int8 activations, each invocation on the next copy of the weights.</summary>
    [Benchmark]
    [BenchmarkCategory(Cold)]
    public float Base11A_Generated_Cold() => RunNext(_base11aCopies, static (m, x, y) => m.Run(x, y));

    /// <summary>Generated ternary x int8 activations, each invocation on the next copy of the weights.</summary>
    [Benchmark]
    [BenchmarkCategory(Cold)]
    public float TernaryA_Generated_Cold() => RunNext(_ternaryaCopies, static (m, x, y) => m.Run(x, y));

    /// <summary>Generated int8 x int8 with a weight scale per row, each invocation on the next copy of the weights.</summary>
    [Benchmark]
    [BenchmarkCategory(Cold)]
    public float Int8ARow_Generated_Cold() => RunNext(_int8arowCopies, static (m, x, y) => m.Run(x, y));

    /// <summary>Generated int8 x int8 with the residual stream in codes, each invocation on the next copy of the weights.</summary>
    [Benchmark]
    [BenchmarkCategory(Cold)]
    public float Int8Chain_Generated_Cold() => RunNext(_int8chainCopies, static (m, x, y) => m.Run(x, y));

    /// <summary>Generated int4 with int8 activations, each invocation on the next copy of the weights.</summary>
    [Benchmark]
    [BenchmarkCategory(Cold)]
    public float Int4A_Generated_Cold() => RunNext(_int4aCopies, static (m, x, y) => m.Run(x, y));

    [GlobalSetup(Target = nameof(Ort_DynamicInt8_Cold))]
    public void SetupOrtDynamicInt8Cold() => SetupOrtCold(OrtFormat.DynamicInt8, OrtInt8Tolerance);

    [GlobalSetup(Target = nameof(Ort_F32_Cold))]
    public void SetupOrtF32Cold() => SetupOrtCold(OrtFormat.F32, OrtF32Tolerance);

    [GlobalSetup(Target = nameof(Ort_MatMulNBits4_Cold))]
    public void SetupOrtMatMulNBits4Cold() => SetupOrtCold(OrtFormat.MatMulNBits4, OrtInt4Tolerance);

    /// <summary>K sessions of one ONNX Runtime graph, each holding its own copy of the weights (K from the LLC size).</summary>
    private void SetupOrtCold(OrtFormat format, float tolerance)
    {
        var model = OrtBigNet.BuildModel(format, OrtBigNet.ReadTensors(Paths.SafeTensors()));
        var bytes = OrtBigNet.WeightBytes(format);
        _ortCopies = new OrtBigNet[ColdCopies(bytes)];
        for (var k = 0; k < _ortCopies.Length; k++)
        {
            _ortCopies[k] = OrtBigNet.FromModel(format, model, _input, _ortOutput);
        }

        Verify($"ORT {format} copy 0", (x, y) => { _ortCopies[0].Run(); _ortOutput.CopyTo(y); }, tolerance);
        Report(_ortCopies.Length, bytes);
    }

    /// <summary>ONNX Runtime dynamic int8, each invocation on the next of K sessions (each holds its own copy of the weights).</summary>
    [Benchmark]
    [BenchmarkCategory(Cold)]
    public float Ort_DynamicInt8_Cold() => RunNextOrtCopy();

    /// <summary>ONNX Runtime f32 (Gemm), each invocation on the next of K sessions.</summary>
    [Benchmark]
    [BenchmarkCategory(Cold)]
    public float Ort_F32_Cold() => RunNextOrtCopy();

    /// <summary>ONNX Runtime MatMulNBits 4-bit (block 32, accuracy_level 4), each invocation on the next of K sessions.</summary>
    [Benchmark]
    [BenchmarkCategory(Cold)]
    public float Ort_MatMulNBits4_Cold() => RunNextOrtCopy();

    private float RunNextOrtCopy()
    {
        var copies = _ortCopies;
        var k = _next;
        _next = k + 1 == copies.Length ? 0 : k + 1;
        copies[k].Run();
        return _ortOutput[0];
    }

    // ---------------------------------------------------------------- DRAM probe

    [GlobalSetup(Target = nameof(Dram_ReadBandwidth))]
    public void SetupProbe()
    {
        _probe = new ReadBandwidthProbe(ProbeBytes);
        Console.WriteLine($"// probe buffer {MachineInfo.Mib(ProbeBytes)}, LLC {MachineInfo.Mib(MachineInfo.LlcBytes)} ({MachineInfo.LlcSource})");
    }

    /// <summary>Single-thread sequential read of <see cref="ProbeBytes"/> with 8 vector accumulators.</summary>
    [Benchmark]
    [BenchmarkCategory(Probe)]
    public uint Dram_ReadBandwidth() => _probe!.Sum();

    private static void DisposeAll<T>(ref T[] copies)
        where T : IDisposable
    {
        foreach (var c in copies)
        {
            c.Dispose();
        }

        copies = Array.Empty<T>();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _plain?.Dispose();
        _f32?.Dispose();
        _int8?.Dispose();
        _int4?.Dispose();
        _base11?.Dispose();
        _base11p?.Dispose();
        _ternary?.Dispose();
        _f16?.Dispose();
        _int1?.Dispose();
        DisposeAll(ref _f16Copies);
        DisposeAll(ref _int1Copies);
        DisposeAll(ref _int4Copies);
        DisposeAll(ref _base11Copies);
        DisposeAll(ref _base11pCopies);
        DisposeAll(ref _ternaryCopies);
        _ort?.Dispose();
        _int8a?.Dispose();
        _int8arow?.Dispose();
        foreach (var c in _int8arowCopies)
        {
            c.Dispose();
        }

        _int8arowCopies = Array.Empty<BigNetInt8ARow>();
        _int8chain?.Dispose();
        foreach (var c in _int8chainCopies)
        {
            c.Dispose();
        }

        _int8chainCopies = Array.Empty<BigNetInt8Chain>();
        _int4a?.Dispose();
        foreach (var c in _int4aCopies)
        {
            c.Dispose();
        }

        _int4aCopies = Array.Empty<BigNetInt4A>();
        foreach (var c in _plainCopies)
        {
            c.Dispose();
        }

        foreach (var c in _int8aCopies)
        {
            c.Dispose();
        }

        foreach (var c in _ortCopies)
        {
            c.Dispose();
        }

        _int8aCopies = Array.Empty<BigNetInt8A>();
        _base11a?.Dispose();
        foreach (var c in _base11aCopies)
        {
            c.Dispose();
        }

        _base11aCopies = Array.Empty<BigNetBase11A>();
        _ortCopies = Array.Empty<OrtBigNet>();

        foreach (var c in _f32Copies)
        {
            c.Dispose();
        }

        foreach (var c in _int8Copies)
        {
            c.Dispose();
        }

        _probe?.Dispose();
    }

    // ---------------------------------------------------------------- helpers

    private delegate void Forward(ReadOnlySpan<float> input, Span<float> output);

    private static float[] CreateInput()
    {
        var input = new float[PlainBigNet.Dim];
        var rng = new Random(7);
        for (var i = 0; i < input.Length; i++)
        {
            input[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        return input;
    }

    private static float[]? s_expected;

    /// <summary>Checks a forward pass against the generated f32 model (so every row computes the same function).</summary>
    /// <summary>
    /// Opens <see cref="ColdCopies"/> independent copies of a generated model's weights file (the one the build placed
    /// beside the program), each checked against the f32 model within <paramref name="tolerance"/>, and reports them.
    /// </summary>
    private T[] LoadColdCopies<T>(string weightsFileName, long weightBytes, Func<byte[], string, T> fromBytes, Func<T, Forward> run, string label, float tolerance)
    {
        var bytes = System.IO.File.ReadAllBytes(System.IO.Path.Combine(AppContext.BaseDirectory, weightsFileName));
        var copies = new T[ColdCopies(weightBytes)];
        for (var k = 0; k < copies.Length; k++)
        {
            copies[k] = fromBytes(bytes, $"copy {k}");
            Verify($"{label} copy {k}", run(copies[k]), tolerance);
        }

        Report(copies.Length, weightBytes);
        return copies;
    }

    /// <summary>
    /// <see cref="ColdCopies"/> independent copies of one model's weights (for formats whose error against the f32 model
    /// is large): copy 0 is reported against the plain f32 pass, every other copy must give copy 0's output exactly.
    /// </summary>
    private T[] LoadColdCopiesOfOne<T>(byte[] bytes, long weightBytes, Func<byte[], string, T> fromBytes, Func<T, Forward> run, string label)
    {
        var copies = new T[ColdCopies(weightBytes)];
        var first = new float[PlainBigNet.Dim];
        var other = new float[PlainBigNet.Dim];
        for (var k = 0; k < copies.Length; k++)
        {
            copies[k] = fromBytes(bytes, $"copy {k}");
            if (k == 0)
            {
                ReportDifference($"{label} copy 0", run(copies[0]));
                run(copies[0])(_input, first);
                continue;
            }

            run(copies[k])(_input, other);
            if (!first.AsSpan().SequenceEqual(other))
            {
                throw new InvalidOperationException($"{label} copy {k}: output differs from copy 0");
            }
        }

        Report(copies.Length, weightBytes);
        return copies;
    }

    private void Verify(string name, Forward forward, float tolerance)
    {
        if (s_expected is null)
        {
            using var reference = new BigNetF32();
            s_expected = new float[BigNetF32.OutputLength];
            reference.Run(_input, s_expected);
        }

        var actual = new float[PlainBigNet.Dim];
        forward(_input, actual);
        var max = 0f;
        for (var i = 0; i < actual.Length; i++)
        {
            max = MathF.Max(max, MathF.Abs(actual[i] - s_expected[i]));
        }

        if (!(max <= tolerance))
        {
            throw new InvalidOperationException($"{name}: max |difference| against BigNetF32 is {max:E2} > {tolerance:E2}");
        }
    }

    /// <summary>Max |ORT − PlainBigNet.ForwardDot| allowed for the f32 graph (same arithmetic, different summation order).</summary>
    public const float OrtF32Tolerance = 1e-3f;

    /// <summary>The same for dynamic int8 (8-bit activations per tensor and 8-bit weights per channel).</summary>
    public const float OrtInt8Tolerance = 0.05f;

    /// <summary>The same for MatMulNBits (4-bit weights per block of 32, int8 activations per block at accuracy_level 4).</summary>
    public const float OrtInt4Tolerance = 0.25f;

    /// <summary>Builds and opens the ORT graph of <paramref name="format"/>, prints the optimized graph's ops and checks it against the plain f32 forward pass.</summary>
    private void SetupOrt(OrtFormat format, float tolerance)
    {
        var path = Paths.SafeTensors();
        Console.WriteLine($"// ORT {OrtEnv.Instance().GetVersionString()} {format}: optimized graph {OrtBigNet.OptimizedOps(format, path)}");
        _ort = OrtBigNet.Create(format, path, _input, _ortOutput);
        var expected = new float[PlainBigNet.Dim];
        using (var plain = PlainBigNet.Load(path))
        {
            plain.ForwardDot(_input, expected);
        }

        Array.Clear(_ortOutput);
        _ort.Run();
        var (max, scale) = Difference(expected, _ortOutput);
        Console.WriteLine($"// ORT {format}: max |ORT - PlainBigNet| = {max:E2} (max |reference| {scale:F3}, tolerance {tolerance:E1}), {OrtBigNet.WeightBytes(format):N0} initializer bytes");
        if (!(max <= tolerance))
        {
            throw new InvalidOperationException($"ORT {format}: max |difference| against PlainBigNet is {max:E2} > {tolerance:E2}: the graph does not compute BigNet");
        }
    }

    /// <summary>Prints (does not check) how far a quantized generated model is from the plain f32 forward pass.</summary>
    private void ReportDifference(string name, Forward forward)
    {
        var expected = new float[PlainBigNet.Dim];
        using (var plain = PlainBigNet.Load(Paths.SafeTensors()))
        {
            plain.ForwardDot(_input, expected);
        }

        var actual = new float[PlainBigNet.Dim];
        forward(_input, actual);
        var (max, scale) = Difference(expected, actual);
        Console.WriteLine($"// {name}: max |generated - PlainBigNet| = {max:E2} (max |reference| {scale:F3})");
    }

    private static (float Max, float Scale) Difference(float[] expected, float[] actual)
    {
        var max = 0f;
        var scale = 0f;
        for (var i = 0; i < expected.Length; i++)
        {
            max = MathF.Max(max, MathF.Abs(actual[i] - expected[i]));
            scale = MathF.Max(scale, MathF.Abs(expected[i]));
        }

        return (float.IsFinite(max) ? max : float.NaN, scale);
    }

    private static void Report(int copies, long bytesPerCopy) =>
        Console.WriteLine($"// cold rotation: {copies} copies x {MachineInfo.Mib(bytesPerCopy)} = {MachineInfo.Mib(copies * bytesPerCopy)} " +
            $"(>= {ColdSetFactor} x LLC {MachineInfo.Mib(MachineInfo.LlcBytes)}, {MachineInfo.LlcSource})");

    private static long RoundUp(long value, long multiple) => (value + multiple - 1) / multiple * multiple;
}
