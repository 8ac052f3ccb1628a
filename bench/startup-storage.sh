#!/usr/bin/env bash
# Start-up of the storage runbook: `runbook plan runbooks/storage/storage-recovery.csx` against a storage VM where
# every step is satisfied (booted broken, then repaired by `runbook run`), warm (compile cache) and cold
# (--no-cache), beside a bare Roslyn CSharpScript compile + run + plan of the same script against the same VM.
# The plan's probes cost the same in all three, so the differences are start-up; `runbook check` (compile,
# analyzers, targets, graph, no host) and `list` show the start-up alone. Medians over RUNS (default 5).
#   bash bench/startup-storage.sh            (SCALE=0.1)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}; SCALE=${SCALE:-0.1}
OUT=artifacts/bench/startup-storage; mkdir -p "$OUT"
STATE=$(pwd)/.runbook/harness/bench-startup
RUNBOOK=runbooks/storage/storage-recovery.csx
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null
dotnet publish src/Runbooks.Cli -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$OUT/tool" --nologo -v q >/dev/null
dotnet publish bench/RoslynBaseline -c Release -o "$OUT/baseline" --nologo -v q >/dev/null
TOOL=$OUT/tool/runbook
export RUNBOOK_CACHE_DIR=$(pwd)/$OUT/cache RUNBOOK_SCALE=$SCALE NO_COLOR=1

line=$("$TOOL" harness up storage --break --scale "$SCALE" --state "$STATE" | grep -o 'ssh -i [^ ]* -o UserKnownHostsFile=[^ ]* -p [0-9]*')
trap '"$TOOL" harness down storage --state "$STATE" >/dev/null 2>&1 || true' EXIT
export RUNBOOK_SSH_KEY=$(echo "$line" | awk '{print $3}') RUNBOOK_KNOWN_HOSTS=$(echo "$line" | sed 's/.*UserKnownHostsFile=\([^ ]*\).*/\1/')
HOST="ssh://root@127.0.0.1:${line##* }"
"$TOOL" run "$RUNBOOK" --host "$HOST" --journal "$OUT/repair.jsonl" >/dev/null
"$TOOL" plan "$RUNBOOK" --host "$HOST" | tail -1    # fills the cache; must say 0 step(s) would change

hyperfine -N -w 1 -r "$RUNS" --export-json "$OUT/startup.json" \
  -n check-warm "$TOOL check $RUNBOOK" \
  -n check-cold "$TOOL check --no-cache $RUNBOOK" \
  -n plan-warm "$TOOL plan $RUNBOOK --host $HOST" \
  -n plan-cold "$TOOL plan --no-cache $RUNBOOK --host $HOST" \
  -n roslyn-plan "$OUT/baseline/RoslynBaseline $RUNBOOK $HOST" >/dev/null
python3 - "$OUT/startup.json" <<'PY'
import json, sys, statistics
r = {b["command"]: statistics.median(b["times"]) for b in json.load(open(sys.argv[1]))["results"]}
print(f"{'case':12} {'median':>8}")
for name in ("check-warm", "check-cold", "plan-warm", "plan-cold", "roslyn-plan"):
    print(f"{name:12} {r[name]:7.3f}s")
probes = r["plan-warm"] - r["check-warm"]
print(f"start-up (check): warm {r['check-warm']:.3f} s (target 0.25: {'met' if r['check-warm'] <= 0.25 else 'MISSED'}), "
      f"cold {r['check-cold']:.3f} s (target 2: {'met' if r['check-cold'] <= 2 else 'MISSED'})")
print(f"plan = start-up + probes: probes ≈ {probes:.2f} s; plan cold - warm = {r['plan-cold'] - r['plan-warm']:.2f} s (the compile)")
print(f"ratios: plan roslyn/warm {r['roslyn-plan'] / r['plan-warm']:.2f}x, plan cold/warm {r['plan-cold'] / r['plan-warm']:.2f}x, "
      f"start-up cold/warm {r['check-cold'] / r['check-warm']:.1f}x, roslyn start-up / warm start-up {(r['roslyn-plan'] - probes) / r['check-warm']:.1f}x")
PY
