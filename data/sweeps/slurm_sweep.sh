#!/bin/bash
# A brsim sweep as a Slurm job array (docs/sweeps.md): task i of N runs
# shard i/N (0-based, the points with point % N == i) into its own folder.
#
#   sbatch data/sweeps/slurm_sweep.sh data/sweeps/example.yaml
#
# Submit from the source tree (or set BRSIM and OUT); the shard folders must
# be on a file system the merge can read. When every task has finished, join
# the shards once (the merged sweep.csv equals an unsharded run byte for byte):
#
#   build/brsim sweep merge --out results/sweep/example results/sweep/example.shards/shard_*
#
# or let Slurm run the merge after the array succeeds:
#
#   jid=$(sbatch --parsable data/sweeps/slurm_sweep.sh data/sweeps/example.yaml)
#   sbatch --dependency=afterok:$jid --wrap \
#     "build/brsim sweep merge --out results/sweep/example results/sweep/example.shards/shard_*"
#
# The #SBATCH lines below are defaults for a cluster node; sbatch options on
# the command line override them, e.g. three shards on a small machine:
#
#   sbatch --array=0-2 --cpus-per-task=1 --mem=1G data/sweeps/slurm_sweep.sh SWEEP.yaml
#
# (tests/slurm/slurm_roundtrip.sh submits it so to a one-node Slurm it starts,
# and checks the merged sweep.csv against the unsharded one; docs/slurm.md).
#
#SBATCH --job-name=brsim-sweep
#SBATCH --array=0-7
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --time=04:00:00
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail

SWEEP=${1:-data/sweeps/example.yaml}
BRSIM=${BRSIM:-build/brsim}
SHARDS=${SLURM_ARRAY_TASK_COUNT:-8}  # N: as many shards as array tasks (--array=0-7 gives 8)
OUT=${OUT:-results/sweep/$(basename "$SWEEP" .yaml).shards}

if [ "${SLURM_ARRAY_TASK_MIN:-0}" != 0 ]; then
  echo "slurm_sweep.sh: the array must start at 0 (--array=0-$((SHARDS - 1)))" >&2
  exit 2
fi
mkdir -p "$OUT"
# One subprocess per allocated CPU; each point is one brsim process.
exec "$BRSIM" sweep "$SWEEP" -j "${SLURM_CPUS_PER_TASK:-1}" \
  --shard "$SLURM_ARRAY_TASK_ID/$SHARDS" --out "$OUT/shard_$SLURM_ARRAY_TASK_ID"
