#!/usr/bin/env bash
# Runs Verilator (and its C++ build) with the output in a log file; on a
# failure prints the log's end.
#   rtl/tb/verilate.sh LOG VERILATOR ARGS...
set -uo pipefail
log=$1
shift
if ! "$@" > "$log" 2>&1; then
  tail -n 60 "$log" >&2
  echo "verilator failed (full log: $log)" >&2
  exit 1
fi
