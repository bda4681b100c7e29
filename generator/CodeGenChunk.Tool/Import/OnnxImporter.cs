using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using CodeGenChunk.Onnx.Ir;
using Google.Protobuf;
using DataType = CodeGenChunk.Onnx.Ir.TensorProto.Types.DataType;

namespace CodeGenChunk.Tool.Import;

/// <summary>
/// Turns an ONNX graph (batch 1, float32) into manifest layers and their float tensors.
/// </summary>
/// <remarks>
/// The graph is walked in node order (ONNX requires topological order). Every value is either a constant
/// (initializer, Constant node, or a Reshape/Flatten/Identity of constants, folded here) or an activation. An activation
/// remembers its position: the number of layers emitted when it was produced. A layer may only read the current
/// activation (position = layers emitted so far), so the graph must be a chain; the one exception is a residual Add,
/// whose second operand is an earlier layer's output. An Add of a constant that broadcasts per output feature (linear)
/// or per channel (conv2d) is folded into the bias of the layer that produced the current activation; the values
/// before the bias are then stale and may not be read again. Activations are stored CHW without the batch axis, so the
/// manifest's input shape is [C, H, W] for a CNN and [N] for a vector.
/// </remarks>
public sealed class OnnxImporter
{
    /// <summary>The op types cgc import reads.</summary>
    public const string SupportedOps = "Add, Constant, Conv, Flatten, Gemm, Identity, LayerNormalization, MatMul, MaxPool, Relu, Reshape, Softmax";

    private readonly string _file;
    private readonly Dictionary<string, OnnxConstant> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Activation> _activations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _consumers = new(StringComparer.Ordinal);
    private readonly List<ImportedLayer> _layers = new();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal) { "input" };
    private long _opset;
    private bool _batched;

    private OnnxImporter(string file) => _file = file;

    /// <summary>Imports the ONNX model at <paramref name="path"/>.</summary>
    /// <exception cref="ImportException">The file is not an ONNX model, or uses an op or attribute outside the supported subset.</exception>
    public static ImportedModel Import(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ImportException($"{path}: {ex.Message}");
        }

        return Import(bytes, Path.GetFileName(path));
    }

    /// <summary>Imports a serialized ONNX model; <paramref name="fileName"/> names it in errors and in the description.</summary>
    public static ImportedModel Import(byte[] bytes, string fileName)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new ImportException($"{fileName}: not an ONNX model ({ex.Message})");
        }

        if (model.Graph is null || model.Graph.Node.Count == 0)
        {
            throw new ImportException($"{fileName}: not an ONNX model (no graph, or a graph without nodes)");
        }

        return new OnnxImporter(fileName).Run(model);
    }

    private ImportedModel Run(ModelProto model)
    {
        var graph = model.Graph;
        _opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();

        foreach (var init in graph.Initializer)
        {
            _constants[init.Name] = OnnxConstant.Read(init, $"{_file}: initializer '{init.Name}'");
        }

        foreach (var node in graph.Node)
        {
            foreach (var i in node.Input)
            {
                _consumers[i] = _consumers.GetValueOrDefault(i) + 1;
            }
        }

        foreach (var o in graph.Output)
        {
            _consumers[o.Name] = _consumers.GetValueOrDefault(o.Name) + 1;
        }

        var (inputName, inputShape) = ReadInput(graph);
        _activations[inputName] = new Activation(inputShape, 0);

        foreach (var node in graph.Node)
        {
            Visit(node);
        }

        if (graph.Output.Count != 1)
        {
            throw new ImportException($"{_file}: the graph has {graph.Output.Count} outputs ({string.Join(", ", graph.Output.Select(o => o.Name))}); cgc import supports one");
        }

        var outputName = graph.Output[0].Name;
        if (!_activations.TryGetValue(outputName, out var output) || output.Stale || output.Position != _layers.Count || _layers.Count == 0)
        {
            throw new ImportException($"{_file}: the graph output '{outputName}' is not the result of the last layer (cgc import supports a chain of layers ending in the output)");
        }

        var feature = Feature(inputShape);
        var shapes = LayerShapes.Infer(feature, _layers);
        if (!shapes[^1].SequenceEqual(Feature(output.Shape)))
        {
            throw new ImportException($"{_file}: internal shape mismatch at the output: {LayerShapes.Text(shapes[^1])} vs {LayerShapes.Text(output.Shape)}");
        }

        var description = string.Create(
            CultureInfo.InvariantCulture,
            $"Imported by cgc import from {_file} (opset {_opset}): input '{inputName}' {LayerShapes.Text(inputShape)}, output '{outputName}' {LayerShapes.Text(output.Shape)}.");
        return new ImportedModel(feature, _layers, description);
    }

    private (string Name, int[] Shape) ReadInput(GraphProto graph)
    {
        var inputs = graph.Input.Where(i => !_constants.ContainsKey(i.Name)).ToList();
        if (inputs.Count != 1)
        {
            throw new ImportException($"{_file}: the graph has {inputs.Count} inputs that are not initializers ({string.Join(", ", inputs.Select(i => i.Name))}); cgc import supports one float input");
        }

        var input = inputs[0];
        var tensor = input.Type?.TensorType;
        if (tensor is null || tensor.ElemType != (int)DataType.Float)
        {
            throw new ImportException($"{_file}: input '{input.Name}' is not a float32 tensor; cgc import supports one float input");
        }

        var dims = tensor.Shape?.Dim.ToList() ?? new List<TensorShapeProto.Types.Dimension>();
        if (dims.Count == 0)
        {
            throw new ImportException($"{_file}: input '{input.Name}' has no shape; cgc import needs its dimensions");
        }

        _batched = dims.Count >= 2;
        var shape = new int[dims.Count];
        for (var i = 0; i < dims.Count; i++)
        {
            var d = dims[i];
            var known = d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue > 0;
            if (i == 0 && _batched && (!known || d.DimValue == 1))
            {
                shape[i] = 1; // the batch axis: 1, or symbolic (the generated model runs one sample at a time)
            }
            else if (!known || d.DimValue > int.MaxValue)
            {
                throw new ImportException($"{_file}: input '{input.Name}' dimension {i} is {(known ? d.DimValue.ToString(CultureInfo.InvariantCulture) : "'" + d.DimParam + "'")}; only the batch axis (0) may be symbolic");
            }
            else if (i == 0 && _batched)
            {
                throw new ImportException($"{_file}: input '{input.Name}' has batch size {d.DimValue}; cgc import supports batch 1 (or a symbolic batch)");
            }
            else
            {
                shape[i] = (int)d.DimValue;
            }
        }

        return (input.Name, shape);
    }

    private void Visit(NodeProto node)
    {
        if (node.Domain is not ("" or "ai.onnx"))
        {
            throw Fail(node, $"op type '{node.OpType}' of domain '{node.Domain}' is not supported; supported op types (default domain): {SupportedOps}");
        }

        switch (node.OpType)
        {
            case "Constant": Constant(node); break;
            case "Identity": Identity(node); break;
            case "Reshape": Reshape(node); break;
            case "Flatten": Flatten(node); break;
            case "Relu": Elementwise(node, "relu"); break;
            case "Softmax": Softmax(node); break;
            case "Gemm": Gemm(node); break;
            case "MatMul": MatMul(node); break;
            case "Add": Add(node); break;
            case "Conv": Conv(node); break;
            case "MaxPool": MaxPool(node); break;
            case "LayerNormalization": LayerNormalization(node); break;
            default:
                throw Fail(node, $"op type '{node.OpType}' is not supported; supported op types: {SupportedOps}");
        }
    }

    // ---- constants and shape ops ------------------------------------------------------------------------------

    private void Constant(NodeProto node)
    {
        CheckAttributes(node, "value", "value_float", "value_floats", "value_int", "value_ints");
        Outputs(node, 1);
        if (node.Attribute.Count != 1)
        {
            throw Fail(node, $"has {node.Attribute.Count} value attributes; exactly one is needed");
        }

        var a = node.Attribute[0];
        var where = $"{_file}: node '{node.Name}' (Constant)";
        _constants[node.Output[0]] = a.Name switch
        {
            "value" => OnnxConstant.Read(a.T, where),
            "value_float" => OnnxConstant.FromFloats(Array.Empty<long>(), new[] { a.F }),
            "value_floats" => OnnxConstant.FromFloats(new long[] { a.Floats.Count }, a.Floats.ToArray()),
            "value_int" => OnnxConstant.FromInts(Array.Empty<long>(), new[] { a.I }),
            _ => OnnxConstant.FromInts(new long[] { a.Ints.Count }, a.Ints.ToArray()),
        };
    }

    private void Identity(NodeProto node)
    {
        CheckAttributes(node);
        Inputs(node, 1, 1);
        Outputs(node, 1);
        if (_constants.TryGetValue(node.Input[0], out var c))
        {
            _constants[node.Output[0]] = c;
        }
        else
        {
            _activations[node.Output[0]] = Read(node, node.Input[0]);
        }
    }

    private void Reshape(NodeProto node)
    {
        // Opset 1-4 give the shape as an attribute; from opset 5 it is the second input.
        long[] target;
        var allowZero = false;
        if (_opset < 5 && node.Input.Count == 1)
        {
            CheckAttributes(node, "shape", "consumed_inputs");
            target = Attribute(node, "shape")?.Ints.ToArray() ?? throw Fail(node, "the shape attribute is missing");
        }
        else
        {
            CheckAttributes(node, "allowzero");
            Inputs(node, 2, 2);
            var shape = Constant(node, node.Input[1], "the shape");
            target = shape.Ints ?? throw Fail(node, $"the shape '{node.Input[1]}' is {shape.TypeName}, not INT64");
            allowZero = Int(node, "allowzero", 0) != 0;
        }

        Outputs(node, 1);
        if (_constants.TryGetValue(node.Input[0], out var c))
        {
            var dims = ReshapeDims(node, c.Dims, target, allowZero);
            _constants[node.Output[0]] = c.Floats is not null ? OnnxConstant.FromFloats(dims, c.Floats) : OnnxConstant.FromInts(dims, c.Ints ?? throw Fail(node, $"cannot fold a Reshape of a {c.TypeName} constant"));
            return;
        }

        var x = Read(node, node.Input[0]);
        var result = ReshapeDims(node, x.Shape.Select(d => (long)d).ToArray(), target, allowZero);
        ToVector(node, x, result, $"Reshape to {LayerShapes.Text(result)}");
    }

    private void Flatten(NodeProto node)
    {
        CheckAttributes(node, "axis");
        Inputs(node, 1, 1);
        Outputs(node, 1);
        var dims = _constants.TryGetValue(node.Input[0], out var c) ? c.Dims : Read(node, node.Input[0]).Shape.Select(d => (long)d).ToArray();
        var axis = Int(node, "axis", 1);
        if (axis < 0)
        {
            axis += dims.Length;
        }

        if (axis < 0 || axis > dims.Length)
        {
            throw Fail(node, $"axis {Int(node, "axis", 1)} is out of range for a rank-{dims.Length} tensor");
        }

        var result = new[] { dims.Take((int)axis).Aggregate(1L, (a, b) => a * b), dims.Skip((int)axis).Aggregate(1L, (a, b) => a * b) };
        if (c is not null)
        {
            _constants[node.Output[0]] = c.Floats is not null ? OnnxConstant.FromFloats(result, c.Floats) : OnnxConstant.FromInts(result, c.Ints ?? throw Fail(node, $"cannot fold a Flatten of a {c.TypeName} constant"));
            return;
        }

        ToVector(node, Read(node, node.Input[0]), result, $"Flatten (axis {axis}) to {LayerShapes.Text(result)}");
    }

    /// <summary>A Reshape or Flatten of an activation: to the same shape it is nothing, to a vector [1, N] it is a flatten.</summary>
    private void ToVector(NodeProto node, Activation x, long[] result, string what)
    {
        if (result.SequenceEqual(x.Shape.Select(d => (long)d)))
        {
            _activations[node.Output[0]] = x;
            return;
        }

        var size = x.Shape.Aggregate(1L, (a, b) => a * b);
        var vector = _batched ? new[] { 1L, size } : new[] { size };
        if (!result.SequenceEqual(vector))
        {
            throw Fail(node, $"{what} of a {LayerShapes.Text(x.Shape)} activation is not supported: an activation can only be reshaped to a vector {LayerShapes.Text(vector)}");
        }

        var shape = vector.Select(d => (int)d).ToArray();
        if (Feature(x.Shape).Length == 1)
        {
            _activations[node.Output[0]] = x with { Shape = shape }; // already a vector: no layer
            return;
        }

        Current(node, x);
        Emit(node, new ImportedLayer("flatten"), shape, named: false);
    }

    private long[] ReshapeDims(NodeProto node, long[] input, long[] target, bool allowZero)
    {
        var total = input.Aggregate(1L, (a, b) => a * b);
        var result = new long[target.Length];
        var infer = -1;
        for (var i = 0; i < target.Length; i++)
        {
            if (target[i] == 0 && !allowZero)
            {
                if (i >= input.Length)
                {
                    throw Fail(node, $"shape {LayerShapes.Text(target)} copies dimension {i} (0), which the {LayerShapes.Text(input)} input does not have");
                }

                result[i] = input[i];
            }
            else if (target[i] == -1)
            {
                if (infer >= 0)
                {
                    throw Fail(node, $"shape {LayerShapes.Text(target)} has more than one -1");
                }

                infer = i;
            }
            else if (target[i] < 0)
            {
                throw Fail(node, $"shape {LayerShapes.Text(target)} has a negative dimension");
            }
            else
            {
                result[i] = target[i];
            }
        }

        var known = result.Where((_, i) => i != infer).Aggregate(1L, (a, b) => a * b);
        if (infer >= 0)
        {
            if (known == 0 || total % known != 0)
            {
                throw Fail(node, $"cannot reshape {LayerShapes.Text(input)} to {LayerShapes.Text(target)}");
            }

            result[infer] = total / known;
        }
        else if (known != total)
        {
            throw Fail(node, $"cannot reshape {LayerShapes.Text(input)} ({total} elements) to {LayerShapes.Text(target)}");
        }

        return result;
    }

    // ---- activations ------------------------------------------------------------------------------------------

    private void Elementwise(NodeProto node, string op)
    {
        CheckAttributes(node);
        Inputs(node, 1, 1);
        Outputs(node, 1);
        var x = ActivationInput(node, node.Input[0]);
        Current(node, x);
        Emit(node, new ImportedLayer(op), x.Shape, named: false);
    }

    private void Softmax(NodeProto node)
    {
        CheckAttributes(node, "axis");
        Inputs(node, 1, 1);
        Outputs(node, 1);
        var x = ActivationInput(node, node.Input[0]);
        var rank = x.Shape.Length;
        var axis = Int(node, "axis", _opset >= 13 ? -1 : 1);
        if (axis < 0)
        {
            axis += rank;
        }

        if (Feature(x.Shape).Length != 1 || axis != rank - 1)
        {
            throw Fail(node, $"softmax over axis {Int(node, "axis", _opset >= 13 ? -1 : 1)} of a {LayerShapes.Text(x.Shape)} activation is not supported (supported: the last axis of a vector [1, N])");
        }

        Current(node, x);
        Emit(node, new ImportedLayer("softmax"), x.Shape, named: false);
    }

    // ---- linear -----------------------------------------------------------------------------------------------

    private void Gemm(NodeProto node)
    {
        CheckAttributes(node, "alpha", "beta", "transA", "transB", "broadcast");
        Inputs(node, 2, 3);
        Outputs(node, 1);
        if (Int(node, "transA", 0) != 0)
        {
            throw Fail(node, "transA = 1 is not supported (supported: transA = 0, transB = 0 or 1)");
        }

        var transB = Int(node, "transB", 0);
        if (transB is not (0 or 1))
        {
            throw Fail(node, $"transB = {transB} is not supported (supported: 0 or 1)");
        }

        var x = ActivationInput(node, node.Input[0]);
        if (!_batched || x.Shape.Length != 2)
        {
            throw Fail(node, $"input A is a {LayerShapes.Text(x.Shape)} activation; Gemm is supported on a vector [1, K]");
        }

        var b = FloatConstant(node, node.Input[1], "B");
        if (b.Dims.Length != 2)
        {
            throw Fail(node, $"B has shape {LayerShapes.Text(b.Dims)}; a rank-2 constant is needed");
        }

        int k = x.Shape[1], n = (int)(transB == 1 ? b.Dims[0] : b.Dims[1]);
        if ((transB == 1 ? b.Dims[1] : b.Dims[0]) != k)
        {
            throw Fail(node, $"B has shape {LayerShapes.Text(b.Dims)} (transB = {transB}) but A has {k} features");
        }

        var alpha = Float(node, "alpha", 1f);
        var weight = transB == 1 ? (float[])b.Floats!.Clone() : Transpose(b.Floats!, k, n);
        if (alpha != 1f)
        {
            for (var i = 0; i < weight.Length; i++)
            {
                weight[i] *= alpha;
            }
        }

        Current(node, x);
        var layer = new ImportedLayer("linear") { In = k, Out = n, Weight = weight, WeightShape = new long[] { n, k }, Bias = false };
        if (node.Input.Count == 3 && node.Input[2].Length > 0)
        {
            var c = FloatConstant(node, node.Input[2], "C");
            var beta = Float(node, "beta", 1f);
            var bias = PerChannel(node, c, new[] { 1, n }, 1, "C");
            for (var i = 0; i < bias.Length; i++)
            {
                bias[i] *= beta;
            }

            layer.Bias = true;
            layer.BiasValues = bias;
        }

        Emit(node, layer, new[] { 1, n }, named: true);
    }

    private void MatMul(NodeProto node)
    {
        CheckAttributes(node);
        Inputs(node, 2, 2);
        Outputs(node, 1);
        if (_constants.ContainsKey(node.Input[0]))
        {
            throw Fail(node, "a constant first input is not supported (supported: MatMul(activation, constant B [K, N]))");
        }

        var x = ActivationInput(node, node.Input[0]);
        if (Feature(x.Shape).Length != 1)
        {
            throw Fail(node, $"input A is a {LayerShapes.Text(x.Shape)} activation; MatMul is supported on a vector ([1, K] or [K])");
        }

        if (!_constants.ContainsKey(node.Input[1]))
        {
            throw Fail(node, $"input B '{node.Input[1]}' is an activation; MatMul is supported with a constant B [K, N] (an initializer, or folded from one)");
        }

        var b = FloatConstant(node, node.Input[1], "B");
        var k = x.Shape[^1];
        if (b.Dims.Length != 2 || b.Dims[0] != k)
        {
            throw Fail(node, $"B has shape {LayerShapes.Text(b.Dims)} but A has {k} features (supported: B [K, N])");
        }

        var n = (int)b.Dims[1];
        Current(node, x);
        var layer = new ImportedLayer("linear") { In = k, Out = n, Weight = Transpose(b.Floats!, k, n), WeightShape = new long[] { n, k }, Bias = false };
        var shape = (int[])x.Shape.Clone();
        shape[^1] = n;
        Emit(node, layer, shape, named: true);
    }

    private void Add(NodeProto node)
    {
        CheckAttributes(node);
        Inputs(node, 2, 2);
        Outputs(node, 1);
        bool c0 = _constants.ContainsKey(node.Input[0]), c1 = _constants.ContainsKey(node.Input[1]);
        if (c0 && c1)
        {
            throw Fail(node, "both inputs are constants; folding an Add of constants is not supported");
        }

        if (c0 || c1)
        {
            FoldBias(node, ActivationInput(node, node.Input[c0 ? 1 : 0]), FloatConstant(node, node.Input[c0 ? 0 : 1], "the addend"));
            return;
        }

        // Two activations: a residual connection, the current one plus an earlier layer's output.
        var a = ActivationInput(node, node.Input[0]);
        var b = ActivationInput(node, node.Input[1]);
        if (a.Position == b.Position)
        {
            throw Fail(node, "both inputs come from the same layer; supported: a residual Add of the current activation and an earlier layer's output");
        }

        var (current, earlier) = a.Position > b.Position ? (a, b) : (b, a);
        Current(node, current);
        if (!current.Shape.SequenceEqual(earlier.Shape))
        {
            throw Fail(node, $"the residual Add's inputs are {LayerShapes.Text(current.Shape)} and {LayerShapes.Text(earlier.Shape)}; broadcasting is not supported (the shapes must be equal)");
        }

        string from;
        if (earlier.Position == 0)
        {
            from = "input";
        }
        else
        {
            var source = _layers[earlier.Position - 1];
            source.Name ??= UniqueName(source.SourceNode ?? source.Op + (earlier.Position - 1).ToString(CultureInfo.InvariantCulture));
            from = source.Name;
        }

        Emit(node, new ImportedLayer("residual") { From = from }, current.Shape, named: false);
    }

    /// <summary>Adds a constant that is the same across everything but the channel (conv2d) or feature (linear) axis to the bias of the layer that produced <paramref name="x"/>.</summary>
    private void FoldBias(NodeProto node, Activation x, OnnxConstant c)
    {
        var last = x.Position == _layers.Count && x.Position > 0 ? _layers[x.Position - 1] : null;
        if (last is null || last.Op is not ("linear" or "conv2d"))
        {
            throw Fail(node, "an Add of a constant is supported only as the bias of the linear (Gemm, MatMul) or Conv right before it");
        }

        var channels = last.Op == "linear" ? last.Out : last.OutChannels;
        var channelAxis = last.Op == "linear" ? x.Shape.Length - 1 : 1;
        var bias = PerChannel(node, c, x.Shape, channelAxis, "the addend");
        if (bias.Length != channels)
        {
            throw Fail(node, $"the addend has {bias.Length} values for {channels} channels");
        }

        var sum = last.BiasValues ?? new float[channels];
        for (var i = 0; i < channels; i++)
        {
            sum[i] += bias[i];
        }

        last.BiasValues = sum;
        last.Bias = true;

        // The values before the bias are gone: reading them again would read the sum.
        foreach (var key in _activations.Keys.ToList())
        {
            if (_activations[key].Position == x.Position)
            {
                _activations[key] = _activations[key] with { Stale = true };
            }
        }

        _activations[node.Output[0]] = x with { Stale = false };
    }

    /// <summary>
    /// The per-channel values of a constant broadcast (numpy rules) against an activation of <paramref name="shape"/>:
    /// every dimension but <paramref name="channelAxis"/> must be 1 (or absent), the channel dimension 1 or the channel count.
    /// </summary>
    private float[] PerChannel(NodeProto node, OnnxConstant c, int[] shape, int channelAxis, string what)
    {
        if (c.Dims.Length > shape.Length)
        {
            throw Fail(node, $"{what} has shape {LayerShapes.Text(c.Dims)}, more dimensions than the {LayerShapes.Text(shape)} activation");
        }

        var offset = shape.Length - c.Dims.Length;
        var channelDim = 1L;
        for (var i = 0; i < c.Dims.Length; i++)
        {
            var axis = offset + i;
            var d = c.Dims[i];
            if (d != 1 && d != shape[axis])
            {
                throw Fail(node, $"{what} of shape {LayerShapes.Text(c.Dims)} does not broadcast to the {LayerShapes.Text(shape)} activation");
            }

            if (axis == channelAxis)
            {
                channelDim = d;
            }
            else if (d != 1)
            {
                throw Fail(node, $"{what} of shape {LayerShapes.Text(c.Dims)} varies along axis {axis} of the {LayerShapes.Text(shape)} activation; only a per-channel (axis {channelAxis}) bias can be folded");
            }
        }

        var channels = shape[channelAxis];
        var result = new float[channels];
        for (var i = 0; i < channels; i++)
        {
            result[i] = c.Floats![channelDim == 1 ? 0 : i];
        }

        return result;
    }

    // ---- CNN --------------------------------------------------------------------------------------------------

    private void Conv(NodeProto node)
    {
        CheckAttributes(node, "auto_pad", "dilations", "group", "kernel_shape", "pads", "strides");
        Inputs(node, 2, 3);
        Outputs(node, 1);
        var x = ActivationInput(node, node.Input[0]);
        Spatial(node, x);
        if (Int(node, "group", 1) != 1)
        {
            throw Fail(node, $"group = {Int(node, "group", 1)} is not supported (supported: group = 1)");
        }

        var w = FloatConstant(node, node.Input[1], "W");
        if (w.Dims.Length != 4 || w.Dims[1] != x.Shape[1])
        {
            throw Fail(node, $"W has shape {LayerShapes.Text(w.Dims)}; a [M, {x.Shape[1]}, kH, kW] constant is needed for the {LayerShapes.Text(x.Shape)} input");
        }

        var kernel = new[] { (int)w.Dims[2], (int)w.Dims[3] };
        var declared = Attribute(node, "kernel_shape");
        if (declared is not null && !declared.Ints.SequenceEqual(kernel.Select(v => (long)v)))
        {
            throw Fail(node, $"kernel_shape {LayerShapes.Text(declared.Ints)} does not match W {LayerShapes.Text(w.Dims)}");
        }

        var (stride, pad) = Window(node, x.Shape, kernel, defaultStride: new[] { 1, 1 });
        var layer = new ImportedLayer("conv2d")
        {
            InChannels = x.Shape[1],
            OutChannels = (int)w.Dims[0],
            Kernel = kernel,
            Stride = stride,
            Pad = pad,
            Weight = (float[])w.Floats!.Clone(),
            WeightShape = (long[])w.Dims.Clone(),
            Bias = false,
        };
        if (node.Input.Count == 3 && node.Input[2].Length > 0)
        {
            var b = FloatConstant(node, node.Input[2], "B");
            if (b.Dims.Length != 1 || b.Dims[0] != layer.OutChannels)
            {
                throw Fail(node, $"B has shape {LayerShapes.Text(b.Dims)}; [{layer.OutChannels}] is needed");
            }

            layer.Bias = true;
            layer.BiasValues = (float[])b.Floats!.Clone();
        }

        Current(node, x);
        Emit(node, layer, PooledShape(x.Shape, layer.OutChannels, kernel, stride, pad), named: true);
    }

    private void MaxPool(NodeProto node)
    {
        CheckAttributes(node, "auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides");
        Inputs(node, 1, 1);
        Outputs(node, 1);

        var x = ActivationInput(node, node.Input[0]);
        Spatial(node, x);
        if (Int(node, "ceil_mode", 0) != 0)
        {
            throw Fail(node, "ceil_mode = 1 is not supported (supported: ceil_mode = 0, floor)");
        }

        var kernelAttribute = Attribute(node, "kernel_shape") ?? throw Fail(node, "the kernel_shape attribute is missing");
        if (kernelAttribute.Ints.Count != 2)
        {
            throw Fail(node, $"kernel_shape {LayerShapes.Text(kernelAttribute.Ints)} is not 2-D");
        }

        var kernel = kernelAttribute.Ints.Select(v => (int)v).ToArray();
        var (stride, pad) = Window(node, x.Shape, kernel, defaultStride: new[] { 1, 1 });
        Current(node, x);
        var layer = new ImportedLayer("maxpool") { Kernel = kernel, Stride = stride, Pad = pad };
        Emit(node, layer, PooledShape(x.Shape, x.Shape[1], kernel, stride, pad), named: false);
    }

    private void Spatial(NodeProto node, Activation x)
    {
        if (!_batched || x.Shape.Length != 4)
        {
            throw Fail(node, $"the input is a {LayerShapes.Text(x.Shape)} activation; {node.OpType} is supported on [1, C, H, W]");
        }

        var dilations = Attribute(node, "dilations");
        if (dilations is not null && dilations.Ints.Any(d => d != 1))
        {
            throw Fail(node, $"dilations {LayerShapes.Text(dilations.Ints)} are not supported (supported: 1)");
        }
    }

    /// <summary>Strides and pads ([top, left, bottom, right]) of a 2-D window, auto_pad resolved against the input size.</summary>
    private (int[] Stride, int[] Pad) Window(NodeProto node, int[] shape, int[] kernel, int[] defaultStride)
    {
        var strides = Attribute(node, "strides")?.Ints.Select(v => (int)v).ToArray() ?? defaultStride;
        if (strides.Length != 2 || strides.Any(s => s < 1))
        {
            throw Fail(node, $"strides {LayerShapes.Text(strides)} are not supported (supported: two values ≥ 1)");
        }

        var autoPad = Attribute(node, "auto_pad")?.S.ToStringUtf8() ?? "NOTSET";
        var pads = new int[4];
        switch (autoPad)
        {
            case "NOTSET":
                var given = Attribute(node, "pads")?.Ints.Select(v => (int)v).ToArray() ?? new int[4];
                if (given.Length != 4 || given.Any(p => p < 0))
                {
                    throw Fail(node, $"pads {LayerShapes.Text(given)} are not supported (supported: four values ≥ 0, [top, left, bottom, right])");
                }

                pads = given;
                break;
            case "VALID":
                break;
            case "SAME_UPPER":
            case "SAME_LOWER":
                for (var i = 0; i < 2; i++)
                {
                    var size = shape[2 + i];
                    var output = (size + strides[i] - 1) / strides[i];
                    var total = Math.Max(0, ((output - 1) * strides[i]) + kernel[i] - size);
                    var small = total / 2;
                    var (begin, end) = autoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small);
                    pads[i] = begin;
                    pads[2 + i] = end;
                }

                break;
            default:
                throw Fail(node, $"auto_pad = {autoPad} is not supported (supported: NOTSET, VALID, SAME_UPPER, SAME_LOWER)");
        }

        if (shape[2] + pads[0] + pads[2] < kernel[0] || shape[3] + pads[1] + pads[3] < kernel[1])
        {
            throw Fail(node, $"the kernel {LayerShapes.Text(kernel)} is larger than the padded {LayerShapes.Text(shape)} input");
        }

        return (strides, pads);
    }

    private static int[] PooledShape(int[] shape, int channels, int[] kernel, int[] stride, int[] pad) => new[]
    {
        1,
        channels,
        ((shape[2] + pad[0] + pad[2] - kernel[0]) / stride[0]) + 1,
        ((shape[3] + pad[1] + pad[3] - kernel[1]) / stride[1]) + 1,
    };

    // ---- normalisation ----------------------------------------------------------------------------------------

    private void LayerNormalization(NodeProto node)
    {
        CheckAttributes(node, "axis", "epsilon", "stash_type");
        Inputs(node, 2, 3);
        Outputs(node, 1);

        var x = ActivationInput(node, node.Input[0]);
        var axis = Int(node, "axis", -1);
        if (Feature(x.Shape).Length != 1 || (axis != -1 && axis != x.Shape.Length - 1))
        {
            throw Fail(node, $"normalising axis {axis} of a {LayerShapes.Text(x.Shape)} activation is not supported (supported: the last axis of a vector)");
        }

        var dim = x.Shape[^1];
        var scale = FloatConstant(node, node.Input[1], "Scale");
        if (scale.Count != dim || scale.Dims.Length != 1)
        {
            throw Fail(node, $"Scale has shape {LayerShapes.Text(scale.Dims)}; [{dim}] is needed");
        }

        var shift = new float[dim];
        if (node.Input.Count == 3 && node.Input[2].Length > 0)
        {
            var b = FloatConstant(node, node.Input[2], "B");
            if (b.Count != dim || b.Dims.Length != 1)
            {
                throw Fail(node, $"B has shape {LayerShapes.Text(b.Dims)}; [{dim}] is needed");
            }

            shift = (float[])b.Floats!.Clone();
        }

        Current(node, x);
        var layer = new ImportedLayer("layernorm")
        {
            Dim = dim,
            Eps = Float(node, "epsilon", 1e-5f),
            Weight = (float[])scale.Floats!.Clone(),
            WeightShape = new long[] { dim },
            BiasValues = shift,
        };
        Emit(node, layer, x.Shape, named: true);
    }

    // ---- graph bookkeeping --------------------------------------------------------------------------------------

    private void Emit(NodeProto node, ImportedLayer layer, int[] outputShape, bool named)
    {
        layer.SourceNode = node.Name.Length > 0 ? node.Name : node.Output[0];
        if (named)
        {
            layer.Name = UniqueName(layer.SourceNode);
        }

        _layers.Add(layer);
        _activations[node.Output[0]] = new Activation(outputShape, _layers.Count);
    }

    /// <summary>A layer name from an ONNX name: control characters replaced, not "input", unique.</summary>
    private string UniqueName(string source)
    {
        var clean = new string(source.Select(ch => char.IsControl(ch) || ch is '\u2028' or '\u2029' ? '_' : ch).ToArray());
        if (clean.Length == 0)
        {
            clean = "layer";
        }

        var name = clean;
        for (var n = 2; !_names.Add(name); n++)
        {
            name = clean + "_" + n.ToString(CultureInfo.InvariantCulture);
        }

        return name;
    }

    private Activation Read(NodeProto node, string name)
    {
        if (!_activations.TryGetValue(name, out var a))
        {
            throw Fail(node, $"input '{name}' is not produced by an earlier node, an initializer or the graph input");
        }

        if (a.Stale)
        {
            throw Fail(node, $"reads '{name}', the value before a bias Add that cgc import folded into the layer; supported: the pre-bias value used by the Add only");
        }

        return a;
    }

    private Activation ActivationInput(NodeProto node, string name)
    {
        if (_constants.ContainsKey(name))
        {
            throw Fail(node, $"input '{name}' is a constant; {node.OpType} on constants is not folded (supported: {node.OpType} of an activation)");
        }

        return Read(node, name);
    }

    /// <summary>Checks that <paramref name="x"/> is the output of the last layer (or the graph input before any layer).</summary>
    private void Current(NodeProto node, Activation x)
    {
        if (x.Position != _layers.Count)
        {
            var producer = x.Position == 0 ? "the graph input" : $"layer {x.Position - 1} ({_layers[x.Position - 1].Op})";
            throw Fail(node, $"reads the output of {producer}, not of the last layer: cgc import supports a chain of layers (plus residual Adds)");
        }
    }

    private OnnxConstant Constant(NodeProto node, string name, string what)
    {
        if (!_constants.TryGetValue(name, out var c))
        {
            throw Fail(node, $"{what} '{name}' is not a constant (an initializer, a Constant node, or folded from them)");
        }

        return c;
    }

    private OnnxConstant FloatConstant(NodeProto node, string name, string what)
    {
        var c = Constant(node, name, what);
        if (c.Floats is null)
        {
            throw Fail(node, $"{what} '{name}' is {c.TypeName}; float32 is needed");
        }

        return c;
    }

    private void Inputs(NodeProto node, int min, int max)
    {
        if (node.Input.Count < min || node.Input.Count > max)
        {
            throw Fail(node, $"has {node.Input.Count} inputs, expected {(min == max ? min.ToString(CultureInfo.InvariantCulture) : $"{min} to {max}")}");
        }

        for (var i = 0; i < min; i++)
        {
            if (node.Input[i].Length == 0)
            {
                throw Fail(node, $"input {i} is missing");
            }
        }
    }

    private void Outputs(NodeProto node, int count)
    {
        if (node.Output.Count < 1 || node.Output[0].Length == 0)
        {
            throw Fail(node, "has no output");
        }

        for (var i = count; i < node.Output.Count; i++)
        {
            if (node.Output[i].Length > 0 && _consumers.GetValueOrDefault(node.Output[i]) > 0)
            {
                throw Fail(node, $"output {i} ('{node.Output[i]}') is used; supported: the first output only");
            }
        }
    }

    /// <summary>Rejects attributes the importer does not know for this op (it would otherwise ignore their meaning).</summary>
    private void CheckAttributes(NodeProto node, params string[] known)
    {
        foreach (var a in node.Attribute)
        {
            if (Array.IndexOf(known, a.Name) < 0)
            {
                throw Fail(node, $"attribute '{a.Name}' is not supported (supported attributes of {node.OpType}: {(known.Length == 0 ? "none" : string.Join(", ", known))})");
            }
        }
    }

    private static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    private static long Int(NodeProto node, string name, long fallback) => Attribute(node, name)?.I ?? fallback;

    private static float Float(NodeProto node, string name, float fallback) => Attribute(node, name)?.F ?? fallback;

    private static float[] Transpose(float[] b, int rows, int cols)
    {
        var t = new float[b.Length];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < cols; c++)
            {
                t[(c * rows) + r] = b[(r * cols) + c];
            }
        }

        return t;
    }

    /// <summary>A shape without its batch axis.</summary>
    private int[] Feature(int[] shape) => _batched ? shape[1..] : shape;

    private ImportException Fail(NodeProto node, string detail) =>
        new($"{_file}: node '{(node.Name.Length > 0 ? node.Name : "(unnamed)")}' ({node.OpType}): {detail}");

    /// <summary>A value computed at run time: its full ONNX shape (batch axis included) and its position in the layer chain.</summary>
    private sealed record Activation(int[] Shape, int Position, bool Stale = false);
}
