using System.Globalization;

namespace CodeGenChunk.Model.Planning;

/// <summary>The shape of a channel-major tensor (batch 1): C planes of H rows of W values.</summary>
public readonly record struct Chw(int C, int H, int W)
{
    public long Length => (long)C * H * W;

    public string Describe() => string.Format(CultureInfo.InvariantCulture, "[{0}, {1}, {2}]", C, H, W);
}
