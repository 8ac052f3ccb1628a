using Runbooks.Dsl;
using Runbooks.Engine;
using Runbooks.Tests.Support;
using ServiceDsl = Runbooks.Dsl.Service;

namespace Runbooks.Tests.Dsl.Service;

/// <summary><c>RestartedWhenChanged</c>: a restart only when a target it depends on changed something in the same run.</summary>
public sealed class RestartOnChangeTests
{
    private const string Dir = "/etc/service/app";

    [Test]
    public async Task A_healthy_service_whose_config_did_not_change_is_not_restarted()
    {
        var host = App();
        var summary = await Run(host, RunMode.Run, configChanges: false);

        var step = summary.Targets.Single(t => t.Name == "app").Steps.Single();
        Assert.That(step.Outcome, Is.EqualTo(StepOutcome.Satisfied));
        Assert.That(step.Observed, Does.Contain("target 'config' changed nothing in this run: not restarted"));
        Assert.That(host.Changes.Select(FakeTransport.Key), Has.None.Contains("sv "), "the app was touched");
    }

    [Test]
    public async Task The_plan_shows_the_restart_under_the_condition_when_the_config_will_change()
    {
        var host = App();
        var summary = await Run(host, RunMode.Plan, configChanges: true);

        var step = summary.Targets.Single(t => t.Name == "app").Steps.Single();
        Assert.That(step.Outcome, Is.EqualTo(StepOutcome.WillChange));
        Assert.That(step.Actions.Single().Summary, Does.StartWith("if target 'config' changed something in this run: $ sv down /etc/service/app"));
        Assert.That(step.Actions.Single().Summary, Does.EndWith("; otherwise: nothing"));
        Assert.That(step.Notes, Has.Some.Contains("restarts because target 'config' step 1 'flag config set' changed something"));
        Assert.That(host.Changes, Is.Empty, "a plan changed something");
    }

    [Test]
    public void A_trigger_the_target_does_not_depend_on_is_refused_before_anything_runs()
    {
        var error = Assert.Throws<InvalidRunbookException>(() => new TargetGraph(
        [
            new Target("config", "", [], [new FlagStep("config")]),
            new Target("app", "", [], [ServiceDsl.Named("app").RestartedWhenChanged("config", "cofnig")]),
        ]));

        Assert.That(error!.Message, Does.Contain("target 'app' step 1 acts when target 'config' changes, but does not depend on it; add DependsOn(\"config\")")
            .And.Contain("target 'cofnig' changes, which is not defined"));
    }

    private static async Task<RunSummary> Run(FakeTransport host, RunMode mode, bool configChanges)
    {
        var graph = new TargetGraph(
        [
            new Target("config", "", [], [new FlagStep("config", satisfied: !configChanges)]),
            new Target("app", "", ["config"], [ServiceDsl.Named("app").RestartedWhenChanged("config")]),
        ]);
        return await new Runner(graph, new Inventory().Add("local", host), new RunObserver()).RunAsync(new RunRequest(mode, []), CancellationToken.None);
    }

    // The restart itself (stop, start, verify on a new process) is proved on runit in a namespace: WebappRestartTests.
    private static string Stat(int pid, long ticks) => $"{pid} (python3) S 1 {pid} {pid} 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 {ticks} 0 0\n";

    private static FakeTransport App() => new FakeTransport("local")
        .On(ServiceReads.Detect("app"), $"runit {Dir}\n")
        .On(ServiceReads.SvStatus(Dir), $"run: {Dir}: (pid 100) 60s\n")
        .On(FakeTransport.Key("cat", "--", "/proc/100/stat"), Stat(100, 1000));
}
