using System;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;
using CodeGenChunk.Formats;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

/// <summary>
/// The weight formats of the netstandard2.0 build (loaded by the source generator and the packer) and of the net10.0
/// build (on the device) produce identical bytes, metadata and decoded float bits. Same pattern as
/// <see cref="CrossFrameworkTests"/>: the netstandard2.0 build is loaded from ./netstandard2.0 into its own context.
/// </summary>
[TestClass]
public sealed class WeightFormatsCrossFrameworkTests
{
    private const int Rows = 12;
    private const int Cols = 333;

    private static AssemblyLoadContext? context;
    private static Assembly? netStandard;

    private delegate void HalfQuantizeFn(ReadOnlySpan<float> weights, int rows, int cols, Span<byte> packed);

    private delegate void HalfDequantizeFn(ReadOnlySpan<byte> packed, int rows, int cols, Span<float> output);

    private delegate void BlockQuantizeFn(ReadOnlySpan<float> weights, int rows, int cols, int groupSize, Span<byte> packed, Span<float> scales);

    private delegate void BlockDequantizeFn(ReadOnlySpan<byte> packed, ReadOnlySpan<float> scales, int rows, int cols, int groupSize, Span<float> output);

    private delegate void Base11QuantizeFn(ReadOnlySpan<float> weights, int rows, int cols, int groupSize, Span<byte> packed, Span<ushort> minHalf, Span<ushort> rangeHalf);

    private delegate void Base11DequantizeFn(ReadOnlySpan<byte> packed, ReadOnlySpan<ushort> minHalf, ReadOnlySpan<ushort> rangeHalf, int rows, int cols, int groupSize, Span<float> output);

    private delegate ReadOnlySpan<float> TableFn();

    [ClassInitialize]
    public static void LoadNetStandardBuild(TestContext testContext)
    {
        _ = testContext;
        string path = Path.Combine(AppContext.BaseDirectory, "netstandard2.0", "CodeGenChunk.Formats.dll");
        Assert.IsTrue(File.Exists(path), "missing " + path);
        context = new AssemblyLoadContext("CodeGenChunk.Formats netstandard2.0 (weight formats)", isCollectible: true);
        netStandard = context.LoadFromAssemblyPath(path);
    }

    [ClassCleanup]
    public static void Unload()
    {
        context?.Unload();
    }

    [TestMethod]
    public void HalfFormat_GivesIdenticalBitsOnBothBuilds()
    {
        Func<float, ushort> fromSingle = Bind<Func<float, ushort>>("HalfFormat", "FromSingle");
        Func<ushort, float> toSingle = Bind<Func<ushort, float>>("HalfFormat", "ToSingle");
        for (int h = 0; h <= ushort.MaxValue; h++)
        {
            Assert.AreEqual(FormatTestData.Bits(HalfFormat.ToSingle((ushort)h)), FormatTestData.Bits(toSingle((ushort)h)));
        }

        // A sweep over the float32 bit patterns of finite values below the overflow threshold, plus every tie.
        for (uint bits = 0; bits < 0x477FF000u; bits += 4099)
        {
            foreach (uint b in new[] { bits, bits | 0x80000000u })
            {
                float f = BitConverter.UInt32BitsToSingle(b);
                Assert.AreEqual(HalfFormat.FromSingle(f), fromSingle(f));
            }
        }

        for (int i = 0; i < 0x7BFF; i++)
        {
            float mid = (HalfFormat.ToSingle((ushort)i) + HalfFormat.ToSingle((ushort)(i + 1))) / 2;
            Assert.AreEqual(HalfFormat.FromSingle(mid), fromSingle(mid));
        }

        float[] w = Weights(bounded: true);
        byte[] p10 = new byte[Rows * HalfFormat.RowBytes(Cols)];
        byte[] p20 = new byte[p10.Length];
        HalfFormat.Quantize(w, Rows, Cols, p10);
        Bind<HalfQuantizeFn>("HalfFormat", "Quantize")(w, Rows, Cols, p20);
        CollectionAssert.AreEqual(p10, p20);
        float[] d10 = new float[w.Length];
        float[] d20 = new float[w.Length];
        HalfFormat.Dequantize(p10, Rows, Cols, d10);
        Bind<HalfDequantizeFn>("HalfFormat", "Dequantize")(p20, Rows, Cols, d20);
        FormatTestData.AreBitIdentical(d10, d20, "f16 decoded");
    }

    [TestMethod]
    [DataRow("Int4BlockFormat", 32)]
    [DataRow("Int4BlockFormat", 64)]
    [DataRow("TernaryBlockFormat", 80)]
    [DataRow("TernaryBlockFormat", 320)]
    [DataRow("Int1BlockFormat", 128)]
    [DataRow("Int1BlockFormat", 256)]
    public void BlockFormats_GiveIdenticalBytesScalesAndDecodedBitsOnBothBuilds(string typeName, int groupSize)
    {
        MethodInfo rowBytes = typeof(HalfFormat).Assembly.GetType("CodeGenChunk.Formats." + typeName, throwOnError: true)!.GetMethod("RowBytes")!;
        int packedLength = Rows * (int)rowBytes.Invoke(null, [Cols])!;
        int scaleLength = Rows * ((Cols + groupSize - 1) / groupSize);
        BlockQuantizeFn q10 = BindNet10<BlockQuantizeFn>(typeName, "Quantize");
        BlockDequantizeFn d10 = BindNet10<BlockDequantizeFn>(typeName, "Dequantize");
        BlockQuantizeFn q20 = Bind<BlockQuantizeFn>(typeName, "Quantize");
        BlockDequantizeFn d20 = Bind<BlockDequantizeFn>(typeName, "Dequantize");

        float[] w = Weights(bounded: false);
        byte[] packed10 = new byte[packedLength];
        byte[] packed20 = new byte[packedLength];
        float[] scales10 = new float[scaleLength];
        float[] scales20 = new float[scaleLength];
        q10(w, Rows, Cols, groupSize, packed10, scales10);
        q20(w, Rows, Cols, groupSize, packed20, scales20);
        CollectionAssert.AreEqual(packed10, packed20, typeName + " packed");
        FormatTestData.AreBitIdentical(scales10, scales20, typeName + " scales");

        float[] out10 = new float[w.Length];
        float[] out20 = new float[w.Length];
        d10(packed10, scales10, Rows, Cols, groupSize, out10);
        d20(packed20, scales20, Rows, Cols, groupSize, out20);
        FormatTestData.AreBitIdentical(out10, out20, typeName + " decoded");
    }

    [TestMethod]
    [DataRow(9)]
    [DataRow(37)]
    [DataRow(144)]
    [DataRow(256)]
    public void Base11_GivesIdenticalBytesMetadataAndDecodedBitsOnBothBuilds(int groupSize)
    {
        int groups = Base11Format.GroupsPerRow(Cols, groupSize);
        float[] w = Weights(bounded: true);
        byte[] packed10 = new byte[Rows * Base11Format.RowBytes(Cols, groupSize)];
        byte[] packed20 = new byte[packed10.Length];
        ushort[] min10 = new ushort[Rows * groups];
        ushort[] min20 = new ushort[Rows * groups];
        ushort[] range10 = new ushort[Rows * groups];
        ushort[] range20 = new ushort[Rows * groups];
        Base11Format.Quantize(w, Rows, Cols, groupSize, packed10, min10, range10);
        Bind<Base11QuantizeFn>("Base11Format", "Quantize")(w, Rows, Cols, groupSize, packed20, min20, range20);
        CollectionAssert.AreEqual(packed10, packed20);
        CollectionAssert.AreEqual(min10, min20);
        CollectionAssert.AreEqual(range10, range20);

        float[] out10 = new float[w.Length];
        float[] out20 = new float[w.Length];
        Base11Format.Dequantize(packed10, min10, range10, Rows, Cols, groupSize, out10);
        Bind<Base11DequantizeFn>("Base11Format", "Dequantize")(packed20, min20, range20, Rows, Cols, groupSize, out20);
        FormatTestData.AreBitIdentical(out10, out20, "base11 decoded");
    }

    [TestMethod]
    public void Tables_AndBitsPerWeight_AreIdenticalOnBothBuilds()
    {
        FormatTestData.AreBitIdentical(Base11Format.Codebook, BindProperty("Base11Format", "Codebook")(), "codebook");
        FormatTestData.AreBitIdentical(Base11Format.HalfPlusOneTable, BindProperty("Base11Format", "HalfPlusOneTable")(), "half plus one");
        FormatTestData.AreBitIdentical(Int4BlockFormat.DecodeTable, BindProperty("Int4BlockFormat", "DecodeTable")(), "int4 decode table");

        Func<string, int, int, double> bits = Bind<Func<string, int, int, double>>("WeightFormats", "BitsPerWeight");
        foreach (string format in WeightFormats.Names)
        {
            int groupSize = WeightFormats.DefaultGroupSize(format);
            Assert.AreEqual(WeightFormats.BitsPerWeight(format, 1000, groupSize), bits(format, 1000, groupSize), format);
        }
    }

    /// <summary>
    /// Rows of different kinds: ties of q = w / scale (the largest magnitude a multiple of 7 · 2^k), random mixed
    /// magnitudes, float32 subnormals, constant and zero rows, and ±0. <paramref name="bounded"/> keeps |w| ≤ 60000
    /// (fp16 / base11).
    /// </summary>
    private static float[] Weights(bool bounded)
    {
        var random = new Random(2025);
        float[] w = new float[Rows * Cols];
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < Cols; c++)
            {
                float v = (r % 6) switch
                {
                    0 => c % 32 == 0 ? 7f : ((((c * 37) + r) % 15) - 7) / 2f,
                    1 => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-4, bounded ? 4 : 30))),
                    2 => (float)((random.NextDouble() - 0.5) * 1e-39),
                    3 => 0.3f,
                    4 => c % 3 == 0 ? -0f : 0f,
                    _ => (float)Math.Round((random.NextDouble() - 0.5) * 20) / 8f,
                };
                w[(r * Cols) + c] = v;
            }
        }

        return w;
    }

    private static T Bind<T>(string typeName, string methodName)
        where T : Delegate => BindFrom<T>(netStandard!, typeName, methodName);

    private static T BindNet10<T>(string typeName, string methodName)
        where T : Delegate => BindFrom<T>(typeof(HalfFormat).Assembly, typeName, methodName);

    private static TableFn BindProperty(string typeName, string propertyName)
    {
        Type type = netStandard!.GetType("CodeGenChunk.Formats." + typeName, throwOnError: true)!;
        MethodInfo getter = type.GetProperty(propertyName, BindingFlags.Public | BindingFlags.Static)!.GetMethod!;
        return getter.CreateDelegate<TableFn>();
    }

    private static T BindFrom<T>(Assembly assembly, string typeName, string methodName)
        where T : Delegate
    {
        Type type = assembly.GetType("CodeGenChunk.Formats." + typeName, throwOnError: true)!;
        Type[] parameters = Array.ConvertAll(typeof(T).GetMethod("Invoke")!.GetParameters(), p => p.ParameterType);
        MethodInfo? method = type.GetMethod(methodName, BindingFlags.Public | BindingFlags.Static, parameters);
        Assert.IsNotNull(method, typeName + "." + methodName);
        return method.CreateDelegate<T>();
    }
}
