#!/usr/bin/env bash
# linux-arm64 deployment test: cross-compiles the BigNet sample to a NativeAOT linux-arm64 binary on this
# x64 machine, runs it under qemu-user twice (default kernels = Vector128/AdvSimd, and CGC_KERNEL_PATH=scalar),
# and compares it with the linux-x64 NativeAOT binary.
#
# Checks (any failure exits non-zero):
#   * both publishes succeed with zero IL2xxx/IL3xxx (trim/AOT) warnings (the project also makes them errors);
#   * every run exits 0: the sample itself fails on max|diff| > 1e-3 against its plain reference pass, or on
#     any allocation per inference; the script re-checks max|diff| <= 1e-3 from the printed numbers;
#   * the kernel path is the one asked for (Vector128 by default on arm64, Scalar with CGC_KERNEL_PATH=scalar);
#   * checksums (sum of the 1024 outputs) of each model agree across x64, arm64 default and arm64 scalar
#     within CHECKSUM_TOLERANCE = 1e-3 (different SIMD widths sum in different orders: seen spread ~5e-5);
#   * tests/deploy/KernelCheck (NativeAOT linux-arm64 with the dot-product extension, under qemu-user): the
#     integer-activation kernel's arm64 paths (Vector128 and sdot) agree with its scalar path, extremes exact.
#
# Needs: clang (clang-14 here), lld, the aarch64 cross libc (libc6-dev-arm64-cross, gcc-aarch64-linux-gnu,
# binutils-aarch64-linux-gnu) and qemu-user; installs them with apt-get when run as root and missing.
# Environment: RUNS (timed runs per model, default 3), CGC_X64_BIN (an already published linux-x64 BigNet to
# compare with, instead of publishing it here).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PROJECT="$ROOT/samples/BigNet"
RUNS=${RUNS:-3}
MAX_DIFF_TOLERANCE=1e-3
CHECKSUM_TOLERANCE=1e-3
SYSROOT=/usr/aarch64-linux-gnu
LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cgc-arm64.XXXXXX")
trap 'rm -rf "$LOG_DIR"' EXIT

fail() { echo "FAILED: $*" >&2; exit 1; }

# --- toolchain -------------------------------------------------------------------------------------------
CLANG=$(command -v clang-14 || command -v clang || true)
if [[ -z "$CLANG" || -z "$(command -v ld.lld || true)" || -z "$(command -v qemu-aarch64 || true)" || ! -e "$SYSROOT/lib/libc.so.6" ]]; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "== installing the arm64 cross toolchain and qemu-user"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends clang-14 lld gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
      binutils-aarch64-linux-gnu qemu-user zlib1g-dev >/dev/null
    CLANG=$(command -v clang-14 || command -v clang)
  else
    fail "missing clang/lld/qemu-aarch64/$SYSROOT; install: apt-get install clang-14 lld gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu qemu-user"
  fi
fi
CLANG=$(basename "$CLANG")

publish() { # rid, extra msbuild args...
  local rid=$1; shift
  local log="$LOG_DIR/publish-$rid.log"
  echo "== dotnet publish -r $rid -p:PublishAot=true $*"
  if ! dotnet publish "$PROJECT" -c Release -r "$rid" -p:PublishAot=true "$@" >"$log" 2>&1; then
    grep -E ' (error|warning) ' "$log" | grep -v '/csc ' | head -n 40 >&2 || tail -n 40 "$log" >&2
    fail "publish for $rid"
  fi
  if grep -E 'warning IL[23][0-9]{3}' "$log" >&2; then fail "trim/AOT warnings in the $rid publish"; fi
  [[ -x "$PROJECT/bin/Release/net10.0/$rid/publish/BigNet" ]] || fail "no $rid binary"
  [[ -f "$PROJECT/bin/Release/net10.0/$rid/publish/bignet.safetensors" ]] || fail "bignet.safetensors not published beside the $rid binary"
}

# --- publish -------------------------------------------------------------------------------------------
X64_BIN=${CGC_X64_BIN:-}
if [[ -z "$X64_BIN" ]]; then
  publish linux-x64
  X64_BIN="$PROJECT/bin/Release/net10.0/linux-x64/publish/BigNet"
fi
# Cross-compiling: clang targets aarch64-linux-gnu and finds the cross libc (gcc-cross); lld links any target.
publish linux-arm64 -p:CppCompilerAndLinker="$CLANG" -p:LinkerFlavor=lld
ARM_BIN="$PROJECT/bin/Release/net10.0/linux-arm64/publish/BigNet"
file -b "$ARM_BIN" | grep -q 'ARM aarch64' || fail "$ARM_BIN is not an aarch64 executable: $(file -b "$ARM_BIN")"

# --- run -----------------------------------------------------------------------------------------------
run() { # name, expected kernel path (empty: any), command...
  local name=$1 path=$2; shift 2
  local out="$LOG_DIR/$name.out"
  echo "== $name: $*"
  local start=$SECONDS
  if ! "$@" "$RUNS" >"$out" 2>&1; then cat "$out" >&2; fail "$name exited non-zero"; fi
  cat "$out"
  echo "   ($((SECONDS - start)) s)"
  if [[ -n "$path" ]]; then grep -q "kernel path $path " "$out" || fail "$name: expected kernel path $path"; fi
  grep -qx OK "$out" || fail "$name: no OK line"
}
run x64 "" "$X64_BIN"
run arm64-default Vector128 qemu-aarch64 -L "$SYSROOT" "$ARM_BIN"
run arm64-scalar Scalar env CGC_KERNEL_PATH=scalar qemu-aarch64 -L "$SYSROOT" "$ARM_BIN"

# --- compare -------------------------------------------------------------------------------------------
# One line per run and model: "<run> <model> <kernel max|diff|> <checksum>" (quantized models: against the reference
# over their dequantized weights, the last "reference" on the line).
for name in x64 arm64-default arm64-scalar; do
  awk -v run="$name" '
    /^(f32|int8|int4|base11|ternary|mixed) / {
      m = $1
      d = ""; c = ""
      for (i = 1; i <= NF; i++) {
        if ($i == "reference") d = $(i + 1)
        if ($i == "checksum") c = $(i + 1)
      }
      gsub(/[;,]/, "", d); print run, m, d, c
    }' "$LOG_DIR/$name.out"
done >"$LOG_DIR/results.txt"
[[ $(wc -l <"$LOG_DIR/results.txt") == 18 ]] || { cat "$LOG_DIR/results.txt" >&2; fail "could not read the 18 result lines (3 runs x 6 models)"; }

echo "== comparison (max|diff| tolerance $MAX_DIFF_TOLERANCE, checksum tolerance $CHECKSUM_TOLERANCE)"
awk -v dt="$MAX_DIFF_TOLERANCE" -v ct="$CHECKSUM_TOLERANCE" '
  { diff[$1, $2] = $3 + 0; sum[$1, $2] = $4 + 0; runs[$1] = 1 }
  END {
    bad = 0
    printf "%-14s %-5s %12s %14s %16s\n", "run", "model", "max|diff|", "checksum", "vs x64"
    split("x64 arm64-default arm64-scalar", order, " ")
    split("f32 int8 int4 base11 ternary mixed", models, " ")
    for (r = 1; r <= 3; r++) for (k = 1; k <= 6; k++) {
      n = order[r]; m = models[k]; delta = sum[n, m] - sum["x64", m]; if (delta < 0) delta = -delta
      ok = (diff[n, m] <= dt && delta <= ct)
      printf "%-14s %-5s %12.2e %14.6f %16.2e %s\n", n, m, diff[n, m], sum[n, m], delta, ok ? "ok" : "FAIL"
      if (!ok) bad = 1
    }
    exit bad
  }' "$LOG_DIR/results.txt" || fail "arm64 results differ from x64 beyond tolerance"
# --- integer-activation kernels on arm64 -------------------------------------------------------------
# The sample does not run int8 activations; KernelCheck runs the runtime's integer kernel on every path the CPU has
# (under qemu-user: Vector128 and the sdot path, Dp.DotProduct) against the scalar path, and the exact extremes.
KC_PROJECT="$ROOT/tests/deploy/KernelCheck"
echo "== dotnet publish tests/deploy/KernelCheck -r linux-arm64 -p:PublishAot=true"
if ! dotnet publish "$KC_PROJECT" -c Release -r linux-arm64 -p:PublishAot=true -p:CppCompilerAndLinker="$CLANG" -p:LinkerFlavor=lld >"$LOG_DIR/publish-kernelcheck.log" 2>&1; then
  grep -E ' (error|warning) ' "$LOG_DIR/publish-kernelcheck.log" | grep -v '/csc ' | head -n 40 >&2 || tail -n 40 "$LOG_DIR/publish-kernelcheck.log" >&2
  fail "publish KernelCheck for linux-arm64"
fi
qemu-aarch64 -L "$SYSROOT" "$KC_PROJECT/bin/Release/net10.0/linux-arm64/publish/KernelCheck" --require ArmDp || fail "integer-activation kernels on arm64"

echo "arm64 deployment test passed"
