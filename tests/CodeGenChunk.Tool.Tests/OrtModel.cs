using System;
using System.Linq;
using Microsoft.ML.OnnxRuntime;

namespace CodeGenChunk.Tool.Tests;

/// <summary>An ONNX model run by ONNX Runtime on one thread: one float input, the first output.</summary>
internal sealed class OrtModel : IDisposable
{
    private readonly InferenceSession _session;
    private readonly long[] _inputShape;

    public OrtModel(byte[] model, params long[] inputShape)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        _session = new InferenceSession(model, options);
        _inputShape = inputShape;
    }

    public float[] Run(float[] input)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(input, _inputShape);
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, new[] { _session.InputNames[0] }, new[] { value }, new[] { _session.OutputNames[0] });
        return outputs.First().GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose() => _session.Dispose();
}
