using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Generator.Tests;

/// <summary>
/// Broken manifests: each yields exactly one diagnostic with the right id, at the 1-based line and
/// column of the offending JSON token, in the manifest's file; the generator neither throws nor
/// emits source for it. The position is that of the value at fault; of the property name for an
/// unknown property; of the object's <c>{</c> for a missing property.
/// </summary>
[TestClass]
public sealed class DiagnosticTests
{
    [TestMethod]
    [DataRow("CGC0046", 8, 72, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [2, 6, 6] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 2, "outChannels": 4, "kernel": [3, 3], "pad": [1, 1, 1, 1],
              "chunks": { "count": 2, "axis": "output", "topK": 1, "activity": "taps" } },
            { "op": "relu" },
            { "op": "maxpool", "kernel": [3, 3], "stride": [3, 3] }
          ]
        }
        """, DisplayName = "CGC0046 taps estimator on output chunks")]
    [DataRow("CGC0046", 8, 27, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 8,
              "chunks": { "axis": "pool", "topK": 1, "proxyTaps": 2 } }
          ]
        }
        """, DisplayName = "CGC0046 pool routing of a linear layer")]
    [DataRow("CGC0046", 8, 58, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [2, 6, 6] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 2, "outChannels": 4, "kernel": [3, 3], "pad": [1, 1, 1, 1],
              "chunks": { "axis": "pool", "topK": 2, "activity": "exact", "proxyTaps": 4 } },
            { "op": "relu" },
            { "op": "maxpool", "kernel": [3, 3], "stride": [3, 3] }
          ]
        }
        """, DisplayName = "CGC0046 pool routing ranked by exact")]
    [DataRow("CGC0046", 8, 70, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [2, 6, 6] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 2, "outChannels": 4, "kernel": [3, 3], "pad": [1, 1, 1, 1],
              "chunks": { "axis": "pool", "topK": 2, "proxyTaps": 4, "maxK": 3 } },
            { "op": "relu" },
            { "op": "maxpool", "kernel": [3, 3], "stride": [3, 3] }
          ]
        }
        """, DisplayName = "CGC0046 pool routing with maxK")]
    [DataRow("CGC0046", 7, 131, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [2, 6, 6] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 2, "outChannels": 4, "kernel": [3, 3], "pad": [1, 1, 1, 1], "quant": { "format": "int8" },
              "chunks": { "axis": "pool", "topK": 2, "proxyTaps": 4 } },
            { "op": "relu" },
            { "op": "maxpool", "kernel": [3, 3], "stride": [3, 3] }
          ]
        }
        """, DisplayName = "CGC0046 pool routing of int8 weights")]
    [DataRow("CGC0046", 9, 27, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "target": { "weights": "stream" },
          "input": { "shape": [2, 6, 6] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 2, "outChannels": 4, "kernel": [3, 3], "pad": [1, 1, 1, 1],
              "chunks": { "axis": "pool", "topK": 2, "proxyTaps": 4 } },
            { "op": "relu" },
            { "op": "maxpool", "kernel": [3, 3], "stride": [3, 3] }
          ]
        }
        """, DisplayName = "CGC0046 pool routing under stream placement")]
    [DataRow("CGC0046", 8, 27, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [2, 6, 6] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 2, "outChannels": 4, "kernel": [3, 3], "pad": [1, 1, 1, 1],
              "chunks": { "axis": "pool", "topK": 2, "proxyTaps": 4 } },
            { "op": "relu" },
            { "op": "flatten" }
          ]
        }
        """, DisplayName = "CGC0046 pool routing without a max pool after")]
    [DataRow("CGC0046", 8, 27, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [2, 6, 6] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 2, "outChannels": 4, "kernel": [3, 3], "pad": [1, 1, 1, 1],
              "chunks": { "axis": "pool", "topK": 2, "proxyTaps": 4 } },
            { "op": "relu" },
            { "op": "maxpool", "kernel": [3, 3], "stride": [2, 2] }
          ]
        }
        """, DisplayName = "CGC0046 pool routing over overlapping windows")]
    [DataRow("CGC0046", 8, 27, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [2, 6, 6] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 2, "outChannels": 4, "kernel": [3, 3], "pad": [1, 1, 1, 1],
              "chunks": { "axis": "pool", "topK": 2, "proxyTaps": 4 } },
            { "op": "maxpool", "kernel": [2, 2], "stride": [2, 2], "pad": [1, 1, 1, 1] }
          ]
        }
        """, DisplayName = "CGC0046 pool routing over padded windows")]
    [DataRow("CGC0046", 8, 44, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [2, 6, 6] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 2, "outChannels": 4, "kernel": [3, 3], "pad": [1, 1, 1, 1],
              "chunks": { "axis": "pool", "count": 4, "topK": 2, "proxyTaps": 4 } },
            { "op": "relu" },
            { "op": "maxpool", "kernel": [3, 3], "stride": [3, 3] }
          ]
        }
        """, DisplayName = "CGC0046 pool routing count not the window")]
    [DataRow("CGC0046", 8, 43, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [2, 6, 6] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 2, "outChannels": 4, "kernel": [3, 3], "pad": [1, 1, 1, 1],
              "chunks": { "axis": "pool", "topK": 10, "proxyTaps": 4 } },
            { "op": "relu" },
            { "op": "maxpool", "kernel": [3, 3], "stride": [3, 3] }
          ]
        }
        """, DisplayName = "CGC0046 pool routing topK above the window")]
    [DataRow("CGC0046", 8, 59, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [2, 6, 6] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 2, "outChannels": 4, "kernel": [3, 3], "pad": [1, 1, 1, 1],
              "chunks": { "axis": "pool", "topK": 2, "proxyTaps": 19 } },
            { "op": "relu" },
            { "op": "maxpool", "kernel": [3, 3], "stride": [3, 3] }
          ]
        }
        """, DisplayName = "CGC0046 pool routing proxyTaps above the filter")]
    [DataRow("CGC0046", 8, 27, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [1, 9, 9] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 1, "outChannels": 2, "kernel": [3, 3], "pad": [1, 1, 1, 1],
              "chunks": { "axis": "pool", "topK": 2, "proxyTaps": 4 } },
            { "op": "maxpool", "kernel": [9, 9], "stride": [9, 9] }
          ]
        }
        """, DisplayName = "CGC0046 pool routing window above 64 positions")]
    [DataRow("CGC0046", 8, 27, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [2, 6, 6] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 2, "outChannels": 4, "kernel": [3, 3], "pad": [1, 1, 1, 1],
              "chunks": { "axis": "pool", "topK": 2, "proxyTaps": 4 } },
            { "op": "relu", "name": "r" },
            { "op": "maxpool", "kernel": [3, 3], "stride": [3, 3] },
            { "op": "flatten" },
            { "op": "linear", "name": "l", "in": 16, "out": 144 },
            { "op": "residual", "from": "r" }
          ]
        }
        """, DisplayName = "CGC0046 pool routing of a conv a residual reads")]
    [DataRow("CGC0002", 8, 17, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [2, 6, 6] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 2, "outChannels": 4, "kernel": [3, 3], "pad": [1, 1, 1, 1],
              "chunks": { "axis": "pool", "topK": 2 } },
            { "op": "relu" },
            { "op": "maxpool", "kernel": [3, 3], "stride": [3, 3] }
          ]
        }
        """, DisplayName = "CGC0002 pool routing without proxyTaps")]
    [DataRow("CGC0044", 7, 156, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [2, 6, 6] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 2, "outChannels": 4, "kernel": [3, 3], "pad": [1, 1, 1, 1], "quant": { "format": "int8" }, "activations": { "format": "int8" },
              "chunks": { "axis": "pool", "topK": 2, "proxyTaps": 4 } },
            { "op": "relu" },
            { "op": "maxpool", "kernel": [3, 3], "stride": [3, 3] }
          ]
        }
        """, DisplayName = "CGC0044 pool routing with int8 activations")]
    [DataRow("CGC0001", 3, 3, """
        {
          "model": "M"
          "namespace": "N"
        }
        """, DisplayName = "CGC0001 JSON: missing comma")]
    [DataRow("CGC0001", 10, 1, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 }
          ]
        }
        garbage
        """, DisplayName = "CGC0001 JSON: trailing garbage")]
    [DataRow("CGC0001", 3, 24, """
        {
          "model": "M",
          "namespace": "Samples
        """, DisplayName = "CGC0001 JSON: unterminated string")]
    [DataRow("CGC0001", 1, 1, "", DisplayName = "CGC0001 JSON: empty file")]
    [DataRow("CGC0003", 1, 1, """
        [
          1
        ]
        """, DisplayName = "CGC0003 root is not an object")]
    [DataRow("CGC0002", 1, 1, """
        {
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 }
          ]
        }
        """, DisplayName = "CGC0002 missing model")]
    [DataRow("CGC0002", 1, 1, """
        {
          "model": "M",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 }
          ]
        }
        """, DisplayName = "CGC0002 missing namespace")]
    [DataRow("CGC0002", 4, 14, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "calibration": "c.bin" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 }
          ]
        }
        """, DisplayName = "CGC0002 missing weights.source")]
    [DataRow("CGC0002", 1, 1, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 }
          ]
        }
        """, DisplayName = "CGC0002 missing input")]
    [DataRow("CGC0002", 1, 1, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] }
        }
        """, DisplayName = "CGC0002 missing layers")]
    [DataRow("CGC0002", 7, 5, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "out": 2 }
          ]
        }
        """, DisplayName = "CGC0002 missing linear.in")]
    [DataRow("CGC0003", 7, 42, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": "4", "out": 2 }
          ]
        }
        """, DisplayName = "CGC0003 wrong type: in is a string")]
    [DataRow("CGC0003", 5, 23, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": 4 },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 }
          ]
        }
        """, DisplayName = "CGC0003 wrong type: shape is a number")]
    [DataRow("CGC0003", 7, 63, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2, "bias": "yes" }
          ]
        }
        """, DisplayName = "CGC0003 wrong type: bias is a string")]
    [DataRow("CGC0003", 7, 5, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            42
          ]
        }
        """, DisplayName = "CGC0003 wrong type: layer is a number")]
    [DataRow("CGC0004", 6, 3, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "version": 2,
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 }
          ]
        }
        """, DisplayName = "CGC0004 unknown property: top level")]
    [DataRow("CGC0004", 6, 15, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "target": { "ram": 1000 },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 }
          ]
        }
        """, DisplayName = "CGC0004 unknown property: in target")]
    [DataRow("CGC0004", 8, 21, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 },
            { "op": "relu", "inplace": true }
          ]
        }
        """, DisplayName = "CGC0004 unknown property: in a layer")]
    [DataRow("CGC0005", 6, 23, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "target": { "simd": "avx2" },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 }
          ]
        }
        """, DisplayName = "CGC0005 bad enum: target.simd")]
    [DataRow("CGC0005", 6, 26, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "target": { "weights": "cloud" },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 }
          ]
        }
        """, DisplayName = "CGC0005 bad enum: target.weights")]
    [DataRow("CGC0005", 6, 24, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "quant": { "format": "int3" },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 }
          ]
        }
        """, DisplayName = "CGC0005 bad enum: quant.format")]
    [DataRow("CGC0005", 8, 39, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2,
              "chunks": { "count": 2, "axis": "diagonal" } }
          ]
        }
        """, DisplayName = "CGC0005 bad enum: chunks.axis")]
    [DataRow("CGC0005", 8, 39, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2,
              "chunks": { "count": 2, "topK": 3 } }
          ]
        }
        """, DisplayName = "CGC0005 topK larger than count")]
    [DataRow("CGC0005", 7, 56, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "layernorm", "name": "n", "dim": 4, "eps": 0 }
          ]
        }
        """, DisplayName = "CGC0005 eps not positive")]
    [DataRow("CGC0005", 7, 31, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "fc\n0", "in": 4, "out": 2 }
          ]
        }
        """, DisplayName = "CGC0005 layer name with a line break")]
    [DataRow("CGC0005", 5, 24, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [0] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 }
          ]
        }
        """, DisplayName = "CGC0005 shape dimension zero")]
    [DataRow("CGC0006", 8, 13, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 },
            { "op": "lstm" }
          ]
        }
        """, DisplayName = "CGC0006 unknown op")]
    [DataRow("CGC0007", 8, 42, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 },
            { "op": "linear", "name": "b", "in": 3, "out": 2 }
          ]
        }
        """, DisplayName = "CGC0007 linear in does not match")]
    [DataRow("CGC0007", 8, 46, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 },
            { "op": "layernorm", "name": "n", "dim": 4 }
          ]
        }
        """, DisplayName = "CGC0007 layernorm dim does not match")]
    [DataRow("CGC0008", 8, 33, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 },
            { "op": "residual", "from": "nope" }
          ]
        }
        """, DisplayName = "CGC0008 residual from unknown layer")]
    [DataRow("CGC0009", 8, 33, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 },
            { "op": "residual", "from": "input" }
          ]
        }
        """, DisplayName = "CGC0009 residual of incompatible size")]
    [DataRow("CGC0010", 8, 31, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 4 },
            { "op": "linear", "name": "a", "in": 4, "out": 2 }
          ]
        }
        """, DisplayName = "CGC0010 duplicate layer name")]
    [DataRow("CGC0010", 7, 29, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "relu", "name": "input" }
          ]
        }
        """, DisplayName = "CGC0010 layer named input")]
    [DataRow("CGC0011", 2, 12, """
        {
          "model": "2Fast",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 }
          ]
        }
        """, DisplayName = "CGC0011 model not a C# identifier")]
    [DataRow("CGC0011", 3, 16, """
        {
          "model": "M",
          "namespace": "My.class.Models",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 }
          ]
        }
        """, DisplayName = "CGC0011 namespace not a C# namespace")]
    [DataRow("CGC0014", 6, 33, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "target": { "ramBudgetBytes": 16 },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2 }
          ]
        }
        """, DisplayName = "CGC0014 peak RAM over budget")]
    [DataRow("CGC0014", 6, 33, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [1024] },
          "target": { "ramBudgetBytes": 4096, "weights": "stream" },
          "layers": [
            { "op": "relu" }
          ]
        }
        """, DisplayName = "CGC0014 streamed peak RAM over budget")]
    [DataRow("CGC0050", 8, 5, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [64] },
          "target": { "ramBudgetBytes": 8192, "weights": "stream" },
          "layers": [
            { "op": "linear", "name": "a", "in": 64, "out": 64 }
          ]
        }
        """, DisplayName = "CGC0050 layer too large to stream within the budget")]
    [DataRow("CGC0015", 8, 49, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2,
              "quant": { "format": "int8", "groupSize": 64 } }
          ]
        }
        """, DisplayName = "CGC0015 groupSize larger than in")]
    [DataRow("CGC0015", 8, 48, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2,
              "quant": { "format": "f32", "groupSize": 4 } }
          ]
        }
        """, DisplayName = "CGC0015 groupSize on f32")]
    [DataRow("CGC0023", 7, 52, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 200000000 }
          ]
        }
        """, DisplayName = "CGC0023 layer too large")]
    [DataRow("CGC0025", 8, 72, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 8,
              "chunks": { "count": 2, "axis": "output", "topK": 1, "activity": "input" } }
          ]
        }
        """, DisplayName = "CGC0025 input estimator on output chunks")]
    [DataRow("CGC0025", 8, 28, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 8,
              "chunks": { "count": 9 } }
          ]
        }
        """, DisplayName = "CGC0025 more chunks than rows")]
    [DataRow("CGC0025", 8, 71, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [32] },
          "layers": [
            { "op": "linear", "name": "a", "in": 32, "out": 8,
              "chunks": { "count": 2, "axis": "input", "topK": 1, "activity": "lowrank" } }
          ]
        }
        """, DisplayName = "CGC0025 lowrank estimator on input chunks")]
    [DataRow("CGC0025", 8, 72, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [32] },
          "layers": [
            { "op": "linear", "name": "a", "in": 32, "out": 8,
              "chunks": { "count": 2, "axis": "output", "topK": 1, "activity": "lowrank" } }
          ]
        }
        """, DisplayName = "CGC0025 lowrank rank (default 16) above the matrix's rank")]
    [DataRow("CGC0025", 8, 39, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [1, 8, 8] },
          "layers": [
            { "op": "conv2d", "name": "a", "inChannels": 1, "outChannels": 4, "kernel": [3, 3],
              "chunks": { "count": 2, "axis": "input" } }
          ]
        }
        """, DisplayName = "CGC0025 conv2d chunks of input channels")]
    [DataRow("CGC0025", 9, 17, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [1, 8, 8] },
          "target": { "weights": "stream" },
          "layers": [
            { "op": "conv2d", "name": "a", "inChannels": 1, "outChannels": 4, "kernel": [3, 3],
              "chunks": { "count": 2, "topK": 1, "activity": "exact" } }
          ]
        }
        """, DisplayName = "CGC0025 conv2d output chunks under stream placement")]
    [DataRow("CGC0026", 10, 28, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [32] },
          "target": { "weights": "stream" },
          "layers": [
            { "op": "linear", "name": "a", "in": 32, "out": 2,
              "quant": { "format": "int8", "groupSize": 16,
                         "policy": { "by": "runtime-activity", "thresholds": [0.5], "bits": [4, 8] } },
              "chunks": { "count": 2, "axis": "output", "topK": 1, "activity": "exact" } }
          ]
        }
        """, DisplayName = "CGC0026 per-input precision under stream placement")]
    [DataRow("CGC0044", 9, 22, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [32] },
          "target": { "weights": "stream" },
          "layers": [
            { "op": "linear", "name": "a", "in": 32, "out": 2, "quant": { "format": "int8" },
              "activations": { "format": "int8", "params": "dynamic" } }
          ]
        }
        """, DisplayName = "CGC0044 int8 activations under stream placement")]
    [DataRow("CGC0025", 8, 54, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [1, 8, 8] },
          "layers": [
            { "op": "conv2d", "name": "a", "inChannels": 1, "outChannels": 4, "kernel": [3, 3],
              "chunks": { "count": 2, "topK": 1, "activity": "input" } }
          ]
        }
        """, DisplayName = "CGC0025 input estimator on conv2d output chunks")]
    [DataRow("CGC0025", 8, 54, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [1, 8, 8] },
          "layers": [
            { "op": "conv2d", "name": "a", "inChannels": 1, "outChannels": 4, "kernel": [3, 3],
              "chunks": { "count": 2, "topK": 1, "activity": "proxy" } }
          ]
        }
        """, DisplayName = "CGC0025 proxy estimator on conv2d chunks")]
    [DataRow("CGC0025", 8, 28, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [1, 8, 8] },
          "layers": [
            { "op": "conv2d", "name": "a", "inChannels": 1, "outChannels": 4, "kernel": [3, 3],
              "chunks": { "count": 5 } }
          ]
        }
        """, DisplayName = "CGC0025 more chunks than output channels")]
    [DataRow("CGC0026", 9, 28, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 2,
              "quant": { "format": "int8", "groupSize": 4,
                         "policy": { "by": "activity", "thresholds": [0.5], "formats": ["int1", "int8"] } } }
          ]
        }
        """, DisplayName = "CGC0026 policy without chunks")]
    [DataRow("CGC0026", 9, 80, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 4, "chunks": { "count": 2 },
              "quant": { "format": "int8", "groupSize": 4,
                         "policy": { "by": "activity", "thresholds": [0.5], "formats": ["int1", "int8", "f32"] } } }
          ]
        }
        """, DisplayName = "CGC0026 formats do not match thresholds")]
    [DataRow("CGC0026", 9, 85, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [16] },
          "layers": [
            { "op": "linear", "name": "a", "in": 16, "out": 8, "chunks": { "count": 2, "topK": 1 },
              "quant": { "format": "int8", "groupSize": 16,
                         "policy": { "by": "runtime-activity", "thresholds": [0.5], "bits": [4] } } }
          ]
        }
        """, DisplayName = "CGC0026 runtime-activity bits do not match thresholds")]
    [DataRow("CGC0026", 9, 85, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [16] },
          "layers": [
            { "op": "linear", "name": "a", "in": 16, "out": 8, "chunks": { "count": 2, "topK": 1 },
              "quant": { "format": "int8", "groupSize": 16,
                         "policy": { "by": "runtime-activity", "thresholds": [0.5], "bits": [8, 4] } } }
          ]
        }
        """, DisplayName = "CGC0026 runtime-activity bits do not increase")]
    [DataRow("CGC0026", 9, 28, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [16] },
          "layers": [
            { "op": "linear", "name": "a", "in": 16, "out": 8, "chunks": { "count": 2, "axis": "input" },
              "quant": { "format": "int8", "groupSize": 16,
                         "policy": { "by": "runtime-activity", "thresholds": [0.5], "bits": [4, 8] } } }
          ]
        }
        """, DisplayName = "CGC0026 runtime-activity on input chunks")]
    [DataRow("CGC0026", 9, 88, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [16] },
          "layers": [
            { "op": "linear", "name": "a", "in": 16, "out": 8, "chunks": { "count": 2, "topK": 1 },
              "quant": { "format": "int8", "groupSize": 16,
                         "policy": { "by": "runtime-activity", "thresholds": [0.5], "formats": ["int1", "int8"] } } }
          ]
        }
        """, DisplayName = "CGC0026 runtime-activity with formats")]
    [DataRow("CGC0026", 9, 77, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [16] },
          "layers": [
            { "op": "linear", "name": "a", "in": 16, "out": 8, "chunks": { "count": 2, "topK": 1 },
              "quant": { "format": "int8", "groupSize": 16,
                         "policy": { "by": "activity", "thresholds": [0.5], "bits": [4, 8] } } }
          ]
        }
        """, DisplayName = "CGC0026 bits with calibration activity")]
    [DataRow("CGC0026", 9, 28, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [16] },
          "layers": [
            { "op": "linear", "name": "a", "in": 16, "out": 8,
              "quant": { "format": "int8", "groupSize": 16,
                         "policy": { "by": "runtime-activity", "thresholds": [0.5], "bits": [4, 8] } } }
          ]
        }
        """, DisplayName = "CGC0026 runtime-activity without chunks")]
    [DataRow("CGC0026", 8, 49, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [16] },
          "layers": [
            { "op": "linear", "name": "a", "in": 16, "out": 8, "chunks": { "count": 2, "topK": 1 },
              "quant": { "format": "int8", "groupSize": 8,
                         "policy": { "by": "runtime-activity", "thresholds": [0.5], "bits": [4, 8] } } }
          ]
        }
        """, DisplayName = "CGC0026 runtime-activity groupSize not a multiple of 16")]
    [DataRow("CGC0027", 9, 28, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 4, "chunks": { "count": 2 },
              "quant": { "format": "int8", "groupSize": 4,
                         "policy": { "by": "activity", "thresholds": [0.5], "formats": ["int1", "int8"] } } }
          ]
        }
        """, DisplayName = "CGC0027 policy not calibrated")]
    [DataRow("CGC0047", 7, 130, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [1, 8, 8] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 1, "outChannels": 4, "kernel": [3, 3], "quant": { "format": "base11", "layout": "pairs" } }
          ]
        }
        """, DisplayName = "CGC0047 base11 pairs layout on conv2d")]
    [DataRow("CGC0047", 7, 122, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [8] },
          "layers": [
            { "op": "linear", "name": "a", "in": 8, "out": 4, "chunks": { "count": 2 }, "quant": { "format": "base11", "layout": "pairs" } }
          ]
        }
        """, DisplayName = "CGC0047 base11 pairs layout with chunks")]
    [DataRow("CGC0047", 7, 94, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [8] },
          "layers": [
            { "op": "linear", "name": "a", "in": 8, "out": 4, "quant": { "format": "int8", "layout": "pairs" },
              "activations": { "format": "int8", "params": "dynamic" } }
          ]
        }
        """, DisplayName = "CGC0047 pairs layout on int8 weights")]
    [DataRow("CGC0044", 7, 70, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 4, "activations": { "format": "int8" } }
          ]
        }
        """, DisplayName = "CGC0044 int8 activations without int8 weights")]
    [DataRow("CGC0044", 5, 45, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "quant": { "format": "int8", "groupSize": 70000 },
          "input": { "shape": [70000] },
          "layers": [
            { "op": "linear", "name": "a", "in": 70000, "out": 4, "activations": { "format": "int8" } }
          ]
        }
        """, DisplayName = "CGC0044 group too long for int32 sums")]
    [DataRow("CGC0044", 8, 98, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [1, 8, 8] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 1, "outChannels": 4, "kernel": [3, 3], "quant": { "format": "int8" },
              "chunks": { "count": 2, "axis": "output", "topK": 1, "activity": "exact" }, "activations": { "format": "int8" } }
          ]
        }
        """, DisplayName = "CGC0044 chunked conv2d with int8 activations")]
    [DataRow("CGC0044", 7, 135, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [1, 8, 8] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 1, "outChannels": 4, "kernel": [3, 3], "quant": { "format": "int4" }, "activations": { "format": "int8" } }
          ]
        }
        """, DisplayName = "CGC0044 conv2d int8 activations without int8 weights")]
    [DataRow("CGC0044", 7, 134, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [2700, 5, 5] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 2700, "outChannels": 2, "kernel": [5, 5], "quant": { "format": "int8", "groupSize": 67500 }, "activations": { "format": "int8" } }
          ]
        }
        """, DisplayName = "CGC0044 conv2d group too long for int32 sums")]
    [DataRow("CGC0044", 5, 45, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "quant": { "format": "int4", "groupSize": 1052704 },
          "input": { "shape": [1052704] },
          "layers": [
            { "op": "linear", "name": "a", "in": 1052704, "out": 4, "activations": { "format": "int8" } }
          ]
        }
        """, DisplayName = "CGC0044 int4 group too long for int32 sums")]
    [DataRow("CGC0044", 7, 138, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [1, 8, 8] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 1, "outChannels": 4, "kernel": [3, 3], "quant": { "format": "ternary" }, "activations": { "format": "int8" } }
          ]
        }
        """, DisplayName = "CGC0044 conv2d int8 activations on ternary weights (ternary x int8 is for linear layers)")]
    [DataRow("CGC0044", 5, 48, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "quant": { "format": "ternary", "groupSize": 8421520 },
          "input": { "shape": [8421520] },
          "layers": [
            { "op": "linear", "name": "a", "in": 8421520, "out": 4, "activations": { "format": "int8" } }
          ]
        }
        """, DisplayName = "CGC0044 ternary group too long for int32 sums")]
    [DataRow("CGC0044", 7, 103, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [128] },
          "layers": [
            { "op": "linear", "name": "a", "in": 128, "out": 4, "quant": { "format": "int1" }, "activations": { "format": "int8" } }
          ]
        }
        """, DisplayName = "CGC0044 int8 activations on int1 weights")]
    [DataRow("CGC0044", 7, 135, Base11ConvGroupTooLong, DisplayName = "CGC0044 base11 conv2d group too long for exact float sums")]
    [DataRow("CGC0044", 5, 47, Base11GroupTooLong, DisplayName = "CGC0044 base11 group too long for exact float sums")]
    [DataRow("CGC0045", 8, 100, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "quant": { "format": "int8", "groupSize": 4 },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 4, "activations": { "format": "int8", "params": "static" } }
          ]
        }
        """, DisplayName = "CGC0045 static activations not calibrated")]
    [DataRow("CGC0044", 11, 94, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "quant": { "format": "int8", "groupSize": 4 },
          "activations": { "format": "int8", "params": "predicted", "z": 3 },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 4 },
            { "op": "residual", "from": "input" },
            { "op": "layernorm", "name": "n", "dim": 4, "activations": { "format": "int8", "params": "dynamic", "z": 2 } },
            { "op": "linear", "name": "b", "in": 4, "out": 4 }
          ]
        }
        """, DisplayName = "CGC0044 layernorm on codes with dynamic params")]
    [DataRow("CGC0044", 11, 64, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "quant": { "format": "int8", "groupSize": 4 },
          "activations": { "format": "int8", "params": "predicted", "z": 3 },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 4 },
            { "op": "residual", "from": "input" },
            { "op": "layernorm", "name": "n", "dim": 4, "activations": { "format": "int8", "params": "predicted", "z": 2 } }
          ]
        }
        """, DisplayName = "CGC0044 layernorm on codes as the last layer")]
    [DataRow("CGC0044", 10, 64, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "quant": { "format": "int8", "groupSize": 4 },
          "activations": { "format": "int8", "params": "predicted", "z": 3 },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 4 },
            { "op": "layernorm", "name": "n", "dim": 4, "activations": { "format": "int8", "params": "predicted", "z": 2 } },
            { "op": "linear", "name": "b", "in": 4, "out": 4 }
          ]
        }
        """, DisplayName = "CGC0044 layernorm on codes without a fused residual before")]
    [DataRow("CGC0044", 15, 5, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "quant": { "format": "int8", "groupSize": 4 },
          "activations": { "format": "int8", "params": "predicted", "z": 3 },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 4 },
            { "op": "residual", "from": "input" },
            { "op": "layernorm", "name": "n", "dim": 4, "activations": { "format": "int8", "params": "predicted", "z": 2 } },
            { "op": "linear", "name": "b", "in": 4, "out": 4 },
            { "op": "relu" },
            { "op": "relu" },
            { "op": "residual", "from": "n" }
          ]
        }
        """, DisplayName = "CGC0044 residual from layernorm codes not fused")]
    [DataRow("CGC0045", 11, 94, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "quant": { "format": "int8", "groupSize": 4 },
          "activations": { "format": "int8", "params": "predicted", "z": 3 },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 4 },
            { "op": "residual", "from": "input" },
            { "op": "layernorm", "name": "n", "dim": 4, "activations": { "format": "int8", "params": "predicted" } },
            { "op": "linear", "name": "b", "in": 4, "out": 4 }
          ]
        }
        """, DisplayName = "CGC0045 layernorm on codes not calibrated")]
    [DataRow("CGC0044", 16, 5, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "quant": { "format": "int8", "groupSize": 4 },
          "activations": { "format": "int8", "params": "predicted", "z": 3 },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 4 },
            { "op": "residual", "from": "input" },
            { "op": "layernorm", "name": "n", "dim": 4, "activations": { "format": "int8", "params": "predicted", "z": 2 } },
            { "op": "linear", "name": "b", "in": 4, "out": 4 },
            { "op": "residual", "from": "n" },
            { "op": "layernorm", "name": "m", "dim": 4, "activations": { "format": "int8", "params": "predicted", "z": 2 } },
            { "op": "linear", "name": "c", "in": 4, "out": 4 },
            { "op": "residual", "from": "n" }
          ]
        }
        """, DisplayName = "CGC0044 residual from an older layernorm's codes")]
    [DataRow("CGC0044", 11, 65, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [32] },
          "quant": { "format": "int8", "groupSize": 32 },
          "activations": { "format": "int8", "params": "predicted", "z": 3 },
          "layers": [
            { "op": "linear", "name": "a", "in": 32, "out": 32, "quant": { "format": "int4", "groupSize": 32 } },
            { "op": "residual", "from": "input" },
            { "op": "layernorm", "name": "n", "dim": 32, "activations": { "format": "int8", "params": "predicted", "z": 2 } },
            { "op": "linear", "name": "b", "in": 32, "out": 32 }
          ]
        }
        """, DisplayName = "CGC0044 layernorm on codes after an int4 linear layer (no int4 residual-from-codes epilogue)")]
    [DataRow("CGC0005", 8, 100, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "quant": { "format": "int8", "groupSize": 4 },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 4, "activations": { "format": "int8", "params": "guessed" } }
          ]
        }
        """, DisplayName = "CGC0005 unknown activation params")]
    [DataRow("CGC0019", 6, 13, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "layers": []
        }
        """, DisplayName = "CGC0019 empty layers")]
    [DataRow("CGC0040", 7, 5, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [784] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 1, "outChannels": 4, "kernel": [3, 3] }
          ]
        }
        """, DisplayName = "CGC0040 non-CHW input for conv2d")]
    [DataRow("CGC0040", 8, 5, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [1, 6, 6] },
          "layers": [
            { "op": "flatten" },
            { "op": "maxpool", "kernel": [2, 2] }
          ]
        }
        """, DisplayName = "CGC0040 maxpool after flatten")]
    [DataRow("CGC0041", 7, 50, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [3, 8, 8] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 1, "outChannels": 4, "kernel": [3, 3] }
          ]
        }
        """, DisplayName = "CGC0041 conv2d inChannels does not match")]
    [DataRow("CGC0042", 7, 81, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [2, 4, 9] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 2, "outChannels": 4, "kernel": [5, 5], "pad": [0, 1, 0, 1] }
          ]
        }
        """, DisplayName = "CGC0042 window larger than the padded input")]
    [DataRow("CGC0043", 7, 49, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [1, 6, 6] },
          "layers": [
            { "op": "maxpool", "kernel": [2, 2], "pad": [0, 2, 0, 0] }
          ]
        }
        """, DisplayName = "CGC0043 maxpool padding as large as the window")]
    [DataRow("CGC0007", 8, 43, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4, 3, 3] },
          "layers": [
            { "op": "flatten" },
            { "op": "linear", "name": "fc", "in": 35, "out": 2 }
          ]
        }
        """, DisplayName = "CGC0007 linear in does not match a flattened [C, H, W]")]
    [DataRow("CGC0005", 7, 81, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [1, 6, 6] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 1, "outChannels": 4, "kernel": [3, 3, 3] }
          ]
        }
        """, DisplayName = "CGC0005 conv2d kernel is not a pair")]
    [DataRow("CGC0002", 7, 5, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [1, 6, 6] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 1, "outChannels": 4 }
          ]
        }
        """, DisplayName = "CGC0002 conv2d without kernel")]
    [DataRow("CGC0015", 8, 49, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [1, 6, 6] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 1, "outChannels": 4, "kernel": [3, 3],
              "quant": { "format": "int8", "groupSize": 10 } }
          ]
        }
        """, DisplayName = "CGC0015 conv2d groupSize larger than a filter")]
    [DataRow("CGC0044", 7, 102, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [64] },
          "layers": [
            { "op": "linear", "name": "a", "in": 64, "out": 4, "quant": { "format": "int4" }, "activations": { "format": "int16" } }
          ]
        }
        """, DisplayName = "CGC0044 int16 activations on int4 weights")]
    [DataRow("CGC0044", 7, 135, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [1, 8, 8] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 1, "outChannels": 4, "kernel": [3, 3], "quant": { "format": "int8" }, "activations": { "format": "int16" } }
          ]
        }
        """, DisplayName = "CGC0044 int16 activations on a conv2d layer")]
    [DataRow("CGC0044", 5, 45, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "quant": { "format": "int8", "groupSize": 520 },
          "input": { "shape": [600] },
          "layers": [
            { "op": "linear", "name": "a", "in": 600, "out": 4, "activations": { "format": "int16", "params": "dynamic" } }
          ]
        }
        """, DisplayName = "CGC0044 int16 group too long for int32 sums")]
    [DataRow("CGC0044", 11, 64, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "quant": { "format": "int8", "groupSize": 4 },
          "activations": { "format": "int8", "params": "predicted", "z": 3 },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 4 },
            { "op": "residual", "from": "input" },
            { "op": "layernorm", "name": "n", "dim": 4, "activations": { "format": "int16", "params": "predicted", "z": 2 } },
            { "op": "linear", "name": "b", "in": 4, "out": 4 }
          ]
        }
        """, DisplayName = "CGC0044 int16 activations on a layernorm")]
    [DataRow("CGC0044", 11, 64, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "quant": { "format": "int8", "groupSize": 4 },
          "activations": { "format": "int8", "params": "predicted", "z": 3 },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 4, "activations": { "format": "int16", "params": "dynamic" } },
            { "op": "residual", "from": "input" },
            { "op": "layernorm", "name": "n", "dim": 4, "activations": { "format": "int8", "params": "predicted", "z": 2 } },
            { "op": "linear", "name": "b", "in": 4, "out": 4 }
          ]
        }
        """, DisplayName = "CGC0044 layernorm on codes after an int16 linear layer")]
    [DataRow("CGC0044", 11, 64, """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [4] },
          "quant": { "format": "int8", "groupSize": 4 },
          "activations": { "format": "int8", "params": "predicted", "z": 3 },
          "layers": [
            { "op": "linear", "name": "a", "in": 4, "out": 4 },
            { "op": "residual", "from": "input" },
            { "op": "layernorm", "name": "n", "dim": 4, "activations": { "format": "int8", "params": "predicted", "z": 2 } },
            { "op": "linear", "name": "b", "in": 4, "out": 4, "activations": { "format": "int16", "params": "dynamic" } }
          ]
        }
        """, DisplayName = "CGC0044 int16 linear layer reading layernorm codes")]
    public void BrokenManifestReportsOneDiagnosticAtTheOffendingValue(string id, int line, int column, string manifest)
    {
        var outcome = GeneratorHarness.Run(manifest);

        GeneratorAssert.DidNotCrash(outcome);
        Assert.IsEmpty(outcome.Sources, "A manifest with errors must not produce source.");
        var d = GeneratorAssert.Single(outcome);
        Assert.AreEqual(id, d.Id, d.ToString());
        Assert.AreEqual(DiagnosticSeverity.Error, d.Severity, d.ToString());
        GeneratorAssert.At(d, line, column);
        GeneratorAssert.WellFormedMessage(d);
    }

    /// <summary>base11 weights with int8 activations on a conv2d layer (linear layers only).</summary>
    /// <summary>A base11 conv2d group of 6,580 filter taps (732 channels x 3 x 3 = 6,588) with int8 activations: one more than float sums hold exactly.</summary>
    private const string Base11ConvGroupTooLong = """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [732, 3, 3] },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 732, "outChannels": 2, "kernel": [3, 3], "quant": { "format": "base11", "groupSize": 6580 }, "activations": { "format": "int8" } }
          ]
        }
        """;

    /// <summary>A base11 conv2d with int8 activations (the model-level default reaches it) and a head: accepted.</summary>
    private const string Base11ConvActivations = """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [1, 8, 8] },
          "quant": { "format": "base11", "groupSize": 9 },
          "activations": { "format": "int8", "params": "dynamic" },
          "layers": [
            { "op": "conv2d", "name": "c", "inChannels": 1, "outChannels": 4, "kernel": [3, 3] },
            { "op": "relu" },
            { "op": "flatten" },
            { "op": "linear", "name": "h", "in": 144, "out": 3 }
          ]
        }
        """;

    /// <summary>A base11 group of 6,580 inputs with int8 activations: one more than float sums hold exactly.</summary>
    private const string Base11GroupTooLong = """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "quant": { "format": "base11", "groupSize": 6580 },
          "input": { "shape": [6580] },
          "layers": [
            { "op": "linear", "name": "a", "in": 6580, "out": 4, "activations": { "format": "int8" } }
          ]
        }
        """;

    [TestMethod]
    [DataRow(Base11ConvGroupTooLong, "6580 filter taps in float", "at most 6579")]
    [DataRow(Base11GroupTooLong, "6580 · 10 · 255 > 2^24", "at most 6579")]
    public void Base11Activations_RefusedWithAClearMessage(string manifest, string problem, string fix)
    {
        var outcome = GeneratorHarness.Run(manifest);

        GeneratorAssert.DidNotCrash(outcome);
        var d = GeneratorAssert.Single(outcome);
        Assert.AreEqual("CGC0044", d.Id, d.ToString());
        var message = d.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains(problem, message);
        Assert.Contains(fix, message);
    }

    [TestMethod]
    public void Base11ConvActivations_Accepted()
    {
        // base11 conv2d layers take int8 activations as int8 ones do (Base11Activations.Conv2d), the model-level default too
        var outcome = GeneratorHarness.Run(Base11ConvActivations);

        GeneratorAssert.DidNotCrash(outcome);
        Assert.IsEmpty(outcome.Diagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error).ToList(), string.Join("; ", outcome.Diagnostics));
        var model = outcome.SourceTexts.Single(s => s.HintName.EndsWith("Model.g.cs", StringComparison.Ordinal)).Text;
        Assert.Contains("Base11Activations.Conv2d(", model);
        Assert.Contains("Base11Activations.RowStats(", model);
    }

    /// <summary>base11 pairs weights with f32 activations on linear layers (a short last group, rows not a multiple of 4): accepted, run by Base11PairsFloat.</summary>
    private const string Base11PairsFloat = """
        {
          "model": "M",
          "namespace": "N",
          "weights": { "source": "w.safetensors" },
          "input": { "shape": [300] },
          "quant": { "format": "base11", "groupSize": 128, "layout": "pairs" },
          "layers": [
            { "op": "linear", "name": "a", "in": 300, "out": 6 },
            { "op": "relu" },
            { "op": "linear", "name": "b", "in": 6, "out": 3, "quant": { "format": "base11", "groupSize": 6, "layout": "pairs" } }
          ]
        }
        """;

    [TestMethod]
    public void Base11PairsFloatActivations_Accepted()
    {
        // the pairs layout with f32 activations (no "activations"): each linear layer calls the runtime kernel
        var outcome = GeneratorHarness.Run(Base11PairsFloat);

        GeneratorAssert.DidNotCrash(outcome);
        Assert.IsEmpty(outcome.Diagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error).ToList(), string.Join("; ", outcome.Diagnostics));
        var kernels = outcome.SourceTexts.Single(s => s.HintName.EndsWith("PackedKernels.g.cs", StringComparison.Ordinal)).Text;
        Assert.Contains("Linear_BASE11P_6x300_g128_Bias_Relu(", kernels);
        Assert.Contains("Linear_BASE11P_3x6_g6_Bias(", kernels);
        Assert.Contains("Base11PairsFloat.Linear(", kernels);
        Assert.DoesNotContain("Base11Levels", kernels);
    }

    [TestMethod]
    public void Base11Activations_LongestExactGroup_Accepted()
    {
        // 6,579 inputs in one base11 group: the longest whose float sums are exact, so no CGC0044
        var outcome = GeneratorHarness.Run(Base11GroupTooLong.Replace("6580", "6579", StringComparison.Ordinal));

        GeneratorAssert.DidNotCrash(outcome);
        Assert.IsFalse(outcome.Diagnostics.Any(d => d.Id == "CGC0044"), string.Join("; ", outcome.Diagnostics));
    }
}
