using System;
using System.IO;
using System.IO.Compression;

namespace Samples.MnistTrain;

/// <summary>The 10,000 digits of samples/data/mnist: 28×28 grey levels 0..255 and labels 0..9.</summary>
internal sealed class MnistDigits
{
    public const int Pixels = 28 * 28;

    private MnistDigits(byte[] images, byte[] labels)
    {
        Images = images;
        Labels = labels;
    }

    public byte[] Images { get; }

    public byte[] Labels { get; }

    public int Count => Labels.Length;

    /// <summary>
    /// The fixed training/held-out split: digit <paramref name="index"/> is held out when index % 5 == 4. The file is
    /// sorted by label, so every fifth digit gives each class about a fifth of its digits in the held-out set.
    /// </summary>
    public static bool IsHeldOut(int index) => index % 5 == 4;

    public static MnistDigits Load(string directory)
    {
        var labels = File.ReadAllBytes(Path.Combine(directory, "labels-u8.bin"));
        using var gz = new GZipStream(File.OpenRead(Path.Combine(directory, "images-u8.bin.gz")), CompressionMode.Decompress);
        using var images = new MemoryStream();
        gz.CopyTo(images);
        if (images.Length != (long)labels.Length * Pixels)
        {
            throw new InvalidDataException($"{directory}: {images.Length} image bytes for {labels.Length} labels (expected {labels.Length * Pixels})");
        }

        foreach (var l in labels)
        {
            if (l > 9)
            {
                throw new InvalidDataException($"{directory}: label {l} is not a digit");
            }
        }

        return new MnistDigits(images.ToArray(), labels);
    }

    /// <summary>Digit <paramref name="index"/> with pixels scaled to [0, 1] (grey / 255).</summary>
    public void CopyScaled(int index, Span<float> destination)
    {
        var source = Images.AsSpan(index * Pixels, Pixels);
        for (var i = 0; i < Pixels; i++)
        {
            destination[i] = source[i] / 255f;
        }
    }
}
