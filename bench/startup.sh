#!/usr/bin/env bash
# Start-up of `runbook plan` on the example runbook: cold (empty compile cache), warm (cached), and a bare
# Roslyn CSharpScript compile+run of the same script for reference. Medians over RUNS runs (default 10),
# ratios from this one run. Targets: warm < 0.25 s, cold < 2 s on a 2-core machine.
#   bash bench/startup.sh [runbook.csx]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
RUNBOOK=${1:-runbooks/maintenance-banner.csx}
OUT=artifacts/bench; mkdir -p "$OUT"
command -v hyperfine >/dev/null || { apt-get install -y -qq hyperfine >/dev/null; }
# The tool as users install it: published ReadyToRun, started through its apphost.
dotnet publish src/Runbooks.Cli -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$OUT/tool" --nologo -v q >/dev/null
dotnet publish bench/RoslynBaseline -c Release -o "$OUT/baseline" --nologo -v q >/dev/null
export RUNBOOK_CACHE_DIR="$OUT/cache"
"$OUT/tool/runbook" plan "$RUNBOOK" >/dev/null    # fill the cache once
hyperfine -N -w 2 -r "$RUNS" --export-json "$OUT/startup.json" \
  -n warm "$OUT/tool/runbook plan $RUNBOOK" \
  -n cold "$OUT/tool/runbook plan --no-cache $RUNBOOK" \
  -n roslyn "$OUT/baseline/RoslynBaseline $RUNBOOK" >/dev/null
python3 - "$OUT/startup.json" <<'PY'
import json, sys, statistics
r = {b["command"]: statistics.median(b["times"]) for b in json.load(open(sys.argv[1]))["results"]}
print(f"{'case':8} {'median':>9}   target")
for name, target in (("warm", 0.25), ("cold", 2.0), ("roslyn", None)):
    verdict = "" if target is None else (f"< {target} s  {'met' if r[name] < target else 'MISSED'}")
    print(f"{name:8} {r[name]:8.3f}s   {verdict}")
print(f"ratios: cold/warm {r['cold']/r['warm']:.1f}x, roslyn/warm {r['roslyn']/r['warm']:.1f}x, cold/roslyn {r['cold']/r['roslyn']:.2f}x")
PY
