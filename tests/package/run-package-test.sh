#!/usr/bin/env bash
# Package test: packs CodeGenChunk (+ CodeGenChunk.Runtime, CodeGenChunk.Formats) into a temporary
# folder feed, then consumes it exactly as a user would, from a brand-new console project created
# OUTSIDE the repository (so none of the repository's Directory.*.props apply):
#   dotnet new console; nuget.config (temp feed + nuget.org); dotnet add package CodeGenChunk;
#   two tiny manifests (linear 8->4, relu, linear 4->2: f32 embedded, int8 in a file beside the program);
#   float weights written by the packaged tool (cgc synth); dotnet run.
# The program compares both generated models with a plain forward pass computed from the same
# safetensors file and exits non-zero on a mismatch. The README's "Consume the package" section
# shows the same steps.
#
# Usage: tests/package/run-package-test.sh        (CGC_KEEP_TEMP=1 keeps the temporary folder)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VERSION=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$ROOT/Directory.Build.props" | head -n 1)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cgc-package-test.XXXXXX")
FEED="$WORK/feed"
APP="$WORK/TinyApp"
cleanup() { if [[ "${CGC_KEEP_TEMP:-0}" == 1 ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
case "$APP" in "$ROOT"/*) echo "the consumer must live outside the repository" >&2; exit 2;; esac

echo "== pack $VERSION into $FEED"
for project in runtime/CodeGenChunk.Formats runtime/CodeGenChunk.Runtime generator/CodeGenChunk.Package; do
  dotnet pack "$ROOT/$project" -c Release -o "$FEED" --nologo -v quiet
done
for id in CodeGenChunk CodeGenChunk.Runtime CodeGenChunk.Formats; do
  [[ -f "$FEED/$id.$VERSION.nupkg" ]] || { echo "FAILED: $id.$VERSION.nupkg was not produced" >&2; exit 1; }
done

echo "== package layout"
listing=$(unzip -Z1 "$FEED/CodeGenChunk.$VERSION.nupkg")
for entry in analyzers/dotnet/cs/CodeGenChunk.Generator.dll analyzers/dotnet/cs/CodeGenChunk.Model.dll \
             analyzers/dotnet/cs/CodeGenChunk.Formats.dll analyzers/dotnet/cs/Scriban.Signed.dll \
             analyzers/dotnet/cs/System.IO.Hashing.dll build/CodeGenChunk.props build/CodeGenChunk.targets \
             tools/net10.0/any/cgc.dll tools/net10.0/any/cgc.runtimeconfig.json tools/net10.0/any/cgc.deps.json; do
  grep -qx "$entry" <<<"$listing" || { echo "FAILED: $entry missing from CodeGenChunk.$VERSION.nupkg" >&2; exit 1; }
done
unzip -p "$FEED/CodeGenChunk.$VERSION.nupkg" CodeGenChunk.nuspec | grep -q 'id="CodeGenChunk.Runtime"' \
  || { echo "FAILED: CodeGenChunk does not depend on CodeGenChunk.Runtime" >&2; exit 1; }
echo "ok"

# A private package cache: a re-packed package with an unchanged version is never served stale.
export NUGET_PACKAGES="$WORK/nuget-packages"

echo "== new console project $APP"
mkdir -p "$APP"
cd "$APP"
dotnet new console --name TinyApp --output . --framework net10.0 >/dev/null
cat > nuget.config <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$FEED" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
XML

cat > tiny.cgc.json <<'JSON'
{
  "description": "linear 8->4, relu, linear 4->2; float weights embedded in the assembly",
  "model": "TinyNet",
  "namespace": "TinyApp",
  "target": { "weights": "embedded" },
  "weights": { "source": "tiny.safetensors" },
  "input": { "shape": [8] },
  "quant": { "format": "f32" },
  "layers": [
    { "op": "linear", "name": "fc1", "in": 8, "out": 4 },
    { "op": "relu" },
    { "op": "linear", "name": "fc2", "in": 4, "out": 2 }
  ]
}
JSON
cat > tiny.int8.cgc.json <<'JSON'
{
  "description": "the same network in int8 (group 4), its chunk file beside the program",
  "model": "TinyNetInt8",
  "namespace": "TinyApp",
  "target": { "weights": "file" },
  "weights": { "source": "tiny.safetensors" },
  "input": { "shape": [8] },
  "quant": { "format": "int8", "groupSize": 4 },
  "layers": [
    { "op": "linear", "name": "fc1", "in": 8, "out": 4 },
    { "op": "relu" },
    { "op": "linear", "name": "fc2", "in": 4, "out": 2 }
  ]
}
JSON

dotnet add package CodeGenChunk --version "$VERSION" >/dev/null
TOOL="$NUGET_PACKAGES/codegenchunk/$VERSION/tools/net10.0/any/cgc.dll"
[[ -f "$TOOL" ]] || { echo "FAILED: the restored package has no tool at $TOOL" >&2; exit 1; }
dotnet exec "$TOOL" synth tiny.cgc.json --out tiny.safetensors --seed 7

# The float weights beside the program too, for the reference pass below.
sed -i 's|</Project>|  <ItemGroup>\n    <None Include="tiny.safetensors" CopyToOutputDirectory="PreserveNewest" />\n  </ItemGroup>\n</Project>|' TinyApp.csproj

cat > Program.cs <<'CS'
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using CodeGenChunk.Formats;
using TinyApp;

// Generated from tiny.cgc.json (weights embedded) and tiny.int8.cgc.json (weights in tiny.int8.cgcw beside the program).
float[] input = [0.5f, -1f, 0.25f, 2f, -0.75f, 1.5f, -0.125f, 0.875f];
var f32 = new float[TinyNet.OutputLength];
var int8 = new float[TinyNetInt8.OutputLength];
using (var model = new TinyNet())
{
    model.Run(input, f32);
}

using (var model = TinyNetInt8.Open())
{
    model.Run(input, int8);
}

// The plain forward pass, from the float weights; the int8 one with the weights group-quantized the same way.
var tensors = ReadSafetensors(Path.Combine(AppContext.BaseDirectory, "tiny.safetensors"));
var expected = Forward(tensors, quantize: false);
var expectedInt8 = Forward(tensors, quantize: true);
var diff = MaxAbsDiff(f32, expected);
var diffInt8 = MaxAbsDiff(int8, expectedInt8);
Console.WriteLine($"TinyNet     (f32, embedded): [{string.Join(", ", f32.Select(v => v.ToString("F6")))}]  reference [{string.Join(", ", expected.Select(v => v.ToString("F6")))}]  max|diff| {diff:E2}");
Console.WriteLine($"TinyNetInt8 (int8, file)   : [{string.Join(", ", int8.Select(v => v.ToString("F6")))}]  reference [{string.Join(", ", expectedInt8.Select(v => v.ToString("F6")))}]  max|diff| {diffInt8:E2}");
var ok = diff <= 1e-5f && diffInt8 <= 1e-5f && File.Exists(Path.Combine(AppContext.BaseDirectory, TinyNetInt8.WeightsFileName));
Console.WriteLine(ok ? "PACKAGE-TEST OK" : "PACKAGE-TEST FAILED");
return ok ? 0 : 1;

float[] Forward(Dictionary<string, float[]> t, bool quantize)
{
    var h = Linear(input, t, "fc1", 8, 4, quantize);
    for (var i = 0; i < h.Length; i++)
    {
        h[i] = MathF.Max(h[i], 0);
    }

    return Linear(h, t, "fc2", 4, 2, quantize);
}

static float[] Linear(float[] x, Dictionary<string, float[]> t, string name, int inputs, int outputs, bool quantize)
{
    var w = t[name + ".weight"];
    if (quantize)
    {
        var q = new sbyte[w.Length];
        var scales = new float[outputs * Int8GroupQuantizer.GroupsPerRow(inputs, 4)];
        Int8GroupQuantizer.Quantize(w, outputs, inputs, 4, q, scales);
        w = new float[w.Length];
        Int8GroupQuantizer.Dequantize(q, scales, outputs, inputs, 4, w);
    }

    var b = t[name + ".bias"];
    var y = new float[outputs];
    for (var o = 0; o < outputs; o++)
    {
        double s = b[o];
        for (var i = 0; i < inputs; i++)
        {
            s += (double)w[(o * inputs) + i] * x[i];
        }

        y[o] = (float)s;
    }

    return y;
}

static float MaxAbsDiff(float[] a, float[] b) => a.Zip(b, (p, q) => MathF.Abs(p - q)).Max();

// safetensors: u64 header length, JSON header {name: {dtype, shape, data_offsets}}, raw little-endian data.
static Dictionary<string, float[]> ReadSafetensors(string path)
{
    var bytes = File.ReadAllBytes(path);
    var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
    using var header = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
    var tensors = new Dictionary<string, float[]>();
    foreach (var p in header.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__"))
    {
        var offsets = p.Value.GetProperty("data_offsets");
        var begin = 8 + headerLength + offsets[0].GetInt32();
        var end = 8 + headerLength + offsets[1].GetInt32();
        tensors[p.Name] = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(begin, end - begin)).ToArray();
    }

    return tensors;
}
CS

echo "== dotnet run"
output=$(dotnet run 2>&1) || { echo "$output"; echo "FAILED: dotnet run exited non-zero" >&2; exit 1; }
echo "$output"
grep -q '^PACKAGE-TEST OK$' <<<"$output" || { echo "FAILED: unexpected output" >&2; exit 1; }
[[ -f "bin/Debug/net10.0/tiny.int8.cgcw" ]] || { echo "FAILED: tiny.int8.cgcw was not copied beside the program" >&2; exit 1; }
echo "package test passed"
