# One talus daemon (../README.md), started by its runit run script as
#   talus-service.py NAME PORT NEEDED-PORTS(comma-separated) [--http] [--ignore-term]
# It refuses to start (exit 1) while a needed port does not answer; SIGUSR1 wedges it (it stops accepting but
# keeps running); with --ignore-term it logs SIGTERM and carries on, as the notes' master daemon does; with --http
# it answers 200, or 503 while what it needs is unreachable. Every start, readiness and signal is appended to
# /var/log/talus/events.log as "SECONDS NAME EVENT PID", which the scenario's timeline specs read.
import os, signal, socket, sys, time
name, port = sys.argv[1], int(sys.argv[2])
needs = [int(p) for p in sys.argv[3].split(",") if p]
flags = sys.argv[4:]

def event(what):
    with open("/var/log/talus/events.log", "a") as f:
        f.write(f"{time.time():.3f} {name} {what} {os.getpid()}\n")

def answers(p):
    try:
        socket.create_connection(("127.0.0.1", p), timeout=0.5).close()
        return True
    except OSError:
        return False

event("start")
down = [p for p in needs if not answers(p)]
if down:
    print(f"{name}: refusing to start: nothing answers on 127.0.0.1:{down[0]}, a service it needs is down", flush=True)
    event("refused")
    sys.exit(1)

wedged = False
listener = socket.socket()

def on_term(signum, frame):
    if "--ignore-term" in flags:
        print(f"{name}: SIGTERM received, ignoring it (busy)", flush=True)
        event("term-ignored")
        return
    event("term")
    sys.exit(0)

def on_usr1(signum, frame):
    global wedged
    wedged = True
    listener.close()
    print(f"{name}: wedged, no longer accepting", flush=True)
    event("wedged")

signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGUSR1, on_usr1)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(16)
listener.settimeout(0.2)
print(f"{name}: listening on 127.0.0.1:{port}", flush=True)
event("ready")
while True:
    if wedged:
        time.sleep(1)
        continue
    try:
        c, _ = listener.accept()
    except OSError:
        continue
    if "--http" in flags:
        c.settimeout(1)
        try:
            c.recv(4096)
        except OSError:
            pass
        ok = all(answers(p) for p in needs)
        body = f"{name} {'ok' if ok else 'database unreachable'}\n".encode()
        status = b"200 OK" if ok else b"503 Service Unavailable"
        c.sendall(b"HTTP/1.0 " + status + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    else:
        c.sendall(f"{name}\n".encode())
    c.close()
