using System;
using System.Buffers.Binary;
using System.Linq;
using CodeGenChunk.Onnx.Ir;
using DataType = CodeGenChunk.Onnx.Ir.TensorProto.Types.DataType;

namespace CodeGenChunk.Tool.Import;

/// <summary>
/// A constant of an ONNX graph (an initializer, a Constant node's value or a folded result): its dims and its values as
/// floats (FLOAT, DOUBLE) or integers (INT64, INT32). Other element types keep only their type name and are an error
/// where a value is needed.
/// </summary>
internal sealed class OnnxConstant
{
    private OnnxConstant(long[] dims, float[]? floats, long[]? ints, string typeName)
    {
        Dims = dims;
        Floats = floats;
        Ints = ints;
        TypeName = typeName;
    }

    public long[] Dims { get; }

    public float[]? Floats { get; }

    public long[]? Ints { get; }

    public string TypeName { get; }

    public long Count => Dims.Aggregate(1L, (a, b) => a * b);

    public static OnnxConstant FromFloats(long[] dims, float[] values) => new(dims, values, null, "FLOAT");

    public static OnnxConstant FromInts(long[] dims, long[] values) => new(dims, null, values, "INT64");

    /// <summary>Reads a TensorProto; <paramref name="where"/> names it in errors ("initializer 'W'").</summary>
    public static OnnxConstant Read(TensorProto t, string where)
    {
        var dims = t.Dims.ToArray();
        if (dims.Any(d => d < 0))
        {
            throw new ImportException($"{where}: negative dimension in {LayerShapes.Text(dims)}");
        }

        if (t.DataLocation == TensorProto.Types.DataLocation.External)
        {
            throw new ImportException($"{where}: the data is stored in an external file; cgc import reads models whose tensors are inside the .onnx file");
        }

        var count = dims.Aggregate(1L, (a, b) => a * b);
        var type = (DataType)t.DataType;
        var raw = t.RawData.Span;
        switch (type)
        {
            case DataType.Float:
            {
                var values = new float[count];
                if (raw.Length > 0)
                {
                    Check(where, raw.Length, count * 4, "raw_data bytes");
                    for (var i = 0; i < count; i++)
                    {
                        values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(i * 4, 4));
                    }
                }
                else
                {
                    Check(where, t.FloatData.Count, count, "float_data values");
                    t.FloatData.CopyTo(values, 0);
                }

                return new OnnxConstant(dims, values, null, "FLOAT");
            }

            case DataType.Double:
            {
                var values = new float[count];
                if (raw.Length > 0)
                {
                    Check(where, raw.Length, count * 8, "raw_data bytes");
                    for (var i = 0; i < count; i++)
                    {
                        values[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(raw.Slice(i * 8, 8));
                    }
                }
                else
                {
                    Check(where, t.DoubleData.Count, count, "double_data values");
                    for (var i = 0; i < count; i++)
                    {
                        values[i] = (float)t.DoubleData[i];
                    }
                }

                return new OnnxConstant(dims, values, null, "DOUBLE");
            }

            case DataType.Int64:
            {
                var values = new long[count];
                if (raw.Length > 0)
                {
                    Check(where, raw.Length, count * 8, "raw_data bytes");
                    for (var i = 0; i < count; i++)
                    {
                        values[i] = BinaryPrimitives.ReadInt64LittleEndian(raw.Slice(i * 8, 8));
                    }
                }
                else
                {
                    Check(where, t.Int64Data.Count, count, "int64_data values");
                    t.Int64Data.CopyTo(values, 0);
                }

                return new OnnxConstant(dims, null, values, "INT64");
            }

            case DataType.Int32:
            {
                var values = new long[count];
                if (raw.Length > 0)
                {
                    Check(where, raw.Length, count * 4, "raw_data bytes");
                    for (var i = 0; i < count; i++)
                    {
                        values[i] = BinaryPrimitives.ReadInt32LittleEndian(raw.Slice(i * 4, 4));
                    }
                }
                else
                {
                    Check(where, t.Int32Data.Count, count, "int32_data values");
                    for (var i = 0; i < count; i++)
                    {
                        values[i] = t.Int32Data[i];
                    }
                }

                return new OnnxConstant(dims, null, values, "INT32");
            }

            default:
                return new OnnxConstant(dims, null, null, Enum.IsDefined(type) ? type.ToString().ToUpperInvariant() : "type " + t.DataType);
        }
    }

    private static void Check(string where, long actual, long expected, string what)
    {
        if (actual != expected)
        {
            throw new ImportException($"{where}: {actual} {what} for {expected} elements");
        }
    }
}
