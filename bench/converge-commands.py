#!/usr/bin/env python3
"""Commands of a converge journal (JSON Lines): how many, how long, which ones repeat, per target.

    python3 bench/converge-commands.py artifacts/harness/storage/converge.jsonl [more.jsonl …]

With two journals (before, after) it prints them side by side.
"""
import collections, datetime, json, sys


def load(path):
    target, rows, starts, ends = None, [], [], []
    for line in open(path):
        e = json.loads(line)
        if e["event"] == "target-start":
            target = e["target"]
        if e["event"] == "command":
            rows.append((target, e["rendered"], e["readOnly"], e["ms"]))
        if e["event"] in ("run-start", "run-end"):
            (starts if e["event"] == "run-start" else ends).append(datetime.datetime.fromisoformat(e["ts"]))
        last = datetime.datetime.fromisoformat(e["ts"])
    wall = ((ends[0] if ends else last) - starts[0]).total_seconds()
    return rows, wall


def summary(path):
    rows, wall = load(path)
    per = collections.OrderedDict()
    for target, _, _, ms in rows:
        n, t = per.get(target, (0, 0.0))
        per[target] = (n + 1, t + ms / 1000)
    reads = sum(1 for r in rows if r[2])
    return rows, wall, per, reads


paths = sys.argv[1:]
results = [summary(p) for p in paths]
print("| journal | commands | read-only | changing | command seconds | converge wall s |")
print("|---|---:|---:|---:|---:|---:|")
for p, (rows, wall, per, reads) in zip(paths, results):
    print(f"| {p} | {len(rows)} | {reads} | {len(rows) - reads} | {sum(r[3] for r in rows) / 1000:.1f} | {wall:.1f} |")
targets = list(dict.fromkeys(t for _, _, per, _ in results for t in per))
print("\n| target | " + " | ".join(f"cmds / s ({i + 1})" for i in range(len(paths))) + " |")
print("|---|" + "---:|" * len(paths))
for t in targets:
    print(f"| {t} | " + " | ".join(f"{per.get(t, (0, 0))[0]} / {per.get(t, (0, 0.0))[1]:.1f}" for _, _, per, _ in results) + " |")
for p, (rows, _, _, _) in zip(paths, results):
    repeated = collections.Counter(r[1] for r in rows if r[2])
    top = [(n, c) for c, n in repeated.most_common(8) if n > 1]
    print(f"\nread-only commands run more than once in {p}:")
    for n, c in top:
        print(f"  {n:3}x {c[:110]}")
