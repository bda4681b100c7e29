using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using CodeGenChunk.Onnx.Ir;
using Google.Protobuf;

namespace CodeGenChunk.Onnx;

/// <summary>
/// Builds an ONNX model (<see cref="ModelProto"/>) in memory: opset imports, initializers from .NET arrays,
/// graph inputs and outputs with element type and shape, nodes with attributes; then
/// <see cref="ToByteArray"/> for <c>InferenceSession</c> or a file.
/// </summary>
/// <remarks>
/// Initializers are stored little-endian in <c>raw_data</c> (what ONNX specifies for raw data; every platform .NET
/// runs on here is little-endian). Names are not checked for uniqueness beyond initializers: the consumer validates the graph.
/// </remarks>
public sealed class OnnxModelBuilder
{
    /// <summary>The default-domain opset the builder imports unless told otherwise.</summary>
    public const long DefaultOpset = 17;

    /// <summary>The domain of ONNX Runtime's contrib operators (MatMulNBits, MatMulIntegerToFloat, ...).</summary>
    public const string MicrosoftDomain = "com.microsoft";

    private readonly ModelProto _model;
    private readonly Dictionary<string, long> _opsets = new(StringComparer.Ordinal);
    private readonly HashSet<string> _initializers = new(StringComparer.Ordinal);
    private int _nodeCount;

    /// <param name="graphName">The graph's name.</param>
    /// <param name="opset">The default ("ai.onnx") opset version.</param>
    /// <param name="irVersion">ModelProto.ir_version; 8 (ONNX 1.10+) is read by every current runtime.</param>
    public OnnxModelBuilder(string graphName, long opset = DefaultOpset, long irVersion = 8)
    {
        ArgumentException.ThrowIfNullOrEmpty(graphName);
        _model = new ModelProto
        {
            IrVersion = irVersion,
            ProducerName = "CodeGenChunk",
            ProducerVersion = typeof(OnnxModelBuilder).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = new GraphProto { Name = graphName },
        };
        ImportOpset(string.Empty, opset);
    }

    /// <summary>The model as built so far (the builder keeps adding to this instance).</summary>
    public ModelProto Model => _model;

    /// <summary>Sum of the payload bytes of all initializers added so far.</summary>
    public long InitializerBytes { get; private set; }

    /// <summary>Imports (or re-versions) an operator set; <paramref name="domain"/> "" is the default ONNX domain.</summary>
    public OnnxModelBuilder ImportOpset(string domain, long version)
    {
        ArgumentNullException.ThrowIfNull(domain);
        if (_opsets.ContainsKey(domain))
        {
            foreach (var o in _model.OpsetImport)
            {
                if (o.Domain == domain)
                {
                    o.Version = version;
                }
            }
        }
        else
        {
            _model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        }

        _opsets[domain] = version;
        return this;
    }

    /// <summary>Adds a key/value entry to the model's metadata_props.</summary>
    public OnnxModelBuilder AddMetadata(string key, string value)
    {
        _model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return this;
    }

    /// <summary>A graph input of <paramref name="elementType"/> and fixed <paramref name="shape"/>.</summary>
    public OnnxModelBuilder AddInput(string name, TensorProto.Types.DataType elementType, params long[] shape)
    {
        _model.Graph.Input.Add(ValueInfo(name, elementType, shape));
        return this;
    }

    /// <summary>A graph output of <paramref name="elementType"/> and fixed <paramref name="shape"/>.</summary>
    public OnnxModelBuilder AddOutput(string name, TensorProto.Types.DataType elementType, params long[] shape)
    {
        _model.Graph.Output.Add(ValueInfo(name, elementType, shape));
        return this;
    }

    /// <summary>A float32 initializer.</summary>
    public string AddInitializer(string name, ReadOnlySpan<float> data, params long[] shape) =>
        AddRaw(name, TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(data), data.Length, shape);

    /// <summary>An int8 initializer.</summary>
    public string AddInitializer(string name, ReadOnlySpan<sbyte> data, params long[] shape) =>
        AddRaw(name, TensorProto.Types.DataType.Int8, MemoryMarshal.AsBytes(data), data.Length, shape);

    /// <summary>A uint8 initializer (also the carrier of packed sub-byte data, e.g. MatMulNBits' B).</summary>
    public string AddInitializer(string name, ReadOnlySpan<byte> data, params long[] shape) =>
        AddRaw(name, TensorProto.Types.DataType.Uint8, data, data.Length, shape);

    /// <summary>An int64 initializer (shapes, axes).</summary>
    public string AddInitializer(string name, ReadOnlySpan<long> data, params long[] shape) =>
        AddRaw(name, TensorProto.Types.DataType.Int64, MemoryMarshal.AsBytes(data), data.Length, shape);

    /// <summary>
    /// Adds a node. <paramref name="inputs"/> may contain "" for an omitted optional input. Attribute values may be
    /// long/int (INT), float/double (FLOAT), string (STRING), long[]/int[] (INTS), float[] (FLOATS), string[] (STRINGS)
    /// or a <see cref="TensorProto"/> (TENSOR).
    /// </summary>
    public NodeProto AddNode(
        string opType,
        IReadOnlyList<string> inputs,
        IReadOnlyList<string> outputs,
        IReadOnlyDictionary<string, object>? attributes = null,
        string domain = "",
        string? name = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(opType);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        if (!_opsets.ContainsKey(domain))
        {
            throw new InvalidOperationException($"Node {opType}: domain '{domain}' has no opset import (call ImportOpset first).");
        }

        var node = new NodeProto { OpType = opType, Domain = domain, Name = name ?? $"{opType}_{_nodeCount}" };
        _nodeCount++;
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        if (attributes is not null)
        {
            foreach (var (key, value) in attributes)
            {
                node.Attribute.Add(Attribute(key, value));
            }
        }

        _model.Graph.Node.Add(node);
        return node;
    }

    /// <summary>The serialized model.</summary>
    public byte[] ToByteArray() => _model.ToByteArray();

    /// <summary>An attribute from a .NET value (see <see cref="AddNode"/> for the accepted types).</summary>
    public static AttributeProto Attribute(string name, object value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var a = new AttributeProto { Name = name };
        switch (value)
        {
            case long l:
                a.Type = AttributeProto.Types.AttributeType.Int;
                a.I = l;
                break;
            case int i:
                a.Type = AttributeProto.Types.AttributeType.Int;
                a.I = i;
                break;
            case float f:
                a.Type = AttributeProto.Types.AttributeType.Float;
                a.F = f;
                break;
            case double d:
                a.Type = AttributeProto.Types.AttributeType.Float;
                a.F = (float)d;
                break;
            case string s:
                a.Type = AttributeProto.Types.AttributeType.String;
                a.S = ByteString.CopyFromUtf8(s);
                break;
            case long[] ls:
                a.Type = AttributeProto.Types.AttributeType.Ints;
                a.Ints.AddRange(ls);
                break;
            case int[] iss:
                a.Type = AttributeProto.Types.AttributeType.Ints;
                foreach (var v in iss)
                {
                    a.Ints.Add(v);
                }

                break;
            case float[] fs:
                a.Type = AttributeProto.Types.AttributeType.Floats;
                a.Floats.AddRange(fs);
                break;
            case string[] ss:
                a.Type = AttributeProto.Types.AttributeType.Strings;
                foreach (var v in ss)
                {
                    a.Strings.Add(ByteString.CopyFromUtf8(v));
                }

                break;
            case TensorProto t:
                a.Type = AttributeProto.Types.AttributeType.Tensor;
                a.T = t;
                break;
            default:
                throw new ArgumentException($"Attribute '{name}': unsupported value type {value?.GetType().Name ?? "null"}.", nameof(value));
        }

        return a;
    }

    /// <summary>A value info with a tensor type of fixed shape.</summary>
    public static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType elementType, params long[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        var tensorShape = new TensorShapeProto();
        foreach (var d in shape)
        {
            tensorShape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)elementType, Shape = tensorShape } },
        };
    }

    private string AddRaw(string name, TensorProto.Types.DataType type, ReadOnlySpan<byte> bytes, long elements, long[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"Initializer '{name}': negative dimension {d}.", nameof(shape));
            }

            count *= d;
        }

        if (count != elements)
        {
            throw new ArgumentException($"Initializer '{name}': {elements} elements do not fill shape [{string.Join(", ", shape)}].", nameof(shape));
        }

        if (!_initializers.Add(name))
        {
            throw new InvalidOperationException($"Initializer '{name}' added twice.");
        }

        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("ONNX raw_data is little-endian; this builder writes it on little-endian hosts only.");
        }

        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(bytes) };
        tensor.Dims.AddRange(shape);
        _model.Graph.Initializer.Add(tensor);
        InitializerBytes += bytes.Length;
        return name;
    }
}
