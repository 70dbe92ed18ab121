# Sourced by the docs/results/*.sh runs (from the project root): the shared data folder D,
# each domain's format and files (FMT, FILES, ALL_DOMAINS) and `timed`.
D=${CONCORDANCE_SHARED_DATA:-$(.venv/bin/python -c "from analysis.shared_data import shared_data_dir; print(shared_data_dir())")}
declare -A FMT FILES
FMT[processbench]=processbench; FILES[processbench]="$D/processbench/gsm8k.json $D/processbench/math.json"
FMT[science]=mr_ben; FILES[science]="$D/mr_ben/biology.json $D/mr_ben/chemistry.json $D/mr_ben/physics.json"
FMT[code]=mr_ben; FILES[code]="$D/mr_ben/coding.json"
FMT[roscoe]=roscoe; FILES[roscoe]="$D/roscoe/roscoe-drop-stepwise.json $D/roscoe/roscoe-esnli-stepwise.json"
FMT[summedits]=summedits; FILES[summedits]="$(printf '%s ' "$D"/summedits/summedits_*.json)"
ALL_DOMAINS=(code roscoe processbench science summedits)

timed() {  # label, command...: wall, user and sys time and the load average, in $OUT/timing.txt
  local label=$1; shift
  echo "$label before: $(uptime)" >> "$OUT/timing.txt"
  /usr/bin/time -f "$label wall %e s user %U s sys %S s" -a -o "$OUT/timing.txt" "$@"
  echo "$label after: $(uptime)" >> "$OUT/timing.txt"
}
