using System;

namespace CodeGenChunk.Tool.Import;

/// <summary>A model that cgc import cannot turn into a manifest; the message says where and what is supported.</summary>
public sealed class ImportException(string message) : Exception(message)
{
}
