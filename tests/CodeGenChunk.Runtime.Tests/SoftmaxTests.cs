using System;
using CodeGenChunk.Runtime.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Runtime.Tests;

[TestClass]
public sealed class SoftmaxTests
{
    [TestMethod]
    public void Softmax_subtracts_the_maximum_and_sums_to_one()
    {
        var x = new[] { 1000f, 1001f, 999f, -5f };
        var y = new float[4];
        Elementwise.Softmax(x, y);
        double sum = 0;
        foreach (var v in x)
        {
            sum += Math.Exp(v - 1001.0);
        }

        for (var i = 0; i < x.Length; i++)
        {
            Assert.AreEqual(Math.Exp(x[i] - 1001.0) / sum, y[i], 1e-6, "element " + i);
        }

        Elementwise.Softmax(x, x); // in place
        CollectionAssert.AreEqual(y, x);
    }
}
