#!/usr/bin/env bash
# Per-command overhead: N (default 200) trivial commands (`true`, a real process each time)
#   local: through LocalTransport (CliWrap)            vs  a bash loop running /bin/true
#   ssh:   through SshTransport on one kept connection  vs  `ssh` with a ControlMaster connection
#   watchdog: SshTransport's remote text under the connection's orphan watchdog, the per-command watchdog it
#             replaced and the bare command, taken in turn on one bare SSH.NET connection (a channel each): the
#             differences are what each watchdog costs per command
# against a throwaway sshd on 127.0.0.1 (started here, stopped on exit). Connection set-up is not timed
# on either side. Medians over RUNS (default 5), ratios from this one run. Target: local ≤ 1.5× bash.
#   bash bench/command-overhead.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-200}; RUNS=${RUNS:-5}; PORT=${PORT:-2299}
OUT=$(pwd)/artifacts/bench/overhead; rm -rf "$OUT/sshd"; mkdir -p "$OUT/sshd"
dotnet publish bench/CommandOverhead -c Release -o "$OUT/tool" --nologo -v q >/dev/null
TOOL=$OUT/tool/CommandOverhead

# The sshd runs in a private mount namespace where root's .bashrc is empty: on these machines it runs
# `pyenv init`, which would add seconds to every command on both sides and measure pyenv, not transports.
S=$OUT/sshd
ssh-keygen -q -t ed25519 -N '' -f "$S/host_key"; ssh-keygen -q -t ed25519 -N '' -f "$S/client_key"
cp "$S/client_key.pub" "$S/authorized_keys"; chmod 600 "$S/authorized_keys"
echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$S/host_key.pub")" > "$S/known_hosts"
: > "$S/empty_bashrc"; mkdir -p /run/sshd
unshare -m --propagation private sh -c "mount --bind '$S/empty_bashrc' /root/.bashrc && exec /usr/sbin/sshd -D -f /dev/null -p $PORT -h '$S/host_key' \
  -o ListenAddress=127.0.0.1 -o AuthorizedKeysFile='$S/authorized_keys' -o PermitRootLogin=prohibit-password -o StrictModes=no -o UsePAM=no -o PidFile=none" &
SSHD=$!
CP=$S/control
SSH=(ssh -i "$S/client_key" -o UserKnownHostsFile="$S/known_hosts" -o StrictHostKeyChecking=yes -o ControlPath="$CP" -p "$PORT" root@127.0.0.1)
cleanup() { "${SSH[@]}" -O exit 2>/dev/null || true; kill "$SSHD" 2>/dev/null || true; wait "$SSHD" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 50); do "${SSH[@]}" -o ControlMaster=no -o BatchMode=yes true 2>/dev/null && break; sleep 0.1; done
"${SSH[@]}" -o ControlMaster=yes -o ControlPersist=600 -fN
export RUNBOOK_SSH_KEY=$S/client_key RUNBOOK_KNOWN_HOSTS=$S/known_hosts

# Seconds of CPU used by the sshd listener's reaped children (fields 16 and 17 of its stat, in clock ticks).
sshd_children_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($14 + $15) / hz }' "/proc/$SSHD/stat"; }
TIMEFORMAT=%R
bash_loop() { { time (for _ in $(seq "$N"); do /bin/true; done); } 2>&1; }
ssh_loop() { { time (for _ in $(seq "$N"); do "${SSH[@]}" true; done); } 2>&1; }
: > "$OUT/runs.tsv"
for r in $(seq "$RUNS"); do
  printf 'bash\t%s\n' "$(bash_loop)" >> "$OUT/runs.tsv"
  printf 'local\t%s\n' "$("$TOOL" local "$N")" >> "$OUT/runs.tsv"
  printf 'ssh-controlmaster\t%s\n' "$(ssh_loop)" >> "$OUT/runs.tsv"
  printf 'ssh-transport\t%s\n' "$("$TOOL" "ssh://root@127.0.0.1:$PORT" "$N")" >> "$OUT/runs.tsv"
  read -r watched per_command bare <<<"$("$TOOL" "ssh://root@127.0.0.1:$PORT" "$N" watchdog)"
  printf 'ssh.net-watched\t%s\nssh.net-per-command\t%s\nssh.net-bare\t%s\n' "$watched" "$per_command" "$bare" >> "$OUT/runs.tsv"
  # CPU on the host: what the sshd's reaped children (the connection and all below it) used, one kind at a time.
  for kind in connection per-command bare; do
    before=$(sshd_children_cpu); "$TOOL" "ssh://root@127.0.0.1:$PORT" "$N" watchdog "$kind" >/dev/null; sleep 0.5
    printf 'cpu-%s\t%s\n' "$kind" "$(echo "$(sshd_children_cpu) - $before" | bc -l)" >> "$OUT/runs.tsv"
  done
done
python3 - "$OUT/runs.tsv" "$N" "$RUNS" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    k, v = line.split("\t"); runs[k].append(float(v))
n = int(sys.argv[2]); m = {k: statistics.median(v) for k, v in runs.items()}
print(f"{n} commands, medians over {sys.argv[3]} runs")
print(f"{'case':18} {'total s':>8} {'ms/command':>11}")
for k in ("bash", "local", "ssh-controlmaster", "ssh-transport", "ssh.net-watched", "ssh.net-per-command", "ssh.net-bare"):
    print(f"{k:18} {m[k]:8.3f} {1000 * m[k] / n:11.2f}")
lr, sr = m["local"] / m["bash"], m["ssh-transport"] / m["ssh-controlmaster"]
for k, c, name in (("ssh.net-watched", "cpu-connection", "connection watchdog"), ("ssh.net-per-command", "cpu-per-command", "per-command watchdog (before)")):
    print(f"{name}: {1000 * (m[k] - m['ssh.net-bare']) / n:.2f} ms/command wall ({m[k] / m['ssh.net-bare']:.2f}x the bare command); "
          f"host CPU {1000 * m[c] / n:.2f} ms/command against {1000 * m['cpu-bare'] / n:.2f} bare ({m[c] / m['cpu-bare']:.2f}x)")
print(f"load average {__import__('os').getloadavg()[0]:.1f} at the end")
print(f"local/bash {lr:.2f}x (target <= 1.5x: {'met' if lr <= 1.5 else 'MISSED'}); ssh-transport/ssh-controlmaster {sr:.2f}x")
PY
