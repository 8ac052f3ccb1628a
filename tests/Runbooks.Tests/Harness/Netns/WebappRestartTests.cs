using Runbooks.Compiler;
using Runbooks.Harness;
using Runbooks.Harness.Lifecycle;

namespace Runbooks.Tests.Harness.Netns;

/// <summary>
/// The webapp runbook on a host where only the firewall is wrong: the app, healthy behind a DROP rule and with its
/// config as wanted, must keep its process (its restart is triggered only by a change of its config).
/// </summary>
[Category("harness"), NonParallelizable]
public sealed class WebappRestartTests
{
    private static readonly string Repository = Path.GetFullPath(Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "..", ".."));

    [Test, CancelAfter(180_000)]
    public async Task When_only_the_firewall_was_wrong_the_healthy_app_is_not_restarted(CancellationToken cancellationToken)
    {
        if (Environment.UserName != "root")
        {
            Assert.Ignore("WEBAPP RESTART NOT RUN: namespaces need root; CI runs as root");
        }

        var dir = Directory.CreateTempSubdirectory("rb-webapp-restart-").FullName;
        var webapp = Path.Combine(Repository, "runbooks", "webapp");
        Directory.CreateDirectory(Path.Combine(dir, "files"));
        foreach (var file in Directory.GetFiles(Path.Combine(webapp, "files")))
        {
            System.IO.File.Copy(file, Path.Combine(dir, "files", Path.GetFileName(file)));
        }

        System.IO.File.Copy(Path.Combine(webapp, "webapp-repair.csx"), Path.Combine(dir, "webapp-repair.csx"));
        var scenarioFile = Path.Combine(dir, "firewall-only.scenario.csx");
        System.IO.File.WriteAllText(scenarioFile, """
            const string Log = "/var/log/app/access.log";
            var net = Netns();
            net.Host("web").Private("/etc/app", "/srv/app", "/etc/sv", "/etc/service", "/etc/logrotate.d").SmallFilesystem("/var/log/app", 8);
            net.Host("client");
            net.Link("web", "client", "10.20.0.1/24", "10.20.0.2/24");
            Proves("webapp-repair.csx");
            var app = Service.Named("app").HealthyWhen(Probe.HttpGet("http://127.0.0.1:8080/", 200));

            // Everything as the runbook wants it but the firewall.
            Target("app-installed",
                File.Content("/srv/app/app.py", FileBeside("files/app.py"), mode: "0755"),
                File.Content("/etc/app/app.conf", "listen = 0.0.0.0:8080\nlog = /var/log/app/access.log\n"),
                File.Directory("/etc/sv/app"),
                File.Content("/etc/sv/app/run", FileBeside("files/run"), mode: "0755"),
                File.Content("/etc/logrotate.d/app", $"{Log} {{\n    size 1M\n    rotate 3\n    copytruncate\n    missingok\n    notifempty\n}}\n"),
                Sysctl.Value("net.core.somaxconn", "4096").Persisted(),
                Exec("enable the app under runit", new Command("ln", ["-sfn", "/etc/sv/app", "/etc/service/app"]))
                    .Until(File.Exists("/etc/service/app/run")))
                .On("web");
            Target("app-running", DependsOn("app-installed"),
                Exec("start runsvdir", ScriptBeside("files/start-runit.sh")).Until(app.Healthy()),
                Exec("note the app's process", Shell.Script("sv status /etc/service/app | sed -n 's/.*(pid \\([0-9]*\\)).*/\\1/p' > /etc/app/pid.before"))
                    .Until(File.Exists("/etc/app/pid.before")))
                .On("web");
            Target("broken", DependsOn("app-running"),
                Firewall.Rule(IpFamily.V4, "INPUT").WithProtocol("tcp").Port(8080).Jump("DROP").Present())
                .On("web");

            Spec("http-from-client", Probe.HttpGet("http://10.20.0.1:8080/", 200)).On("client");
            Spec("same-app-process", new Check("the app's process is the one from before the repair", async (h, ct) =>
            {
                var before = (await h.ReadAsync(new Command("cat", ["/etc/app/pid.before"]), ct)).StandardOutput.Trim();
                var now = (await h.ReadAsync(new Command("sv", ["status", "/etc/service/app"]), ct)).StandardOutput.Trim();
                return new CheckResult(before.Length > 0 && now.Contains($"(pid {before})", StringComparison.Ordinal), $"before: pid {before}; now: {now}");
            })).On("web").NotBroken();
            """);
        try
        {
            var scenario = await HarnessCatalog.LoadAsync(scenarioFile, 0.1);
            var log = new StringWriter();
            var report = await new HarnessRunner(source => RunbookCompiler.Compile(source), log)
                .RunAsync(scenario, Path.Combine(dir, "webapp-repair.csx"), new HarnessRunOptions(Path.Combine(dir, "out"), Scale: 0.1), cancellationToken);
            TestContext.Out.WriteLine(log.ToString());
            TestContext.Out.WriteLine(ReportWriter.Markdown(report));

            Assert.That(report.Passed, Is.True, string.Join("\n", report.Phases.Select(p => $"{p.Name}: {p.Detail}")));
            Assert.That(report.Specs.Single(s => s.Name == "same-app-process").HeldAfter, Is.True, "the healthy app was restarted");
            var converge = System.IO.File.ReadAllText(Path.Combine(dir, "out", "converge.jsonl"));
            Assert.That(converge, Does.Contain("target 'app-config' changed nothing in this run: not restarted"), "the journal says why the app was left alone");
            Assert.That(converge, Does.Not.Contain("sv down /etc/service/app"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
