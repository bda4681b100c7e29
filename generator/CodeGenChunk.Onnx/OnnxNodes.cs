using System;
using System.Collections.Generic;

namespace CodeGenChunk.Onnx;

/// <summary>
/// Typed helpers over <see cref="OnnxModelBuilder.AddNode"/> for the default-domain operators of small CNNs and MLPs
/// (Conv, MaxPool, Relu, Reshape, Softmax, Gemm, Add), with their attributes spelled out the way ONNX names them.
/// </summary>
public static class OnnxNodes
{
    /// <summary>
    /// <c>Conv</c> (dilation 1, group 1): <paramref name="input"/> [N, C, H, W] with weights [M, C, kH, kW] and an optional
    /// bias [M]. <paramref name="pads"/> is ONNX's [top, left, bottom, right] (x1_begin, x2_begin, x1_end, x2_end).
    /// </summary>
    public static string Conv(this OnnxModelBuilder builder, string input, string weights, string? bias, string output, int[] kernel, int[] strides, int[] pads)
    {
        ArgumentNullException.ThrowIfNull(builder);
        CheckPair(kernel, nameof(kernel));
        CheckPair(strides, nameof(strides));
        CheckPads(pads);
        var inputs = bias is null ? new[] { input, weights } : new[] { input, weights, bias };
        builder.AddNode("Conv", inputs, new[] { output }, new Dictionary<string, object>
        {
            ["kernel_shape"] = kernel,
            ["strides"] = strides,
            ["pads"] = pads,
            ["dilations"] = new[] { 1, 1 },
            ["group"] = 1,
        });
        return output;
    }

    /// <summary><c>MaxPool</c> (floor mode, dilation 1); padded cells are -infinity, so they never win.</summary>
    public static string MaxPool(this OnnxModelBuilder builder, string input, string output, int[] kernel, int[] strides, int[] pads)
    {
        ArgumentNullException.ThrowIfNull(builder);
        CheckPair(kernel, nameof(kernel));
        CheckPair(strides, nameof(strides));
        CheckPads(pads);
        builder.AddNode("MaxPool", new[] { input }, new[] { output }, new Dictionary<string, object>
        {
            ["kernel_shape"] = kernel,
            ["strides"] = strides,
            ["pads"] = pads,
            ["ceil_mode"] = 0,
        });
        return output;
    }

    /// <summary><c>Relu</c>.</summary>
    public static string Relu(this OnnxModelBuilder builder, string input, string output)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddNode("Relu", new[] { input }, new[] { output });
        return output;
    }

    /// <summary><c>Add</c> of two tensors of the same shape.</summary>
    public static string Add(this OnnxModelBuilder builder, string a, string b, string output)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddNode("Add", new[] { a, b }, new[] { output });
        return output;
    }

    /// <summary><c>Reshape</c> to a fixed <paramref name="shape"/>, given as an int64 initializer named <c>{output}.shape</c>.</summary>
    public static string Reshape(this OnnxModelBuilder builder, string input, string output, params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(shape);
        var shapeName = builder.AddInitializer(output + ".shape", shape, shape.Length);
        builder.AddNode("Reshape", new[] { input, shapeName }, new[] { output });
        return output;
    }

    /// <summary><c>Softmax</c> along <paramref name="axis"/> (opset 13+: that axis alone).</summary>
    public static string Softmax(this OnnxModelBuilder builder, string input, string output, long axis = -1)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddNode("Softmax", new[] { input }, new[] { output }, new Dictionary<string, object> { ["axis"] = axis });
        return output;
    }

    /// <summary><c>Gemm</c> with transB = 1: y = x Wᵀ (+ bias), x [N, K], W [M, K] (the PyTorch Linear layout).</summary>
    public static string Gemm(this OnnxModelBuilder builder, string input, string weights, string? bias, string output)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var inputs = bias is null ? new[] { input, weights } : new[] { input, weights, bias };
        builder.AddNode("Gemm", inputs, new[] { output }, new Dictionary<string, object> { ["transB"] = 1L });
        return output;
    }

    private static void CheckPair(int[] values, string name)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.Length != 2)
        {
            throw new ArgumentException($"'{name}' needs 2 values [height, width]; got {values.Length}.", name);
        }
    }

    private static void CheckPads(int[] pads)
    {
        ArgumentNullException.ThrowIfNull(pads);
        if (pads.Length != 4)
        {
            throw new ArgumentException($"'pads' needs 4 values [top, left, bottom, right]; got {pads.Length}.", nameof(pads));
        }
    }
}
