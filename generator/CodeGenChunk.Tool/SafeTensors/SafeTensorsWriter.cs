using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace CodeGenChunk.Tool.SafeTensors;

/// <summary>Writes float32 tensors as a safetensors file, byte-identical for identical input.</summary>
public static class SafeTensorsWriter
{
    public static void Write(string path, IReadOnlyList<(string Name, long[] Shape, float[] Values)> tensors)
    {
        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            json.WriteString("format", "pt");
            json.WriteString("producer", "CodeGenChunk");
            json.WriteEndObject();
            long offset = 0;
            foreach (var (name, shape, values) in tensors)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (var d in shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + (values.Length * 4L));
                json.WriteEndArray();
                json.WriteEndObject();
                offset += values.Length * 4L;
            }

            json.WriteEndObject();
        }

        // The header is padded with spaces to a multiple of 8 so the data is aligned.
        var headerBytes = header.ToArray();
        var padded = (headerBytes.Length + 7) & ~7;
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var temp = path + ".tmp";
        using (var file = File.Create(temp))
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            file.Write(length);
            file.Write(headerBytes);
            for (var i = headerBytes.Length; i < padded; i++)
            {
                file.WriteByte((byte)' ');
            }

            foreach (var (_, _, values) in tensors)
            {
                file.Write(MemoryMarshal.AsBytes(values.AsSpan()));
            }
        }

        File.Move(temp, path, overwrite: true);
    }
}
