#!/usr/bin/env bash
# The domain table of docs/results/sprm_domains.md, with the CURRENT (frozen MiniLM
# encoder, MLP head) SPRM: for each domain, train on outcome labels only (sprm, orm,
# last_step), in-domain on a seeded split by problem and leaving the domain out, and
# evaluate on the domain's held-out problems (the same test split both ways).
#   bash docs/results/sprm_domains.sh [domain ...]     (default: every domain;
#   VARIANTS="orm last_step" to run only those)
# Writes $OUT/<domain>-<in|out>-<variant>.json (OUT=runs/domains unless set; models in
# models/<basename of OUT>), skipping reports that exist (variant by variant, so an
# interrupted run has the SPRM for every domain first); then
#   SPRM_DOMAINS_RUNS=$OUT .venv/bin/python docs/results/sprm_domains_table.py
set -euo pipefail
cd "$(dirname "$0")/../.."
source docs/results/common.sh
PY=.venv/bin/python
OUT=${OUT:-runs/domains}
MODELS=models/$(basename "$OUT")
mkdir -p "$OUT" "$MODELS"

DOMAINS=("${@:-${ALL_DOMAINS[@]}}")

data_args() {  # --data for each file of a domain
  for f in ${FILES[$1]}; do printf -- "--data %s " "$f"; done
}

# the table's frozen rows were made with MetaStone-S1's filter at logit 0 (the default
# before 2026-12-03): FILTER_CENTRE=zero reproduces them, balanced is train_sprm's default now
FILTER_CENTRE=${FILTER_CENTRE:-zero}
for v in ${VARIANTS:-sprm orm last_step}; do
  for dom in "${DOMAINS[@]}"; do
    for setting in in out; do
      report=$OUT/$dom-$setting-$v.json
      [ -s "$report" ] && continue
      m=$MODELS/$dom-$setting-$v
      if [ "$setting" = in ]; then  # the domain's training split
        $PY manage.py train_sprm $(data_args "$dom") --format "${FMT[$dom]}" --split train \
          --variant "$v" --filter-centre "$FILTER_CENTRE" --out "$m" > "$OUT/$dom-$setting-$v.train.log" 2>&1
      else  # all of every other domain: several formats, read by the driver
        $PY docs/results/sprm_domains_table.py --train-out "$dom" "$v" "$m" --filter-centre "$FILTER_CENTRE" \
          > "$OUT/$dom-$setting-$v.train.log" 2>&1
      fi
      $PY manage.py evaluate_sprm --model "$m" $(data_args "$dom") --format "${FMT[$dom]}" \
        --split test --json > "$report.tmp" && mv "$report.tmp" "$report"
    done
  done
done
