using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Runtime.InteropServices;

namespace CodeGenChunk.Tool.Eval;

/// <summary>
/// A labelled dataset for <c>cgc eval</c>: one file of samples, one after another (raw <c>u8</c> bytes or little-endian
/// <c>f32</c>, optionally gzip-compressed), and one file of labels (one byte per sample, or little-endian int32 with
/// <c>--label-dtype i32</c>). Byte samples are divided by <c>scale</c> (255 gives MNIST's pixels in [0, 1]).
/// </summary>
public sealed class LabelledData
{
    private readonly byte[]? _bytes;
    private readonly float[]? _floats;

    private LabelledData(string name, int sampleLength, byte[]? bytes, float[]? floats, int[] labels, float scale, int[] indices)
    {
        Name = name;
        SampleLength = sampleLength;
        _bytes = bytes;
        _floats = floats;
        Labels = labels;
        Scale = scale;
        Indices = indices;
    }

    public string Name { get; }

    public int SampleLength { get; }

    public float Scale { get; }

    /// <summary>Every label of the file, by sample index.</summary>
    public int[] Labels { get; }

    /// <summary>The sample indices evaluated (after <c>--every</c>, <c>--start</c> and <c>--limit</c>).</summary>
    public int[] Indices { get; }

    public int Count => Indices.Length;

    /// <summary>Reads the dataset and checks that samples and labels agree in number and shape.</summary>
    public static LabelledData Load(string samples, string labels, int sampleLength, string dtype, string labelDtype, float scale, int every, int start, int limit)
    {
        if (sampleLength <= 0)
        {
            throw new InvalidDataException($"{samples}: the model's input length is {sampleLength}");
        }

        var raw = ReadMaybeGzip(samples);
        var labelBytes = ReadMaybeGzip(labels);
        int[] labelValues;
        switch (labelDtype)
        {
            case "u8":
                labelValues = Array.ConvertAll(labelBytes, b => (int)b);
                break;
            case "i32":
                if (labelBytes.Length % 4 != 0)
                {
                    throw new InvalidDataException($"{labels}: {labelBytes.Length} bytes is not a whole number of int32 labels");
                }

                labelValues = MemoryMarshal.Cast<byte, int>(labelBytes).ToArray();
                break;
            default:
                throw new InvalidDataException($"label dtype '{labelDtype}' is not one of u8, i32");
        }

        var elementSize = dtype switch
        {
            "u8" => 1,
            "f32" => 4,
            _ => throw new InvalidDataException($"sample dtype '{dtype}' is not one of u8, f32"),
        };
        var sampleBytes = (long)sampleLength * elementSize;
        if (raw.Length % sampleBytes != 0)
        {
            throw new InvalidDataException($"{samples}: {raw.Length:N0} bytes is not a whole number of samples of {sampleLength} {dtype} values ({sampleBytes:N0} bytes each)");
        }

        var count = raw.Length / sampleBytes;
        if (count != labelValues.Length)
        {
            throw new InvalidDataException($"{samples}: {count:N0} samples but {labels} has {labelValues.Length:N0} labels");
        }

        if (every < 1 || start < 0 || start >= Math.Max(1, count))
        {
            throw new InvalidDataException($"--every {every} --start {start} selects no sample of {count:N0}");
        }

        var indices = new List<int>();
        for (var i = start; i < count && (limit <= 0 || indices.Count < limit); i += every)
        {
            indices.Add(i);
        }

        var floats = dtype == "f32" ? MemoryMarshal.Cast<byte, float>(raw).ToArray() : null;
        return new LabelledData(Path.GetFileName(samples), sampleLength, dtype == "u8" ? raw : null, floats, labelValues, scale, indices.ToArray());
    }

    /// <summary>Sample <paramref name="index"/> (a file index, not a position in <see cref="Indices"/>), scaled.</summary>
    public void Copy(int index, Span<float> destination)
    {
        if (_bytes is not null)
        {
            var source = _bytes.AsSpan(index * SampleLength, SampleLength);
            for (var i = 0; i < source.Length; i++)
            {
                destination[i] = source[i] / Scale;
            }
        }
        else
        {
            var source = _floats!.AsSpan(index * SampleLength, SampleLength);
            for (var i = 0; i < source.Length; i++)
            {
                destination[i] = source[i] / Scale;
            }
        }
    }

    private static byte[] ReadMaybeGzip(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: the file does not exist", path);
        }

        using var file = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[2];
        var gzip = file.Read(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        file.Position = 0;
        if (!gzip)
        {
            var bytes = new byte[file.Length];
            file.ReadExactly(bytes);
            return bytes;
        }

        using var unzip = new GZipStream(file, CompressionMode.Decompress);
        using var all = new MemoryStream();
        unzip.CopyTo(all);
        return all.ToArray();
    }
}
