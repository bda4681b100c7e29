using System;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using CodeGenChunk.Benchmarks.Routing;

namespace CodeGenChunk.Benchmarks;

/// <summary>
/// Top-k chunk routing on Linear(1024, 1024), C = 12, k = 3 (docs/routing.md), against the dense kernel of
/// the same format in the same run. The ".none" variants route the same way but skip every chunk (their
/// minActivity is unreachable): their time is activity estimation + top-k selection + writing the skipped rows.
/// Run: dotnet run -c Release --project tests/CodeGenChunk.Benchmarks -- --routing
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class RoutingBenchmarks
{
    private readonly float[] _input = new float[1024];
    private readonly float[] _output = new float[1024];
    private RoutingDenseInt8 _denseInt8 = null!;
    private RoutingInputInt8 _inputInt8 = null!;
    private RoutingInputNoneInt8 _inputNoneInt8 = null!;
    private RoutingProxyInt8 _proxyInt8 = null!;
    private RoutingProxyNoneInt8 _proxyNoneInt8 = null!;
    private RoutingProxyBitsInt8 _proxyBitsInt8 = null!;
    private RoutingProxyBitsNoneInt8 _proxyBitsNoneInt8 = null!;
    private RoutingExactInt8 _exactInt8 = null!;
    private RoutingDenseF32 _denseF32 = null!;
    private RoutingInputF32 _inputF32 = null!;
    private RoutingInputNoneF32 _inputNoneF32 = null!;
    private RoutingProxyF32 _proxyF32 = null!;
    private RoutingProxyNoneF32 _proxyNoneF32 = null!;
    private RoutingExactF32 _exactF32 = null!;

    [GlobalSetup]
    public void Setup()
    {
        // Activations as they look after a ReLU: a tenth zeros, the rest spread over [0, 2).
        var rng = new Random(12);
        for (var i = 0; i < _input.Length; i++)
        {
            _input[i] = rng.Next(10) == 0 ? 0f : (float)(rng.NextDouble() * 2);
        }

        _denseInt8 = new RoutingDenseInt8();
        _inputInt8 = new RoutingInputInt8();
        _inputNoneInt8 = new RoutingInputNoneInt8();
        _proxyInt8 = new RoutingProxyInt8();
        _proxyNoneInt8 = new RoutingProxyNoneInt8();
        _proxyBitsInt8 = new RoutingProxyBitsInt8();
        _proxyBitsNoneInt8 = new RoutingProxyBitsNoneInt8();
        _exactInt8 = new RoutingExactInt8();
        _denseF32 = new RoutingDenseF32();
        _inputF32 = new RoutingInputF32();
        _inputNoneF32 = new RoutingInputNoneF32();
        _proxyF32 = new RoutingProxyF32();
        _proxyNoneF32 = new RoutingProxyNoneF32();
        _exactF32 = new RoutingExactF32();
    }

    [Benchmark(Baseline = true, Description = "dense")]
    [BenchmarkCategory("int8")]
    public void DenseInt8() => _denseInt8.Run(_input, _output);

    [Benchmark(Description = "input k=3")]
    [BenchmarkCategory("int8")]
    public void InputInt8() => _inputInt8.Run(_input, _output);

    [Benchmark(Description = "input estimate+select only")]
    [BenchmarkCategory("int8")]
    public void InputNoneInt8() => _inputNoneInt8.Run(_input, _output);

    [Benchmark(Description = "proxy (ternary rank-4 sketch) k=3")]
    [BenchmarkCategory("int8")]
    public void ProxyInt8() => _proxyInt8.Run(_input, _output);

    [Benchmark(Description = "proxy (ternary rank-4 sketch) estimate+select only")]
    [BenchmarkCategory("int8")]
    public void ProxyNoneInt8() => _proxyNoneInt8.Run(_input, _output);

    [Benchmark(Description = "proxy (default: int1 rank-2 sketch) k=3")]
    [BenchmarkCategory("int8")]
    public void ProxyBitsInt8() => _proxyBitsInt8.Run(_input, _output);

    [Benchmark(Description = "proxy (default: int1 rank-2 sketch) estimate+select only")]
    [BenchmarkCategory("int8")]
    public void ProxyBitsNoneInt8() => _proxyBitsNoneInt8.Run(_input, _output);

    [Benchmark(Description = "exact k=3")]
    [BenchmarkCategory("int8")]
    public void ExactInt8() => _exactInt8.Run(_input, _output);

    [Benchmark(Baseline = true, Description = "dense")]
    [BenchmarkCategory("f32")]
    public void DenseF32() => _denseF32.Run(_input, _output);

    [Benchmark(Description = "input k=3")]
    [BenchmarkCategory("f32")]
    public void InputF32() => _inputF32.Run(_input, _output);

    [Benchmark(Description = "input estimate+select only")]
    [BenchmarkCategory("f32")]
    public void InputNoneF32() => _inputNoneF32.Run(_input, _output);

    [Benchmark(Description = "proxy k=3")]
    [BenchmarkCategory("f32")]
    public void ProxyF32() => _proxyF32.Run(_input, _output);

    [Benchmark(Description = "proxy estimate+select only")]
    [BenchmarkCategory("f32")]
    public void ProxyNoneF32() => _proxyNoneF32.Run(_input, _output);

    [Benchmark(Description = "exact k=3")]
    [BenchmarkCategory("f32")]
    public void ExactF32() => _exactF32.Run(_input, _output);
}
