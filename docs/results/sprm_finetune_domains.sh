#!/usr/bin/env bash
# The fine-tuned SPRM (issue 10, `train_sprm --encoder finetune`, default settings) in-domain
# on the domains of docs/results/sprm_domains.md: train on the outcome labels of a domain's
# training split (the seeded split by problem of sprm_domains.sh), evaluate on its held-out
# problems against the people's step labels. Each command is timed, with the load average.
#   nice -n 10 bash docs/results/sprm_finetune_domains.sh [domain ...]   (VARIANTS="sprm orm")
# SETTINGS="in out" (default "in") also trains leaving the domain out: on all of every other
# domain (docs/results/sprm_domains_table.py --train-out ... --encoder finetune, train_sprm's
# finetune defaults), evaluated on the same held-out problems.
# Models: models/$TAG/, reports: runs/$TAG/<domain>-<in|out>-<variant>.json (TAG=ft-domains);
# skips reports that exist; TRAIN_ARGS adds train_sprm options. Then
#   SPRM_DOMAINS_RUNS=runs/ft-domains .venv/bin/python docs/results/sprm_domains_table.py
set -euo pipefail
cd "$(dirname "$0")/../.."
source docs/results/common.sh
PY=.venv/bin/python
TAG=${TAG:-ft-domains}
OUT=runs/$TAG
read -r -a EXTRA <<< "${TRAIN_ARGS:-}"
DOMAINS=("${@:-${ALL_DOMAINS[@]}}")
for dom in "${DOMAINS[@]}"; do
  [ -n "${FMT[$dom]:-}" ] || { echo "unknown domain $dom (known: ${ALL_DOMAINS[*]})" >&2; exit 2; }
done
mkdir -p "$OUT" "models/$TAG"
for v in ${VARIANTS:-sprm orm}; do
  for dom in "${DOMAINS[@]}"; do
    for setting in ${SETTINGS:-in}; do
      report=$OUT/$dom-$setting-$v.json
      [ -s "$report" ] && continue
      data=(); for f in ${FILES[$dom]}; do data+=(--data "$f"); done
      m=models/$TAG/$dom-$setting-$v
      if [ "$setting" = in ]; then  # the domain's training split
        timed "train $dom $v" $PY manage.py train_sprm "${data[@]}" --format "${FMT[$dom]}" --split train \
          --encoder finetune --variant "$v" --seed 0 "${EXTRA[@]}" --out "$m" > "$OUT/$dom-in-$v.train.log" 2>&1
      else  # all of every other domain, one thread (TRAIN_ARGS does not apply)
        timed "train $dom $v out" $PY docs/results/sprm_domains_table.py --train-out "$dom" "$v" "$m" \
          --encoder finetune > "$OUT/$dom-out-$v.train.log" 2>&1
      fi
      timed "evaluate $dom $v $setting" $PY manage.py evaluate_sprm --model "$m" "${data[@]}" \
        --format "${FMT[$dom]}" --split test --json > "$report.tmp"
      mv "$report.tmp" "$report"
    done
  done
done
