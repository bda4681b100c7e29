using Microsoft.VisualStudio.TestTools.UnitTesting;

[assembly: Parallelize(Scope = ExecutionScope.ClassLevel)]

namespace CodeGenChunk.Tool.Tests
{
    [TestClass]
    public static class TestRun
    {
        [AssemblyCleanup]
        public static void DeleteTemporaryFiles() => RepoPaths.DeleteTempDirectories();
    }
}
