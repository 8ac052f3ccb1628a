using System.Text.Json.Nodes;
using System.Xml.Linq;
using Runbooks.Commands;
using Runbooks.Fleet;
using Runbooks.Journal;
using Runbooks.Tests.Support;
using Runbooks.Transport;

namespace Runbooks.Tests.Fleet;

/// <summary>
/// The example constellation (runbooks/constellation) on three network namespaces, each a machine with its own
/// sshd, reached over SSH from this machine through a veth: refused when two roles want one port, planned as
/// drift and saved, that saved plan run in rolling batches exactly as planned on every machine, compliant
/// afterwards, drift and unreachable machines reported, a saved plan refused on the machine that moved after the
/// review, a rollout stopped by --max-fail, and the undo of the rolling run planned per machine. The lifecycle is one test: each phase starts from the state the one before left.
/// </summary>
[Category("harness"), NonParallelizable]
public sealed class ConstellationNetnsTests
{
    private static readonly string[] Machines = ["server-a", "server-b", "server-c"];
    private readonly int _id = Environment.ProcessId % 100000;
    private readonly List<LoopbackSshd> _sshd = [];
    private readonly List<string> _namespaces = [];
    private string _dir = "";
    private string _inventory = "";
    private string _knownHosts = "";
    private int _octet;

    private static string Example(string file) =>
        Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "..", "..", "runbooks", "constellation", file);

    private string Address(int machine) => $"10.{_octet}.{200 + machine}.2";

    [OneTimeSetUp]
    public async Task Machines_with_their_own_sshd()
    {
        if (Environment.UserName != "root")
        {
            Assert.Ignore("CONSTELLATION NETNS NOT RUN: namespaces and veths need root; CI runs as root");
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        var local = new LocalTransport();
        _dir = Directory.CreateTempSubdirectory("rb-fleet-").FullName;

        // This process's own subnet and names, so concurrent runs of other tests (and of this one) never meet.
        _octet = 100 + (_id % 100);
        for (var i = 0; i < Machines.Length; i++)
        {
            var netns = $"rbk{_id}{(char)('a' + i)}";
            var veth = $"rbk{_id}{(char)('a' + i)}h";
            await local.RunAsync(new Command("ip", ["netns", "del", netns]), ct);
            await local.RunCheckedAsync(new Command("ip", ["netns", "add", netns]), ct);
            _namespaces.Add(netns);
            await local.RunCheckedAsync(new Command("ip", ["link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns]), ct);
            await local.RunCheckedAsync(new Command("ip", ["addr", "add", $"10.{_octet}.{200 + i}.1/30", "dev", veth]), ct);
            await local.RunCheckedAsync(new Command("ip", ["link", "set", veth, "up"]), ct);
            foreach (var inside in new[] { new[] { "addr", "add", $"{Address(i)}/30", "dev", "eth0" }, ["link", "set", "eth0", "up"], ["link", "set", "lo", "up"], ["route", "add", "default", "via", $"10.{_octet}.{200 + i}.1"] })
            {
                await local.RunCheckedAsync(new Command("ip", ["netns", "exec", netns, "ip", .. inside]), ct);
            }

            _sshd.Add(await LoopbackSshd.StartInNamespaceAsync(netns, Address(i), ["/srv"], ct));
        }

        // One key and one known_hosts for the whole fleet, as an operator's would be.
        var key = await System.IO.File.ReadAllTextAsync(_sshd[0].UserKey + ".pub", ct);
        foreach (var sshd in _sshd.Skip(1))
        {
            await System.IO.File.AppendAllTextAsync(Path.Combine(sshd.Directory, "authorized_keys"), key, ct);
        }

        _knownHosts = Path.Combine(_dir, "known_hosts");
        await System.IO.File.WriteAllLinesAsync(_knownHosts, _sshd.SelectMany(s => System.IO.File.ReadAllLines(s.KnownHosts)), ct);
        _inventory = Path.Combine(_dir, "hosts.ini");
        await System.IO.File.WriteAllLinesAsync(_inventory, Machines.Select((m, i) => $"{m} = ssh://root@{Address(i)}"), ct);
        Environment.SetEnvironmentVariable("RUNBOOK_SSH_KEY", _sshd[0].UserKey);
        Environment.SetEnvironmentVariable("RUNBOOK_KNOWN_HOSTS", _knownHosts);

        // Each machine's lock where only it sees it, as /run/lock is on a real machine (this machine's /tmp is shared).
        Environment.SetEnvironmentVariable("RUNBOOK_LOCK", "/srv/.lock/runbook");
    }

    [OneTimeTearDown]
    public async Task Remove()
    {
        Environment.SetEnvironmentVariable("RUNBOOK_SSH_KEY", null);
        Environment.SetEnvironmentVariable("RUNBOOK_KNOWN_HOSTS", null);
        Environment.SetEnvironmentVariable("RUNBOOK_LOCK", null);
        var local = new LocalTransport();
        foreach (var sshd in _sshd)
        {
            sshd.Dispose();
        }

        foreach (var netns in _namespaces)
        {
            // The servers the roles started live in the namespace: end them with it.
            var pids = await local.RunAsync(new Command("ip", ["netns", "pids", netns]), CancellationToken.None);
            foreach (var pid in pids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                await local.RunAsync(new Command("kill", ["-9", pid]), CancellationToken.None);
            }

            await local.RunAsync(new Command("ip", ["netns", "del", netns]), CancellationToken.None);
        }

        if (_dir.Length > 0)
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private async Task<string> OnMachineAsync(int machine, CancellationToken ct, params string[] argv)
    {
        await using var ssh = TransportUri.Create($"ssh://root@{Address(machine)}");
        var result = await ssh.RunAsync(new Command(argv[0], [.. argv[1..].Select(a => (Arg)a)]), ct);
        return result.StandardOutput;
    }

    private int Accepted() => _sshd.Sum(s => s.Log.Count(l => l.Contains("Accepted", StringComparison.Ordinal)));

    [Test, CancelAfter(60_000)]
    public void Two_roles_on_one_port_are_refused_before_any_machine_is_reached()
    {
        var journal = Path.Combine(_dir, "conflict.jsonl");
        var accepted = Accepted();

        var (exit, output, error) = CliRunner.Run("run", Example("conflict.constellation.csx"), "--inventory", _inventory, "--journal", journal);

        Assert.That(exit, Is.EqualTo(2), output + error);
        Assert.That(error, Does.Contain("machine 'server-a': roles 'app-server' and 'metrics' both own port tcp/8080"));
        Assert.That(Accepted(), Is.EqualTo(accepted), "no machine's sshd accepted a connection: no command ran");
        Assert.That(System.IO.File.Exists(journal), Is.False);
    }

    [Test, CancelAfter(300_000)]
    public async Task The_example_constellation_plans_runs_and_reports_compliance(CancellationToken ct)
    {
        await Fresh_machines_plan_as_drift_per_machine_and_role(ct);
        await A_rolling_run_converges_every_machine_into_one_journal_and_roles_find_each_other(ct);
        await After_the_run_every_role_is_compliant_and_a_second_run_changes_nothing(ct);
        await Drift_on_one_machine_and_an_unreachable_one_are_reported_in_junit(ct);
        await A_saved_plan_is_refused_on_the_machine_that_moved_after_the_review_and_runs_on_the_others(ct);
        await Max_fail_stops_the_rollout_before_the_next_batch(ct);
        await The_rolling_run_is_undone_per_machine_over_the_addresses_its_journal_recorded(ct);
    }

    private async Task Fresh_machines_plan_as_drift_per_machine_and_role(CancellationToken ct)
    {
        var (exit, output, error) = CliRunner.Run("plan", Example("example.constellation.csx"), "--inventory", _inventory, "--format", "json", "--detailed-exitcode", "--out", FleetPlanPath);

        Assert.That(exit, Is.EqualTo(3), output + error);
        Assert.That(error, Does.Contain($"plan saved: {FleetPlanPath}, 3 machine(s)"));
        Assert.That(FleetPlanFile.Load(FleetPlanPath).Plan.Machines.Select(m => m.Machine), Is.EqualTo(Machines));
        var roles = JsonNode.Parse(output)!["roles"]!.AsArray();
        Assert.That(roles.Select(r => $"{r!["machine"]}/{r["role"]}={r["status"]}"), Is.EquivalentTo(new[]
        {
            "server-a/reverse-proxy=drift", "server-a/app-server=drift", "server-b/database=drift", "server-c/database=drift",
        }));
        var secondary = roles.Single(r => (string?)r!["machine"] == "server-c")!["drift"]!.AsArray();
        Assert.That(secondary.SelectMany(d => d!["actions"]!.AsArray()).Select(a => (string?)a).Any(a => a!.Contains("/srv/db/db.conf", StringComparison.Ordinal)), Is.True, "drift names the actions");
        Assert.That(await OnMachineAsync(2, ct, "ls", "/srv"), Is.Empty, "a plan changed nothing");
    }

    private string FleetPlanPath => Path.Combine(_dir, "fleet-plan.json");

    private async Task A_rolling_run_converges_every_machine_into_one_journal_and_roles_find_each_other(CancellationToken ct)
    {
        var journal = Path.Combine(_dir, "run.jsonl");

        // The plan the first phase saved, as a reviewer approved it.
        var (exit, output, error) = CliRunner.Run("run", Example("example.constellation.csx"), "--inventory", _inventory, "--plan", FleetPlanPath, "--approved-by", "carol",
            "--serial", "2", "--limit", "2", "--journal", journal);

        Assert.That(exit, Is.EqualTo(0), output + error);
        var conformance = PlanConformance.OfFleet(FleetPlanFile.Load(FleetPlanPath).Plan, FleetPlanPath, JournalReader.Read(journal));
        Assert.That(conformance.Select(c => c.Machine), Is.EqualTo(Machines));
        Assert.That(conformance.Where(c => !c.Conformance.Equal || c.Conformance.Actions == 0).Select(c => c.Machine), Is.Empty,
            "every machine ran exactly its planned actions: " + string.Join("; ", conformance.Select(c => $"{c.Machine} {c.Conformance}")));

        // Both roles on server-a plan the one sysctl; the proxy's step sets it, so the app's holds when it is reached.
        Assert.That(conformance.SelectMany(c => c.Conformance.HeldWhenProbedAgain), Is.EqualTo(new[] { "on host server-a: app-server/default step 5 ('sysctl net.core.somaxconn = 1024')" }));
        Assert.That(output, Does.Contain("batch 1/2: server-a, server-b").And.Contain("batch 2/2: server-c"));
        Assert.That(output, Does.Contain("[server-c] database/default: changed"), "plain per-host lines, not a live display, when not on a terminal");
        Assert.That(output, Does.Match(@"server-a\s+changed\s+[\d.]+s\s+\d+\s+reverse-proxy, app-server"), "the summary table");

        // Static service discovery: the app and the secondary found the primary, the databases found the app.
        Assert.That(await OnMachineAsync(0, ct, "cat", "/srv/app/app.conf"), Is.EqualTo($"listen = 127.0.0.1:8080\ndatabase = {Address(1)}:5432\n"));
        Assert.That(await OnMachineAsync(0, ct, "cat", "/srv/proxy/proxy.conf"), Does.Contain("upstream = 127.0.0.1:8080").And.Contain("server_name = www.example.tld"));
        Assert.That(await OnMachineAsync(2, ct, "cat", "/srv/db/db.conf"), Is.EqualTo($"mode = secondary\nfollow = {Address(1)}:5432\n"));
        Assert.That(await OnMachineAsync(1, ct, "iptables", "-S", "INPUT"), Does.Contain($"-s {Address(0)}/32 -p tcp -m tcp --dport 5432 -j ACCEPT"));
        Assert.That(await OnMachineAsync(0, ct, "sysctl", "-n", "net.core.somaxconn"), Is.EqualTo("1024\n"), "two roles wanting one value merged");

        // The servers are real: the proxy and both databases answer this machine over their links.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        Assert.That(await http.GetStringAsync($"http://{Address(0)}/", ct), Is.EqualTo("www.example.tld via server-a\n"));
        Assert.That(await http.GetStringAsync($"http://{Address(1)}:5432/", ct), Is.EqualTo("primary\n"));
        Assert.That(await http.GetStringAsync($"http://{Address(2)}:5432/", ct), Is.EqualTo("secondary\n"));

        var records = System.IO.File.ReadAllLines(journal).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.That((string?)records[0]["event"], Is.EqualTo("fleet-start"));
        Assert.That((string?)records[^1]["event"], Is.EqualTo("fleet-end"));
        Assert.That((bool?)records[^1]["succeeded"], Is.True);
        Assert.That(records.Where(r => (string?)r["event"] == "target-end").Select(r => $"{r["host"]} {r["target"]}"), Is.EquivalentTo(new[]
        {
            "server-a reverse-proxy/default", "server-a app-server/default", "server-b database/default", "server-c database/default",
        }), "one journal keeps every host's records");
        Assert.That(records.Where(r => (string?)r["event"] == "step-end").Select(r => (string?)r["host"]).Distinct(), Is.EquivalentTo(Machines), "step records name their machine");
        var (shown, timeline, _) = CliRunner.Run("journal", "show", journal);
        Assert.That(shown, Is.EqualTo(0));
        Assert.That(timeline, Does.Contain("fleet run of").And.Contain("server-c · database/default").And.Contain("**fleet run succeeded**"));
    }

    private async Task After_the_run_every_role_is_compliant_and_a_second_run_changes_nothing(CancellationToken ct)
    {
        var (exit, output, error) = CliRunner.Run("plan", Example("example.constellation.csx"), "--inventory", _inventory, "--format", "markdown", "--detailed-exitcode");

        Assert.That(exit, Is.EqualTo(0), output + error);
        Assert.That(output, Does.Contain("| server-a | reverse-proxy | ✅ compliant |").And.Contain("| server-c | database | ✅ compliant |"));
        Assert.That(output, Does.Contain("4 role placement(s): 4 compliant"));

        (exit, output, error) = CliRunner.Run("run", Example("example.constellation.csx"), "--inventory", _inventory, "--journal", Path.Combine(_dir, "again.jsonl"));
        Assert.That(exit, Is.EqualTo(0), output + error);
        Assert.That(output, Does.Contain("3 machine(s): 3 unchanged"));
    }

    private async Task Drift_on_one_machine_and_an_unreachable_one_are_reported_in_junit(CancellationToken ct)
    {
        await OnMachineAsync(2, ct, "sh", "-c", "echo 'mode = primary' > /srv/db/db.conf");
        var junit = Path.Combine(_dir, "compliance.xml");

        var (exit, output, error) = CliRunner.Run("plan", Example("example.constellation.csx"), "--inventory", _inventory, "--format", "junit", "--detailed-exitcode");
        await System.IO.File.WriteAllTextAsync(junit, output, ct);

        Assert.That(exit, Is.EqualTo(3), output + error);
        var cases = XDocument.Parse(output).Descendants("testcase").ToList();
        Assert.That(cases, Has.Count.EqualTo(4));
        var drifted = cases.Single(c => c.Parent!.Attribute("name")!.Value == "server-c");
        Assert.That(drifted.Element("failure")!.Value, Does.Contain("/srv/db/db.conf has the given content"));
        Assert.That(cases.Where(c => c != drifted).Select(c => c.Element("failure")), Is.All.Null);

        // server-b pointed at a port nothing listens on: unreachable, and the exit says the plan could not tell.
        (exit, output, error) = CliRunner.Run("plan", Example("example.constellation.csx"), "--inventory", _inventory, "--host", $"server-b=ssh://root@{Address(1)}:2", "--on", "@db");
        Assert.That(exit, Is.EqualTo(1), output + error);
        Assert.That(output, Does.Contain("machine server-b").And.Contain("database: unreachable"));
        Assert.That(output, Does.Contain("machine server-c").And.Contain("database: drift"));
        Assert.That(output, Does.Not.Contain("server-a"), "--on @db selects the database machines only");
    }

    private async Task A_saved_plan_is_refused_on_the_machine_that_moved_after_the_review_and_runs_on_the_others(CancellationToken ct)
    {
        // Reviewed while server-c drifted (the phase before); then someone edits server-c again before it runs.
        var plan = Path.Combine(_dir, "db-plan.json");
        var (exit, output, error) = CliRunner.Run("plan", Example("example.constellation.csx"), "--inventory", _inventory, "--on", "@db", "--out", plan);
        Assert.That(exit, Is.EqualTo(0), output + error);
        Assert.That(FleetPlanFile.Load(plan).Plan.Machines.Select(m => $"{m.Machine} {m.Plan.PendingChanges}"), Is.EqualTo(new[] { "server-b 0", "server-c 1" }));
        await OnMachineAsync(2, ct, "sh", "-c", "echo 'mode = standby' > /srv/db/db.conf");

        var journal = Path.Combine(_dir, "refused.jsonl");
        (exit, output, error) = CliRunner.Run("run", Example("example.constellation.csx"), "--inventory", _inventory, "--plan", plan, "--journal", journal);

        Assert.That(exit, Is.EqualTo(1), output + error);
        Assert.That(output, Does.Match(@"server-c\s+refused").And.Contain("on host server-c: the fact").And.Contain("/srv/db/db.conf"));
        Assert.That(output, Does.Match(@"server-b\s+unchanged"), "the machine whose facts held ran its plan (nothing to change)");
        Assert.That(await OnMachineAsync(2, ct, "cat", "/srv/db/db.conf"), Is.EqualTo("mode = standby\n"), "nothing ran on the refused machine");
        var conformance = PlanConformance.OfFleet(FleetPlanFile.Load(plan).Plan, plan, JournalReader.Read(journal)).ToDictionary(c => c.Machine, c => c.Conformance);
        Assert.That((conformance["server-b"].Exact, conformance["server-c"].Actions), Is.EqualTo((true, 0)));

        // Left as the phase before left it, for the next one.
        await OnMachineAsync(2, ct, "sh", "-c", "echo 'mode = primary' > /srv/db/db.conf");
    }

    private async Task Max_fail_stops_the_rollout_before_the_next_batch(CancellationToken ct)
    {
        var (exit, output, error) = CliRunner.Run("run", Example("example.constellation.csx"), "--inventory", _inventory, "--host", $"server-a=ssh://root@{Address(0)}:2",
            "--serial", "1", "--max-fail", "0%", "--journal", Path.Combine(_dir, "stopped.jsonl"));

        Assert.That(exit, Is.EqualTo(1), output + error);
        Assert.That(output, Does.Contain("rollout stopped after batch 1 of 3: 1 of 1 machine(s) failed, more than --max-fail 0%"));
        Assert.That(output, Does.Match(@"server-b\s+not run").And.Match(@"server-c\s+not run"));
        Assert.That(await OnMachineAsync(2, ct, "cat", "/srv/db/db.conf"), Is.EqualTo("mode = primary\n"), "server-c's drift was left alone: its batch never ran");
    }

    private async Task The_rolling_run_is_undone_per_machine_over_the_addresses_its_journal_recorded(CancellationToken ct)
    {
        var accepted = Accepted();

        // A plan of the undo, read-only: no --host or --inventory, the journal's fleet-start says where each machine is.
        var (exit, output, error) = CliRunner.Run("undo", Path.Combine(_dir, "run.jsonl"));

        Assert.That(Accepted(), Is.GreaterThan(accepted), "every machine was reached over SSH at its recorded address");
        Assert.That(output, Does.Contain($"host server-a (root@{Address(0)}:22)").And.Contain("target undo-reverse-proxy/default").And.Contain($"host server-b (root@{Address(1)}:22)"));

        // Later phases rewrote server-c's db.conf: that change is refused, naming the read, and the rest is planned.
        Assert.That(exit, Is.EqualTo(1), output + error);
        Assert.That(output, Does.Contain("it changed since the run").And.Contain("/srv/db/db.conf"));
        Assert.That(output, Does.Contain("cannot be undone").And.Contain("http.server"), "a raw command's server start is listed as not undoable");
        Assert.That(await OnMachineAsync(2, ct, "cat", "/srv/db/db.conf"), Is.EqualTo("mode = primary\n"), "an undo plan changes nothing");
    }
}
