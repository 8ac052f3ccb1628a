// Repairs the webapp incident (README.md beside this file) on the web host:
//   runbook plan runbooks/webapp/webapp-repair.csx --host web=ssh://root@web
// In order: the firewall first (so a restart is never blamed on the app), the log's room back (truncated in place:
// the app holds the file open, so deleting it would free nothing), logrotate pointed at the real log, the accept
// queue (and the hardening file's line that would undo it at boot), then the app's listen address and, only if that changed, one restart through its supervisor.

const string Log = "/var/log/app/access.log";

// Answered (even refused) is the proof no DROP is left, whether or not the app listens on that address yet.
Target("firewall", "nothing drops tcp/8080",
    Firewall.Rule(IpFamily.V4, "INPUT").WithProtocol("tcp").Port(8080).Jump("DROP").Absent())
    .Ensures(Probe.TcpAnswered("10.20.0.1", 8080))
    .On("web");

Target("log-room", "the app's log filesystem has room, and logrotate keeps it so",
    File.Truncated(Log, atMost: "1M"),
    File.Content("/etc/logrotate.d/app", $"{Log} {{\n    size 1M\n    rotate 3\n    copytruncate\n    missingok\n    notifempty\n}}\n"))
    .Ensures(Fs.Of(Log).UsageBelow(50))
    .On("web");

// The "hardening" file sorts after the runbook's own sysctl file: the step rewrites its line, so 4096 holds at boot.
Target("somaxconn", "the accept queue is the kernel's default again, now and after a reboot",
    Sysctl.Value("net.core.somaxconn", "4096").Persisted())
    .On("web");

// Healthy means reachable on the host's own link address, which a 127.0.0.1 listener is not.
var app = Service.Named("app").HealthyWhen(Probe.HttpGet("http://10.20.0.1:8080/", 200));

Target("app-config", "the app listens on every address",
    File.Line("/etc/app/app.conf", "listen = 0.0.0.0:8080").Replacing(@"^\s*listen\s*="))
    .On("web");

// Restarted only when its config changed in this run: when the firewall alone was the problem, the healthy process
// is left alone.
Target("app", "the app runs with its current config and answers", DependsOn("firewall", "log-room", "app-config"),
    app.RestartedWhenChanged("app-config"),
    Service.Named("app").Running())
    .Ensures(Probe.Tcp("10.20.0.1", 8080, TcpOutcome.Connected))
    .On("web");

await RunAsync(Args);
