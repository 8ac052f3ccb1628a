using Runbooks.Engine;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Engine;

public class StepContractTests
{
    private static async Task<(RunSummary Summary, FakeTransport Transport)> Run(RunMode mode, params Target[] targets)
    {
        var transport = new FakeTransport("scripted").WhenProgram("set-flag");
        await using var inventory = new Inventory().Add(Inventory.DefaultHost, transport);
        var summary = await new Runner(new TargetGraph(targets), inventory, new RunObserver()).RunAsync(new RunRequest(mode, []), CancellationToken.None);
        return (summary, transport);
    }

    [Test]
    public async Task A_satisfied_step_runs_no_command()
    {
        var (summary, transport) = await Run(RunMode.Run, new Target("t", "", [], [new FlagStep("a", satisfied: true)]));

        Assert.That(summary.Targets[0].Status, Is.EqualTo(TargetStatus.Satisfied));
        Assert.That(transport.Ran, Is.Empty);
    }

    [Test]
    public async Task A_step_that_changes_is_verified_by_a_second_probe()
    {
        var step = new FlagStep("a");
        var (summary, transport) = await Run(RunMode.Run, new Target("t", "", [], [step]));

        Assert.That(summary.Targets[0].Steps[0].Outcome, Is.EqualTo(StepOutcome.Changed));
        Assert.That(summary.Targets[0].Steps[0].ObservedAfter, Is.EqualTo("set"));
        Assert.That(transport.Ran.Select(c => c.Render()), Is.EqualTo(new[] { "set-flag a" }));
    }

    [Test]
    public async Task A_blocked_precondition_fails_the_target_and_changes_nothing()
    {
        var later = new FlagStep("b");
        var (summary, transport) = await Run(RunMode.Run, new Target("t", "", [], [new FlagStep("a", blockedBecause: "disk missing"), later]));

        Assert.That(summary.Targets[0].Status, Is.EqualTo(TargetStatus.Failed));
        Assert.That(summary.Targets[0].Error, Does.Contain("disk missing").And.Contain("nothing was changed"));
        Assert.That(transport.Ran, Is.Empty);
        Assert.That(later.Applied, Is.Zero);
    }

    [Test]
    public async Task A_step_whose_postcondition_does_not_land_is_reported_with_before_and_after()
    {
        var (summary, _) = await Run(RunMode.Run, new Target("t", "", [], [new FlagStep("a", lands: false)]));

        var step = summary.Targets[0].Steps[0];
        Assert.That(step.Outcome, Is.EqualTo(StepOutcome.DidNotLand));
        Assert.That(summary.Targets[0].Error, Does.Contain("before: unset; after: unset"));
    }

    [Test]
    public async Task A_failing_command_names_host_argv_exit_code_and_stderr()
    {
        var transport = new FakeTransport("root@db1:22").WhenProgram("set-flag", exit: 3, stderr: "device busy\n");
        await using var inventory = new Inventory().Add(Inventory.DefaultHost, transport);
        var graph = new TargetGraph([new Target("t", "", [], [new FlagStep("a")])]);

        var summary = await new Runner(graph, inventory, new RunObserver()).RunAsync(new RunRequest(RunMode.Run, []), CancellationToken.None);

        Assert.That(summary.Targets[0].Error, Does.Contain("on root@db1:22").And.Contain("`set-flag a` exited 3").And.Contain("device busy"));
    }

    [TestCase(RunMode.Plan, 0, false)]
    [TestCase(RunMode.Run, 1, true)]
    public async Task A_writing_check_is_never_run_by_a_plan_and_the_plan_says_so(RunMode mode, int evaluations, bool probed)
    {
        var ran = 0;
        var writes = Check.Writing("a file can be created in /data", (_, _) => { ran++; return Task.FromResult(new CheckResult(true, "created and removed a file")); });

        var (summary, _) = await Run(mode, new Target("t", "", [], [new FlagStep("a", satisfied: true)]).Ensures(writes));

        var outcome = summary.Targets[0].Checks.Single();
        Assert.That(ran, Is.EqualTo(evaluations));
        Assert.That(outcome.Probed, Is.EqualTo(probed));
        Assert.That(outcome.Observed, Is.EqualTo(probed ? "created and removed a file" : "not probed in a plan: writes"));
    }

    [Test]
    public void The_mount_writability_check_declares_that_it_writes() =>
        Assert.That(Runbooks.Dsl.Fs.Mount("/data").CanWrite().Writes, Is.True);

    [Test]
    public async Task A_plan_probes_every_step_and_applies_none()
    {
        var first = new FlagStep("a");
        var second = new FlagStep("b");
        var (summary, transport) = await Run(RunMode.Plan, new Target("t", "", [], [first, second]));

        Assert.That(summary.Targets[0].Steps.Select(s => s.Outcome), Is.EqualTo(new[] { StepOutcome.WillChange, StepOutcome.WillChange }));
        Assert.That(summary.Targets[0].Steps[0].Actions.Select(a => a.Summary), Is.EqualTo(new[] { "$ set-flag a" }));
        Assert.That(transport.Ran, Is.Empty);
        Assert.That(first.Applied + second.Applied, Is.Zero);
    }

    [Test]
    public async Task A_failed_target_stops_its_dependants_but_not_independent_targets()
    {
        var (summary, _) = await Run(
            RunMode.Run,
            new Target("broken", "", [], [new FlagStep("a", blockedBecause: "no")]),
            new Target("dependant", "", ["broken"], [new FlagStep("b")]),
            new Target("independent", "", [], [new FlagStep("c")]));

        var status = summary.Targets.ToDictionary(t => t.Name, t => t.Status);
        Assert.That(status["broken"], Is.EqualTo(TargetStatus.Failed));
        Assert.That(status["dependant"], Is.EqualTo(TargetStatus.NotRun));
        Assert.That(status["independent"], Is.EqualTo(TargetStatus.Succeeded));
        Assert.That(summary.Targets.Single(t => t.Name == "dependant").Error, Does.Contain("dependency 'broken' failed"));
    }

    [Test]
    public async Task Requires_that_does_not_hold_stops_the_target_before_any_step()
    {
        var step = new FlagStep("a");
        var (summary, transport) = await Run(RunMode.Run, new Target("t", "", [], [step]).Requires("maintenance window open", () => false));

        Assert.That(summary.Targets[0].Status, Is.EqualTo(TargetStatus.Failed));
        Assert.That(summary.Targets[0].Error, Does.Contain("maintenance window open"));
        Assert.That(transport.Ran, Is.Empty);
    }

    [Test]
    public async Task Ensures_that_does_not_hold_after_the_steps_fails_the_target()
    {
        var (summary, _) = await Run(RunMode.Run, new Target("t", "", [], [new FlagStep("a")]).Ensures("service answers", () => false));

        Assert.That(summary.Targets[0].Status, Is.EqualTo(TargetStatus.Failed));
        Assert.That(summary.Targets[0].Error, Does.StartWith("did not land: service answers"));
    }

    [Test]
    public async Task A_shared_dependency_runs_once()
    {
        var shared = new FlagStep("shared");
        var (summary, transport) = await Run(
            RunMode.Run,
            new Target("base", "", [], [shared]),
            new Target("left", "", ["base"], []),
            new Target("right", "", ["base"], []),
            new Target("default", "", ["left", "right"], []));

        Assert.That(shared.Applied, Is.EqualTo(1));
        Assert.That(summary.Targets.Count(t => t.Name == "base"), Is.EqualTo(1));
        Assert.That(transport.Ran, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Parallel_runs_independent_targets_concurrently_and_still_waits_for_dependencies()
    {
        var gate = new TaskCompletionSource();
        var started = new List<string>();
        Step Waiting(string name) => new DelegateStep(name, async () =>
        {
            lock (started)
            {
                started.Add(name);
                if (started.Count == 2)
                {
                    gate.TrySetResult();
                }
            }

            // Each of the two independent targets waits for the other to start: only concurrency gets past this.
            await gate.Task.WaitAsync(TimeSpan.FromSeconds(5));
        });
        var graph = new TargetGraph([new Target("a", "", [], [Waiting("a")]), new Target("b", "", [], [Waiting("b")]), new Target("c", "", ["a", "b"], [Waiting("c")])]);
        await using var inventory = new Inventory().Add(Inventory.DefaultHost, new FakeTransport("scripted"));

        var summary = await new Runner(graph, inventory, new RunObserver()).RunAsync(new RunRequest(RunMode.Run, ["c"], Parallel: true), CancellationToken.None);

        Assert.That(summary.Succeeded, Is.True, string.Join("; ", summary.Targets.Select(t => t.Error)));
        Assert.That(started.Last(), Is.EqualTo("c"));
    }

    private sealed class DelegateStep(string name, Func<Task> apply) : Step
    {
        private bool _done;

        public override string Description => name;

        public override Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken) =>
            Task.FromResult(_done ? StepProbe.Satisfied("done") : StepProbe.Change("pending"));

        // Overrides apply to run the test's own callback (to observe ordering), which no action could express.
        public override async Task ApplyAsync(HostContext host, StepProbe probe, CancellationToken cancellationToken)
        {
            await apply();
            _done = true;
        }
    }
}
