#!/usr/bin/env bash
# The storage growth spec against autogrow: a full storage replay (SCALE, default 1 = the incident's sizes: 100 MiB
# files back to back towards 6 GiB) RUNS times (default 3), one VM at a time. Per run: whether it passed, the files
# written, the writer's fill rate, the smallest headroom df showed, the growths seen, and the growths the daemon
# logged with how long each took. Medians at the end.
#   bash bench/autogrow-writer.sh            SCALE=0.1 RUNS=5 bash bench/autogrow-writer.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}; SCALE=${SCALE:-1}
OUT=$(pwd)/artifacts/bench/autogrow; mkdir -p "$OUT"
dotnet build src/Runbooks.Cli -c Release --nologo -v q >/dev/null
CLI=(dotnet src/Runbooks.Cli/bin/Release/net10.0/runbook.dll)
: > "$OUT/runs.tsv"
for r in $(seq "$RUNS"); do
  dir="$OUT/scale-$SCALE-$r"; rm -rf "$dir"; mkdir -p "$dir"
  "${CLI[@]}" harness run storage runbooks/storage/storage-recovery.csx --scale "$SCALE" -o "$dir" > "$dir/log.txt" 2>&1 && ok=passed || ok=FAILED
  # The data-grows row's last cell: "holds — N files of M MiB back to back in T s: fill rate R MiB/s, smallest headroom H MiB, …"
  row=$(grep -E '^\| data-grows ' "$dir/report.md" | awk -F'|' '{print $6}')
  printf '%s\t%s\t%s\n' "$r" "$ok" "$row" >> "$OUT/runs.tsv"
  echo "run $r: $ok —$row"
done
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2); else print "-"}'; }
echo "scale $SCALE, $RUNS run(s): $(grep -c passed "$OUT/runs.tsv" || true) passed"
echo "median fill rate MiB/s: $(grep -oE 'fill rate [0-9.]+' "$OUT/runs.tsv" | awk '{print $3}' | median)"
echo "median smallest headroom MiB: $(grep -oE 'smallest headroom [0-9.]+' "$OUT/runs.tsv" | awk '{print $3}' | median)"
echo "median writing time s: $(grep -oE 'back to back in [0-9.]+' "$OUT/runs.tsv" | awk '{print $5}' | median)"
