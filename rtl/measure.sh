#!/usr/bin/env bash
# Measures the hardware evidence of docs/hardware.md into one JSON file:
# the synthesis statistics (rtl/synth/synth.sh, run by the build) and the
# gate-level switching of the AE, the 16-bit multiplier and the decoder on
# a real layer: conv2 of the shipped model (one test image) on the default
# 16x16 array, traced on PEs r0-r3 x c0-c3, once on BRSLog PEs and once on
# fixed16 PEs.
#
#   rtl/measure.sh BUILD_DIR OUT.json
#
# BUILD_DIR is a build with the RTL tier (Verilator and Yosys installed):
# it holds brsim, rtl/synth/ and rtl/gl/rtl_gl_power.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR OUT.json" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "$1" && pwd)"
out="$2"
brsim="$build/brsim"
gl="$build/rtl/gl/rtl_gl_power"
synth="$build/rtl/synth"
for f in "$brsim" "$gl" "$synth/brslog_ae_gl.json"; do
  if [ ! -e "$f" ]; then
    echo "$0: $f is missing: build the RTL tier (cmake --build $1 --target brsim rtl_gl_power)" >&2
    exit 2
  fi
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
model="$root/data/models/fashion_lenet.onnx"
layer="/conv2/Conv+/MaxPool_1"
trace=(--images 1 --vcd-layer "$layer" --vcd-pes r0-r3,c0-c3 --vcd-blocks controller,decoder,array --vcd-force)
"$brsim" run "$model" "${trace[@]}" --vcd "$work/brslog.vcd" --out "$work/brslog" > "$work/brslog.txt"
"$brsim" run "$model" "${trace[@]}" --pe fixed16 --vcd "$work/fixed16.vcd" --out "$work/fixed16" > "$work/fixed16.txt"
"$brsim" quantize "$model" --format json > "$work/quantize.json"
"$gl" --netlists "$synth" --brslog-vcd "$work/brslog.vcd" --fixed16-vcd "$work/fixed16.vcd" \
  --summary "$work/brslog/summary.json" --layer "$layer" --quantize "$work/quantize.json" \
  --quantize-layer /conv2/Conv --model data/models/fashion_lenet.onnx --out "$out"
