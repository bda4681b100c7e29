using System;
using System.Runtime.Intrinsics;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

[TestClass]
public sealed class KernelPathsTests
{
    [TestMethod]
    public void Best_IsTheWidestAcceleratedWidth()
    {
        KernelPath expected = Vector512.IsHardwareAccelerated ? KernelPath.Vector512
            : Vector256.IsHardwareAccelerated ? KernelPath.Vector256
            : Vector128.IsHardwareAccelerated ? KernelPath.Vector128
            : KernelPath.Scalar;
        Assert.AreEqual(expected, KernelPaths.Best);
    }

    [TestMethod]
    [DataRow(true, true, true, KernelPath.Vector512)]
    [DataRow(false, true, true, KernelPath.Vector256)]
    [DataRow(false, false, true, KernelPath.Vector128)]
    [DataRow(false, false, false, KernelPath.Scalar)]
    public void Widest_PicksTheWidestAccelerated(bool v512, bool v256, bool v128, KernelPath expected)
    {
        Assert.AreEqual(expected, KernelPaths.Widest(v512, v256, v128));
    }

    [TestMethod]
    public void Resolve_OnThisMachine()
    {
        Assert.AreEqual(KernelPaths.Override is { } o ? KernelPaths.Resolve(o) : KernelPaths.Best, KernelPaths.Resolve(KernelPath.Auto));
        Assert.AreEqual(KernelPath.Scalar, KernelPaths.Resolve(KernelPath.Scalar));
        Assert.AreEqual(KernelPaths.Best, KernelPaths.Resolve(KernelPath.Vector512));
        Assert.AreNotEqual(KernelPath.Auto, KernelPaths.Resolve(KernelPath.Auto));
        if (Vector128.IsHardwareAccelerated)
        {
            Assert.AreEqual(KernelPath.Vector128, KernelPaths.Resolve(KernelPath.Vector128));
        }
    }

    [TestMethod]
    [DataRow(KernelPath.Auto, null, KernelPath.Vector256, KernelPath.Vector256)]
    [DataRow(KernelPath.Auto, null, KernelPath.Scalar, KernelPath.Scalar)]
    [DataRow(KernelPath.Auto, KernelPath.Scalar, KernelPath.Vector512, KernelPath.Scalar)]
    [DataRow(KernelPath.Auto, KernelPath.Vector128, KernelPath.Vector256, KernelPath.Vector128)]
    [DataRow(KernelPath.Auto, KernelPath.Vector512, KernelPath.Vector128, KernelPath.Vector128)]
    [DataRow(KernelPath.Vector512, null, KernelPath.Vector128, KernelPath.Vector128)]
    [DataRow(KernelPath.Vector512, null, KernelPath.Scalar, KernelPath.Scalar)]
    [DataRow(KernelPath.Vector256, null, KernelPath.Vector512, KernelPath.Vector256)]
    [DataRow(KernelPath.Vector128, KernelPath.Scalar, KernelPath.Vector512, KernelPath.Vector128)]
    [DataRow(KernelPath.Scalar, null, KernelPath.Vector512, KernelPath.Scalar)]
    public void Resolve_Rule(KernelPath requested, KernelPath? overridePath, KernelPath best, KernelPath expected)
    {
        Assert.AreEqual(expected, KernelPaths.Resolve(requested, overridePath, best));
    }

    [TestMethod]
    public void Resolve_RejectsUndefinedValues()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => KernelPaths.Resolve((KernelPath)99));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => KernelPaths.Resolve((KernelPath)(-1)));
    }

    [TestMethod]
    [DataRow("scalar", KernelPath.Scalar)]
    [DataRow("SCALAR", KernelPath.Scalar)]
    [DataRow(" v128 ", KernelPath.Vector128)]
    [DataRow("V256", KernelPath.Vector256)]
    [DataRow("v512", KernelPath.Vector512)]
    public void TryParse_AcceptsTheDocumentedValues(string text, KernelPath expected)
    {
        Assert.IsTrue(KernelPaths.TryParse(text, out KernelPath path));
        Assert.AreEqual(expected, path);
    }

    [TestMethod]
    [DataRow(null)]
    [DataRow("")]
    [DataRow("auto")]
    [DataRow("avx2")]
    [DataRow("v1024")]
    public void TryParse_RejectsOtherValues(string? text)
    {
        Assert.IsFalse(KernelPaths.TryParse(text, out KernelPath path));
        Assert.AreEqual(KernelPath.Auto, path);
    }

    [TestMethod]
    public void Override_ReflectsTheEnvironmentVariable()
    {
        string? value = Environment.GetEnvironmentVariable(KernelPaths.EnvironmentVariable);
        KernelPath? expected = KernelPaths.TryParse(value, out KernelPath path) ? path : null;
        Assert.AreEqual(expected, KernelPaths.Override);
    }
}
