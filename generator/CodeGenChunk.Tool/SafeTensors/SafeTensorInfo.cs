namespace CodeGenChunk.Tool.SafeTensors;

/// <summary>One tensor of a safetensors file: dtype, shape and byte range inside the data section.</summary>
public sealed record SafeTensorInfo(string Name, string DType, long[] Shape, long Begin, long End)
{
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape)
            {
                n *= d;
            }

            return n;
        }
    }

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
