using System;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;

namespace CodeGenChunk.Tool.Eval;

/// <summary>
/// The original ONNX model run by ONNX Runtime on one thread: the reference <c>cgc eval --onnx</c> compares top-1 with.
/// One float input (dynamic dimensions taken as 1), the first output.
/// </summary>
public sealed class OrtReference : IDisposable
{
    private readonly InferenceSession _session;
    private readonly long[] _shape;
    private readonly string _input;
    private readonly string _output;

    private OrtReference(InferenceSession session, long[] shape)
    {
        _session = session;
        _shape = shape;
        _input = session.InputNames[0];
        _output = session.OutputNames[0];
        InputLength = (int)shape.Aggregate(1L, (a, d) => a * d);
        OutputLength = (int)session.OutputMetadata[_output].Dimensions.Aggregate(1L, (a, d) => a * Math.Max(d, 1));
    }

    public int InputLength { get; }

    public int OutputLength { get; }

    public static OrtReference Open(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: the ONNX model does not exist", path);
        }

        InferenceSession session;
        try
        {
            using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
            session = new InferenceSession(path, options);
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException)
        {
            throw new InvalidOperationException(
                $"{path}: ONNX Runtime's native library is not available to cgc ({ex.GetBaseException().Message.Split('\n')[0].Trim()}). The repository build of cgc carries it; "
                + "the CodeGenChunk package leaves it out to stay small: copy libonnxruntime from the Microsoft.ML.OnnxRuntime 1.31.1 package beside cgc.dll, or omit --onnx.",
                ex);
        }

        var meta = session.InputMetadata[session.InputNames[0]];
        if (meta.ElementType != typeof(float))
        {
            session.Dispose();
            throw new InvalidDataException($"{path}: input '{session.InputNames[0]}' is {meta.ElementType.Name}; cgc eval feeds float32");
        }

        var shape = meta.Dimensions.Select(d => d > 0 ? (long)d : 1L).ToArray();
        return new OrtReference(session, shape);
    }

    public void Run(float[] input, float[] output)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(input, _shape);
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, new[] { _input }, new[] { value }, new[] { _output });
        var result = outputs[0].GetTensorDataAsSpan<float>();
        if (result.Length != output.Length)
        {
            throw new InvalidDataException($"ONNX Runtime's output '{_output}' has {result.Length} values; the generated model has {output.Length}");
        }

        result.CopyTo(output);
    }

    public void Dispose() => _session.Dispose();
}
