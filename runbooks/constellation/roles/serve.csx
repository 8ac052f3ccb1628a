// Shared by the roles of the example: a small real HTTP server (Python's http.server) for a directory, started
// detached and owning its port, so a constellation refuses two roles on one machine that want the same port.
// Its output goes nowhere: a daemon holding the SSH channel's stdout would keep the command from ending.

CommandStep Serve(string what, string directory, string address, int port) =>
    Exec($"serve {what} on {address}:{port}",
            Shell.Script("setsid -f /usr/bin/python3 -m http.server --bind \"$1\" --directory \"$2\" \"$3\" </dev/null >/dev/null 2>&1", address, directory, port.ToString()))
        .Until(Probe.Tcp(address == "0.0.0.0" ? "127.0.0.1" : address, port, TcpOutcome.Connected))
        .Within(TimeSpan.FromSeconds(10))
        .Owns(ResourceClaim.Port(port));
