#!/usr/bin/env bash
# Synthesizes the RTL with Yosys to a generic static-CMOS gate library and
# writes, per design, the statistics (cells by type, flip-flops, Yosys's
# transistor estimate) and for the designs the gate-level power run needs,
# the netlist (Verilog for Verilator, JSON for net loads).
#
#   rtl/synth/synth.sh OUT_DIR [JOBS]      (Yosys: $YOSYS, else yosys on the PATH)
#
# Flow (the same for every design): synth -flatten, flip-flops legalized to
# plain positive-edge D flip-flops ($_DFF_P_; enables and resets become
# gates), abc -g cmos (NOT NAND NOR AOI3 OAI3 AOI4 OAI4 MUX NMUX XOR XNOR),
# stat -tech cmos (transistors per cell: NOT 2, NAND/NOR 4, AOI3/OAI3 6,
# AOI4/OAI4 8, NMUX 10, MUX/XOR/XNOR 12, DFF 16).
# The datapath is brsim's default: N = 5, K = 4, A = 16, shift field 4 bits,
# 48-bit accumulator; AEs are also built for every K.
# Each design runs in its own Yosys process (JOBS at a time, default 2):
# ABC's result depends on the order of the names it is given, and names
# carry over between designs of one session (the 16-bit multiplier comes
# out 11.2k to 13.1k transistors depending on what was synthesized before
# it), so a fresh process per design is what makes the counts reproducible.
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 OUT_DIR [JOBS]" >&2
  exit 2
fi
jobs="${2:-2}"
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/../src"
out="$1"
mkdir -p "$out"
rm -f "$out"/*.ys "$out"/*.stat.json "$out"/*_gl.v "$out"/*_gl.json

# design NAME TOP "FILES" "CHPARAM ARGS" NETLIST(0|1)
design() {
  local name=$1 top=$2 files=$3 params=$4 netlist=$5
  {
    echo "# $name: brsim rtl/synth/synth.sh"
    for f in $files; do echo "read_verilog -sv $f"; done
    [ -n "$params" ] && echo "chparam $params $top"
    echo "synth -top $top -flatten"
    echo "dfflegalize -cell \$_DFF_P_ 01"
    echo "abc -g cmos"
    echo "opt_clean -purge"
    echo "tee -q -o $out/$name.stat.json stat -json -tech cmos"
    if [ "$netlist" = 1 ]; then
      echo "rename -hide"
      echo "rename -enumerate -pattern n%"
      echo "rename $top ${name}_gl"
      echo "write_verilog -noattr $out/${name}_gl.v"
      echo "write_json $out/${name}_gl.json"
    fi
  } > "$out/$name.ys"
}

dec="$src/brslog_decoder.v"
ae="$src/brslog_ae.v"
design brslog_ae brslog_ae "$ae" "" 1
design brslog_decoder brslog_decoder "$dec" "" 1
design fixed16_mul fixed16_mul "$src/fixed16_mul.v" "-set ACC 48" 1
design brslog_ae_dec brslog_ae_dec "$dec $ae $here/brslog_ae_dec.v" "" 0
design brslog_pe brslog_pe "$ae $src/brslog_pe.v" "-set PRODUCT_REG 0" 0
design fixed16_pe fixed16_pe "$src/fixed16_mul.v $src/fixed16_pe.v" "-set PRODUCT_REG 0" 0
for k in 1 2 3 5 6 7; do
  design "brslog_ae_k$k" brslog_ae "$ae" "-set K $k" 0
done
# Hard-wired decoders, one per split of 5-bit codes: the reconfigurable
# decoder's extra cost is measured against them.
for n2 in $(seq 0 15); do
  for p in 0 1; do
    design "brslog_decoder_fixed_n2_${n2}_p$p" brslog_decoder "$dec" "-set RECONFIG 0 -set FIXED_N2 $n2 -set FIXED_P $p" 0
  done
done
export YOSYS="${YOSYS:-yosys}"
"$YOSYS" -V > "$out/yosys_version.txt"
ls "$out"/*.ys | xargs -P "$jobs" -I{} sh -c '"$YOSYS" -q -l "${1%.ys}.log" -s "$1" > /dev/null || { echo "yosys failed on $1 (log: ${1%.ys}.log)" >&2; exit 255; }' _ {}
echo "synthesized $(ls "$out"/*.stat.json | wc -l) designs into $out with $(cat "$out/yosys_version.txt")"
