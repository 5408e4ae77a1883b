#!/usr/bin/env bash
# One case of the RTL array cross-check: brsim simulates a layer on a 4x4
# weight-stationary array with a VCD of every PE, and rtl_xcheck replays it
# on the RTL array, cycle by cycle.
#
#   rtl/tb/layer_vs_rtl.sh BRSIM RTL_XCHECK WORK_DIR BITS K -- BRSIM_ARGS...
#
# BRSIM_ARGS: `layer ...` or `run ...` options (the script adds --array 4x4,
# --vcd and --vcd-pes all).
set -euo pipefail
if [ $# -lt 6 ] || [ "$6" != "--" ]; then
  echo "usage: $0 BRSIM RTL_XCHECK WORK_DIR BITS K -- BRSIM_ARGS..." >&2
  exit 2
fi
brsim=$1 xcheck=$2 work=$3 bits=$4 k=$5
shift 6
mkdir -p "$work"
"$brsim" "$@" --array 4x4 --vcd "$work/trace.vcd" --vcd-pes all --out "$work/out" > "$work/brsim.txt"
"$xcheck" array --vcd "$work/trace.vcd" --bits "$bits" --sqrt2-terms "$k"
