using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace CodeGenChunk.Tool.SafeTensors;

/// <summary>
/// Reads the safetensors format: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and data offsets, then the raw little-endian data. Every offset is checked
/// against the file before use.
/// </summary>
public sealed class SafeTensorsFile
{
    private readonly byte[] _data;
    private readonly long _dataStart;

    private SafeTensorsFile(string path, byte[] data, long dataStart, Dictionary<string, SafeTensorInfo> tensors)
    {
        Path = path;
        _data = data;
        _dataStart = dataStart;
        Tensors = tensors;
    }

    public string Path { get; }

    public IReadOnlyDictionary<string, SafeTensorInfo> Tensors { get; }

    /// <exception cref="InvalidDataException">The file is not a well-formed safetensors file.</exception>
    public static SafeTensorsFile Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8)
        {
            throw new InvalidDataException($"{bytes.Length} bytes is too short for a safetensors header");
        }

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8))
        {
            throw new InvalidDataException($"the header claims {headerLength} bytes but the file has {bytes.Length - 8} after the length field");
        }

        var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
        var dataStart = 8 + (long)headerLength;
        var dataLength = bytes.Length - dataStart;
        try
        {
            using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__")
                {
                    continue;
                }

                var dtype = p.Value.GetProperty("dtype").GetString() ?? string.Empty;
                var shape = new List<long>();
                foreach (var d in p.Value.GetProperty("shape").EnumerateArray())
                {
                    shape.Add(d.GetInt64());
                }

                var offsets = p.Value.GetProperty("data_offsets");
                var begin = offsets[0].GetInt64();
                var end = offsets[1].GetInt64();
                if (begin < 0 || end < begin || end > dataLength)
                {
                    throw new InvalidDataException($"tensor '{p.Name}' has data offsets [{begin}, {end}) outside the {dataLength}-byte data section");
                }

                tensors[p.Name] = new SafeTensorInfo(p.Name, dtype, shape.ToArray(), begin, end);
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException("the JSON header is malformed: " + ex.Message, ex);
        }

        return new SafeTensorsFile(path, bytes, dataStart, tensors);
    }

    /// <summary>The dtypes <see cref="ToFloatArray"/> converts to float32.</summary>
    public const string ConvertibleDTypes = "F32, F16, BF16, F64";

    /// <summary>A copy of a tensor's values as float32, from F32, F16, BF16 (exact) or F64 (rounded to nearest).</summary>
    /// <exception cref="InvalidDataException">Another dtype, or a byte size that does not match the shape.</exception>
    public float[] ToFloatArray(SafeTensorInfo tensor)
    {
        var width = tensor.DType switch { "F32" => 4, "F16" => 2, "BF16" => 2, "F64" => 8, _ => 0 };
        if (width == 0)
        {
            throw new InvalidDataException($"tensor '{tensor.Name}' has dtype {tensor.DType}; readable as float32: {ConvertibleDTypes}");
        }

        if (tensor.End - tensor.Begin != tensor.ElementCount * width)
        {
            throw new InvalidDataException($"tensor '{tensor.Name}' holds {tensor.End - tensor.Begin} bytes but its shape {tensor.ShapeText} needs {tensor.ElementCount * width}");
        }

        var bytes = _data.AsSpan((int)(_dataStart + tensor.Begin), (int)(tensor.End - tensor.Begin));
        var values = new float[tensor.ElementCount];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = tensor.DType switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * 4)),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.Slice(i * 2)),
                "BF16" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(i * 2)) << 16),
                _ => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes.Slice(i * 8)),
            };
        }

        return values;
    }

    /// <summary>The float32 values of a tensor whose dtype is F32 and whose size matches its shape.</summary>
    public ReadOnlySpan<float> GetFloats(SafeTensorInfo tensor)
    {
        if (tensor.End - tensor.Begin != tensor.ElementCount * 4)
        {
            throw new InvalidDataException($"tensor '{tensor.Name}' holds {tensor.End - tensor.Begin} bytes but its shape {tensor.ShapeText} needs {tensor.ElementCount * 4}");
        }

        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("safetensors data is little-endian; this machine is not");
        }

        return MemoryMarshal.Cast<byte, float>(_data.AsSpan((int)(_dataStart + tensor.Begin), (int)(tensor.End - tensor.Begin)));
    }
}
