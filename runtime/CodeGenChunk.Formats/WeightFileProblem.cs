namespace CodeGenChunk.Formats;

/// <summary>What is wrong with a weights (chunk) file; carried by <see cref="WeightFileException"/>.</summary>
public enum WeightFileProblem
{
    /// <summary>The file or embedded resource does not exist.</summary>
    NotFound,

    /// <summary>The file is shorter than the 64-byte header.</summary>
    TooShort,

    /// <summary>The file does not start with "CGCW".</summary>
    BadMagic,

    /// <summary>The format version is not one this library reads.</summary>
    UnsupportedVersion,

    /// <summary>The header checksum does not match, or a header field is impossible.</summary>
    HeaderCorrupt,

    /// <summary>The file is truncated or extended, or its length is not the one the model's layout needs.</summary>
    LengthMismatch,

    /// <summary>The file was packed for a different layout (manifest).</summary>
    LayoutMismatch,

    /// <summary>The file holds a different number of entries than the model expects.</summary>
    EntryCountMismatch,

    /// <summary>The entry table checksum does not match, or a table field is impossible.</summary>
    TableCorrupt,

    /// <summary>An entry lies outside the file, is misaligned or overlaps another.</summary>
    EntryOutOfBounds,

    /// <summary>An entry's data (or the padding around it) does not match its checksum.</summary>
    ChecksumMismatch,

    /// <summary>The file could not be read.</summary>
    ReadFailed,
}
