// The webapp incident's break and specs (loaded by webapp.scenario.csx, on network namespaces, and
// webapp-container.scenario.csx, on containers): the same hosts `web` (at WebAddress, with a small /var/log/app) and
// `client`, whichever backend makes them.

const string App = "/srv/app/app.py";
const string Log = "/var/log/app/access.log";
const string WebAddress = "10.20.0.1";

/// <summary>Defines the break targets (a healthy host first, then the four faults) and the seven specs.</summary>
void WebappIncident()
{
    var app = Service.Named("app").HealthyWhen(Probe.HttpGet("http://127.0.0.1:8080/", 200));

    // A healthy host first: the app under runit, its config, its log and logrotate's config for it.
    Target("app-installed", "the app, its config and its runit service",
        File.Directory("/srv/app"),
        File.Directory("/etc/app"),
        File.Content(App, FileBeside("files/app.py"), mode: "0755"),
        File.Content("/etc/app/app.conf", "listen = 127.0.0.1:8080\nlog = /var/log/app/access.log\n"),
        File.Directory("/etc/sv/app"),
        File.Content("/etc/sv/app/run", FileBeside("files/run"), mode: "0755"),
        File.Content("/etc/logrotate.d/app", FileBeside("files/logrotate-app.broken")),
        Exec("enable the app under runit", new Command("ln", ["-sfn", "/etc/sv/app", "/etc/service/app"]))
            .Until(File.Exists("/etc/service/app/run")))
        .On("web");

    Target("app-running", "runit supervises the app and it answers locally", DependsOn("app-installed"),
        Exec("start runsvdir", ScriptBeside("files/start-runit.sh")).Until(app.Healthy()))
        .On("web");

    // Then the incident: the runaway log fills its filesystem; the firewall and the kernel's accept queue were
    // changed by someone "hardening" the host, who also wrote the low value into a sysctl file read at boot.
    Target("broken", "log filesystem full, tcp/8080 dropped, somaxconn 128", DependsOn("app-running"),
        Exec("the runaway debug log fills /var/log/app", ScriptBeside("files/fill-log.sh", Log))
            .Until(Check.From("/var/log/app is full", async h => !(await Fs.Mount("/var/log/app").UsageBelow(99).EvaluateAsync(h, default)).Holds)),
        Firewall.Rule(IpFamily.V4, "INPUT").WithProtocol("tcp").Port(8080).Jump("DROP").Present(),
        Sysctl.Value("net.core.somaxconn", "128"),
        File.Content("/etc/sysctl.d/99-hardening.conf", "net.ipv4.tcp_syncookies = 1\nnet.core.somaxconn = 128\n"))
        .On("web");

    // What the on-call checked by hand, from the client and on the web host.
    Spec("http-from-client", Probe.HttpGet($"http://{WebAddress}:8080/", 200)).On("client");
    Spec("app-listens-on-link", Probe.Tcp(WebAddress, 8080, TcpOutcome.Connected)).On("web");
    Spec("log-fs-below-80", Fs.Of(Log).UsageBelow(80)).On("web");
    Spec("logrotate-names-log", new Check("logrotate's config for the app names its log", async (h, ct) =>
    {
        // -d: debug, rotates nothing. It prints which logs it would consider.
        var debug = await h.ReadAsync(new Command("logrotate", ["-d", "/etc/logrotate.d/app"]).WithSuccessExitCodes(0, 1), ct);
        var output = debug.StandardOutput + debug.StandardError;
        return new CheckResult(output.Contains($"considering log {Log}", StringComparison.Ordinal), output.Split('\n').FirstOrDefault(l => l.Contains("considering log", StringComparison.Ordinal))?.Trim() ?? "no log considered");
    })).On("web");
    Spec("somaxconn-4096", Sysctl.Value("net.core.somaxconn", "4096")).On("web");
    // What a reboot would apply: sysctl --system reads exactly this host's files (all of them are private to it).
    Spec("somaxconn-4096-at-boot", Check.Writing("a boot's sysctl --system leaves net.core.somaxconn at 4096", async (h, ct) =>
    {
        await h.ProbeByWritingAsync(new Command("sysctl", ["--system"]), ct);
        var value = (await h.ProbeByWritingAsync(new Command("sysctl", ["-n", "net.core.somaxconn"]), ct)).StandardOutput.Trim();
        return new CheckResult(value == "4096", $"net.core.somaxconn = {value} after sysctl --system");
    })).On("web");
    // Not broken by the incident: runit kept the app running throughout; the repair must leave it so.
    Spec("app-supervised", Service.Named("app").Running()).On("web").NotBroken();
}
