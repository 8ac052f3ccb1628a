#!/usr/bin/env bash
# Runbooks vs Ansible on the same incident: each tool gets its own freshly broken storage VM (harness up
# --break) and is timed for: dry run on the broken VM, converge, no-op second run, dry run on the repaired
# VM. Also records whether the second run changed nothing and whether the dry run predicted the changes.
# Runs one VM at a time. RUNS (default 1) repeats the whole thing; each repeat costs ~2 VM lifecycles.
#   bash bench/side-by-side.sh [runbooks|ansible|both]   (SCALE=0.1 by default, the CI scale)
set -euo pipefail
cd "$(dirname "$0")/.."
WHICH=${1:-both}; RUNS=${RUNS:-1}; SCALE=${SCALE:-0.1}
OUT=artifacts/bench/side-by-side; mkdir -p "$OUT"
STATE=$(pwd)/.runbook/harness/bench-storage
TOOL=artifacts/bench/tool/runbook
[ -x "$TOOL" ] || dotnet publish src/Runbooks.Cli -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o artifacts/bench/tool --nologo -v q >/dev/null
export RUNBOOK_CACHE_DIR=$(pwd)/artifacts/bench/cache RUNBOOK_SCALE=$SCALE NO_COLOR=1
RESULTS=$OUT/results.tsv; : > "$RESULTS"
now() { date +%s.%N; }
secs() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }

up() {
  local line
  line=$("$TOOL" harness up storage --break --scale "$SCALE" --state "$STATE" | grep -o 'ssh -i [^ ]* -o UserKnownHostsFile=[^ ]* -p [0-9]*')
  KEY=$(echo "$line" | awk '{print $3}'); KH=$(echo "$line" | sed 's/.*UserKnownHostsFile=\([^ ]*\).*/\1/'); PORT=${line##* }
  export RUNBOOK_SSH_KEY=$KEY RUNBOOK_KNOWN_HOSTS=$KH
}
down() { "$TOOL" harness down storage --state "$STATE" >/dev/null; }
trap 'down 2>/dev/null || true' EXIT

# The end state, read the same way on both tools' VMs.
end_state() {
  ssh -i "$KEY" -o UserKnownHostsFile="$KH" -p "$PORT" root@127.0.0.1 \
    'pvs -o pv_name,vg_name,pv_size,pe_start; lvs -o lv_name,lv_size vg0; findmnt -no OPTIONS /data; df -h /media /data; curl -s -o /dev/null -w "%{http_code}\n" http://127.0.0.1:8000/' 2>&1 || true
}
changed_steps() { python3 -c "import json,sys; print(sum(1 for l in open(sys.argv[1]) if (e:=json.loads(l))['event']=='step-end' and e['outcome']=='Changed'))" "$1"; }
# The plan JSON's steps (schema in the README): will change, and blocked until an earlier step ran.
planned_steps() { python3 -c "
import json,sys
d=json.load(open(sys.argv[1]))
steps=[s for h in d['hosts'] for t in h['targets'] for s in t['steps']]
print(f\"{sum(s['decision']=='willChange' for s in steps)}+{sum(s['decision']=='blocked' for s in steps)}b\")" "$1"; }

bench_runbooks() {
  local i=$1 t0 t1 host
  up; host="ssh://root@127.0.0.1:$PORT"
  t0=$(now); "$TOOL" plan runbooks/storage/storage-recovery.csx --host "$host" --format json > "$OUT/rb-plan-broken-$i.json" || true; t1=$(now)
  printf 'runbooks\t%s\tplan-broken\t%s\t%s\n' "$i" "$(secs "$t0" "$t1")" "$(planned_steps "$OUT/rb-plan-broken-$i.json")" >> "$RESULTS"
  rm -f "$OUT/rb-run-$i.jsonl" "$OUT/rb-rerun-$i.jsonl"  # --journal appends; a repeat must not count the last one's steps
  t0=$(now); "$TOOL" run runbooks/storage/storage-recovery.csx --host "$host" --journal "$OUT/rb-run-$i.jsonl" > "$OUT/rb-run-$i.log"; t1=$(now)
  printf 'runbooks\t%s\tconverge\t%s\t%s\n' "$i" "$(secs "$t0" "$t1")" "$(changed_steps "$OUT/rb-run-$i.jsonl")" >> "$RESULTS"
  t0=$(now); "$TOOL" run runbooks/storage/storage-recovery.csx --host "$host" --journal "$OUT/rb-rerun-$i.jsonl" > "$OUT/rb-rerun-$i.log"; t1=$(now)
  printf 'runbooks\t%s\tsecond-run\t%s\t%s\n' "$i" "$(secs "$t0" "$t1")" "$(changed_steps "$OUT/rb-rerun-$i.jsonl")" >> "$RESULTS"
  t0=$(now); "$TOOL" plan runbooks/storage/storage-recovery.csx --host "$host" --format json > "$OUT/rb-plan-repaired-$i.json"; t1=$(now)
  printf 'runbooks\t%s\tplan-repaired\t%s\t%s\n' "$i" "$(secs "$t0" "$t1")" "$(planned_steps "$OUT/rb-plan-repaired-$i.json")" >> "$RESULTS"
  end_state > "$OUT/rb-end-state-$i.txt"
  down
}

bench_ansible() {
  local i=$1 t0 t1 inv=$OUT/inventory.ini
  up
  printf 'storage ansible_host=127.0.0.1 ansible_port=%s ansible_user=root ansible_ssh_private_key_file=%s ansible_python_interpreter=/usr/bin/python3 ansible_ssh_transfer_method=piped ansible_ssh_common_args="-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes"\n' "$PORT" "$KEY" "$KH" > "$inv"
  # profile_tasks only adds per-task seconds to the logs, to see where the time goes.
  export ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_NOCOLOR=1 ANSIBLE_PIPELINING=True ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks
  a() { ansible-playbook -i "$inv" -e "scale=$SCALE" bench/ansible/storage-recovery.yml "$@"; }
  recap() { echo "$(grep -o 'changed=[0-9]*' "$1" | tail -1 | cut -d= -f2)$(grep -q 'failed=[1-9]' "$1" && echo ' (failed)')"; }
  t0=$(now); a --check > "$OUT/an-check-broken-$i.log" || true; t1=$(now)
  printf 'ansible\t%s\tplan-broken\t%s\t%s\n' "$i" "$(secs "$t0" "$t1")" "$(recap "$OUT/an-check-broken-$i.log")" >> "$RESULTS"
  t0=$(now); a > "$OUT/an-run-$i.log"; t1=$(now)
  printf 'ansible\t%s\tconverge\t%s\t%s\n' "$i" "$(secs "$t0" "$t1")" "$(recap "$OUT/an-run-$i.log")" >> "$RESULTS"
  t0=$(now); a > "$OUT/an-rerun-$i.log"; t1=$(now)
  printf 'ansible\t%s\tsecond-run\t%s\t%s\n' "$i" "$(secs "$t0" "$t1")" "$(recap "$OUT/an-rerun-$i.log")" >> "$RESULTS"
  t0=$(now); a --check > "$OUT/an-check-repaired-$i.log" || true; t1=$(now)
  printf 'ansible\t%s\tplan-repaired\t%s\t%s\n' "$i" "$(secs "$t0" "$t1")" "$(recap "$OUT/an-check-repaired-$i.log")" >> "$RESULTS"
  end_state > "$OUT/an-end-state-$i.txt"
  # And what our plan still finds to do there (its autogrow target looks for our daemon, not Ansible's).
  "$TOOL" plan runbooks/storage/storage-recovery.csx --host "ssh://root@127.0.0.1:$PORT" --format json > "$OUT/an-rb-plan-after-$i.json" || true
  printf 'ansible\t%s\trb-plan-after\t0\t%s\n' "$i" "$(planned_steps "$OUT/an-rb-plan-after-$i.json")" >> "$RESULTS"
  down
}

for i in $(seq 1 "$RUNS"); do
  case $WHICH in runbooks) bench_runbooks "$i";; ansible) bench_ansible "$i";; *) bench_runbooks "$i"; bench_ansible "$i";; esac
done
python3 - "$RESULTS" <<'PY'
import collections, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
t = collections.defaultdict(list); c = collections.defaultdict(list)
for tool, _, phase, s, n in rows:
    t[(tool, phase)].append(float(s)); c[(tool, phase)].append(n)
print(f"{'phase':14} {'runbooks s':>11} {'ansible s':>10} {'ratio':>6}  changes (runbooks / ansible), n runs")
for phase in ("plan-broken", "converge", "second-run", "plan-repaired", "rb-plan-after"):
    r, a = t.get(("runbooks", phase)), t.get(("ansible", phase))
    rm = statistics.median(r) if r else float("nan"); am = statistics.median(a) if a else float("nan")
    print(f"{phase:14} {rm:11.2f} {am:10.2f} {rm / am if a and r else float('nan'):6.2f}  {','.join(c.get(('runbooks', phase), []))} / {','.join(c.get(('ansible', phase), []))}, {len(r or [])}/{len(a or [])}")
PY
