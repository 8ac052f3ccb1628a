using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Engine.Actions;

public class ActionTests
{
    [Test]
    public void A_diff_shows_removals_before_additions_with_three_lines_of_context()
    {
        var before = string.Join("\n", Enumerable.Range(1, 10).Select(i => $"line {i}")) + "\n";
        var after = before.Replace("line 5\n", "line five\n", StringComparison.Ordinal);

        Assert.That(UnifiedDiff.Lines("/f", before, after), Is.EqualTo(new[]
        {
            "--- /f", "+++ /f", "@@ -2,7 +2,7 @@", " line 2", " line 3", " line 4", "-line 5", "+line five", " line 6", " line 7", " line 8",
        }));
    }

    [Test]
    public void Identical_texts_have_no_diff_and_a_secret_is_never_diffed()
    {
        Assert.That(UnifiedDiff.Lines("/f", "a\n", "a\n"), Is.Empty);
        var secret = WriteFile.New("/etc/key", Secret.Of("s3cr3t-value-123"), "0600");
        Assert.That(secret.Detail, Is.Empty);
        Assert.That(secret.ToJson().ToJsonString(), Does.Not.Contain("s3cr3t"));
    }

    [Test]
    public async Task A_guard_that_no_longer_holds_stops_before_the_next_action_and_names_it()
    {
        var host = new FakeTransport();
        var context = host.Context();
        var error = await Assert.ThrowsAsync<RunbookException>(() => context.RunActionsAsync(
            [new Guard(Check.From("nothing lives on the PV", () => false)), new RunCommand(new Command("pvremove", ["--", "/dev/loop1"]))],
            CancellationToken.None));

        Assert.That(error!.Message, Does.Contain("on host fake: 'nothing lives on the PV' no longer holds").And.Contain("before `pvremove -- /dev/loop1`"));
        Assert.That(host.Ran, Is.Empty, "pvremove must not run");
    }

    [Test]
    public async Task A_failed_command_with_a_read_for_its_failure_carries_what_the_read_found()
    {
        var start = new Command("pg_ctl", ["start", "-w", "-D", "/var/lib/postgresql/15/main"]);
        var tail = new Command("tail", ["-n", "20", "--", "/var/log/postgresql/postgresql-15-main.log"]).AsReadOnly();
        var host = new FakeTransport()
            .On(start, "waiting for server to start.... stopped waiting\n", exit: 1, stderr: "pg_ctl: could not start server\n")
            .On(tail, "LOG:  starting PostgreSQL 15.18\nFATAL:  requested timeline 4 does not contain minimum recovery point 0/3053018 on timeline 1\n");
        var action = new RunCommand(start) { WhenItFailsRead = tail };

        var error = await Assert.ThrowsAsync<CommandFailedException>(() => host.Context().RunActionsAsync([action], CancellationToken.None));

        Assert.That(error!.Message, Does.Contain("exited 1").And.Contain("stderr: pg_ctl: could not start server"));
        Assert.That(error.Message, Does.Contain("tail -n 20 -- /var/log/postgresql/postgresql-15-main.log:\n    LOG:  starting PostgreSQL 15.18\n    FATAL:  requested timeline 4"));
        Assert.That(host.Ran.Select(FakeTransport.Key), Is.EqualTo(new[] { FakeTransport.Key(start), FakeTransport.Key(tail) }), "the read runs only after the failure");
        Assert.That((string?)action.ToJson()["whenItFailsRead"]![0], Is.EqualTo("tail"));
    }

    [TestCase(true, "yes")]
    [TestCase(false, "no")]
    public async Task A_branch_runs_the_side_its_condition_picks_at_apply_time(bool condition, string expected)
    {
        var host = new FakeTransport().On("echo yes", "").On("echo no", "");
        var branch = new Branch(Check.From("the mover runs", () => condition), [new RunCommand(new Command("echo", ["yes"]))], [new RunCommand(new Command("echo", ["no"]))]);

        await host.Context().RunActionsAsync([branch], CancellationToken.None);

        Assert.That(host.Ran.Select(FakeTransport.Key), Is.EqualTo(new[] { $"echo {expected}" }));
        Assert.That(branch.Summary, Is.EqualTo("if the mover runs: $ echo yes; otherwise: $ echo no"));
    }

    [Test, CancelAfter(10_000)]
    public async Task A_wait_that_times_out_fails_with_what_it_last_saw(CancellationToken cancellationToken)
    {
        var looks = 0;
        var wait = new WaitUntil(new Check("port 8000 answers", (_, _) => Task.FromResult(new CheckResult(false, $"refused ({++looks})"))), TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(50))
        {
            WhenItFails = "check the service's log",
        };

        var error = await Assert.ThrowsAsync<RunbookException>(() => new FakeTransport().Context().RunActionsAsync([wait], cancellationToken));

        Assert.That(error!.Message, Does.Contain("'port 8000 answers' did not hold within 0.2 s (refused (").And.EndWith("check the service's log"));
        Assert.That(looks, Is.InRange(2, 6), "looked every interval until the timeout");
    }

    [Test]
    public async Task A_saved_plan_runs_only_its_own_actions_and_refuses_a_step_that_now_wants_others()
    {
        var planned = new FlagStep("a");
        var plan = await new Runner(new TargetGraph([new Target("t", "", [], [planned])]), Inventory(out _), new RunObserver())
            .RunAsync(new RunRequest(RunMode.Plan, []), CancellationToken.None);
        var saved = SavedPlan.From(plan, "x.csx", "0123456789abcdef", []);

        var other = new FlagStep("b");
        var summary = await new Runner(new TargetGraph([new Target("t", "", [], [other])]), Inventory(out var transport), new RunObserver())
            .RunAsync(new RunRequest(RunMode.Run, []) { Approved = saved }, CancellationToken.None);

        Assert.That(summary.Targets[0].Steps[0].Outcome, Is.EqualTo(StepOutcome.Failed));
        Assert.That(summary.Targets[0].Steps[0].Error, Does.Contain("differ from the approved plan").And.Contain("$ set-flag a").And.Contain("$ set-flag b"));
        Assert.That(other.Applied, Is.Zero);
        Assert.That(transport.Ran, Is.Empty);
    }

    [Test]
    public async Task A_step_blocked_when_planned_does_not_run_from_a_saved_plan_even_once_unblocked_and_its_dependents_wait()
    {
        var plan = await new Runner(new TargetGraph([new Target("t", "", [], [new FlagStep("a", blockedBecause: "disk missing")]), new Target("u", "", ["t"], [new FlagStep("b")])]),
                Inventory(out _), new RunObserver())
            .RunAsync(new RunRequest(RunMode.Plan, []), CancellationToken.None);
        var saved = SavedPlan.From(plan, "x.csx", "0123456789abcdef", []);
        Assert.That(saved.Step("u", 0)!.WaitsFor, Is.EqualTo("t step 1"), "the dependent's step waits behind the blocked one");
        Assert.That((saved.Stage.Number, saved.Stage.Changes, saved.Stage.Blocked, saved.Stage.Waiting), Is.EqualTo((1, 0, new[] { "t step 1" }, 1)));

        var (now, after) = (new FlagStep("a"), new FlagStep("b"));
        var summary = await new Runner(new TargetGraph([new Target("t", "", [], [now]), new Target("u", "", ["t"], [after])]), Inventory(out var transport), new RunObserver())
            .RunAsync(new RunRequest(RunMode.Run, []) { Approved = saved }, CancellationToken.None);

        Assert.That(summary.Targets.Select(t => t.Status), Is.EqualTo(new[] { TargetStatus.Waiting, TargetStatus.Waiting }));
        Assert.That(summary.Targets[0].Error, Is.EqualTo("step 1 'flag a set' was blocked when planned: the next stage's plan covers it"));
        Assert.That(summary.Targets[1].Error, Is.EqualTo("dependency 't' waits for the next stage"));
        Assert.That(summary.StageDone, Is.True);
        Assert.That(now.Applied + after.Applied, Is.Zero);
        Assert.That(transport.Ran, Is.Empty);
    }

    private static Inventory Inventory(out FakeTransport transport)
    {
        transport = new FakeTransport().On("set-flag a", "").On("set-flag b", "");
        return new Inventory().Add(Runbooks.Engine.Inventory.DefaultHost, transport);
    }
}
