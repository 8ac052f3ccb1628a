namespace Runbooks.Harness.Scenarios.Talus;

/// <summary>
/// The five talus daemons of incidents/talus-service-notes.rst as tiny python3 programs under runit, each writing
/// its start, readiness and signals to <see cref="EventLog"/> (its runit finish script adds how it exited), so the
/// specs can see the order things happened in.
/// </summary>
public static class TalusServices
{
    public const string EventLog = "/var/log/talus/events.log";
    public const string Program = "/etc/sv/talus-service.py";

    /// <summary>How long a stop waits for master after TERM before KILL; the runbook declares the same.</summary>
    public static readonly TimeSpan MasterGrace = TimeSpan.FromSeconds(3);

    /// <summary>Name, port, the ports it needs answering before it will start, and how it behaves.</summary>
    public sealed record Daemon(string Name, int Port, IReadOnlyList<string> After, string Flags);

    /// <summary>In the notes' start order. web is HTTP and answers 503 while db is down.</summary>
    public static readonly IReadOnlyList<Daemon> All =
    [
        new("db", 27017, [], ""),
        new("amqp", 5672, [], ""),
        new("web", 8001, ["db"], "--http"),
        new("master", 5000, ["amqp", "web"], "--ignore-term"),
        new("slave", 5001, ["master"], ""),
    ];

    public static Daemon Named(string name) => All.First(d => d.Name == name);

    /// <summary>
    /// argv: NAME PORT NEEDED-PORTS(comma-separated) [--http] [--ignore-term]. Refuses to start (exit 1) while a
    /// needed port does not answer; SIGUSR1 wedges it (it stops accepting but keeps running); with --ignore-term it
    /// logs SIGTERM and carries on, as the notes' master daemon does.
    /// </summary>
    public const string ProgramText = """
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
        """;

    public static string RunScript(Daemon daemon, IEnumerable<int> neededPorts) =>
        $"#!/bin/sh\nexec 2>&1\nexec python3 -u {Program} {daemon.Name} {daemon.Port} \"{string.Join(",", neededPorts)}\" {daemon.Flags}\n";

    // runsv passes the exit code (-1 when signalled) and the signal number to ./finish.
    public static string FinishScript(Daemon daemon) =>
        $"#!/bin/sh\necho \"$(date +%s.%3N) {daemon.Name} exit $1 $2\" >> {EventLog}\n";

    public const string LogRunScript = "#!/bin/sh\nexec svlogd -tt ./main\n";
}
