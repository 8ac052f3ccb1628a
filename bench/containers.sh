#!/usr/bin/env bash
# The containers backend, side by side with the backends the same incidents ran on before (one sitting, as root):
#   image   the default Debian image: cold (empty cache, not in the store: debootstrap + tar + import), from the cached
#           tarball (not in the store: import only), cached (in the store: an inspect)
#   create  `podman run` of one harness host to a running container, and `podman exec true` (the transport's floor)
#   replay  talus on runit vs talus-container, webapp on netns vs webapp-container: total and phase times
# Medians over RUNS (default 3); each replay pair is run back to back so their ratio is measured under the same load.
#   sudo bash bench/containers.sh            RUNS=5 COLD=0 sudo bash bench/containers.sh   (COLD=0 skips the cold build)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}; COLD=${COLD:-1}
OUT=$(pwd)/artifacts/bench/containers; mkdir -p "$OUT"; : > "$OUT/runs.tsv"
dotnet build src/Runbooks.Cli -c Release --nologo -v q >/dev/null
CLI=(dotnet src/Runbooks.Cli/bin/Release/net10.0/runbook.dll)
IMAGE_SCRIPT=harness/Backends/Container/debian-image.sh
image=$(bash "$IMAGE_SCRIPT" podman --name)
now() { date +%s.%N; }
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$OUT/runs.tsv"; }

if [ "$COLD" = 1 ]; then
  podman rmi --force "$image" >/dev/null 2>&1 || true
  scratch=$(mktemp -d)
  t=$(now); RUNBOOK_IMAGE_CACHE=$scratch bash "$IMAGE_SCRIPT" podman >/dev/null; record image cold "$(echo "$(now) - $t" | bc)"
  # The cold build's tarball becomes the cache, so the runs below import what was just built.
  mkdir -p /var/cache/runbooks/images && mv -f "$scratch"/*.tar /var/cache/runbooks/images/ && rm -rf "$scratch"
fi
for r in $(seq "$RUNS"); do
  podman rmi --force "$image" >/dev/null 2>&1 || true
  t=$(now); bash "$IMAGE_SCRIPT" podman >/dev/null; record image from-tarball "$(echo "$(now) - $t" | bc)"
  t=$(now); bash "$IMAGE_SCRIPT" podman >/dev/null; record image cached "$(echo "$(now) - $t" | bc)"
  name=rbbench$$-$r
  t=$(now)
  podman run --detach --name "$name" --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --init \
    --cap-add NET_ADMIN --cap-add NET_RAW "$image" sleep infinity >/dev/null 2>&1
  record create container-running "$(echo "$(now) - $t" | bc)"
  t=$(now); for _ in 1 2 3 4 5 6 7 8 9 10; do podman exec "$name" true; done; record create exec-true "$(echo "($(now) - $t) / 10" | bc -l)"
  podman rm --force --time 0 "$name" >/dev/null 2>&1
done

replay() {
  local scenario=$1 run=$2 dir="$OUT/$1-$2"
  rm -rf "$dir"; mkdir -p "$dir"
  "${CLI[@]}" harness run "$scenario" -o "$dir" > "$dir/log.txt" 2>&1 && ok=passed || ok=FAILED
  record "$scenario" result "$ok"
  grep -E '^\| (create|break|converge|\*\*total\*\*) ' "$dir/report.md" |
    awk -F'|' -v s="$scenario" '{gsub(/[* ]/,"",$2); gsub(/ s|\*| /,"",$4); print s"\t"$2"\t"$4}' >> "$OUT/runs.tsv"
}
for r in $(seq "$RUNS"); do
  replay talus "$r"; replay talus-container "$r"
  replay webapp "$r"; replay webapp-container "$r"
done
echo "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg), $(podman --version)"
python3 - "$OUT/runs.tsv" <<'PY'
import collections, statistics, sys
v = collections.defaultdict(list)
for line in open(sys.argv[1]):
    group, key, value = line.rstrip("\n").split("\t")
    v[(group, key)].append(value)
def med(xs):
    nums = [float(x) for x in xs if x.replace(".", "", 1).isdigit()]
    return statistics.median(nums) if nums else None
for (group, key), xs in v.items():
    m = med(xs)
    print(f"{group:18} {key:18} " + (f"median {m:8.2f} s of {len(xs)}: {' '.join(f'{float(x):.2f}' for x in xs)}" if m is not None else " ".join(xs)))
for base, variant in (("talus", "talus-container"), ("webapp", "webapp-container")):
    a, b = med(v[(base, "total")]), med(v[(variant, "total")])
    if a and b:
        print(f"{variant} / {base}: {b / a:.2f}x (medians of the totals)")
PY
