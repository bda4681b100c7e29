using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;
using System.Runtime.Versioning;
using CodeGenChunk.Formats;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>
/// The generator loads the netstandard2.0 build of CodeGenChunk.Formats, the device the net10.0 build: both must
/// produce the same bytes. The netstandard2.0 build is copied into ./netstandard2.0 by the test project and loaded
/// into its own load context.
/// </summary>
[TestClass]
public sealed class CrossFrameworkTests
{
    private delegate void QuantizeFn(ReadOnlySpan<float> weights, int rows, int cols, int groupSize, Span<sbyte> q, Span<float> scales);

    private delegate byte[] ToArrayFn(ulong layoutHash, IReadOnlyList<ReadOnlyMemory<byte>> entries);

    private static AssemblyLoadContext? context;
    private static Assembly? netStandard;

    [ClassInitialize]
    public static void LoadNetStandardBuild(TestContext testContext)
    {
        _ = testContext;
        string path = Path.Combine(AppContext.BaseDirectory, "netstandard2.0", "CodeGenChunk.Formats.dll");
        Assert.IsTrue(File.Exists(path), "missing " + path);
        context = new AssemblyLoadContext("CodeGenChunk.Formats netstandard2.0", isCollectible: true);
        netStandard = context.LoadFromAssemblyPath(path);
    }

    [ClassCleanup]
    public static void Unload()
    {
        context?.Unload();
    }

    [TestMethod]
    public void TheLoadedAssemblyIsTheNetStandardBuild()
    {
        Assert.AreEqual(".NETStandard,Version=v2.0", netStandard!.GetCustomAttribute<TargetFrameworkAttribute>()!.FrameworkName);
        Assert.AreEqual(".NETCoreApp,Version=v10.0", typeof(Int8GroupQuantizer).Assembly.GetCustomAttribute<TargetFrameworkAttribute>()!.FrameworkName);
    }

    [TestMethod]
    public void Quantize_GivesIdenticalBytesOnBothBuilds()
    {
        QuantizeFn ns20 = Bind<QuantizeFn>("CodeGenChunk.Formats.Int8GroupQuantizer", "Quantize");
        var random = new Random(2025);
        const int rows = 64;
        const int cols = 333;
        const int groupSize = 32;
        float[] w = new float[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                // Even rows: each group holds 127 (so scale = 1 exactly) and half-steps k/2, which exercise
                // round-half-to-even. Odd rows: random values of mixed magnitude.
                w[(r * cols) + c] = r % 2 == 0
                    ? (c % groupSize == 0 ? 127f : ((((c * 37) + r) % 255) - 127) / 2f)
                    : (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-4, 4)));
            }
        }

        int groups = Int8GroupQuantizer.GroupsPerRow(cols, groupSize);
        sbyte[] q10 = new sbyte[w.Length];
        sbyte[] q20 = new sbyte[w.Length];
        float[] s10 = new float[rows * groups];
        float[] s20 = new float[rows * groups];
        Int8GroupQuantizer.Quantize(w, rows, cols, groupSize, q10, s10);
        ns20(w, rows, cols, groupSize, q20, s20);

        CollectionAssert.AreEqual(q10, q20);
        CollectionAssert.AreEqual(s10, s20);
    }

    [TestMethod]
    public void ChunkFileWriter_GivesIdenticalBytesOnBothBuilds()
    {
        ToArrayFn ns20 = Bind<ToArrayFn>("CodeGenChunk.Formats.ChunkFileWriter", "ToArray");
        ReadOnlyMemory<byte>[] entries = TestData.RandomEntries(8, 0, 1, 100, 64, 5000, 3);
        CollectionAssert.AreEqual(ChunkFileWriter.ToArray(99, entries), ns20(99, entries));
        CollectionAssert.AreEqual(TestFixtures.TinyBytes(), ns20(TestFixtures.TinyLayoutHash, TestFixtures.PatternEntries(TestFixtures.TinyLengths)));
    }

    private static T Bind<T>(string typeName, string methodName)
        where T : Delegate
    {
        Type type = netStandard!.GetType(typeName, throwOnError: true)!;
        Type[] parameters = Array.ConvertAll(typeof(T).GetMethod("Invoke")!.GetParameters(), p => p.ParameterType);
        MethodInfo method = type.GetMethod(methodName, BindingFlags.Public | BindingFlags.Static, parameters)!;
        Assert.IsNotNull(method, typeName + "." + methodName);
        return method.CreateDelegate<T>();
    }
}
