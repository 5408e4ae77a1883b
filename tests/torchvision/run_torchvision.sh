#!/bin/sh
# The torchvision models of docs/networks.md, exported with random weights
# (export_torchvision.py) and run in fast mode on one random input: each must
# be bit exact against the golden model. The exports take 0.76 GB in OUT_DIR
# (vgg11's alone 531 MB); vgg11 peaks at 1.6 GB of memory. Skipped (exit 77) where
# Debian's python3-torchvision is not installed (.ci/setup installs it).
#   run_torchvision.sh BRSIM OUT_DIR
set -u
brsim=$1
out=$2
py=/usr/bin/python3
if ! $py -c 'import torchvision' 2>/dev/null; then
  echo "SKIP: python3-torchvision is not installed ($py cannot import torchvision)"
  exit 77
fi
here=$(dirname "$0")
models="resnet18 resnet50 mobilenet_v2 vgg11 squeezenet1_0 googlenet mnasnet0_5 shufflenet_v2_x0_5 efficientnet_b0"
mkdir -p "$out"
for m in $models; do
  [ -s "$out/$m.onnx" ] || $py "$here/export_torchvision.py" "$out" "$m" >/dev/null || { echo "FAIL: export of $m"; exit 1; }
done
status=0
for m in $models; do
  log="$out/$m.log"
  start=$(date +%s)
  if "$brsim" run "$out/$m.onnx" --mode fast --inputs random --images 1 --out "$out/$m.results" >"$log" 2>&1 &&
     grep -q '^scoreboard: bit exact' "$log"; then
    echo "ok   $m: $(grep '^scoreboard' "$log") ($(( $(date +%s) - start )) s)"
  else
    echo "FAIL $m:"; tail -5 "$log"; status=1
  fi
done
exit $status
