#!/usr/bin/env bash
# Harness phases (compile, create = boot to SSH, break, verify-broken, converge, verify, idempotence,
# destroy) for the storage scenario (SCALES, default "0.1", the CI scale; add 1 for the incident's real
# sizes), the connection, talus and webapp scenarios, with the peak memory of the harness process (/usr/bin/time -v) and
# of qemu (VmHWM sampled from /proc every second). Medians over RUNS (default 5). One VM at a time.
#   bash bench/harness-phases.sh            RUNS=1 SCALES="0.1 1" bash bench/harness-phases.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}; SCALES=${SCALES:-0.1}
OUT=$(pwd)/artifacts/bench/harness; mkdir -p "$OUT"
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
dotnet build src/Runbooks.Cli -c Release --nologo -v q >/dev/null
CLI=(dotnet src/Runbooks.Cli/bin/Release/net10.0/runbook.dll)
: > "$OUT/runs.tsv"

# Samples the peak resident memory of the qemu whose pid file appears under $1, until $2 exits.
qemu_peak() {
  local dir=$1 watched=$2 peak=0 pid hwm
  while kill -0 "$watched" 2>/dev/null; do
    pid=$(cat "$dir"/work/qemu.pid 2>/dev/null || true)
    if [ -n "$pid" ]; then
      hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
      [ "${hwm:-0}" -gt "$peak" ] && peak=$hwm
    fi
    sleep 1
  done
  echo "$peak"
}

one() {
  local scenario=$1 runbook=$2 scale=$3 run=$4 dir="$OUT/$1-$3-$4"
  rm -rf "$dir"; mkdir -p "$dir"
  /usr/bin/time -v -o "$dir/time.txt" "${CLI[@]}" harness run "$scenario" "$runbook" --scale "$scale" -o "$dir" > "$dir/log.txt" 2>&1 &
  local harness=$!
  local qemu; qemu=$(qemu_peak "$dir" "$harness")
  wait "$harness" && ok=passed || ok=FAILED
  local rss; rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$dir/time.txt")
  # Phase rows of the report: | phase | result | time | detail |
  grep -E '^\| (compile|create|break|verify-broken|converge|verify|idempotence|destroy|\*\*total\*\*) ' "$dir/report.md" |
    awk -F'|' -v s="$scenario@$scale" -v r="$run" '{gsub(/[* ]/,"",$2); gsub(/ s|\*| /,"",$4); print s"\t"r"\t"$2"\t"$4}' >> "$OUT/runs.tsv"
  printf '%s\t%s\tharness-peak-MiB\t%s\n%s\t%s\tqemu-peak-MiB\t%s\n%s\t%s\tresult\t%s\n' \
    "$scenario@$scale" "$run" "$((rss / 1024))" "$scenario@$scale" "$run" "$((qemu / 1024))" "$scenario@$scale" "$run" "$ok" >> "$OUT/runs.tsv"
}

for r in $(seq "$RUNS"); do
  for scale in $SCALES; do one storage runbooks/storage/storage-recovery.csx "$scale" "$r"; done
  one connection runbooks/connection/wireguard-link.csx 0.1 "$r"
  if [ -f runbooks/talus/talus.scenario.csx ]; then
    one talus runbooks/talus/talus-restart.csx 0.1 "$r"
    one webapp runbooks/webapp/webapp-repair.csx 0.1 "$r"
  fi
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$OUT/runs.tsv" "$RUNS" <<'PY'
import collections, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
cols = list(dict.fromkeys(r[0] for r in rows)); keys = list(dict.fromkeys(r[2] for r in rows))
v = collections.defaultdict(list)
for s, _, k, x in rows: v[(s, k)].append(x)
def med(xs):
    try: return f"{statistics.median(float(x) for x in xs):.1f}"
    except ValueError: return ",".join(xs)
print(f"medians over {sys.argv[2]} run(s); seconds unless named")
print("| phase | " + " | ".join(cols) + " |"); print("|---|" + "---:|" * len(cols))
for k in keys: print(f"| {k} | " + " | ".join(med(v.get((c, k), [])) for c in cols) + " |")
PY
