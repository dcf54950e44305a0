#!/usr/bin/env bash
# The scale and cores checks of issue 58 on one 16-core machine, each run pinned to its
# own cores (taskset -c) so that runs side by side do not share cores:
#   1. experiments/scale.yaml: its 8 cells at once, each on 2 cores of its own;
#   2. experiments/cores.yaml: the default fit given 1, 2, 4 and 8 cores at once (15
#      cores), then 16.
# Usage: bash benchmarks/scripts/pinned_runs.sh OUT   (cells files and logs into OUT; a
# run that hangs is stopped: 300 s for a 120 s scale cell, 200 s for two 30 s cells)
# Then, here: results/scale/cells.jsonl <- OUT/scale_cells.jsonl and
#   python -m benchmarks experiments/scale.yaml --out results/scale --report-only
# and python -m benchmarks.scripts.core_scaling report OUT/cores_cells.jsonl.
set -u
out=${1:?give the output folder}
work=$(mktemp -d)
export PYTHONUNBUFFERED=1
i=0
for dataset in synthetic100k synthetic1M; do
  for method in fairautoml flaml_threshold; do
    for seed in 0 1; do
      cpus="$((2 * i)),$((2 * i + 1))"
      timeout 300 taskset -c "$cpus" python -m benchmarks experiments/scale.yaml --out "$work/scale$i" \
        --datasets "$dataset" --methods "$method" --seeds "$seed" --n-jobs 1 \
        >"$work/scale$i.log" 2>&1 &
      i=$((i + 1))
    done
  done
done
wait
cat "$work"/scale*/cells.jsonl >"$out/scale_cells.jsonl"
for spec in 0:1 1-2:2 3-6:4 7-14:8; do
  timeout 200 taskset -c "${spec%%:*}" python -m benchmarks.scripts.core_scaling run experiments/cores.yaml \
    --out "$work/cores${spec##*:}.jsonl" >"$work/cores${spec##*:}.log" 2>&1 &
done
wait
timeout 200 taskset -c 0-15 python -m benchmarks.scripts.core_scaling run experiments/cores.yaml \
  --out "$work/cores16.jsonl" >"$work/cores16.log" 2>&1
cat "$work"/cores*.jsonl >"$out/cores_cells.jsonl"
tail -n 5 "$work"/*.log >"$out/logs.txt"
