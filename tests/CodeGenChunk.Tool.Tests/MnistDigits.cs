using System.IO;
using System.IO.Compression;

namespace CodeGenChunk.Tool.Tests;

/// <summary>samples/data/mnist: 10,000 digits of 28×28 grey levels, sorted by label.</summary>
internal static class MnistDigits
{
    private static readonly object Gate = new();
    private static (byte[] Images, byte[] Labels)? _loaded;

    public static (byte[] Images, byte[] Labels) Load()
    {
        lock (Gate)
        {
            if (_loaded is null)
            {
                using var gz = new GZipStream(File.OpenRead(Path.Combine(RepoPaths.MnistData, "images-u8.bin.gz")), CompressionMode.Decompress);
                using var images = new MemoryStream();
                gz.CopyTo(images);
                _loaded = (images.ToArray(), File.ReadAllBytes(Path.Combine(RepoPaths.MnistData, "labels-u8.bin")));
            }

            return _loaded.Value;
        }
    }

    /// <summary>Digit <paramref name="index"/> with pixels scaled to [0, 1].</summary>
    public static float[] Scaled(int index)
    {
        var images = Load().Images;
        var x = new float[784];
        for (var i = 0; i < 784; i++)
        {
            x[i] = images[(index * 784) + i] / 255f;
        }

        return x;
    }

    public static int Label(int index) => Load().Labels[index];

    public static int ArgMax(float[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
