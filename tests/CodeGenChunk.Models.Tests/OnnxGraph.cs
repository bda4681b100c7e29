using System;
using System.IO;
using System.Linq;
using CodeGenChunk.Formats;
using CodeGenChunk.Model.Manifest;
using CodeGenChunk.Onnx;
using CodeGenChunk.Tool.SafeTensors;
using DataType = CodeGenChunk.Onnx.Ir.TensorProto.Types.DataType;

namespace CodeGenChunk.Models.Tests;

/// <summary>
/// A manifest as an ONNX graph (opset 17, batch 1) over the same weights, for ONNX Runtime to check the generated
/// model against: conv2d → Conv, maxpool → MaxPool, relu → Relu, residual → Add, flatten → Reshape [1, N],
/// linear → Gemm (transB), softmax → Softmax. Input "x" is [1, C, H, W] (or [1, N]), output "y" is [1, OutputLength].
/// Quantized layers get the weights as their format stores them (packed, then decoded by the reference decoder), so
/// ONNX Runtime computes with exactly the weights the generated kernels use.
/// </summary>
internal static class OnnxGraph
{
    public static byte[] Build(string manifestPath, int outputLength, out long[] inputShape)
    {
        var spec = ManifestParser.Parse(manifestPath, File.ReadAllText(manifestPath)).Spec
            ?? throw new InvalidOperationException("Manifest does not parse: " + manifestPath);
        var weights = SafeTensorsFile.Read(Path.Combine(Path.GetDirectoryName(manifestPath)!, spec.Weights.Source));
        float[] Tensor(string name) => weights.GetFloats(weights.Tensors[name]).ToArray();

        var b = new OnnxModelBuilder(spec.Model, opset: 17);
        inputShape = new long[] { 1 }.Concat(spec.InputShape.Select(d => (long)d)).ToArray();
        b.AddInput("x", DataType.Float, inputShape);

        var current = "x";
        var outputs = new System.Collections.Generic.Dictionary<string, string>(StringComparer.Ordinal) { ["input"] = "x" };
        foreach (var l in spec.Layers)
        {
            var output = "t_" + l.Name;
            switch (l.Op)
            {
                case Ops.Conv2d:
                {
                    var f = l.FilterLength;
                    var w = WeightFormats.RoundTrip(l.Quant!.Format, Tensor(l.WeightsPrefix + ".weight"), l.OutChannels, f, l.Quant.GroupSize);
                    b.AddInitializer(l.Name + ".weight", w, l.OutChannels, l.InChannels, l.KernelH, l.KernelW);
                    var bias = l.Bias ? b.AddInitializer(l.Name + ".bias", Tensor(l.WeightsPrefix + ".bias"), l.OutChannels) : null;
                    current = b.Conv(current, l.Name + ".weight", bias, output, new[] { l.KernelH, l.KernelW }, new[] { l.StrideH, l.StrideW }, new[] { l.PadTop, l.PadLeft, l.PadBottom, l.PadRight });
                    break;
                }

                case Ops.MaxPool:
                    current = b.MaxPool(current, output, new[] { l.KernelH, l.KernelW }, new[] { l.StrideH, l.StrideW }, new[] { l.PadTop, l.PadLeft, l.PadBottom, l.PadRight });
                    break;
                case Ops.Relu:
                    current = b.Relu(current, output);
                    break;
                case Ops.Residual:
                    current = b.Add(current, outputs[l.From!], output);
                    break;
                case Ops.Flatten:
                    current = b.Reshape(current, output, 1, -1);
                    break;
                case Ops.Softmax:
                    current = b.Softmax(current, output, -1);
                    break;
                case Ops.Linear:
                {
                    var w = WeightFormats.RoundTrip(l.Quant!.Format, Tensor(l.WeightsPrefix + ".weight"), l.Out, l.In, l.Quant.GroupSize);
                    b.AddInitializer(l.Name + ".weight", w, l.Out, l.In);
                    var bias = l.Bias ? b.AddInitializer(l.Name + ".bias", Tensor(l.WeightsPrefix + ".bias"), l.Out) : null;
                    current = b.Gemm(current, l.Name + ".weight", bias, output);
                    break;
                }

                default:
                    throw new NotSupportedException("No ONNX peer for op " + l.Op);
            }

            outputs[l.Name] = current;
        }

        // The graph output has a fixed name and shape [1, N], whatever the last layer's shape.
        b.Reshape(current, "y", 1, -1);
        b.AddOutput("y", DataType.Float, 1, outputLength);
        return b.ToByteArray();
    }
}
