#!/usr/bin/env bash
# A drill repaired by a live `runbook watch` against the same drill with one converge per round: same scenario, same
# seed (so the same faults in the same order), back to back in one sitting. Prints, per scenario and mode, the
# medians over the rounds of time to detect and time to recover, and the rounds that did not recover.
#   bash bench/drill-watch.sh                     SCENARIOS="connection storage" ROUNDS=5 bash bench/drill-watch.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SCENARIOS=${SCENARIOS:-connection}; ROUNDS=${ROUNDS:-10}; SEED=${SEED:-1}; EVERY=${EVERY:-1s}; WATCH_EVERY=${WATCH_EVERY:-1s}
OUT=$(pwd)/artifacts/bench/drill-watch; mkdir -p "$OUT"
dotnet build src/Runbooks.Cli -c Release --nologo -v q >/dev/null
CLI=(dotnet src/Runbooks.Cli/bin/Release/net10.0/runbook.dll)

# Median of the numbers on stdin ("—" for a round with none is left out).
median() { grep -E '^[0-9.]+$' | sort -g | awk '{v[NR]=$1} END {if (NR == 0) print "—"; else if (NR % 2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2}'; }

printf 'scenario\tmode\trounds\tdetect p50 s\trecover p50 s\tfailed recoveries\n'
for scenario in $SCENARIOS; do
  for mode in converge watch; do
    dir="$OUT/$scenario-$mode"; rm -rf "$dir"
    extra=(); [ "$mode" = watch ] && extra=(--watch --watch-every "$WATCH_EVERY")
    "${CLI[@]}" harness drill "$scenario" --rounds "$ROUNDS" --every "$EVERY" --seed "$SEED" "${extra[@]}" -o "$dir" > "$OUT/$scenario-$mode.log" 2>&1 || true
    # Rounds table: | round | fault at | faults | steps | detected after | first failing | recovered after | converges | detail |
    rows=$(grep -E '^\| [0-9]+ \| ' "$dir/drill.md" || true)
    detect=$(awk -F'|' '{gsub(/[ s]/,"",$6); print $6}' <<<"$rows" | median)
    recover=$(awk -F'|' '{gsub(/[ s]/,"",$8); print $8}' <<<"$rows" | median)
    failed=$(grep -c '\*\*failed\*\*' <<<"$rows" || true)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$mode" "$(grep -c . <<<"$rows")" "$detect" "$recover" "$failed"
  done
done
