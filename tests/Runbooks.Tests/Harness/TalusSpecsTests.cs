using Runbooks.Engine;
using Runbooks.Harness;
using Runbooks.Harness.Lifecycle;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Harness;

/// <summary>
/// The talus scenario's timeline specs (runbooks/talus/specs.csx), judged on event logs shaped as the services and
/// their runit finish scripts write them, read from a fake host.
/// </summary>
public class TalusSpecsTests
{
    // Boot (web and slave refused once), the break (db down, master wedged), then an ordered restart.
    private const string Repaired = """
        100.000 db start 10
        100.010 amqp start 11
        100.020 web start 12
        100.030 web refused 12
        100.040 db ready 10
        100.050 amqp ready 11
        100.060 web exit 1 0
        101.070 web start 13
        101.080 web ready 13
        101.090 master start 14
        101.100 master ready 14
        101.200 slave start 15
        101.210 slave ready 15
        105.000 db term 10
        105.010 db exit 0 0
        105.100 master wedged 14
        110.000 slave term 15
        110.010 slave exit 0 0
        110.100 master term-ignored 14
        113.200 master exit -1 9
        113.300 web term 13
        113.310 web exit 0 0
        113.400 amqp term 11
        113.410 amqp exit 0 0
        113.500 db start 20
        113.520 db ready 20
        113.600 amqp start 21
        113.620 amqp ready 21
        113.700 web start 22
        113.720 web ready 22
        113.800 master start 23
        113.820 master ready 23
        113.900 slave start 24
        113.920 slave ready 24
        """;

    private static readonly Lazy<Task<ScenarioDefinition>> Scenario = new(() => HarnessCatalog.LoadAsync("talus", 0.1));

    [Test]
    public async Task The_scenario_has_the_eight_specs_and_marks_what_the_incident_breaks()
    {
        var specs = (await Scenario.Value).Specs;

        Assert.That(specs.Select(s => (s.Name, s.Host, s.BrokenByIncident)), Is.EqualTo(new[]
        {
            ("db-healthy", "local", true), ("amqp-healthy", "local", false), ("web-healthy", "local", true), ("master-healthy", "local", true),
            ("slave-healthy", "local", false), ("start-order", "local", true), ("dependencies-ready-first", "local", true), ("master-killed-after-grace", "local", true),
        }));
    }

    [Test]
    public async Task A_restart_in_dependency_order_passes_all_three_timeline_specs()
    {
        Assert.That((await Judge("start-order", Repaired)).Holds, Is.True, (await Judge("start-order", Repaired)).Observed);
        Assert.That((await Judge("dependencies-ready-first", Repaired)).Holds, Is.True, (await Judge("dependencies-ready-first", Repaired)).Observed);
        var master = await Judge("master-killed-after-grace", Repaired);
        Assert.That(master.Observed, Is.EqualTo("TERM ignored at 110.100, KILLed 3.10 s later"));
        Assert.That(master.Holds, Is.True);
    }

    [Test]
    public async Task The_broken_state_fails_all_three()
    {
        var broken = Repaired[..Repaired.IndexOf("110.000", StringComparison.Ordinal)];

        Assert.That((await Judge("start-order", broken)).Observed, Does.StartWith("not up: db"));
        Assert.That((await Judge("dependencies-ready-first", broken)).Observed, Does.Contain("web needs db, which is not up"));
        Assert.That((await Judge("master-killed-after-grace", broken)).Holds, Is.False);
    }

    [Test]
    public async Task A_host_with_no_event_log_yet_fails_them_instead_of_erroring()
    {
        var host = new FakeTransport().On(HostContext.FileRead(EventLog), "", exit: 1, stderr: $"cat: {EventLog}: No such file or directory");
        var spec = (await Scenario.Value).Specs.Single(s => s.Name == "start-order");

        var result = await spec.Check.EvaluateAsync(host.Context(), CancellationToken.None);

        Assert.That(result.Holds, Is.False);
        Assert.That(result.Observed, Does.StartWith("not up: db, amqp, web, master, slave"));
    }

    [Test]
    public async Task Web_started_before_db_was_ready_is_caught()
    {
        var log = Repaired.Replace("113.700 web start 22", "113.510 web start 22", StringComparison.Ordinal);

        Assert.That((await Judge("dependencies-ready-first", log)).Observed, Does.Contain("web started 0.010 s before db was ready"));
    }

    [Test]
    public async Task A_kill_inside_the_grace_period_fails()
    {
        var log = Repaired.Replace("113.200 master exit -1 9", "111.000 master exit -1 9", StringComparison.Ordinal);

        Assert.That((await Judge("master-killed-after-grace", log)).Holds, Is.False);
    }

    [Test]
    public async Task Slave_starting_before_master_breaks_the_order()
    {
        var log = Repaired.Replace("113.900 slave start 24\n113.920 slave ready 24", "113.790 slave start 24\n113.795 slave ready 24", StringComparison.Ordinal);
        var order = await Judge("start-order", log);

        Assert.That(order.Holds, Is.False);
        Assert.That(order.Observed, Does.EndWith("web, slave, master"));
    }

    private const string EventLog = "/var/log/talus/events.log";

    private static async Task<CheckResult> Judge(string spec, string log)
    {
        var host = new FakeTransport().On(HostContext.FileRead(EventLog), log);
        var check = (await Scenario.Value).Specs.Single(s => s.Name == spec).Check;
        return await check.EvaluateAsync(host.Context(), CancellationToken.None);
    }
}
