#!/usr/bin/env bash
# The Slurm job-array sweep for real (docs/slurm.md): brings up a one-node
# Slurm (munged, slurmctld, slurmd from Debian's munge and slurm-wlm) with its
# configuration, keys, state, spool and logs in a temporary folder of its
# own, submits data/sweeps/slurm_sweep.sh as a 3-task job array on a small
# sweep, merges the shards with `brsim sweep merge` and checks that the
# merged sweep.csv equals an unsharded `brsim sweep` of the same file byte
# for byte. Every daemon it started is stopped, also on failure.
#
#   tests/slurm/slurm_roundtrip.sh BRSIM SOURCE_DIR
#
# Exit status: 0 passed, 1 failed, 77 skipped (Slurm or munge missing or
# unable to start; CTest's SKIP_RETURN_CODE), with a line saying why.
set -euo pipefail

BRSIM=$(realpath "${1:?usage: slurm_roundtrip.sh BRSIM SOURCE_DIR}")
SRC=$(realpath "${2:?usage: slurm_roundtrip.sh BRSIM SOURCE_DIR}")
SKIP=77
skip() {
  echo "SKIPPED: the Slurm round trip: $*"
  exit "$SKIP"
}
fail() {
  echo "FAILED: the Slurm round trip: $*" >&2
  exit 1
}

for tool in munged mungekey slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
  command -v "$tool" > /dev/null || skip "'$tool' not found (Debian: apt-get install slurm-wlm munge)"
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/brsim_slurm.XXXXXX")
PIDS=()  # the daemons this script started
JOB=""
cleanup() {
  local status=$?
  set +e
  if [ -n "$JOB" ] && [ -n "${SLURM_CONF:-}" ]; then
    scancel "$JOB" 2> /dev/null
    for _ in $(seq 1 20); do
      [ -z "$(squeue -h -j "$JOB" 2> /dev/null)" ] && break
      sleep 0.5
    done
  fi
  # slurmd first (it ends its job steps), then slurmctld, then munged.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill "${PIDS[$i]}" 2> /dev/null
    for _ in $(seq 1 50); do kill -0 "${PIDS[$i]}" 2> /dev/null || break; sleep 0.1; done
    kill -9 "${PIDS[$i]}" 2> /dev/null
    wait "${PIDS[$i]}" 2> /dev/null
  done
  if [ "$status" -ne 0 ] && [ "$status" -ne "$SKIP" ]; then
    for log in "$TMP"/*.log "$TMP"/out/slurm-*.out; do
      [ -f "$log" ] && { echo "---- $log (last lines)"; tail -n 15 "$log"; }
    done
  fi
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A free TCP port on this machine, from a range picked by this process's id.
free_port() {
  local p
  for p in $(seq $((20000 + ($$ * 7 + $1) % 30000)) 60999); do
    (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null || { echo "$p"; return; }
  done
  skip "no free TCP port for the Slurm daemons"
}

# ---- munge ------------------------------------------------------------------
mungekey --create --keyfile="$TMP/munge.key" > /dev/null 2>&1 || skip "mungekey cannot create a key"
chmod 600 "$TMP/munge.key"
munged --foreground --force --key-file="$TMP/munge.key" --socket="$TMP/munge.socket" \
  --pid-file="$TMP/munged.pid" --log-file="$TMP/munged.log" --seed-file="$TMP/munged.seed" \
  > /dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do [ -S "$TMP/munge.socket" ] && break; sleep 0.1; done
[ -S "$TMP/munge.socket" ] || skip "munged did not start (see its log)"

# ---- slurmctld and slurmd ---------------------------------------------------
USER_NAME=$(id -un)
HOST=$(hostname -s)
CPUS=$(nproc)
CTLD_PORT=$(free_port 0)
SLURMD_PORT=$(free_port 1)
[ "$SLURMD_PORT" != "$CTLD_PORT" ] || SLURMD_PORT=$(free_port 2)
mkdir -p "$TMP/state" "$TMP/spool" "$TMP/out" "$TMP/work"
export SLURM_CONF="$TMP/slurm.conf"
cat > "$SLURM_CONF" << CONF
ClusterName=brsimtest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=$USER_NAME
SlurmdUser=$USER_NAME
AuthType=auth/munge
AuthInfo=socket=$TMP/munge.socket
CredType=cred/munge
StateSaveLocation=$TMP/state
SlurmdSpoolDir=$TMP/spool
SlurmctldPidFile=$TMP/slurmctld.pid
SlurmdPidFile=$TMP/slurmd.pid
SlurmctldLogFile=$TMP/slurmctld.log
SlurmdLogFile=$TMP/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
MinJobAge=600
NodeName=brsimnode NodeHostname=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=1024 State=UNKNOWN
PartitionName=test Nodes=brsimnode Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -D -i > "$TMP/slurmctld.stdout" 2>&1 &
PIDS+=($!)
slurmd -D -N brsimnode > "$TMP/slurmd.stdout" 2>&1 &
PIDS+=($!)
state=""
for _ in $(seq 1 60); do
  state=$(sinfo -h -n brsimnode -o %t 2> /dev/null || true)
  [ "$state" = idle ] && break
  sleep 0.5
done
[ "$state" = idle ] || skip "slurmctld and slurmd did not bring the node up (node state '${state:-none}'; see the logs)"
echo "slurm_roundtrip: one-node Slurm up ($(sinfo -V), $CPUS CPUs, ports $CTLD_PORT/$SLURMD_PORT, in $TMP)"

# ---- the sweep: 4 points of a small layer, 3 shards ----------------------------
SWEEP="$TMP/work/slurm_roundtrip.yaml"
cat > "$SWEEP" << 'YAML'
name: slurm_roundtrip
workload: {layer: {ifmap: 12x12, kernel: 3x3, channels: 16, filters: 24, stride: 1, padding: 1}}
grid:
  array: [8x8, 16x16]
  dataflow: [ws, os]
seed: 3
YAML
start=$(date +%s)
# The job array as a user submits it, the script's #SBATCH defaults sized
# down to this node on the command line (it is not sized for a cluster).
JOB=$(cd "$TMP/work" && BRSIM="$BRSIM" OUT="$TMP/shards" \
  sbatch --parsable --array=0-2 --cpus-per-task=1 --mem=100M --time=10 --output="$TMP/out/slurm-%A_%a.out" \
  "$SRC/data/sweeps/slurm_sweep.sh" "$SWEEP") || fail "sbatch refused the job array"
JOB=${JOB%%;*}
for _ in $(seq 1 240); do
  [ -z "$(squeue -h -j "$JOB" 2> /dev/null)" ] && break
  sleep 0.5
done
[ -z "$(squeue -h -j "$JOB")" ] || fail "job array $JOB did not finish in 120 s"
states=$(scontrol -o show job "$JOB" | grep -o 'JobState=[A-Z_]*' | sort | uniq -c | tr -s ' ')
echo "slurm_roundtrip: job array $JOB finished in $(($(date +%s) - start)) s:$states"
[ "$(scontrol -o show job "$JOB" | grep -c 'JobState=COMPLETED')" = 3 ] || fail "not every array task completed:$states"
for i in 0 1 2; do
  [ -f "$TMP/shards/shard_$i/sweep.csv" ] || fail "task $i wrote no $TMP/shards/shard_$i/sweep.csv"
done

# ---- merge, and the same sweep unsharded ---------------------------------------
"$BRSIM" sweep merge --out "$TMP/merged" "$TMP"/shards/shard_* > "$TMP/merge.log" 2>&1 || fail "brsim sweep merge failed"
"$BRSIM" sweep "$SWEEP" -j 2 --out "$TMP/unsharded" > "$TMP/unsharded.log" 2>&1 || fail "the unsharded sweep failed"
[ "$(grep -c ',ok,' "$TMP/unsharded/sweep.csv")" = 4 ] || fail "the unsharded sweep did not run its 4 points"
cmp "$TMP/merged/sweep.csv" "$TMP/unsharded/sweep.csv" ||
  fail "the merged sweep.csv differs from the unsharded one"
echo "slurm_roundtrip: PASSED: the 3 shards' merged sweep.csv equals the unsharded sweep.csv byte for byte ($(($(date +%s) - start)) s)"
