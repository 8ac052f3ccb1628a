using System.Globalization;
using Runbooks.Engine;
using Runbooks.Harness.Backends.Netns;
using Runbooks.Harness.Lifecycle;
using Runbooks.Tests.Support;
using Runbooks.Transport;

namespace Runbooks.Tests.Reliability;

/// <summary>Two operators at once: the host lock a run takes before its first step, through the host's transport.</summary>
[Category("process"), Category("reliability"), NonParallelizable]
public class HostLockTests
{
    // Above the kernel's largest pid_max (2^22), so /proc never has it: a holder that is certainly gone.
    private const int GonePid = 99_999_999;

    private string _root = "";
    private string _runbook = "";
    private string _lock = "";

    [SetUp]
    public void CreateRunbook()
    {
        _root = Directory.CreateTempSubdirectory("rb-lock-").FullName;
        _lock = CliRunner.TestLockPath;
        _runbook = Path.Combine(_root, "files.csx");
        System.IO.File.WriteAllText(_runbook, $$"""
            Target("dir", File.Directory("{{_root}}/state"));
            Target("config", DependsOn("dir"), File.Content("{{_root}}/state/app.conf", "listen = 8000\n"));
            await RunAsync(Args);
            """);
        CliRunner.Run("check", _runbook);
        if (Directory.Exists(_lock))
        {
            Directory.Delete(_lock, recursive: true);
        }
    }

    [TearDown]
    public void Remove()
    {
        Directory.Delete(_root, recursive: true);
        if (Directory.Exists(_lock))
        {
            Directory.Delete(_lock, recursive: true);
        }
    }

    [Test, CancelAfter(60_000)]
    public void A_run_against_a_held_host_refuses_naming_who_holds_it_and_since_when_and_changes_nothing()
    {
        var owner = HoldLock(_lock, Environment.ProcessId, Environment.MachineName);

        var (exit, output, error) = CliRunner.Run("run", _runbook, "--journal", Path.Combine(_root, "j.jsonl"));

        Assert.That(exit, Is.EqualTo(1), output + error);
        Assert.That(error, Does.Contain("host 'local' (local) is locked by another run: alice (pid " + Environment.ProcessId)
            .And.Contain("running /srv/first.csx since 2025-01-02 03:04:05 UTC")
            .And.Contain("nothing was changed")
            .And.Contain("Wait for that run to finish"));
        Assert.That(Directory.Exists($"{_root}/state"), Is.False, "a refused run changed the host");
        Assert.That(System.IO.File.ReadAllText(Path.Combine(_lock, "owner")), Is.EqualTo(owner), "a refused run touched the holder's lock");
    }

    [Test, CancelAfter(60_000)]
    public void A_stale_lock_is_refused_with_the_way_out_and_break_lock_takes_it_over_and_releases_it()
    {
        HoldLock(_lock, GonePid, Environment.MachineName);

        var (refused, _, why) = CliRunner.Run("run", _runbook, "--journal", Path.Combine(_root, "j1.jsonl"));
        var (exit, output, error) = CliRunner.Run("run", _runbook, "--journal", Path.Combine(_root, "j2.jsonl"), "--break-lock");

        Assert.That(refused, Is.EqualTo(1));
        Assert.That(why, Does.Contain($"pid {GonePid}").And.Contain("the lock is stale: run again with --break-lock"));
        Assert.That(exit, Is.EqualTo(0), output + error);
        Assert.That(System.IO.File.Exists($"{_root}/state/app.conf"), Is.True);
        Assert.That(Directory.Exists(_lock), Is.False, "the run did not release the lock it took over");
    }

    [Test, CancelAfter(60_000)]
    public void Break_lock_never_takes_a_lock_whose_holder_cannot_be_checked_from_this_machine()
    {
        var owner = HoldLock(_lock, GonePid, "other-laptop");

        var (exit, _, error) = CliRunner.Run("run", _runbook, "--journal", Path.Combine(_root, "j.jsonl"), "--break-lock");

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("taken from another machine").And.Contain("ask alice on other-laptop").And.Contain($"remove {_lock} on the host by hand"));
        Assert.That(System.IO.File.ReadAllText(Path.Combine(_lock, "owner")), Is.EqualTo(owner));
        Assert.That(Directory.Exists($"{_root}/state"), Is.False);
    }

    [Test, CancelAfter(60_000)]
    public void A_plan_neither_needs_nor_takes_the_lock()
    {
        var owner = HoldLock(_lock, Environment.ProcessId, Environment.MachineName);

        var (exit, plan, error) = CliRunner.Run("plan", _runbook);
        var (dryExit, _, dryError) = CliRunner.Run("run", _runbook, "--dry-run");

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(dryExit, Is.EqualTo(0), dryError);
        Assert.That(plan, Does.Contain("will change"));
        Assert.That(System.IO.File.ReadAllText(Path.Combine(_lock, "owner")), Is.EqualTo(owner));
    }

    [Test, CancelAfter(60_000)]
    public void A_failing_run_releases_its_lock()
    {
        System.IO.File.WriteAllText($"{_root}/state", "a file where the directory must be");

        var (exit, output, _) = CliRunner.Run("run", _runbook, "--journal", Path.Combine(_root, "j.jsonl"));

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(output, Does.Contain("refusing to replace it"));
        Assert.That(Directory.Exists(_lock), Is.False, "a failed run left its lock behind");
    }

    [Test, CancelAfter(60_000)]
    public async Task Of_two_runs_at_once_the_second_is_refused_while_the_first_holds_the_host_and_the_first_releases_it(CancellationToken cancellationToken)
    {
        var gate = new GateStep();
        var first = Locked(new Target("slow", "", [], [gate]));
        var second = Locked(new Target("quick", "", [], [Runbooks.Dsl.File.Directory($"{_root}/state")]));
        await using var inventory = Inventory.Local();
        await using var otherInventory = Inventory.Local();

        var running = new Runner(new TargetGraph([first.Target]), inventory, new RunObserver()).RunAsync(first.Request, cancellationToken);
        await gate.Entered.Task.WaitAsync(cancellationToken);
        var refusal = await Assert.ThrowsAsync<HostLockedException>(() =>
            new Runner(new TargetGraph([second.Target]), otherInventory, new RunObserver()).RunAsync(second.Request, cancellationToken));
        gate.Release.SetResult();
        var summary = await running;

        Assert.That(refusal!.Holder!.Pid, Is.EqualTo(Environment.ProcessId));
        Assert.That(refusal.Message, Does.Contain("Wait for that run to finish"));
        Assert.That(summary.Succeeded, Is.True);
        Assert.That(Directory.Exists($"{_root}/state"), Is.False, "the refused run changed the host");
        Assert.That(Directory.Exists(_lock), Is.False, "the first run did not release its lock");
        ReliabilityFigures.Record("two operators at once (second run refused)", 1, 1, 1, 0);
    }

    [Test, CancelAfter(60_000)]
    public async Task Two_inventory_names_for_one_machine_share_one_lock_taken_once_and_a_run_through_a_third_name_is_refused(CancellationToken cancellationToken)
    {
        var gate = new GateStep();
        var web = new Target("web", "", [], [gate]).On("web");
        var db = new Target("db", "", ["web"], [Runbooks.Dsl.File.Directory($"{_root}/db")]).On("db");
        var cache = Locked(new Target("cache", "", [], [Runbooks.Dsl.File.Directory($"{_root}/cache")]).On("cache"));
        await using var inventory = new Inventory().Add("web", new LocalTransport()).Add("db", new LocalTransport());
        await using var otherInventory = new Inventory().Add("cache", new LocalTransport());

        var running = new Runner(new TargetGraph([web, db]), inventory, new RunObserver())
            .RunAsync(new RunRequest(RunMode.Run, ["db"], Locking: new HostLocking(HostLockOwner.ForThisProcess(_runbook), _lock)), cancellationToken);
        // Keyed by name, the run refused itself at its second host before its first step.
        await Task.WhenAny(gate.Entered.Task, running).WaitAsync(cancellationToken);
        if (running.IsCompleted)
        {
            await running;
            Assert.Fail("the run ended before its first step");
        }

        var refusal = await Assert.ThrowsAsync<HostLockedException>(() =>
            new Runner(new TargetGraph([cache.Target]), otherInventory, new RunObserver()).RunAsync(cache.Request, cancellationToken));
        gate.Release.SetResult();
        var summary = await running;

        Assert.That(summary.Succeeded, Is.True, string.Join("; ", summary.Targets.Select(t => $"{t.Name}: {t.Status} {t.Error}")));
        Assert.That(Directory.Exists($"{_root}/db"), Is.True);
        Assert.That(refusal!.Message, Does.Contain("host 'cache' (local) is locked by another run").And.Contain($"pid {Environment.ProcessId}"));
        Assert.That(Directory.Exists($"{_root}/cache"), Is.False, "the refused run changed the machine");
        Assert.That(Directory.Exists(_lock), Is.False, "the run did not release the lock it took once for both names");
    }

    [Test, CancelAfter(120_000), Category("harness")]
    public async Task Each_netns_host_holds_its_own_lock_and_a_held_one_stops_the_run_before_any_host_changes(CancellationToken cancellationToken)
    {
        RequireRoot();
        var options = new HarnessOptions($"lock{Environment.ProcessId % 10000}", Path.Combine(_root, "work"));
        // The two hosts of the shipped connection scenario, created bare (no break).
        var environment = await (await Runbooks.Harness.HarnessCatalog.LoadAsync("connection")).CreateBackend().CreateAsync(options, cancellationToken);
        var previous = Environment.GetEnvironmentVariable("RUNBOOK_LOCK");
        try
        {
            var server = (NetnsTransport)environment.Inventory.Context("server").Transport;
            var client = (NetnsTransport)environment.Inventory.Context("client").Transport;
            var script = Path.Combine(_root, "two-hosts.csx");
            // /etc/wireguard is private to each simulated host, so what a run changes stays visible per host.
            System.IO.File.WriteAllText(script, """
                Target("client", File.Directory("/etc/wireguard/rb-lock-test")).On("client");
                Target("server", DependsOn("client"), File.Directory("/etc/wireguard/rb-lock-test")).On("server");
                await RunAsync(Args);
                """);
            string[] hosts = ["--host", $"server=netns:{server.Netns}?mount={server.MountNamespaceFile}", "--host", $"client=netns:{client.Netns}?mount={client.MountNamespaceFile}"];
            Environment.SetEnvironmentVariable("RUNBOOK_LOCK", HostLocking.DefaultPath);
            var serverLock = Path.Combine(NetnsBackend.ScratchFor(Path.Combine(options.WorkDirectory, "hosts", "server"), "/run/lock"), "runbook");
            HoldLock(serverLock, Environment.ProcessId, Environment.MachineName);

            var (refused, _, why) = CliRunner.Run(["run", script, "--journal", Path.Combine(_root, "j1.jsonl"), .. hosts]);
            var clientUntouched = !Directory.Exists(Path.Combine(NetnsBackend.ScratchFor(Path.Combine(options.WorkDirectory, "hosts", "client"), "/etc/wireguard"), "rb-lock-test"));
            Directory.Delete(serverLock, recursive: true);
            var (exit, output, error) = CliRunner.Run(["run", script, "--journal", Path.Combine(_root, "j2.jsonl"), .. hosts]);

            Assert.That(refused, Is.EqualTo(1));
            Assert.That(why, Does.Contain($"host 'server' ({server.Netns}) is locked by another run: alice"));
            Assert.That(clientUntouched, Is.True, "the client changed although the server was locked");
            Assert.That(exit, Is.EqualTo(0), output + error);
            foreach (var host in new[] { "server", "client" })
            {
                Assert.That(Directory.Exists(Path.Combine(NetnsBackend.ScratchFor(Path.Combine(options.WorkDirectory, "hosts", host), "/etc/wireguard"), "rb-lock-test")), Is.True, host);
                Assert.That(Directory.Exists(Path.Combine(NetnsBackend.ScratchFor(Path.Combine(options.WorkDirectory, "hosts", host), "/run/lock"), "runbook")), Is.False, $"lock left on {host}");
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable("RUNBOOK_LOCK", previous);
            var leaks = await environment.DestroyAsync(CancellationToken.None);
            Assert.That(leaks, Is.Empty);
        }
    }

    private static string HoldLock(string path, int pid, string machine)
    {
        Directory.CreateDirectory(path);
        var owner = new HostLockOwner("f00d", "alice", pid, machine, "/srv/first.csx", DateTimeOffset.Parse("2025-01-02T03:04:05Z", CultureInfo.InvariantCulture)).Render();
        System.IO.File.WriteAllText(Path.Combine(path, "owner"), owner);
        return owner;
    }

    private (Target Target, RunRequest Request) Locked(Target target) =>
        (target, new RunRequest(RunMode.Run, [target.Name], Locking: new HostLocking(HostLockOwner.ForThisProcess(_runbook), _lock)));

    private static void RequireRoot()
    {
        if (Environment.UserName != "root")
        {
            Assert.Ignore("NETNS LOCK TEST SKIPPED: creating network namespaces needs root");
        }
    }

    /// <summary>A step that holds its run inside the lock until the test lets it go.</summary>
    private sealed class GateStep : Step
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override string Description => "wait for the test";

        public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
            return StepProbe.Satisfied("released");
        }
    }
}
