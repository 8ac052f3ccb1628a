using Runbooks.Commands;
using Runbooks.Dsl;
using Runbooks.Engine;
using Runbooks.Harness;
using Runbooks.Harness.Backends.Runit;
using Runbooks.Harness.Lifecycle;
using Runbooks.Transport;
using ServiceDsl = Runbooks.Dsl.Service;

namespace Runbooks.Tests.Harness.Talus;

/// <summary>What the ordered restart does on a real runit host when it cannot do its job.</summary>
[Category("harness"), NonParallelizable]
public sealed class TalusBadInputTests
{
    [OneTimeSetUp]
    public void RequirePrerequisites()
    {
        if (Environment.UserName != "root")
        {
            Assert.Ignore("RUNIT HARNESS SKIPPED: creating namespaces needs root; CI runs as root");
        }

        foreach (var tool in new[] { "ip", "nsenter", "unshare", "runsvdir", "sv", "svlogd", "python3", "curl" })
        {
            if (!Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(d => System.IO.File.Exists(Path.Combine(d, tool))))
            {
                Assert.Ignore($"RUNIT HARNESS SKIPPED: '{tool}' is not installed (harness/prerequisites.sh installs runit, iproute2, util-linux, python3, curl)");
            }
        }
    }

    [Test, CancelAfter(90_000)]
    public async Task A_service_missing_on_the_host_is_reported_before_anything_is_stopped(CancellationToken cancellationToken)
    {
        await using var talus = await BrokenTalusAsync(cancellationToken);
        var before = await EventsAsync(talus.Host, cancellationToken);
        var services = Definitions().Append(ServiceDsl.Named("scheduler").After("slave")).ToArray();

        var (summary, changes) = await RunAsync(talus, services, cancellationToken);

        var result = summary.Targets.Single();
        Assert.That(result.Status, Is.EqualTo(TargetStatus.Failed));
        Assert.That(result.Error, Does.Contain("no service 'scheduler'").And.Contain("nothing was changed"));
        Assert.That(changes, Is.Empty);
        Assert.That(await EventsAsync(talus.Host, cancellationToken), Is.EqualTo(before), "a service was signalled or restarted");
    }

    [Test, CancelAfter(90_000)]
    public async Task A_service_that_does_not_come_back_stops_the_sequence_and_is_named_with_its_last_output(CancellationToken cancellationToken)
    {
        await using var talus = await BrokenTalusAsync(cancellationToken);
        // db's data directory is gone: it prints why and exits, and runsv retries it every second to no avail.
        await talus.Host.Transport.RunCheckedAsync(Shell.Script("printf '%s' \"$2\" > \"$1\"", "/etc/sv/db/run",
            "#!/bin/sh\nexec 2>&1\necho 'db: cannot open /talus/data: No such file or directory'\nexit 1\n"), cancellationToken);

        var (summary, changes) = await RunAsync(talus, Definitions(), cancellationToken);

        var result = summary.Targets.Single();
        Assert.That(result.Status, Is.EqualTo(TargetStatus.Failed));
        Assert.That(result.Error, Does.Contain("db did not come back within 4 s after `sv up /etc/service/db`")
            .And.Contain("db: cannot open /talus/data"));
        Assert.That(changes.Where(c => c.StartsWith("sv up", StringComparison.Ordinal)), Is.EqualTo(new[] { "sv up /etc/service/db" }), "a service after db was started");
        var status = await talus.Host.Transport.RunCheckedAsync(new Command("sv", ["status", "/etc/service/web", "/etc/service/slave"]), cancellationToken);
        Assert.That(status.StandardOutput, Does.Contain("down: /etc/service/web").And.Contain("down: /etc/service/slave"));
    }

    private static ServiceDefinition[] Definitions() =>
    [
        ServiceDsl.Named("db").HealthyWhen(Probe.Tcp("127.0.0.1", 27017, TcpOutcome.Connected)).HealthyWithin(TimeSpan.FromSeconds(4)),
        ServiceDsl.Named("amqp").HealthyWhen(Probe.Tcp("127.0.0.1", 5672, TcpOutcome.Connected)),
        ServiceDsl.Named("web").After("db").HealthyWhen(Probe.HttpGet("http://127.0.0.1:8001/", 200)),
        ServiceDsl.Named("master").After("amqp", "web").HealthyWhen(Probe.Tcp("127.0.0.1", 5000, TcpOutcome.Connected)).GraceBeforeKill(TimeSpan.FromSeconds(1)),
        ServiceDsl.Named("slave").After("master").HealthyWhen(Probe.Tcp("127.0.0.1", 5001, TcpOutcome.Connected)),
    ];

    private static async Task<(RunSummary Summary, List<string> Changes)> RunAsync(BrokenTalus talus, ServiceDefinition[] services, CancellationToken cancellationToken)
    {
        var target = new Target("talus", "", [], [ServiceDsl.OrderedRestart(services)]).On(RunitBackend.HostName);
        var changes = new ChangeRecorder();
        var summary = await new Runner(new TargetGraph([target]), talus.Environment.Inventory, changes).RunAsync(new RunRequest(RunMode.Run, ["talus"]), cancellationToken);
        return (summary, changes.Commands);
    }

    private static async Task<string> EventsAsync(HostContext host, CancellationToken cancellationToken) =>
        (await host.Transport.RunCheckedAsync(new Command("cat", ["--", "/var/log/talus/events.log"]), cancellationToken)).StandardOutput;

    private static async Task<BrokenTalus> BrokenTalusAsync(CancellationToken cancellationToken)
    {
        var work = Path.Combine(Path.GetTempPath(), $"rb-talus-{Guid.NewGuid():N}");
        var options = new HarnessOptions($"t{Environment.ProcessId % 1000:000}{Random.Shared.Next(1000):000}", work);
        // The shipped scenario file, broken as `harness run talus` breaks it.
        var scenario = await HarnessCatalog.LoadAsync("talus", 0.1);
        var environment = await scenario.CreateBackend().CreateAsync(options, cancellationToken);
        try
        {
            var (ok, detail) = await HarnessRunner.BreakAsync(scenario, environment, Path.Combine(work, "break.jsonl"), cancellationToken);
            Assert.That(ok, Is.True, detail);
            return new BrokenTalus(environment, work);
        }
        catch
        {
            await new BrokenTalus(environment, work).DisposeAsync();
            throw;
        }
    }

    private sealed class BrokenTalus(IHarnessEnvironment environment, string work) : IAsyncDisposable
    {
        public IHarnessEnvironment Environment { get; } = environment;

        public HostContext Host => Environment.Inventory.Context(RunitBackend.HostName);

        public async ValueTask DisposeAsync()
        {
            var leaks = await Environment.DestroyAsync(CancellationToken.None);
            await Environment.DisposeAsync();
            Directory.Delete(work, recursive: true);
            Assert.That(leaks, Is.Empty, "the runit environment left something behind");
        }
    }

    private sealed class ChangeRecorder : RunObserver
    {
        public List<string> Commands { get; } = [];

        public override void CommandRan(string host, Command command, CommandResult result)
        {
            if (!command.ReadOnly)
            {
                lock (Commands)
                {
                    Commands.Add(command.Render());
                }
            }
        }
    }
}
