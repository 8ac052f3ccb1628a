using Runbooks.Harness.Specs;

namespace Runbooks.Tests.Harness;

/// <summary>The talus timeline specs judged on event logs shaped as the services and their runit finish scripts write them.</summary>
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

    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(3);

    [Test]
    public void A_restart_in_dependency_order_passes_all_three_timeline_specs()
    {
        var events = TalusSpecs.Parse(Repaired);

        Assert.That(TalusSpecs.StartOrder(events).Holds, Is.True, TalusSpecs.StartOrder(events).Observed);
        Assert.That(TalusSpecs.DependenciesReadyFirst(events).Holds, Is.True, TalusSpecs.DependenciesReadyFirst(events).Observed);
        Assert.That(TalusSpecs.MasterKilledAfterGrace(events, Grace).Observed, Is.EqualTo("TERM ignored at 110.100, KILLed 3.10 s later"));
        Assert.That(TalusSpecs.MasterKilledAfterGrace(events, Grace).Holds, Is.True);
    }

    [Test]
    public void The_broken_state_fails_all_three()
    {
        var events = TalusSpecs.Parse(Repaired[..Repaired.IndexOf("110.000", StringComparison.Ordinal)]);

        Assert.That(TalusSpecs.StartOrder(events).Observed, Does.StartWith("not up: db"));
        Assert.That(TalusSpecs.DependenciesReadyFirst(events).Observed, Does.Contain("web needs db, which is not up"));
        Assert.That(TalusSpecs.MasterKilledAfterGrace(events, Grace).Holds, Is.False);
    }

    [Test]
    public void Web_started_before_db_was_ready_is_caught()
    {
        var events = TalusSpecs.Parse(Repaired.Replace("113.700 web start 22", "113.510 web start 22", StringComparison.Ordinal));

        Assert.That(TalusSpecs.DependenciesReadyFirst(events).Observed, Does.Contain("web started 0.010 s before db was ready"));
    }

    [Test]
    public void A_kill_inside_the_grace_period_fails()
    {
        var events = TalusSpecs.Parse(Repaired.Replace("113.200 master exit -1 9", "111.000 master exit -1 9", StringComparison.Ordinal));

        Assert.That(TalusSpecs.MasterKilledAfterGrace(events, Grace).Holds, Is.False);
    }

    [Test]
    public void Slave_starting_before_master_breaks_the_order()
    {
        var events = TalusSpecs.Parse(Repaired.Replace("113.900 slave start 24\n113.920 slave ready 24", "113.790 slave start 24\n113.795 slave ready 24", StringComparison.Ordinal));

        Assert.That(TalusSpecs.StartOrder(events).Holds, Is.False);
        Assert.That(TalusSpecs.StartOrder(events).Observed, Does.EndWith("web, slave, master"));
    }
}
