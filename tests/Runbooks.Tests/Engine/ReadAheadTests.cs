using Runbooks.Dsl;
using Runbooks.Engine;
using Runbooks.Tests.Support;
using Runbooks.Transport;

namespace Runbooks.Tests.Engine;

/// <summary>
/// The steps' declared reads, read ahead in one round trip: a plan reads them all at once, a verify reads the next
/// step's with its own, and the decisions are the ones the reads made one by one give.
/// </summary>
[Category("process")]
public class ReadAheadTests : TempFolderTest
{
    private Task<(RunSummary Summary, IReadOnlyList<Runbooks.Commands.Command> Ran)> RunAsync(RunMode mode, CancellationToken ct) =>
        RunAsync(mode, [new Target("t", "", [], [Line("a", "listen = 8080"), Line("b", "workers = 4")])], ct);

    private async Task<(RunSummary Summary, IReadOnlyList<Runbooks.Commands.Command> Ran)> RunAsync(RunMode mode, IEnumerable<Target> targets, CancellationToken ct)
    {
        var counting = new FakeTransport("local").Forwarding(new LocalTransport());
        await using var inventory = new Inventory().Add(Inventory.DefaultHost, counting);
        var summary = await new Runner(new TargetGraph([.. targets]), inventory, new RunObserver()).RunAsync(new RunRequest(mode, []), ct);
        return (summary, counting.Ran);
    }

    private FileLineStep Line(string file, string line) => new(Path.Combine(Folder, file + ".conf"), line, create: true);

    // The files each command names, in the order the commands ran: "a" for a read of a.conf, "bc" for one of b and c.
    private string[] FilesReadPerCommand(IEnumerable<Runbooks.Commands.Command> ran, params string[] files) =>
        [.. ran.Select(c => string.Concat(files.Where(f => c.Render().Contains(Path.Combine(Folder, f + ".conf"), StringComparison.Ordinal))))];

    private async Task WriteAsync(CancellationToken ct, params (string File, string Text)[] files)
    {
        foreach (var (file, text) in files)
        {
            await System.IO.File.WriteAllTextAsync(Path.Combine(Folder, file + ".conf"), text, ct);
        }
    }

    [Test, CancelAfter(30_000)]
    public async Task A_plan_reads_every_declared_fact_of_the_host_in_one_command(CancellationToken ct)
    {
        await System.IO.File.WriteAllTextAsync(Path.Combine(Folder, "b.conf"), "workers = 2\n", ct);

        var (summary, ran) = await RunAsync(RunMode.Plan, ct);

        var steps = summary.Targets[0].Steps;
        Assert.That(steps.Select(s => s.Outcome), Is.EqualTo(new[] { StepOutcome.WillChange, StepOutcome.WillChange }));
        Assert.That(ran, Has.Count.EqualTo(1), "two steps, a stat and a cat each, one round trip: " + string.Join(" | ", ran.Select(c => c.Program)));
        Assert.That(steps.SelectMany(s => s.Facts).Select(f => f.Command), Has.Some.StartsWith("cat -- ").And.Some.StartsWith("stat "), "the plan still records each fact a decision rested on");
    }

    [Test, CancelAfter(30_000)]
    public async Task A_verify_reads_the_next_steps_facts_with_its_own_and_the_next_probe_runs_nothing(CancellationToken ct)
    {
        await System.IO.File.WriteAllTextAsync(Path.Combine(Folder, "b.conf"), "workers = 4\n", ct);

        var (summary, ran) = await RunAsync(RunMode.Run, ct);

        Assert.That(summary.Targets[0].Steps.Select(s => s.Outcome), Is.EqualTo(new[] { StepOutcome.Changed, StepOutcome.Satisfied }));
        Assert.That(await System.IO.File.ReadAllTextAsync(Path.Combine(Folder, "a.conf"), ct), Is.EqualTo("listen = 8080\n"));
        // a's probe (its stat and cat together), a's append (with undo's hash before and after), then a's verify
        // together with b's probe: b is read once, in a's verify, and nothing runs after it.
        var b = Path.Combine(Folder, "b.conf");
        var readingB = ran.Where(c => c.Arguments.Any(a => a.Reveal() == b)).ToList();
        Assert.That(readingB, Has.Count.EqualTo(1), string.Join(" | ", ran.Select(c => c.Render())));
        Assert.That(readingB[0], Is.SameAs(ran[^1]));
        Assert.That(readingB[0].Arguments.Select(a => a.Reveal()), Has.Member(Path.Combine(Folder, "a.conf")).And.Member(b));
        Assert.That(ran.Count(c => !c.ReadOnly), Is.EqualTo(1), "one write");
    }

    [Test, CancelAfter(30_000)]
    public async Task A_run_where_nothing_changes_reads_further_ahead_with_each_satisfied_step(CancellationToken ct)
    {
        var files = new[] { "a", "b", "c", "d", "e", "f", "g", "h" };
        await WriteAsync(ct, [.. files.Select(f => (f, $"{f} = 1\n"))]);

        var (summary, ran) = await RunAsync(RunMode.Run, [new Target("t", "", [], [.. files.Select(f => Line(f, $"{f} = 1"))])], ct);

        Assert.That(summary.Targets[0].Steps.Select(s => s.Outcome), Is.All.EqualTo(StepOutcome.Satisfied));
        // The target starts with a's reads; b's probe reads one step ahead (c), c's two (d, e), d's four (f, g, h: all
        // that is left): each file once, four round trips for eight steps (one per step before).
        Assert.That(FilesReadPerCommand(ran, files), Is.EqualTo(new[] { "a", "bc", "de", "fgh" }), string.Join(" | ", ran.Select(c => c.Render())));
    }

    [Test, CancelAfter(30_000)]
    public async Task A_step_that_applies_starts_the_window_again_and_what_was_read_ahead_is_read_again(CancellationToken ct)
    {
        var files = new[] { "a", "b", "c", "d", "e", "f" };
        await WriteAsync(ct, [.. files.Select(f => (f, f is "a" or "d" ? "" : $"{f} = 1\n"))]);

        var (summary, ran) = await RunAsync(RunMode.Run, [new Target("t", "", [], [.. files.Select(f => Line(f, $"{f} = 1"))])], ct);

        Assert.That(summary.Targets[0].Steps.Select(s => s.Outcome), Is.EqualTo(new[]
        {
            StepOutcome.Changed, StepOutcome.Satisfied, StepOutcome.Satisfied, StepOutcome.Changed, StepOutcome.Satisfied, StepOutcome.Satisfied,
        }));
        Assert.That(FilesReadPerCommand(ran.Where(c => !c.ReadOnly), files), Is.EqualTo(new[] { "a", "d" }), "the two appends");
        // a's probe, the append between undo's hashes of a before and after, its verify with b; b's probe comes right after a change and reads
        // nothing ahead; c's reads one step ahead (d), d's two (e, f); d applies, so its verify reads d and e again and f's probe f.
        Assert.That(FilesReadPerCommand(ran, files), Is.EqualTo(new[] { "a", "a", "a", "a", "ab", "cd", "ef", "d", "d", "d", "de", "f" }), string.Join(" | ", ran.Select(c => c.Render())));
    }

    [Test, CancelAfter(30_000)]
    public async Task Reading_ahead_goes_on_into_the_next_target_on_the_same_host(CancellationToken ct)
    {
        await WriteAsync(ct, ("a", "a = 1\n"), ("b", "b = 1\n"), ("c", "c = 1\n"), ("d", "d = 1\n"));
        var first = new Target("first", "", [], [Line("a", "a = 1"), Line("b", "b = 1")]);
        var second = new Target("second", "", ["first"], [Line("c", "c = 1"), Line("d", "d = 1")]);

        var (summary, ran) = await RunAsync(RunMode.Run, [first, second], ct);

        Assert.That(summary.Succeeded, Is.True);
        Assert.That(FilesReadPerCommand(ran, "a", "b", "c", "d"), Is.EqualTo(new[] { "a", "bc", "d" }), string.Join(" | ", ran.Select(c => c.Render())));
    }

    [Test, CancelAfter(30_000)]
    public async Task A_target_after_one_whose_last_step_applied_starts_from_its_own_first_step(CancellationToken ct)
    {
        await WriteAsync(ct, ("a", "a = 1\n"), ("b", "b = 1\n"), ("c", ""), ("d", "d = 1\n"), ("e", "e = 1\n"), ("f", "f = 1\n"));
        var first = new Target("first", "", [], [Line("a", "a = 1"), Line("b", "b = 1"), Line("c", "c = 1")]);
        var second = new Target("second", "", ["first"], [Line("d", "d = 1"), Line("e", "e = 1"), Line("f", "f = 1")]);

        var (summary, ran) = await RunAsync(RunMode.Run, [first, second], ct);

        Assert.That(summary.Succeeded, Is.True);
        // c's probe reads d and e ahead, then c applies; its verify reads c with d, the next target's first step. The next
        // target starts from d, not with the two steps c's probe had earned (that would read e alone at once), and
        // e's probe reads e again with f.
        var files = new[] { "a", "b", "c", "d", "e", "f" };
        Assert.That(FilesReadPerCommand(ran, files), Is.EqualTo(new[] { "a", "bc", "de", "c", "c", "c", "cd", "ef" }), string.Join(" | ", ran.Select(c => c.Render())));
    }

    [Test, CancelAfter(30_000)]
    public async Task Reading_ahead_does_not_cross_another_hosts_target(CancellationToken ct)
    {
        await WriteAsync(ct, ("a", "a = 1\n"), ("b", "b = 1\n"), ("c", "c = 1\n"), ("d", "d = 1\n"));
        var here = new FakeTransport("local").Forwarding(new LocalTransport());
        var there = new FakeTransport("other").Forwarding(new LocalTransport());
        await using var inventory = new Inventory().Add(Inventory.DefaultHost, here).Add("other", there);
        var graph = new TargetGraph([
            new Target("first", "", [], [Line("a", "a = 1"), Line("b", "b = 1")]),
            new Target("elsewhere", "", ["first"], [Line("c", "c = 1")]).On("other"),
            new Target("last", "", ["elsewhere"], [Line("d", "d = 1")]),
        ]);

        var summary = await new Runner(graph, inventory, new RunObserver()).RunAsync(new RunRequest(RunMode.Run, []), ct);

        Assert.That(summary.Succeeded, Is.True);
        // b's probe would read d ahead if the host's targets were one sequence; "elsewhere" runs between them, and
        // whatever it waits for there, d is read when "last" starts.
        Assert.That(FilesReadPerCommand(here.Ran, "a", "b", "d"), Is.EqualTo(new[] { "a", "b", "d" }), string.Join(" | ", here.Ran.Select(c => c.Render())));
    }
}
