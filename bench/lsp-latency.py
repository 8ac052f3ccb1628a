#!/usr/bin/env python3
"""`runbook lsp` latency as an editor feels it, on runbooks/storage/storage-recovery.csx:
  cold  — process start to the first publishDiagnostics after didOpen;
  warm  — completion after `Lvm.Pv("/dev/loop1").` (N requests, default 10), and publishDiagnostics after a
          didChange (includes the server's 50 ms settle delay), on the same running server.
Prints median and p95 (ms).  Build first: dotnet build Runbooks.sln -c Release

    python3 bench/lsp-latency.py [RUNBOOK] [N]
    python3 bench/lsp-latency.py --cold K [--against OTHER/runbook.dll] [RUNBOOK]

--cold K starts the server K times (cold only: the initialize reply and the first diagnostics, and the CPU time the
server had used by then, which load inflates far less than wall time); with --against it alternates this build and
another one run for run, so both see the same machine load, and prints the ratio. RUNBOOK_LSP_DLL names this build
(default: the build output); a path ending in an apphost (no .dll) is started directly.
"""
import json, os, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DLL = os.environ.get("RUNBOOK_LSP_DLL") or os.path.join(ROOT, "src/Runbooks.Cli/bin/Release/net10.0/runbook.dll")
args = sys.argv[1:]
COLD = AGAINST = None
if "--cold" in args:
    i = args.index("--cold"); COLD = int(args[i + 1]); del args[i:i + 2]
if "--against" in args:
    i = args.index("--against"); AGAINST = os.path.abspath(args[i + 1]); del args[i:i + 2]
RUNBOOK = os.path.abspath(args[0] if len(args) > 0 else os.path.join(ROOT, "runbooks/storage/storage-recovery.csx"))
N = int(args[1]) if len(args) > 1 else 10
URI = "file://" + RUNBOOK


class Client:
    def __init__(self, dll=DLL):
        command = ["dotnet", dll, "lsp"] if dll.endswith(".dll") else [dll, "lsp"]
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.next_id = 0

    def send(self, message):
        body = json.dumps(dict(message, jsonrpc="2.0")).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def read(self):
        length = None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise EOFError("server closed its output")
            line = line.strip()
            if not line:
                break
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return json.loads(self.proc.stdout.read(length))

    def request(self, method, params):
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            message = self.read()
            if message.get("id") == self.next_id:
                return message

    def notify(self, method, params):
        self.send({"method": method, "params": params})

    def diagnostics(self):
        while True:
            message = self.read()
            if message.get("method") == "textDocument/publishDiagnostics":
                return message["params"]


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


text = open(RUNBOOK).read()


def cpu_ms(pid):
    """User + system CPU the process has used, in ms."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def cold_start(dll):
    """(initialize reply, first diagnostics, CPU by then) in ms from process start."""
    start = time.perf_counter()
    client = Client(dll)
    client.request("initialize", {"processId": os.getpid(), "rootUri": None, "capabilities": {}})
    initialized = (time.perf_counter() - start) * 1000
    init_cpu = cpu_ms(client.proc.pid)
    client.notify("initialized", {})
    client.notify("textDocument/didOpen", {"textDocument": {"uri": URI, "languageId": "csharp", "version": 1, "text": text}})
    client.diagnostics()
    first = (time.perf_counter() - start) * 1000
    cpu = cpu_ms(client.proc.pid)
    # Where the rest of the warm-up goes (composing Roslyn's host and workspace, a completion and a hover in it), on a
    # build that reports it; an older one answers runbook/status with an error.
    warm_cpu = None
    while "result" in (status := client.request("runbook/status", None)) and status["result"]["warmUp"] not in ("done", "failed"):
        time.sleep(0.1)
    if "result" in status:
        warm_cpu = cpu_ms(client.proc.pid)
    client.request("shutdown", None)
    client.notify("exit", None)
    client.proc.wait(timeout=30)
    return initialized, first, cpu, init_cpu, warm_cpu


if COLD:
    load_start = os.getloadavg()[0]
    builds = [("this build", DLL)] + ([("against", AGAINST)] if AGAINST else [])
    runs = {name: [] for name, _ in builds}
    for _ in range(COLD):
        for name, dll in builds:
            runs[name].append(cold_start(dll))
    print(f"runbook: {os.path.relpath(RUNBOOK, ROOT)}, {COLD} cold starts per build, alternating; load average {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    for name, dll in builds:
        init = [r[0] for r in runs[name]]; first = [r[1] for r in runs[name]]; cpu = [r[2] for r in runs[name]]
        print(f"{name} ({os.path.relpath(dll, ROOT)}): initialize median {statistics.median(init):.0f} ms; first diagnostics median {statistics.median(first):.0f} ms, p95 {pct(first, 95):.0f} ms (target <= 2000); CPU by then median {statistics.median(cpu):.0f} ms")
        warm = [r[4] for r in runs[name] if r[4] is not None]
        print(f"  CPU medians: to the initialize reply {statistics.median([r[3] for r in runs[name]]):.0f} ms, to the first diagnostics {statistics.median(cpu):.0f} ms"
              + (f", to the end of the warm-up (host, workspace, completion, hover) {statistics.median(warm):.0f} ms" if warm else ""))
    if AGAINST:
        ratio = statistics.median([r[1] for r in runs["this build"]]) / statistics.median([r[1] for r in runs["against"]])
        print(f"first diagnostics, this build / against: {ratio:.2f}x")
    sys.exit(0)

start = time.perf_counter()
client = Client()
client.request("initialize", {"processId": os.getpid(), "rootUri": None, "capabilities": {}})
client.notify("initialized", {})
client.notify("textDocument/didOpen", {"textDocument": {"uri": URI, "languageId": "csharp", "version": 1, "text": text}})
first = client.diagnostics()
cold = (time.perf_counter() - start) * 1000

edited = text + '\nLvm.Pv("/dev/loop1").'
lines = edited.split("\n")
position = {"line": len(lines) - 1, "character": len(lines[-1])}
version = 2
completion, after_edit = [], []
for i in range(N + 2):
    version += 1
    t = time.perf_counter()
    client.notify("textDocument/didChange", {"textDocument": {"uri": URI, "version": version}, "contentChanges": [{"text": edited + " " * (i % 2)}]})
    client.diagnostics()
    d = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    reply = client.request("textDocument/completion", {"textDocument": {"uri": URI}, "position": position})
    c = (time.perf_counter() - t) * 1000
    labels = [item["label"] for item in reply["result"]["items"]]
    assert "Evacuate" in labels, labels[:20]
    if i >= 2:  # the first two warm the JIT and Roslyn's caches
        completion.append(c)
        after_edit.append(d)
client.request("shutdown", None)
client.notify("exit", None)
client.proc.wait(timeout=10)

print(f"runbook: {os.path.relpath(RUNBOOK, ROOT)} ({len(text.splitlines())} lines), {len(first['diagnostics'])} diagnostic(s) on open")
print(f"cold start to first diagnostics: {cold:.0f} ms (target <= 2000)")
print(f"warm completion, {N} requests: median {statistics.median(completion):.0f} ms, p95 {pct(completion, 95):.0f} ms (target p95 <= 200)")
print(f"warm diagnostics after an edit (incl. 50 ms settle), {N} edits: median {statistics.median(after_edit):.0f} ms, p95 {pct(after_edit, 95):.0f} ms")
