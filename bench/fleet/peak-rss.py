"""Runs a command and prints its wall time and the peak of the summed RSS of it and all its descendants
(Ansible forks a worker and an ssh per host; the runbook tool is one process), sampled every 50 ms."""
import os, subprocess, sys, time

def tree_rss(root):
    parents, rss = {}, {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            parents[int(pid)] = int(fields[1])
            with open(f"/proc/{pid}/statm") as f:
                rss[int(pid)] = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError):
            pass
    total = 0
    for pid in rss:
        p, depth = pid, 0
        while p and p != root and depth < 20:
            p, depth = parents.get(p, 0), depth + 1
        if p == root:
            total += rss[pid]
    return total

start = time.monotonic()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL if os.environ.get("QUIET") else None)
peak = 0
while proc.poll() is None:
    peak = max(peak, tree_rss(proc.pid))
    time.sleep(0.05)
print(f"{time.monotonic() - start:.2f} {peak / 1048576:.0f} {proc.returncode}", file=sys.stderr)
