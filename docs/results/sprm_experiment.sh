#!/usr/bin/env bash
# The SPRM experiment of docs/results/sprm.md, exactly as run. From the project root:
#   DATA=../shared/data bash docs/results/sprm_experiment.sh [gsm8k|bbm|bbm_in|all]
# Models go to models/ and reports to runs/ (both gitignored); the embedding cache
# is runs/sprm-cache, so only the first command that meets a text encodes it.
set -euo pipefail
DATA=${DATA:-../shared/data}
PY=${PY:-python}
PART=${1:-all}
# the figures were made with MetaStone-S1's filter at logit 0, the default before
# 2026-12-03; FILTER_CENTRE=balanced runs train_sprm's default now
FILTER_CENTRE=${FILTER_CENTRE:-zero}
mkdir -p models runs

# (a) GSM8K model solutions, outcome labels only; 80/20 split by problem, seed 0.
# 17k training steps / 256 a batch = 66 updates an epoch; 5 epochs.
if [[ $PART == gsm8k || $PART == all ]]; then
GSM=$DATA/gsm8k/example_model_solutions.jsonl
for variant in sprm orm last_step; do
  $PY manage.py train_sprm --data "$GSM" --format gsm8k_solutions --split train --split-seed 0 \
    --variant $variant --epochs 5 --seed 0 --filter-centre "$FILTER_CENTRE" --out models/gsm8k-$variant
  $PY manage.py evaluate_sprm --model models/gsm8k-$variant --data "$GSM" --format gsm8k_solutions \
    --split test --split-seed 0 --json > runs/gsm8k-$variant.json
done
fi

# (b) BIG-Bench Mistake: train on the outcome labels (answer == target) of two
# human-labelled tasks, evaluate against the human mistake_index of the third.
# About 5k training steps = 20 updates an epoch; 10 epochs.
if [[ $PART == bbm || $PART == all ]]; then
BBM=$DATA/bigbench_mistake
TASKS=(multistep_arithmetic tracking_shuffled_objects word_sorting)
for held in "${TASKS[@]}"; do
  train_args=()
  for t in "${TASKS[@]}"; do
    [[ $t == "$held" ]] || train_args+=(--data "$BBM/$t.jsonl")
  done
  for variant in sprm orm last_step; do
    $PY manage.py train_sprm "${train_args[@]}" --format bigbench_mistake \
      --variant $variant --epochs 10 --seed 0 --filter-centre "$FILTER_CENTRE" --out models/bbm-no-$held-$variant
    $PY manage.py evaluate_sprm --model models/bbm-no-$held-$variant --data "$BBM/$held.jsonl" \
      --format bigbench_mistake --json > runs/bbm-$held-$variant.json
  done
done
fi

# (c) BIG-Bench Mistake in-domain: train on the outcome labels of one half of the
# traces of all three human-labelled tasks (seeded hash split by trace, 50/50), and
# evaluate each task's other half against its human mistake_index.
if [[ $PART == bbm_in || $PART == all ]]; then
BBM=$DATA/bigbench_mistake
TASKS=(multistep_arithmetic tracking_shuffled_objects word_sorting)
all_args=()
for t in "${TASKS[@]}"; do all_args+=(--data "$BBM/$t.jsonl"); done
for variant in sprm orm last_step; do
  $PY manage.py train_sprm "${all_args[@]}" --format bigbench_mistake --split train \
    --test-fraction 0.5 --split-seed 0 --variant $variant --epochs 10 --seed 0 --filter-centre "$FILTER_CENTRE" \
    --out models/bbm-half-$variant
  for t in "${TASKS[@]}"; do
    $PY manage.py evaluate_sprm --model models/bbm-half-$variant --data "$BBM/$t.jsonl" \
      --format bigbench_mistake --split test --test-fraction 0.5 --split-seed 0 \
      --json > runs/bbm-in-$t-$variant.json
  done
done
fi
