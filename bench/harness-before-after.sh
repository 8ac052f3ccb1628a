#!/usr/bin/env bash
# The harness lifecycle of each built-in incident, before and after a change, side by side in one sitting:
# BEFORE (a git revision, default the last commit with the scenarios as C# classes) is checked out in a
# worktree and built; each repeat runs the scenario on the old build, then on this tree's, one VM at a time.
# Prints per scenario and phase the median of each side and the ratio after/before.
#   RUNS=3 bash bench/harness-before-after.sh            BEFORE=945b1dd SCENARIOS="connection talus" RUNS=3 bash …
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}; BEFORE=${BEFORE:-945b1dd}; SCENARIOS=${SCENARIOS:-"storage connection talus"}
OUT=$(pwd)/artifacts/bench/before-after; mkdir -p "$OUT"
old=$OUT/tree
if [ ! -d "$old" ]; then git worktree add -q --detach "$old" "$BEFORE"; fi
git -C "$old" checkout -q --detach "$BEFORE"
dotnet build "$old/src/Runbooks.Cli" -c Release --nologo -v q >/dev/null
dotnet build src/Runbooks.Cli -c Release --nologo -v q >/dev/null
: > "$OUT/runs.tsv"

# The old tree names a scenario and its runbook (runbooks/X.csx); this one needs only the scenario's name.
old_runbook() { case $1 in storage) echo runbooks/storage-recovery.csx ;; connection) echo runbooks/wireguard-link.csx ;; talus) echo runbooks/talus-restart.csx ;; esac; }

one() { # side scenario run
  local side=$1 scenario=$2 run=$3 dir="$OUT/$2-$1-$3"
  rm -rf "$dir"; mkdir -p "$dir"
  if [ "$side" = before ]; then
    (cd "$old" && dotnet src/Runbooks.Cli/bin/Release/net10.0/runbook.dll harness run "$scenario" "$(old_runbook "$scenario")" -o "$dir") > "$dir/log.txt" 2>&1 || true
  else
    dotnet src/Runbooks.Cli/bin/Release/net10.0/runbook.dll harness run "$scenario" -o "$dir" > "$dir/log.txt" 2>&1 || true
  fi
  local result=FAILED; grep -q '^| destroy | ok' "$dir/report.md" && ! grep -q '\*\*FAILED\*\*' "$dir/report.md" && result=passed
  grep -E '^\| (create|break|verify-broken|converge|verify|idempotence|destroy|\*\*total\*\*) ' "$dir/report.md" |
    awk -F'|' -v s="$scenario" -v side="$side" -v r="$run" '{gsub(/[* ]/,"",$2); gsub(/ s|\*| /,"",$4); print s"\t"side"\t"r"\t"$2"\t"$4}' >> "$OUT/runs.tsv"
  printf '%s\t%s\t%s\tresult\t%s\n' "$scenario" "$side" "$run" "$result" >> "$OUT/runs.tsv"
}

for r in $(seq "$RUNS"); do
  for s in $SCENARIOS; do one before "$s" "$r"; one after "$s" "$r"; done
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); before = $BEFORE, after = $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')"
python3 - "$OUT/runs.tsv" "$RUNS" <<'PY'
import collections, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
v = collections.defaultdict(list)
for s, side, _, k, x in rows: v[(s, side, k)].append(x)
print(f"medians over {sys.argv[2]} paired run(s), seconds; ratio = after / before")
print("| scenario | phase | before | after | ratio |"); print("|---|---|---:|---:|---:|")
for s in dict.fromkeys(r[0] for r in rows):
    for k in dict.fromkeys(r[3] for r in rows if r[0] == s):
        b, a = v[(s, "before", k)], v[(s, "after", k)]
        if k == "result":
            print(f"| {s} | result | {','.join(b)} | {','.join(a)} | |"); continue
        try:
            mb, ma = statistics.median(map(float, b)), statistics.median(map(float, a))
            print(f"| {s} | {k} | {mb:.1f} | {ma:.1f} | {ma / mb:.2f}× |" if mb else f"| {s} | {k} | {mb:.1f} | {ma:.1f} | |")
        except (ValueError, statistics.StatisticsError):
            print(f"| {s} | {k} | {','.join(b)} | {','.join(a)} | |")
PY
