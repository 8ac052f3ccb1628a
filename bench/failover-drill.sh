#!/usr/bin/env bash
# The failover drill: `runbook harness drill failover --rounds N`, each round SIGKILLing whichever node is the primary
# then, with the runbook converging until every spec holds again (a write commits, no acknowledged write is missing,
# a synchronous standby streams). Figures:
#   write outage per failover  the gaps in the writer's log of acknowledged writes longer than 1 s (one per failover;
#                              the writer writes every ~0.1-0.3 s), copied out of the app host while the drill runs
#   acknowledged writes lost   the writer's log against the table on the primary, compared at the last copy
#   MTTR p50/p95               from the drill report: fault to every spec holding, i.e. time to full redundancy
#   bash bench/failover-drill.sh [ROUNDS]          EVERY=40s bash bench/failover-drill.sh 5
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}; EVERY=${EVERY:-40s}
OUT=$(pwd)/artifacts/bench/failover; rm -rf "$OUT"; mkdir -p "$OUT"
dotnet build src/Runbooks.Cli -c Release --nologo -v q >/dev/null
CLI=(dotnet src/Runbooks.Cli/bin/Release/net10.0/runbook.dll)
"${CLI[@]}" harness drill failover --rounds "$ROUNDS" --every "$EVERY" -o "$OUT" > "$OUT/log.txt" 2>&1 &
drill=$!
# The hosts' names carry the run's prefix, which the drill prints once they exist.
prefix=""
while kill -0 "$drill" 2>/dev/null; do
  [ -n "$prefix" ] || prefix=$(grep -oE 'prefix rb[0-9]+' "$OUT/log.txt" 2>/dev/null | head -n 1 | cut -d ' ' -f 2 || true)
  if [ -n "$prefix" ] && [ -e "/run/runbooks-netns/$prefix/app.mnt" ]; then
    app=(nsenter "--net=/var/run/netns/$prefix-app" "--mount=/run/runbooks-netns/$prefix/app.mnt" --)
    # The log first, then the table, as the spec reads them: whatever the log lists was committed before the query.
    if "${app[@]}" cat /var/lib/writer/acks > "$OUT/acks.part" 2>/dev/null &&
       "${app[@]}" psql -X -q -At "host=127.0.0.1 port=5000 user=postgres dbname=postgres connect_timeout=1" \
         -c 'select n from acks where n > 0' > "$OUT/table.part" 2>/dev/null; then
      mv "$OUT/acks.part" "$OUT/acks"; mv "$OUT/table.part" "$OUT/table"
    else
      # Mid-failover the table cannot be read; the log alone still shows the outage.
      [ -s "$OUT/acks.part" ] && mv "$OUT/acks.part" "$OUT/acks-latest"
    fi
  fi
  sleep 2
done
wait "$drill" && result=passed || result=FAILED
[ -s "$OUT/acks-latest" ] && [ "$(wc -l < "$OUT/acks-latest")" -gt "$(wc -l < "$OUT/acks" 2>/dev/null || echo 0)" ] && cp "$OUT/acks-latest" "$OUT/acks-for-gaps" || cp "$OUT/acks" "$OUT/acks-for-gaps"
echo "drill: $result ($ROUNDS rounds, every $EVERY) — report $OUT/drill.md"
grep -E '^\[round' "$OUT/log.txt" || true
echo "acknowledged writes: $(wc -l < "$OUT/acks-for-gaps") logged"
lost=$(cut -d ' ' -f 1 "$OUT/acks" | sort | comm -23 - <(sort "$OUT/table") | wc -l)
echo "acknowledged writes lost: $lost (of $(wc -l < "$OUT/acks") compared with the primary's table at the last copy)"
echo "write outages over 1 s (s):"
sort -n -k 2 "$OUT/acks-for-gaps" | awk 'NR > 1 && $2 - t > 1 { printf "  %.2f\n", $2 - t } { t = $2 }' | tee "$OUT/outages.txt"
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2); else print "-"}'; }
echo "median write outage s: $(median < "$OUT/outages.txt"), longest: $(sort -n "$OUT/outages.txt" | tail -n 1)"
grep -iE 'MTTR|detect' "$OUT/drill.md" | head -n 5 || true
