using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Engine;

/// <summary>One probe round lasts until a command is applied: steps asking the same tool share one read.</summary>
public class FactCacheTests
{
    private static readonly Command Report = new Command("report", ["--json"]).AsReadOnly();

    private static async Task<ScriptedTransport> Run(RunMode mode, params Step[] steps)
    {
        var transport = new ScriptedTransport().On("report", stdout: "{}").On("fix");
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

    private sealed class ReportStep(string name, bool satisfied = false) : Step
    {
        private bool _fixed = satisfied;

        public override string Description => $"{name} fixed";

        public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
        {
            await host.ReadAsync(Report, cancellationToken);
            return _fixed ? StepProbe.Satisfied("fixed") : StepProbe.Change("broken", new Command("fix", [name]));
        }

        public override async Task ApplyAsync(HostContext host, StepProbe probe, CancellationToken cancellationToken)
        {
            await base.ApplyAsync(host, probe, cancellationToken);
            _fixed = true;
        }
    }
}
