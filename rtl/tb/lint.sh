#!/usr/bin/env bash
# Verilator lint (-Wall) of every RTL module in parameter sets at the edges
# of what brsim accepts.
#   rtl/tb/lint.sh VERILATOR
set -euo pipefail
verilator=${1:-verilator}
src="$(cd "$(dirname "$0")/../src" && pwd)"
n=0
lint() {
  local top=$1
  shift
  "$verilator" --lint-only -Wall "$src"/*.v --top-module "$top" "$@"
  n=$((n + 1))
}
for k in 1 4 7; do
  for a in 2 16 32; do lint brslog_ae -GK=$k -GA=$a -GSHIFT_BITS=6 -GACC=64; done
done
lint brslog_ae -GK=2 -GA=3 -GSHIFT_BITS=1 -GACC=8
for n2 in 3 5 8; do
  for sb in 1 4 6; do lint brslog_decoder -GN=$n2 -GSHIFT_BITS=$sb; done
done
lint brslog_decoder -GRECONFIG=0 -GFIXED_N2=3 -GFIXED_P=1
lint fixed16_mul -GACC=32
lint fixed16_mul -GA=8 -GACC=64
lint brslog_pe -GPRODUCT_REG=0
lint fixed16_pe -GPRODUCT_REG=0
lint pe_array_ws
lint pe_array_ws -GFIXED16=1
lint pe_array_ws -GR=3 -GC=5 -GN=8 -GK=7 -GA=8 -GSHIFT_BITS=6 -GACC=64
echo "lint: $n parameter sets of the RTL, no warnings"
