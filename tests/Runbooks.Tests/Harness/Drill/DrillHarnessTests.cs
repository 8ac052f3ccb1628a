using Runbooks.Compiler;
using Runbooks.Harness;
using Runbooks.Harness.Drill;

namespace Runbooks.Tests.Harness.Drill;

/// <summary>
/// <c>runbook harness drill</c> on the shipped netns scenarios: three rounds each of faults re-applied from the
/// scenario's own break targets, repaired by the runbook the scenario proves.
/// </summary>
[Category("harness"), NonParallelizable]
public sealed class DrillHarnessTests
{
    [OneTimeSetUp]
    public void RequirePrerequisites()
    {
        if (Environment.UserName != "root" && !string.Equals(Environment.GetEnvironmentVariable("USER"), "root", StringComparison.Ordinal))
        {
            Assert.Ignore("DRILL HARNESS SKIPPED: creating network namespaces needs root");
        }

        foreach (var tool in new[] { "ip", "nsenter", "unshare", "wg", "wireguard-go", "iptables", "ip6tables", "python3", "curl", "ping", "runsvdir", "logrotate" })
        {
            if (!Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(d => System.IO.File.Exists(Path.Combine(d, tool))))
            {
                Assert.Ignore($"DRILL HARNESS SKIPPED: '{tool}' is not installed (`runbook harness prerequisites | sudo bash`)");
            }
        }
    }

    [TestCase("connection", 1UL)]
    [TestCase("webapp", 1UL)]
    [CancelAfter(300_000)]
    public async Task Three_rounds_of_seeded_faults_are_each_detected_and_recovered(string name, ulong seed, CancellationToken cancellationToken)
    {
        var scenario = await HarnessCatalog.LoadAsync(name, 0.1);
        var output = Directory.CreateTempSubdirectory($"rb-drill-{name}-").FullName;
        var drill = new DrillRunner(source => RunbookCompiler.Compile(source), TestContext.Progress);
        var report = await drill.RunAsync(scenario, null, new DrillOptions(output, 3, TimeSpan.FromSeconds(1), seed, TimeSpan.FromSeconds(90)), cancellationToken);
        var markdown = System.IO.File.ReadAllText(Path.Combine(output, "drill.md"));
        TestContext.Out.WriteLine(markdown);

        Assert.Multiple(() =>
        {
            Assert.That(report.Setup.Where(p => !p.Passed).Select(p => $"{p.Name}: {p.Detail}"), Is.Empty);
            Assert.That(report.Rounds, Has.Count.EqualTo(3));
            Assert.That(report.Rounds.Where(r => !r.Recovered).Select(r => $"round {r.Number}: {r.Detail}"), Is.Empty);
            Assert.That(report.Rounds.Select(r => r.DetectedAfter), Has.All.Not.Null, "every fault makes a spec fail");
            Assert.That(report.Rounds.Select(r => r.Faults), Is.EqualTo(FaultChooser.Choose(report.Candidates, 3, seed)), "the seed chose the faults");
            Assert.That(report.Passed, Is.True);
            Assert.That(markdown, Does.Contain("MTTR p50").And.Contain("<svg"));
        });
    }

    [Test, CancelAfter(300_000)]
    public async Task A_live_watch_over_the_namespaces_repairs_three_rounds_and_its_journal_times_them(CancellationToken cancellationToken)
    {
        var scenario = await HarnessCatalog.LoadAsync("connection", 0.1);
        var output = Directory.CreateTempSubdirectory("rb-drill-watch-connection-").FullName;
        var drill = new DrillRunner(source => RunbookCompiler.Compile(source), TestContext.Progress);
        var report = await drill.RunAsync(scenario, null, new DrillOptions(output, 3, TimeSpan.FromSeconds(1), 1, TimeSpan.FromSeconds(90), WatchEvery: TimeSpan.FromSeconds(1)), cancellationToken);
        var journal = System.IO.File.ReadAllLines(Path.Combine(output, "watch.jsonl"));
        TestContext.Out.WriteLine(System.IO.File.ReadAllText(Path.Combine(output, "drill.md")));

        Assert.Multiple(() =>
        {
            Assert.That(report.Setup.Where(p => !p.Passed).Select(p => $"{p.Name}: {p.Detail}"), Is.Empty);
            Assert.That(report.Rounds.Where(r => !r.Recovered).Select(r => $"round {r.Number}: {r.Detail}"), Is.Empty);
            Assert.That(report.Rounds.Select(r => r.Detail), Has.All.StartWith("repaired by watch pass"));
            Assert.That(report.Rounds.Select(r => r.DetectedBy), Has.All.Match("^(server|client) step \\d+ "), "the drifted step as the watch's journal names it");
            Assert.That(journal.Count(l => l.Contains("\"event\":\"pass-end\"", StringComparison.Ordinal) && l.Contains("\"drift\":true", StringComparison.Ordinal)),
                Is.GreaterThanOrEqualTo(3), "the watch's own journal shows a repairing pass per round");
            Assert.That(journal[^1], Does.Contain("\"event\":\"watch-end\""), "the watch was stopped cleanly when the drill ended");
            Assert.That(report.Passed, Is.True);
        });
    }
}
