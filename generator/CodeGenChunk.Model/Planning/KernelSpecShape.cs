namespace CodeGenChunk.Model.Planning;

public static class KernelSpecShape
{
    /// <summary>Rows computed together (they share each load of x).</summary>
    public const int RowBlock = 4;
}
