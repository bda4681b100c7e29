using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Order;
using BenchmarkDotNet.Running;

namespace CodeGenChunk.Benchmarks;

/// <summary>
/// The declared order, except that each ONNX Runtime row runs right after the generated row it is compared with
/// (Ort_F32 after F32_Generated, Ort_DynamicInt8 after Int8ARow_Generated, Ort_MatMulNBits4 after Int4A_Generated, and
/// the same for the cold rows). On a shared machine the load drifts during a run of ten minutes; declared last, the ORT
/// rows ran on a machine whose load had fallen since their peers ran (docs/benchmarks.md). The summary keeps the
/// declared order.
/// </summary>
internal sealed class PeerAdjacentOrderer : DefaultOrderer
{
    private static readonly Dictionary<string, string> Anchors = new(StringComparer.Ordinal)
    {
        ["Ort_F32"] = "F32_Generated",
        ["Ort_DynamicInt8"] = "Int8ARow_Generated",
        ["Ort_MatMulNBits4"] = "Int4A_Generated",
        ["Ort_F32_Cold"] = "F32_Generated_Cold",
        ["Ort_DynamicInt8_Cold"] = "Int8ARow_Generated_Cold",
        ["Ort_MatMulNBits4_Cold"] = "Int4A_Generated_Cold",
    };

    public PeerAdjacentOrderer()
        : base(SummaryOrderPolicy.Declared, MethodOrderPolicy.Declared)
    {
    }

    public override IEnumerable<BenchmarkCase> GetExecutionOrder(ImmutableArray<BenchmarkCase> benchmarksCase, IEnumerable<BenchmarkLogicalGroupRule>? order = null)
    {
        var declared = base.GetExecutionOrder(benchmarksCase, order).ToList();
        var position = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < declared.Count; i++)
        {
            position[declared[i].Descriptor.WorkloadMethod.Name] = i;
        }

        double Key(BenchmarkCase b, int i) =>
            Anchors.TryGetValue(b.Descriptor.WorkloadMethod.Name, out var anchor) && position.TryGetValue(anchor, out var p) ? p + 0.5 : i;

        return declared.Select((b, i) => (b, k: Key(b, i))).OrderBy(t => t.k).Select(t => t.b).ToList();
    }
}
