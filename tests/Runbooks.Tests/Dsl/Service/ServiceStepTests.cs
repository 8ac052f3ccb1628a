using System.Diagnostics;
using Runbooks.Commands;
using Runbooks.Dsl;
using Runbooks.Engine;
using Runbooks.Tests.Support;
using ServiceDsl = Runbooks.Dsl.Service;

namespace Runbooks.Tests.Dsl.Service;

public class ServiceStepTests
{
    private static readonly string[] Talus = ["db", "amqp", "web", "master", "slave"];

    private static ServiceDefinition[] Definitions() =>
    [
        ServiceDsl.Named("db"),
        ServiceDsl.Named("amqp"),
        ServiceDsl.Named("web").After("db"),
        ServiceDsl.Named("master").After("amqp", "web").GraceBeforeKill(TimeSpan.FromSeconds(3)),
        ServiceDsl.Named("slave").After("master"),
    ];

    [Test]
    public void Start_order_puts_dependencies_first_and_keeps_the_declared_order_otherwise()
    {
        var declared = Definitions().Reverse().ToArray();

        Assert.That(ServiceDsl.OrderedRestart(declared).Order, Is.EqualTo(new[] { "amqp", "db", "web", "master", "slave" }));
        Assert.That(ServiceDsl.OrderedRestart(Definitions()).Order, Is.EqualTo(Talus));
    }

    [Test]
    public void A_cycle_in_the_declared_order_is_named_before_anything_runs()
    {
        var error = Assert.Throws<InvalidRunbookException>(() => ServiceDsl.OrderedRestart(
            ServiceDsl.Named("db").After("slave"), ServiceDsl.Named("web").After("db"), ServiceDsl.Named("slave").After("web")));

        Assert.That(error!.Message, Does.Contain("cycle: db -> slave -> web -> db"));
    }

    [Test]
    public void Unknown_and_duplicate_services_are_all_reported_at_once()
    {
        var error = Assert.Throws<InvalidRunbookException>(() => ServiceDsl.OrderedRestart(
            ServiceDsl.Named("web").After("db"), ServiceDsl.Named("web"), ServiceDsl.Named("slave").After("mastr")));

        Assert.That(error!.Message, Does.Contain("'web' comes after 'db', which is not in the set")
            .And.Contain("'slave' comes after 'mastr'").And.Contain("'web' is declared twice"));
    }

    [TestCase("")]
    [TestCase("-db")]
    [TestCase("db;rm")]
    [TestCase("../db")]
    public void A_bad_service_name_is_refused_when_the_runbook_is_written(string name) =>
        Assert.Throws<ArgumentException>(() => ServiceDsl.Named(name));

    [Test]
    public async Task Ordered_restart_with_db_down_stops_everything_in_reverse_and_starts_in_order()
    {
        var host = Talus5(down: ["db"]);

        var probe = await ServiceDsl.OrderedRestart(Definitions()).ProbeAsync(host.Context(), CancellationToken.None);

        Assert.That(probe.Decision, Is.EqualTo(StepDecision.WillChange), probe.Observed);
        Assert.That(probe.Commands.Select(FakeTransport.Key), Is.EqualTo(
            Talus.Reverse().Select(s => $"sv down /etc/service/{s}").Concat(Talus.Select(s => $"sv up /etc/service/{s}"))));
        Assert.That(probe.Notes[0], Does.Contain("restarts from db: db is not running"));
        Assert.That(probe.Actions.Select(a => a.Summary), Has.Some.EqualTo("$ sv down /etc/service/master; wait up to 3 s until master has stopped; then $ sv kill /etc/service/master"));
        Assert.That(probe.Actions.Select(a => a.Summary), Has.Some.StartsWith("wait up to").And.EndsWith("until db runs"), "each start waits for the service before the next");
        Assert.That(host.Changes, Is.Empty, "planning ran a changing command");
    }

    [Test]
    public async Task Ordered_restart_starts_from_the_first_service_that_is_down()
    {
        var probe = await ServiceDsl.OrderedRestart(Definitions()).ProbeAsync(Talus5(down: ["master"]).Context(), CancellationToken.None);

        Assert.That(probe.Commands.Select(FakeTransport.Key), Is.EqualTo(new[]
        {
            "sv down /etc/service/slave", "sv down /etc/service/master", "sv up /etc/service/master", "sv up /etc/service/slave",
        }));
    }

    [Test]
    public async Task A_service_older_than_its_dependency_is_restarted_with_everything_after_it()
    {
        // web's process started at tick 100, db's at tick 500: web holds a connection to the db that went away.
        var host = Talus5(down: [], ticks: new() { ["db"] = 500, ["web"] = 100 });

        var probe = await ServiceDsl.OrderedRestart(Definitions()).ProbeAsync(host.Context(), CancellationToken.None);

        Assert.That(probe.Notes[0], Does.Contain("restarts from web: web started before db"));
        Assert.That(probe.Commands.Select(FakeTransport.Key).First(), Is.EqualTo("sv down /etc/service/slave"));
        Assert.That(probe.Commands.Select(FakeTransport.Key).Last(), Is.EqualTo("sv up /etc/service/slave"));
        Assert.That(probe.Commands.Select(FakeTransport.Key), Has.None.Contains("/etc/service/db").And.None.Contains("/etc/service/amqp"));
    }

    [Test]
    public async Task Ordered_restart_is_satisfied_when_all_run_in_order()
    {
        var probe = await ServiceDsl.OrderedRestart(Definitions()).ProbeAsync(Talus5(down: []).Context(), CancellationToken.None);

        Assert.That(probe.Decision, Is.EqualTo(StepDecision.Satisfied), probe.Observed);
    }

    [Test]
    public async Task An_unhealthy_service_is_restarted_even_though_it_runs()
    {
        var definitions = Definitions();
        definitions[3] = definitions[3].HealthyWhen(Check.From("master answers", () => false));

        var probe = await ServiceDsl.OrderedRestart(definitions).ProbeAsync(Talus5(down: []).Context(), CancellationToken.None);

        Assert.That(probe.Notes[0], Does.Contain("restarts from master: master is not healthy"));
    }

    [Test]
    public async Task A_service_missing_on_the_host_blocks_before_anything_is_stopped()
    {
        var host = Talus5(down: ["db"]).On(ServiceReads.Detect("slave"), "none\n");

        var probe = await ServiceDsl.OrderedRestart(Definitions()).ProbeAsync(host.Context(), CancellationToken.None);

        Assert.That(probe.Decision, Is.EqualTo(StepDecision.Blocked));
        Assert.That(probe.Unmet.Single(), Does.Contain("no service 'slave'").And.Contain("/etc/init.d/slave"));
        Assert.That(probe.Commands, Is.Empty);
    }

    [Test, CancelAfter(10_000)]
    public async Task Stop_sends_kill_only_after_the_grace_period_when_term_is_ignored(CancellationToken cancellationToken)
    {
        var grace = TimeSpan.FromMilliseconds(400);
        var host = new FakeTransport("scripted");
        var killedAt = (TimeSpan?)null;
        var downAt = (TimeSpan?)null;
        var clock = Stopwatch.StartNew();
        host.When(c => c.Program == "sh", _ => FakeTransport.Result(stdout: "runit /etc/service/master\n"))
            .When(c => c.Program == "cat", _ => FakeTransport.Result(stdout: Stat(42, 900)))
            .When(c => Key(c) == "sv status /etc/service/master", _ => FakeTransport.Result(stdout: killedAt is null
                ? "run: /etc/service/master: (pid 42) 9s, want down, got TERM\n"
                : "down: /etc/service/master: 0s, normally up\n"))
            .When(c => Key(c) == "sv down /etc/service/master", _ => { downAt = clock.Elapsed; return FakeTransport.Result(); })
            .When(c => Key(c) == "sv kill /etc/service/master", _ => { killedAt = clock.Elapsed; return FakeTransport.Result(); });
        var step = ServiceDsl.Named("master").GraceBeforeKill(grace).Stopped();
        var context = new Inventory().Add("local", host).Context("local");

        var probe = await step.ProbeAsync(context, cancellationToken);
        await step.ApplyAsync(context, probe, cancellationToken);

        Assert.That(host.Changes.Select(Key), Is.EqualTo(new[] { "sv down /etc/service/master", "sv kill /etc/service/master" }));
        Assert.That(killedAt - downAt, Is.GreaterThanOrEqualTo(grace));
        Assert.That(step.Destroys, Does.Contain("master"));
    }

    [Test, CancelAfter(10_000)]
    public async Task A_service_that_does_not_come_back_is_named_with_its_last_output(CancellationToken cancellationToken)
    {
        var host = new FakeTransport()
            .On(ServiceReads.Detect("web"), "runit /etc/service/web\n")
            .On(ServiceReads.SvStatus("/etc/service/web"), "down: /etc/service/web: 0s, normally up, want up\n")
            .On(ServiceReads.LogTail(new SupervisorLocation(Supervisor.Runit, "/etc/service/web"), null),
                "2026-11-23_09:40:01.12345 web: refusing to start: nothing answers on 127.0.0.1:27017, a service it needs is down\n");
        var step = ServiceDsl.Named("web").HealthyWithin(TimeSpan.FromMilliseconds(300)).Running();
        var context = host.Context();

        var probe = await step.ProbeAsync(context, cancellationToken);
        var error = await Assert.ThrowsAsync<RunbookException>(() => step.ApplyAsync(context, probe, cancellationToken));

        Assert.That(error!.Message, Does.Contain("web did not come back within 0.3 s after `sv up /etc/service/web`").And.Contain("the services after it were not started")
            .And.Contain("refusing to start: nothing answers on 127.0.0.1:27017"));
    }

    [Test, CancelAfter(10_000)]
    public async Task Start_waits_for_runsv_to_pick_up_a_new_directory_before_sv_up(CancellationToken cancellationToken)
    {
        var host = new FakeTransport("scripted");
        var looks = 0;
        var up = false;
        host.When(c => c.Program == "sh", _ => FakeTransport.Result(stdout: "runit /etc/service/db\n"))
            .When(c => c.Program == "cat", _ => FakeTransport.Result(stdout: Stat(42, 900)))
            .When(c => Key(c) == "sv status /etc/service/db", _ => ++looks < 3
                ? FakeTransport.Result(stdout: "warning: /etc/service/db: unable to open supervise/ok: file does not exist\n", exit: 1)
                : FakeTransport.Result(stdout: up ? "run: /etc/service/db: (pid 42) 0s\n" : "down: /etc/service/db: 0s, normally up\n"))
            .When(c => Key(c) == "sv up /etc/service/db", _ => { up = looks >= 3; return FakeTransport.Result(); });
        var step = ServiceDsl.Named("db").Running();
        var context = new Inventory().Add("local", host).Context("local");

        var probe = await step.ProbeAsync(context, cancellationToken);
        await step.ApplyAsync(context, probe, cancellationToken);

        Assert.That(probe.Observed, Does.Contain("not supervised yet"));
        Assert.That(host.Changes.Select(Key), Is.EqualTo(new[] { "sv up /etc/service/db" }));
        Assert.That(up, Is.True, "sv up was sent before runsv had opened the directory");
    }

    [Test, CancelAfter(10_000)]
    public async Task Start_of_a_directory_no_runsv_ever_opens_fails_naming_runsvdir(CancellationToken cancellationToken)
    {
        var host = new FakeTransport()
            .On(ServiceReads.Detect("db"), "runit /etc/service/db\n")
            .On(ServiceReads.SvStatus("/etc/service/db"), "warning: /etc/service/db: unable to open supervise/ok: file does not exist\n");
        var step = ServiceDsl.Named("db").HealthyWithin(TimeSpan.FromMilliseconds(300)).Running();
        var context = host.Context();

        var probe = await step.ProbeAsync(context, cancellationToken);
        var error = await Assert.ThrowsAsync<RunbookException>(() => step.ApplyAsync(context, probe, cancellationToken));

        Assert.That(error!.Message, Does.Contain("no runsv picked up /etc/service/db within 0.3 s").And.Contain("runsvdir"));
        Assert.That(host.Changes, Is.Empty);
    }

    private static string Key(Command command) => FakeTransport.Key(command);

    private static string Stat(int pid, long ticks) => $"{pid} (python3) S 1 {pid} {pid} 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 {ticks} 0 0\n";

    /// <summary>The five talus services under runit, each running with pid 100+i started at tick 1000+i unless down.</summary>
    private static FakeTransport Talus5(string[] down, Dictionary<string, long>? ticks = null)
    {
        var host = new FakeTransport();
        for (var i = 0; i < Talus.Length; i++)
        {
            var name = Talus[i];
            var dir = $"/etc/service/{name}";
            var pid = 100 + i;
            host.On(ServiceReads.Detect(name), $"runit {dir}\n")
                .On(ServiceReads.SvStatus(dir), down.Contains(name) ? $"down: {dir}: 5s, normally up\n" : $"run: {dir}: (pid {pid}) 60s\n")
                .On(FakeTransport.Key("cat", "--", $"/proc/{pid}/stat"), Stat(pid, ticks?.GetValueOrDefault(name) ?? 1000 + i));
        }

        return host;
    }
}
