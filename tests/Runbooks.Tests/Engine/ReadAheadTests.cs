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
    private async Task<(RunSummary Summary, IReadOnlyList<Runbooks.Commands.Command> Ran)> RunAsync(RunMode mode, CancellationToken ct)
    {
        var counting = new FakeTransport("local").Forwarding(new LocalTransport());
        await using var inventory = new Inventory().Add(Inventory.DefaultHost, counting);
        var steps = new Step[]
        {
            new FileLineStep(Path.Combine(Folder, "a.conf"), "listen = 8080", create: true),
            new FileLineStep(Path.Combine(Folder, "b.conf"), "workers = 4", create: true),
        };
        var summary = await new Runner(new TargetGraph([new Target("t", "", [], steps)]), inventory, new RunObserver()).RunAsync(new RunRequest(mode, []), ct);
        return (summary, counting.Ran);
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
}
