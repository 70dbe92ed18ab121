#!/usr/bin/env bash
# The fine-tuned SPRM (issue 10) on BIG-Bench Mistake, task left out, with the default
# settings of `train_sprm --encoder finetune`: for each of the three human-labelled
# tasks, train sprm and orm on the outcome labels of the other two, evaluate against
# the held-out task's human mistake_index. Each command is timed (wall, user, sys) with
# the load average before and after, in runs/ft-bbm/timing.txt.
#   nice -n 10 bash docs/results/sprm_finetune_bbm.sh [task ...]   (VARIANTS="sprm orm")
# Skips reports that exist. Models: models/$TAG/, reports: runs/$TAG/*.json (TAG=ft-bbm);
# TRAIN_ARGS adds train_sprm options (e.g. TAG=ft-bbm-zero TRAIN_ARGS="--filter-centre zero").
set -euo pipefail
cd "$(dirname "$0")/../.."
source docs/results/common.sh
BBM=$D/bigbench_mistake
PY=.venv/bin/python
TAG=${TAG:-ft-bbm}
OUT=runs/$TAG
read -r -a EXTRA <<< "${TRAIN_ARGS:-}"
mkdir -p "$OUT" "models/$TAG"
TASKS=(multistep_arithmetic tracking_shuffled_objects word_sorting)
HELD=("${@:-${TASKS[@]}}")
for v in ${VARIANTS:-sprm orm}; do
  for held in "${HELD[@]}"; do
    report=$OUT/$held-$v.json
    [ -s "$report" ] && continue
    train_args=()
    for t in "${TASKS[@]}"; do [[ $t == "$held" ]] || train_args+=(--data "$BBM/$t.jsonl"); done
    m=models/$TAG/no-$held-$v
    timed "train $held $v" $PY manage.py train_sprm "${train_args[@]}" --format bigbench_mistake \
      --encoder finetune --variant "$v" --seed 0 "${EXTRA[@]}" --out "$m" > "$OUT/$held-$v.train.log" 2>&1
    timed "evaluate $held $v" $PY manage.py evaluate_sprm --model "$m" --data "$BBM/$held.jsonl" \
      --format bigbench_mistake --json > "$report.tmp"
    mv "$report.tmp" "$report"
  done
done
