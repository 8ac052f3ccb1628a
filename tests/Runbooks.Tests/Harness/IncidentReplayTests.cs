using Runbooks.Commands;
using Runbooks.Compiler;
using Runbooks.Harness;
using Runbooks.Harness.Lifecycle;
using Runbooks.Transport;

namespace Runbooks.Tests.Harness;

/// <summary>
/// The product's main job, as CI runs it: each incident's runbook replayed on hosts broken the way the
/// incident broke them, through the whole lifecycle. Reports land in artifacts/harness/SCENARIO.
/// </summary>
[Category("harness"), NonParallelizable]
public class IncidentReplayTests
{
    private static readonly string Repository = Path.GetFullPath(Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "..", ".."));

    private static async Task<HarnessReport> Replay(string scenarioName, string runbook, CancellationToken cancellationToken, string? folder = null,
        Func<PlanInReview, CancellationToken, Task>? review = null)
    {
        if (Environment.UserName != "root")
        {
            Assert.Ignore($"REPLAY NOT RUN: the {scenarioName} scenario needs root (loop devices, namespaces); CI runs as root");
        }

        // By name, as `runbook harness run NAME` finds it: the scenario file the tool ships.
        var scenario = await HarnessCatalog.LoadAsync(scenarioName, 0.1);
        Assert.That(scenario.Runbook, Does.EndWith(runbook), "the scenario names the runbook it proves");
        var output = Path.Combine(Repository, "artifacts", "harness", scenarioName);
        var log = new StringWriter();
        Environment.SetEnvironmentVariable(HarnessRunner.ScaleVariable, "0.1");
        var report = await new HarnessRunner(source => RunbookCompiler.Compile(source), log)
            .RunAsync(scenario, Path.Combine(Repository, "runbooks", folder ?? scenarioName, runbook), new HarnessRunOptions(output, Scale: 0.1) { WhileInReview = review }, cancellationToken);
        TestContext.Out.WriteLine(log.ToString());
        TestContext.Out.WriteLine(ReportWriter.Markdown(report));
        return report;
    }

    // ~4 minutes on a quiet 2-core machine under TCG; three times that when the machine is shared. While stage 1's plan
    // waits for review, a comment is appended to /etc/fstab and removed again: a run in between refuses the plan, and
    // the same plan then runs, since the hash is of what was read, not of when.
    [Test, CancelAfter(1_500_000)]
    public async Task The_storage_incident_is_repaired_by_its_runbook_through_saved_plans_stage_by_stage(CancellationToken cancellationToken)
    {
        if (!File.Exists("/usr/bin/qemu-system-x86_64"))
        {
            Assert.Ignore("PREREQUISITE MISSING: qemu-system-x86_64 (apt-get install qemu-system-x86); the storage scenario is untested");
        }

        var refusal = await RefusedWhileMovedAsync("storage", "storage-recovery.csx", host: "local",
            move: new Command("sh", ["-c", "echo '# edited during the review' >> /etc/fstab"]), putBack: new Command("sed", ["-i", "/^# edited during the review$/d", "/etc/fstab"]), cancellationToken);
        var report = refusal.Report;

        Assert.That(report.Phases.Select(p => (p.Name, p.Passed)), Is.EqualTo(new[]
        {
            ("compile", true), ("create", true), ("break", true), ("verify-broken", true), ("converge", true), ("verify", true), ("idempotence", true), ("destroy", true),
        }), string.Join("\n", report.Phases.Select(p => $"{p.Name}: {p.Detail}")));
        Assert.That(report.Specs.Where(s => s.BrokenByIncident).Select(s => s.HeldWhenBroken), Is.All.False, "a spec passed on the broken VM");
        Assert.That(report.Specs.Select(s => s.HeldAfter), Is.All.True);
        Assert.That(report.Leaks, Is.Empty);
        Assert.That(report.Monitor.GetValueOrDefault("wrong content"), Is.EqualTo("none"), "an object was served with the wrong content during converge");
        Assert.That(int.Parse(report.Monitor.GetValueOrDefault("requests", "0"), System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(0), "the monitor polled during converge");
        Assert.That(report.Specs.Where(s => !s.BrokenByIncident).Select(s => s.HeldWhenBroken), Is.All.True, "a spec the incident did not break failed on the broken VM");
        Assert.That(report.Facts.GetValueOrDefault("memory"), Is.EqualTo("2270 MiB"), "the scenario's MemoryMiB reaches qemu");
        // The disk image fits only once the deleted file is released, the loop device exists only once the image does, …
        Assert.That(report.ConvergeStages, Has.Count.GreaterThan(1), "the storage runbook cannot be planned in one stage");
        Assert.That(report.ConvergeStages.Select(s => s.Run.Exact && s.Run.Actions > 0), Is.All.True, string.Join("\n", report.ConvergeStages));
        Assert.That(refusal.Refused, Does.Contain("on host local: the fact `cat -- /etc/fstab` changed since the plan"));
        Assert.That(refusal.JournalBeforeRun, Is.False, "nothing ran before the refusal");
    }

    [Test, CancelAfter(120_000)]
    public async Task The_connection_incident_is_repaired_by_its_runbook(CancellationToken cancellationToken)
    {
        var report = await Replay("connection", "wireguard-link.csx", cancellationToken);

        Assert.That(report.Passed, Is.True, string.Join("\n", report.Phases.Select(p => $"{p.Name}: {p.Detail}")));
        Assert.That(report.Specs, Has.Count.EqualTo(6));
        Assert.That(report.Specs.Where(s => s.BrokenByIncident).Select(s => s.HeldWhenBroken), Is.All.False);
        Assert.That(report.Specs.Select(s => s.HeldAfter), Is.All.True);
        Assert.That(File.ReadAllText(Path.Combine(Repository, "artifacts", "harness", "connection", "converge.jsonl")), Does.Not.Match("PrivateKey|private-key [A-Za-z0-9+/]{43}="));
    }

    [Test, CancelAfter(180_000)]
    public async Task The_talus_services_are_restarted_in_order_by_their_runbook(CancellationToken cancellationToken)
    {
        // While stage 1's plan waits for review, slave is paused, then resumed: a run in between refuses the plan.
        var refusal = await RefusedWhileMovedAsync("talus", "talus-restart.csx",
            host: Runbooks.Harness.Backends.Runit.RunitBackend.HostName, move: new Command("sv", ["pause", "/etc/service/slave"]), putBack: new Command("sv", ["cont", "/etc/service/slave"]), cancellationToken);
        var report = refusal.Report;

        Assert.That(report.Passed, Is.True, string.Join("\n", report.Phases.Select(p => $"{p.Name}: {p.Detail}")));
        Assert.That(report.Specs.Select(s => s.Name), Is.SupersetOf(new[] { "start-order", "dependencies-ready-first", "master-killed-after-grace" }));
        Assert.That(report.Specs.Where(s => s.BrokenByIncident).Select(s => s.HeldWhenBroken), Is.All.False);
        Assert.That(report.Specs.Select(s => s.HeldAfter), Is.All.True);
        Assert.That(report.Leaks, Is.Empty);
        var journal = File.ReadAllText(Path.Combine(Repository, "artifacts", "harness", "talus", "converge.jsonl"));
        Assert.That(journal, Does.Contain("\"summary\":\"$ sv down /etc/service/master; wait up to 3 s until master has stopped; then $ sv kill /etc/service/master\""));
        Assert.That(refusal.Refused, Does.Contain("on host local: the fact `sv status /etc/service/slave` changed since the plan"));
        Assert.That(refusal.JournalBeforeRun, Is.False, "nothing ran before the refusal");
    }

    /// <summary>
    /// Replays a scenario; while its first stage's plan waits for review, a harmless command on <paramref name="host"/>
    /// moves a fact the plan rested on, the facts are read again as <c>run --plan</c> reads them (the refusal is kept),
    /// and <paramref name="putBack"/> restores it, so the converge then runs the plan it was refused for. No scenario of its own.
    /// </summary>
    private static async Task<(HarnessReport Report, string? Refused, bool JournalBeforeRun)> RefusedWhileMovedAsync(string scenario, string runbook,
        string host, Command move, Command putBack, CancellationToken cancellationToken)
    {
        string? refused = null;
        var journalBeforeRun = true;
        var report = await Replay(scenario, runbook, cancellationToken, review: async (plan, ct) =>
        {
            if (plan.Stage != 1)
            {
                return;
            }

            var transport = plan.Environment.Inventory.Context(host).Transport;
            await transport.RunCheckedAsync(move, ct);
            try
            {
                refused = (await plan.RefusalNowAsync(ct))?.ToString();
                journalBeforeRun = File.Exists(Path.Combine(Repository, "artifacts", "harness", scenario, "converge.jsonl"));
            }
            finally
            {
                await transport.RunCheckedAsync(putBack, ct);
            }
        });
        TestContext.Out.WriteLine($"refused while in review: {refused}");
        return (report, refused, journalBeforeRun);
    }

    // The same incident, runbook and specs with each daemon a systemd unit in a microVM whose PID 1 is systemd.
    [Test, CancelAfter(600_000)]
    public async Task The_talus_services_are_restarted_in_order_by_their_runbook_under_systemd(CancellationToken cancellationToken)
    {
        var report = await Replay("talus-systemd", "talus-restart.csx", cancellationToken, folder: "talus");

        Assert.That(report.Passed, Is.True, string.Join("\n", report.Phases.Select(p => $"{p.Name}: {p.Detail}")));
        Assert.That(report.Facts.GetValueOrDefault("init"), Does.StartWith("systemd "), "the report says the guest ran systemd");
        Assert.That(report.Specs, Has.Count.EqualTo(8));
        Assert.That(report.Specs.Where(s => s.BrokenByIncident).Select(s => s.HeldWhenBroken), Is.All.False);
        Assert.That(report.Specs.Select(s => s.HeldAfter), Is.All.True);
        Assert.That(report.Leaks, Is.Empty);
        var journal = File.ReadAllText(Path.Combine(Repository, "artifacts", "harness", "talus-systemd", "converge.jsonl"));
        Assert.That(journal, Does.Contain("\"summary\":\"$ systemctl stop --no-block -- master.service; wait up to 3 s until master has stopped; then $ systemctl kill --signal=SIGKILL -- master.service\""));
    }

    // The fourth incident: written only against the public surface (runbooks/webapp/ holds all of it).
    [Test, CancelAfter(120_000)]
    public async Task The_webapp_incident_is_repaired_by_its_runbook(CancellationToken cancellationToken)
    {
        var report = await Replay("webapp", "webapp-repair.csx", cancellationToken);

        Assert.That(report.Passed, Is.True, string.Join("\n", report.Phases.Select(p => $"{p.Name}: {p.Detail}")));
        Assert.That(report.Specs, Has.Count.EqualTo(7));
        Assert.That(report.Specs.Count(s => s.BrokenByIncident), Is.EqualTo(6));
        Assert.That(report.Specs.Where(s => s.BrokenByIncident).Select(s => s.HeldWhenBroken), Is.All.False);
        Assert.That(report.Specs.Select(s => s.HeldAfter), Is.All.True);
        Assert.That(report.Leaks, Is.Empty);
    }

    // The talus and webapp incidents again with every host a container of the harness's Debian image (podman here;
    // docker where podman is not installed). The image is built once per package list and cached: `.ci/run` builds it
    // in its prerequisites step, so these replays pay only for creating the containers.
    [Test, CancelAfter(300_000)]
    public async Task The_talus_services_are_restarted_in_order_by_their_runbook_in_a_container(CancellationToken cancellationToken)
    {
        RequireContainerEngine("talus-container");
        var report = await Replay("talus-container", "talus-restart.csx", cancellationToken, folder: "talus");

        AssertRepairedOnContainers(report, specs: 8);
        Assert.That(report.Facts.GetValueOrDefault("image"), Does.Contain("the harness's Debian image"));
        var journal = File.ReadAllText(Path.Combine(Repository, "artifacts", "harness", "talus-container", "converge.jsonl"));
        Assert.That(journal, Does.Contain("\"summary\":\"$ sv down /etc/service/master; wait up to 3 s until master has stopped; then $ sv kill /etc/service/master\""));
    }

    [Test, CancelAfter(300_000)]
    public async Task The_webapp_incident_is_repaired_by_its_runbook_on_containers(CancellationToken cancellationToken)
    {
        RequireContainerEngine("webapp-container");
        var report = await Replay("webapp-container", "webapp-repair.csx", cancellationToken, folder: "webapp");

        AssertRepairedOnContainers(report, specs: 7);
        Assert.That(report.Facts.GetValueOrDefault("hosts"), Is.EqualTo("web=10.20.0.1 client=10.20.0.2"));
        Assert.That(report.Specs.Count(s => s.BrokenByIncident), Is.EqualTo(6));
    }

    private static void AssertRepairedOnContainers(HarnessReport report, int specs)
    {
        Assert.That(report.Passed, Is.True, string.Join("\n", report.Phases.Select(p => $"{p.Name}: {p.Detail}")));
        Assert.That(report.Backend, Is.EqualTo("containers"));
        Assert.That(report.Specs, Has.Count.EqualTo(specs));
        Assert.That(report.Specs.Where(s => s.BrokenByIncident).Select(s => s.HeldWhenBroken), Is.All.False);
        Assert.That(report.Specs.Select(s => s.HeldAfter), Is.All.True);
        Assert.That(report.Leaks, Is.Empty);
    }

    private static void RequireContainerEngine(string scenario)
    {
        if (!Runbooks.Transport.ContainerTransport.OnPath("podman") && !Runbooks.Transport.ContainerTransport.OnPath("docker"))
        {
            Assert.Ignore($"REPLAY NOT RUN: the {scenario} scenario needs podman or docker; harness/prerequisites.sh installs podman and runc");
        }
    }

    // The failover incident: the primary of a synchronous pair SIGKILLed behind HAProxy; about a minute on a quiet machine.
    [Test, CancelAfter(240_000)]
    public async Task The_failover_incident_is_repaired_by_its_runbook_without_losing_an_acknowledged_write(CancellationToken cancellationToken)
    {
        foreach (var tool in new[] { "/usr/bin/pg_createcluster", "/usr/lib/postgresql/15/bin/pg_rewind", "/usr/sbin/haproxy", "/usr/bin/socat", "/usr/bin/runsvdir" })
        {
            if (!File.Exists(tool))
            {
                Assert.Ignore($"FAILOVER REPLAY NOT RUN: {tool} is missing (postgresql-15, haproxy, socat, runit: `runbook harness prerequisites | sudo bash`)");
            }
        }

        // While stage 1's plan waits for review, HAProxy drains the dead db1, then readies it again: a run in between refuses the plan.
        static Command Admin(string request) => Shell.Script("printf '%s\\n' \"$1\" | socat -t 2 stdio UNIX-CONNECT:/run/haproxy/admin.sock", request);
        var refusal = await RefusedWhileMovedAsync("failover", "failover.csx",
            host: "app", move: Admin("set server pg/db1 state drain"), putBack: Admin("set server pg/db1 state ready"), cancellationToken);
        var report = refusal.Report;

        Assert.That(report.Passed, Is.True, string.Join("\n", report.Phases.Select(p => $"{p.Name}: {p.Detail}")));
        Assert.That(report.Specs.Select(s => s.Name), Is.EquivalentTo(new[] { "writes-flow", "no-acknowledged-write-lost", "synchronous-standby" }));
        Assert.That(report.Specs.Where(s => s.BrokenByIncident).Select(s => s.HeldWhenBroken), Is.All.False);
        Assert.That(report.Specs.Select(s => s.HeldAfter), Is.All.True);
        Assert.That(report.Leaks, Is.Empty);
        var journal = File.ReadAllText(Path.Combine(Repository, "artifacts", "harness", "failover", "converge.jsonl"));
        Assert.That(journal, Does.Contain("select pg_promote(true, 60)"), "the standby was promoted");
        Assert.That(journal, Does.Contain("pg_rewind"), "the old primary was rewound");

        // The kill leaves the promoted standby's first checkpoint spread over half a minute (files/kill-primary.sh):
        // unless the rebuild checkpoints it first, pg_rewind 15 reads the old timeline from its control file, finds
        // "no rewind required", and the old primary is copied whole (or, after a rewind to the wrong fork, cannot start).
        // The converge journal holds this replay's stages only (the harness starts it afresh): one rebuild, so one CHECKPOINT.
        var commands = journal.Split('\n').Where(l => l.Contains("\"event\":\"command\"", StringComparison.Ordinal)).ToList();
        Assert.That(commands.Where(l => l.Contains("\"-c\",\"CHECKPOINT\"", StringComparison.Ordinal)), Has.Exactly(1).Items, "the new primary was checkpointed before pg_rewind");
        Assert.That(commands.Where(l => l.Contains("no rewind required", StringComparison.Ordinal)), Is.Empty);
        Assert.That(commands.Where(l => l.Contains("/bin/pg_basebackup", StringComparison.Ordinal)), Is.Empty, "the old primary was rewound, not copied afresh");
        Assert.That(refusal.Refused, Does.Contain("on host app: the fact `sh -c").And.Contain("'show servers state pg'` changed since the plan"));
        Assert.That(refusal.JournalBeforeRun, Is.False, "nothing ran before the refusal");
    }

    // The same pair's standby SIGKILLed: a minute or so on a quiet machine. A crashed standby on its primary's timeline is
    // started again, not copied: no pg_basebackup, no pg_rewind, and every acknowledged write still on the primary.
    [Test, CancelAfter(240_000)]
    public async Task A_crashed_standby_is_started_again_by_the_failover_runbook_not_copied_afresh(CancellationToken cancellationToken)
    {
        foreach (var tool in new[] { "/usr/bin/pg_createcluster", "/usr/sbin/haproxy", "/usr/bin/socat", "/usr/bin/runsvdir" })
        {
            if (!File.Exists(tool))
            {
                Assert.Ignore($"STANDBY-CRASH REPLAY NOT RUN: {tool} is missing (postgresql-15, haproxy, socat, runit: `runbook harness prerequisites | sudo bash`)");
            }
        }

        var report = await Replay("standby-crash", "failover.csx", cancellationToken, folder: "failover");

        Assert.That(report.Passed, Is.True, string.Join("\n", report.Phases.Select(p => $"{p.Name}: {p.Detail}")));
        Assert.That(report.Specs.Where(s => s.BrokenByIncident).Select(s => s.Name), Is.EquivalentTo(new[] { "writes-flow", "synchronous-standby" }));
        Assert.That(report.Specs.Where(s => s.BrokenByIncident).Select(s => s.HeldWhenBroken), Is.All.False, "writes wait for the synchronous standby");
        Assert.That(report.Specs.Select(s => s.HeldAfter), Is.All.True);
        var commands = File.ReadAllText(Path.Combine(Repository, "artifacts", "harness", "standby-crash", "converge.jsonl"))
            .Split('\n').Where(l => l.Contains("\"event\":\"command\"", StringComparison.Ordinal)).ToList();
        Assert.That(commands.Where(l => l.Contains("/bin/pg_ctl\",\"start\"", StringComparison.Ordinal) && l.Contains("\"host\":\"db2\"", StringComparison.Ordinal)), Has.Exactly(1).Items, "db2 was started once");
        Assert.That(commands.Where(l => l.Contains("/bin/pg_basebackup", StringComparison.Ordinal) || l.Contains("/bin/pg_rewind", StringComparison.Ordinal)), Is.Empty, "nothing was copied or rewound");
        Assert.That(commands.Where(l => l.Contains("pg_promote", StringComparison.Ordinal)), Is.Empty, "the primary stayed the primary");
    }

    // The fallback, with the same pair: while stage 1's plan waits for review, db2's own settings get a value PostgreSQL
    // refuses (no fact the plan rested on moves), so the start fails at once; the branch then copies db2 afresh, without
    // waiting out the 30 s a running but silent standby would get, and the copy starts and streams.
    [Test, CancelAfter(240_000)]
    public async Task A_crashed_standby_that_cannot_start_is_copied_afresh_at_once(CancellationToken cancellationToken)
    {
        foreach (var tool in new[] { "/usr/bin/pg_createcluster", "/usr/sbin/haproxy", "/usr/bin/socat", "/usr/bin/runsvdir" })
        {
            if (!File.Exists(tool))
            {
                Assert.Ignore($"STANDBY-CRASH REPLAY NOT RUN: {tool} is missing (postgresql-15, haproxy, socat, runit: `runbook harness prerequisites | sudo bash`)");
            }
        }

        var report = await Replay("standby-crash", "failover.csx", cancellationToken, folder: "failover", review: async (plan, ct) =>
        {
            if (plan.Stage == 1)
            {
                await plan.Environment.Inventory.Context("db2").Transport.RunCheckedAsync(
                    Shell.Script("echo \"shared_buffers = 'not a size'\" >> \"$1/postgresql.auto.conf\"", "/var/lib/postgresql/15/main"), ct);
            }
        });

        Assert.That(report.Passed, Is.True, string.Join("\n", report.Phases.Select(p => $"{p.Name}: {p.Detail}")));
        Assert.That(report.Specs.Select(s => s.HeldAfter), Is.All.True);
        var journal = File.ReadAllLines(Path.Combine(Repository, "artifacts", "harness", "standby-crash", "converge.jsonl"));
        var ran = journal.Where(l => l.Contains("\"event\":\"command\"", StringComparison.Ordinal) && l.Contains("\"host\":\"db2\"", StringComparison.Ordinal)).ToList();
        var starts = ran.Where(l => l.Contains("/bin/pg_ctl\",\"start\"", StringComparison.Ordinal)).ToList();
        Assert.That(starts, Has.Count.EqualTo(2), "the restart, then the copy's start");
        Assert.That(starts[0], Does.Contain("\"exit\":1"), "the restart failed");
        Assert.That(ran.Where(l => l.Contains("/bin/pg_basebackup", StringComparison.Ordinal)), Has.Exactly(1).Items, "then db2 was copied afresh");
        Assert.That(ran.Where(l => l.Contains("/bin/pg_ctl\",\"stop\"", StringComparison.Ordinal)), Is.Empty, "no server ran to stop");
        // From the failed start's end to the copy's start: the branch saw no server and did not wait (a wait is ≥ 30 s).
        static DateTimeOffset At(string line, string field) =>
            DateTimeOffset.Parse(System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty(field).GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        var gap = At(ran.First(l => l.Contains("/bin/pg_basebackup", StringComparison.Ordinal)), "started") - At(starts[0], "ts");
        Assert.That(gap, Is.LessThan(TimeSpan.FromSeconds(20)), "the failed start was seen at once, not after the 30 s a silent standby gets");
    }
}
