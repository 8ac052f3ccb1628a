using Runbooks.Commands;
using Runbooks.Dsl;
using Runbooks.Engine;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Engine;

/// <summary>One probe round lasts until a command is applied: steps asking the same tool share one read.</summary>
public class FactCacheTests
{
    private static readonly Command Report = new Command("report", ["--json"]).AsReadOnly();

    private static async Task<FakeTransport> Run(RunMode mode, params Step[] steps)
    {
        var transport = new FakeTransport("scripted").WhenProgram("report", stdout: "{}").WhenProgram("fix");
        await using var inventory = new Inventory().Add(Inventory.DefaultHost, transport);
        await new Runner(new TargetGraph([new Target("t", "", [], steps)]), inventory, new RunObserver()).RunAsync(new RunRequest(mode, []), CancellationToken.None);
        return transport;
    }

    [Test]
    public async Task Satisfied_steps_that_read_the_same_report_run_it_once()
    {
        var transport = await Run(RunMode.Run, new ReportStep("a", satisfied: true), new ReportStep("b", satisfied: true), new ReportStep("c", satisfied: true));

        Assert.That(transport.Ran.Select(c => c.Program), Is.EqualTo(new[] { "report" }));
    }

    [Test]
    public async Task A_plan_reads_each_report_once_for_all_its_steps()
    {
        var transport = await Run(RunMode.Plan, new ReportStep("a"), new ReportStep("b"));

        Assert.That(transport.Ran.Select(c => c.Program), Is.EqualTo(new[] { "report" }));
    }

    [Test]
    public async Task An_applied_command_makes_the_next_probe_read_the_report_again()
    {
        var transport = await Run(RunMode.Run, new ReportStep("a"), new ReportStep("b", satisfied: true));

        // a: probe, fix, verify (fresh read); b: probes with no command applied since a's verify, so it shares that read.
        Assert.That(transport.Ran.Select(c => c.Program), Is.EqualTo(new[] { "report", "fix", "report" }));
    }

    [Test]
    public async Task A_target_ensures_right_after_its_steps_shares_the_verify_read()
    {
        var transport = new FakeTransport("scripted").WhenProgram("report", stdout: "{}").WhenProgram("fix");
        await using var inventory = new Inventory().Add(Inventory.DefaultHost, transport);
        var ensures = new Check("report readable", async (h, ct) => CheckResult.From((await h.TryReadAsync(Report, ct)).ExitCode == 0));
        var target = new Target("t", "", [], [new ReportStep("a")]).Ensures(ensures);

        var summary = await new Runner(new TargetGraph([target]), inventory, new RunObserver()).RunAsync(new RunRequest(RunMode.Run, []), CancellationToken.None);

        Assert.That(summary.Succeeded, Is.True);
        Assert.That(transport.Ran.Select(c => c.Program), Is.EqualTo(new[] { "report", "fix", "report" }), "the ensures read the report the verify had just read");
    }

    [Test]
    public async Task A_step_that_polled_its_postcondition_while_applying_is_verified_from_that_poll()
    {
        var transport = new FakeTransport("scripted").WhenProgram("report", stdout: "{}").WhenProgram("fix");
        await using var inventory = new Inventory().Add(Inventory.DefaultHost, transport);
        var target = new Target("t", "", [], [new ReportStep("a", pollAfterFix: true)]);

        var summary = await new Runner(new TargetGraph([target]), inventory, new RunObserver()).RunAsync(new RunRequest(RunMode.Run, []), CancellationToken.None);

        Assert.That(summary.Targets[0].Steps[0].Outcome, Is.EqualTo(StepOutcome.Changed));
        Assert.That(transport.Ran.Select(c => c.Program), Is.EqualTo(new[] { "report", "fix", "report" }));
    }

    [Test]
    public async Task A_command_applied_on_one_host_makes_the_other_host_read_again()
    {
        var server = new FakeTransport("scripted").WhenProgram("report", stdout: "{}");
        var client = new FakeTransport("scripted").WhenProgram("report", stdout: "{}").WhenProgram("fix");
        await using var inventory = new Inventory().Add("server", server).Add("client", client);
        var serverSees = new Check("server report", async (h, ct) => CheckResult.From((await h.TryReadAsync(Report, ct)).ExitCode == 0));
        var first = new Target("look", "", [], [new ReportStep("server-look", satisfied: true)]).On("server");
        var fix = new Target("fix", "", ["look"], [new ReportStep("client-fix")]).On("client");
        var after = new Target("after", "", ["fix"], []).On("server").Ensures(serverSees);

        await new Runner(new TargetGraph([first, fix, after]), inventory, new RunObserver()).RunAsync(new RunRequest(RunMode.Run, []), CancellationToken.None);

        Assert.That(server.Ran.Count(c => c.Program == "report"), Is.EqualTo(2), "a change on the client may change what the server sees");
    }

    [Test]
    public async Task A_remount_takes_its_undo_states_from_the_probe_and_the_verify_reads_instead_of_reads_of_its_own()
    {
        const string data = "/tmp/rb-storage-dsl/data";
        var mount = FsReads.Mount(data);
        var transport = new FakeTransport("scripted").Then(mount, Fixture.Read("fs/findmnt-data-ro.json")).On(mount, Fixture.Read("fs/findmnt-data-rw.json")).WhenProgram("mount");
        await using var inventory = new Inventory().Add(Inventory.DefaultHost, transport);
        var applied = new AppliedActions();

        var summary = await new Runner(new TargetGraph([new Target("t", "", [], [new RemountStep(data, writable: true)])]), inventory, applied)
            .RunAsync(new RunRequest(RunMode.Run, []), CancellationToken.None);

        Assert.That(summary.Targets[0].Steps[0].Outcome, Is.EqualTo(StepOutcome.Changed));
        Assert.That(transport.Ran.Select(c => c.Program), Is.EqualTo(new[] { "findmnt", "mount", "findmnt" }), "probe, remount, one read for both the after-state and the verify");
        var (reversal, before, left) = applied.Records.Single();
        Assert.That((before, left), Is.EqualTo(("ro,relatime", "rw,relatime")));
        Assert.That(reversal.Read!.Render(), Is.EqualTo($"findmnt -n -o OPTIONS --mountpoint {data}"), "undo still reads the options alone, later");
    }

    private sealed class AppliedActions : RunObserver
    {
        public List<(Reversal Reversal, string? Before, string? Left)> Records { get; } = [];

        public override void ActionApplied(string host, StepAction action, Reversal reversal, string? before, string? left) => Records.Add((reversal, before, left));
    }

    private sealed class ReportStep(string name, bool satisfied = false, bool pollAfterFix = false) : Step
    {
        private bool _fixed = satisfied;

        public override string Description => $"{name} fixed";

        public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
        {
            await host.ReadAsync(Report, cancellationToken);
            return _fixed ? StepProbe.Satisfied("fixed") : StepProbe.Change("broken", new Command("fix", [name]));
        }

        // Overrides apply to flip the fix in memory (and poll), which no action on a fake host could do.
        public override async Task ApplyAsync(HostContext host, StepProbe probe, CancellationToken cancellationToken)
        {
            await base.ApplyAsync(host, probe, cancellationToken);
            _fixed = true;
            if (pollAfterFix)
            {
                await ProbeAsync(host, cancellationToken);
            }
        }
    }
}
