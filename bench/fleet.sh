#!/usr/bin/env bash
# Fleet throughput against Ansible: N network-namespace machines, each with its own sshd and its own /srv, reached
# over SSH through a veth; a role of four operations (a file, a sysctl, a firewall rule, a config line) converged
# on all of them, then run again (no-op). Each tool gets freshly made machines; both run in the same sitting for
# every N. Ansible is Debian's, with forks = N, pipelining on, fact gathering off. pyinfra is not measured: it
# comes from PyPI, which this machine cannot reach.
#   sudo bash bench/fleet.sh [N…]          (default: 10 50 100; results in artifacts/bench/fleet/results.tsv)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${*:-10 50 100}
command -v ansible-playbook >/dev/null || { echo "ansible-playbook missing: apt-get install ansible" >&2; exit 2; }
ROOT=$(pwd); OUT=artifacts/bench/fleet; mkdir -p "$OUT"
TOOL=artifacts/bench/tool/runbook
[ -x "$TOOL" ] || dotnet publish src/Runbooks.Cli -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o artifacts/bench/tool --nologo -v q >/dev/null
ID=$(( $$ % 10000 )); OCT=$(( 100 + $$ % 100 ))
W=$(mktemp -d /tmp/rb-fleet-bench-XXXX)
export RUNBOOK_CACHE_DIR=$ROOT/artifacts/bench/cache NO_COLOR=1 QUIET=1
ssh-keygen -q -t ed25519 -N '' -f "$W/hostkey"; ssh-keygen -q -t ed25519 -N '' -f "$W/id"; cp "$W/id.pub" "$W/authorized_keys"
mkdir -p /run/sshd
PIDS=()

addr() { echo "10.$OCT.$1.2"; }
up() {   # N fresh machines m0…m(N-1)
  : > "$W/known_hosts"; PIDS=()
  for i in $(seq 0 $(( $1 - 1 ))); do
    local ns="rbf${ID}m$i" veth="rbf${ID}h$i"
    ip netns add "$ns"
    ip link add "$veth" type veth peer name eth0 netns "$ns"
    ip addr add "10.$OCT.$i.1/30" dev "$veth"; ip link set "$veth" up
    ip netns exec "$ns" ip addr add "$(addr "$i")/30" dev eth0
    ip netns exec "$ns" ip link set eth0 up; ip netns exec "$ns" ip link set lo up
    # Its own /srv, and root's .bashrc empty: its pyenv set-up costs seconds per SSH command on these machines.
    ip netns exec "$ns" unshare --mount --propagation private -- sh -c \
      'mount --bind /dev/null /root/.bashrc; mount -t tmpfs tmpfs /srv; exec "$@"' sh \
      /usr/sbin/sshd -D -f /dev/null -o ListenAddress="$(addr "$i")" -h "$W/hostkey" -o AuthorizedKeysFile="$W/authorized_keys" \
      -o UsePAM=no -o StrictModes=no -o PidFile=none -o PermitRootLogin=prohibit-password -o MaxStartups=200 -o LogLevel=ERROR &
    PIDS+=($!)
    echo "$(addr "$i") $(cut -d' ' -f1,2 "$W/hostkey.pub")" >> "$W/known_hosts"
  done
  for i in $(seq 0 $(( $1 - 1 ))); do
    until timeout 1 bash -c "echo > /dev/tcp/$(addr "$i")/22" 2>/dev/null; do sleep 0.05; done
  done
}
down() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for ns in $(ip netns list | awk '{print $1}' | grep "^rbf${ID}m" || true); do
    for p in $(ip netns pids "$ns"); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$ns"
  done
  PIDS=()
}
trap 'down; rm -rf "$W"' EXIT

measure() { /usr/bin/python3 bench/fleet/peak-rss.py "$@" 2>&1 >/dev/null | tail -1; }

RESULTS=$OUT/results.tsv
printf 'n\ttool\trun\twall_s\thost_steps_per_s\tpeak_mib\texit\n' > "$RESULTS"
for N in $SIZES; do
  # Runbooks: one constellation, one role on every machine.
  { echo "Role(\"bench\", \"$ROOT/bench/fleet/role.csx\");"
    for i in $(seq 0 $(( N - 1 ))); do echo "Machine(\"m$i\", \"ssh://root@$(addr "$i")\").Runs(\"bench\");"; done; } > "$W/fleet.constellation.csx"
  up "$N"
  export RUNBOOK_SSH_KEY=$W/id RUNBOOK_KNOWN_HOSTS=$W/known_hosts RUNBOOK_LOCK=/srv/.lock/runbook
  "$TOOL" plan "$W/fleet.constellation.csx" >/dev/null 2>&1 || true   # warm the compile cache; nothing changes
  for run in converge noop; do
    read -r wall peak code < <(measure "$TOOL" run "$W/fleet.constellation.csx" --limit "$N" --journal "$W/j-$N-$run.jsonl")
    printf '%s\trunbooks\t%s\t%s\t%s\t%s\t%s\n' "$N" "$run" "$wall" "$(/usr/bin/python3 -c "print(f'{$N*4/$wall:.1f}')")" "$peak" "$code" | tee -a "$RESULTS"
  done
  cp "$W"/j-*.jsonl "$OUT/" 2>/dev/null || true; down

  # Ansible: same machines made fresh, same four operations.
  up "$N"
  for i in $(seq 0 $(( N - 1 ))); do echo "m$i ansible_host=$(addr "$i")"; done > "$W/inventory"
  cat > "$W/ansible.cfg" <<CFG
[defaults]
forks = $N
host_key_checking = True
private_key_file = $W/id
remote_user = root
interpreter_python = /usr/bin/python3
nocolor = True
[ssh_connection]
pipelining = True
ssh_args = -o UserKnownHostsFile=$W/known_hosts -o StrictHostKeyChecking=yes -o ControlMaster=auto -o ControlPersist=60s
control_path_dir = $W/cp
CFG
  for run in converge noop; do
    read -r wall peak code < <(ANSIBLE_CONFIG=$W/ansible.cfg measure ansible-playbook -i "$W/inventory" bench/fleet/playbook.yml)
    printf '%s\tansible\t%s\t%s\t%s\t%s\t%s\n' "$N" "$run" "$wall" "$(/usr/bin/python3 -c "print(f'{$N*4/$wall:.1f}')")" "$peak" "$code" | tee -a "$RESULTS"
  done
  cp "$W"/j-*.jsonl "$OUT/" 2>/dev/null || true; down
done
