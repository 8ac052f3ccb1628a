using Runbooks.Commands;
using Runbooks.Tests.Support;
using Runbooks.Transport;

namespace Runbooks.Tests.Harness;

/// <summary>
/// A saved plan of a shipped runbook, made against its scenario's broken hosts, runs exactly as approved; a
/// fact that moves between plan and run is refused. Real hosts (network namespaces), the CLI as an operator runs it.
/// </summary>
[Category("harness"), NonParallelizable]
public class SavedPlanScenarioTests
{
    // exact: every planned action runs. The tunnel's handshake step is the exception that proves the rule: by the time
    // it is probed again the peers have already shaken hands (keepalive), so it is satisfied and its ping and wait are skipped.
    [TestCase("webapp", "webapp-repair.csx", "web", true)]
    [TestCase("connection", "wireguard-link.csx", "server", false)]
    [CancelAfter(180_000)]
    public async Task A_saved_plan_of_a_shipped_runbook_runs_exactly_its_actions_and_a_moved_fact_is_refused(string name, string runbook, string tamperHost, bool exact, CancellationToken cancellationToken)
    {
        await using var broken = await BrokenScenario.CreateAsync(name, $"sp{Environment.ProcessId % 1000}{name[0]}", cancellationToken);
        var (environment, hosts, work, path) = (broken.Environment, broken.Hosts, broken.Work, broken.Runbook);
        Assert.That(path, Does.EndWith(runbook));

        // A plan, then a fact moved on one host before the run: refused, nothing changed.
        var stale = Path.Combine(work, "stale.json");
        var (staleExit, _, staleError) = CliRunner.Run(["plan", path, .. hosts, "--out", stale, "--detailed-exitcode"]);
        Assert.That(staleExit, Is.EqualTo(3), staleError);
        await environment.Inventory.Context(tamperHost).Transport.RunCheckedAsync(new Command("iptables", ["-A", "INPUT", "-p", "tcp", "--dport", "9", "-j", "DROP"]), cancellationToken);
        var (refusedExit, refusedOut, refusedError) = CliRunner.Run(["run", path, .. hosts, "--plan", stale, "--journal", Path.Combine(work, "refused.jsonl")]);
        Assert.That(refusedExit, Is.EqualTo(1), refusedOut + refusedError);
        Assert.That(refusedError + refusedOut, Does.Contain($"on host {tamperHost}: the fact `iptables-save -t filter` changed since the plan"));

        // A fresh plan of the same hosts runs exactly as saved and leaves nothing to do.
        var plan = Path.Combine(work, "plan.json");
        var journal = Path.Combine(work, "run.jsonl");
        var (planExit, _, planError) = CliRunner.Run(["plan", path, .. hosts, "--out", plan, "--detailed-exitcode"]);
        Assert.That(planExit, Is.EqualTo(3), planError);
        var (runExit, runOut, runError) = CliRunner.Run(["run", path, .. hosts, "--plan", plan, "--approved-by", "carol", "--journal", journal]);
        Assert.That(runExit, Is.EqualTo(0), runOut + runError);

        var conformance = SavedPlanFiles.Conformance(plan, journal);
        Assert.That(conformance.Actions, Is.GreaterThan(0));
        Assert.That(conformance.Equal, Is.True, "every action that ran was planned, in the plan's order: " + conformance);
        if (exact)
        {
            Assert.That(conformance.Exact, Is.True, "the journal's actions are the plan's: " + conformance);
        }

        var (againExit, _, againError) = CliRunner.Run(["plan", path, .. hosts, "--detailed-exitcode"]);
        Assert.That(againExit, Is.EqualTo(0), "nothing left to change: " + againError);
    }
}
