using Runbooks.Compiler;
using Runbooks.Harness.Drill;
using Runbooks.Harness.Lifecycle;
using Runbooks.Scenarios;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Harness.Drill;

/// <summary>The drill's rounds on a scratch directory as the host: recoveries measured, and a recovery that never comes ends at the timeout.</summary>
[Category("process"), NonParallelizable]
public class DrillRecoveryTests
{
    private string _root = "";

    [SetUp]
    public void Create()
    {
        _root = Directory.CreateTempSubdirectory("rb-drill-").FullName;
        Environment.SetEnvironmentVariable("RB_DRILL_ROOT", _root);
    }

    [TearDown]
    public void Remove() => Directory.Delete(_root, recursive: true);

    [Test, CancelAfter(60_000)]
    public async Task Every_round_s_fault_is_detected_and_the_runbook_recovers_it()
    {
        var report = await DrillAsync("Target(\"fix\", File.Content(root + \"/state/config\", \"good\\n\"));", rounds: 3, TimeSpan.FromSeconds(20));

        Assert.Multiple(() =>
        {
            Assert.That(report.Passed, Is.True, string.Join("\n", report.Setup.Select(p => $"{p.Name}: {p.Detail}").Concat(report.Rounds.Select(r => r.Detail))));
            Assert.That(report.Candidates, Is.EqualTo(new[] { "break" }));
            Assert.That(report.Rounds.Select(r => r.DetectedBy), Has.All.StartWith("config is good"));
            Assert.That(report.Rounds.Select(r => r.RecoveredAfter), Has.All.Not.Null);
            Assert.That(report.Mttr(95), Is.LessThan(TimeSpan.FromSeconds(5)));
            Assert.That(System.IO.File.ReadAllText(Path.Combine(_root, "out", "drill.md")), Does.Contain("**MTTR p50").And.Contain("<svg"));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task A_recovery_that_never_comes_ends_the_round_at_its_timeout_as_a_failed_recovery()
    {
        var report = await DrillAsync(RepairsOnlyOnce, rounds: 2, TimeSpan.FromSeconds(3));

        Assert.Multiple(() =>
        {
            Assert.That(report.Setup.Where(p => !p.Passed).Select(p => $"{p.Name}: {p.Detail}"), Is.Empty);
            Assert.That(report.Rounds, Has.Count.EqualTo(2), "every round runs, each ending at its timeout");
            Assert.That(report.Rounds.Select(r => r.Recovered), Is.All.False);
            Assert.That(report.Rounds.Select(r => r.Detail), Has.All.Contains("no recovery within 3 s").And.All.Contains("config is good"));
            Assert.That(report.Rounds.Select(r => r.Converges), Has.All.GreaterThan(1), "the runbook was tried again until the timeout");
            Assert.That(report.Passed, Is.False);
            Assert.That(System.IO.File.ReadAllText(Path.Combine(_root, "out", "drill.md")), Does.Contain("failed recoveries: 2"));
        });
    }

    // The failover drill's rounds 4 and 5 before the rewind fix: the re-applied break refused on a host the last round
    // left unhealthy. Such a round is a failed recovery that names the target and its reason, without a converge or a wait.
    [Test, CancelAfter(60_000)]
    public async Task A_fault_that_cannot_be_applied_is_a_failed_round_naming_the_target_and_why()
    {
        var report = await DrillAsync("Target(\"fix\", File.Content(root + \"/state/config\", \"good\\n\"));", rounds: 2, TimeSpan.FromSeconds(20), breakTarget: BreaksOnlyOnce);

        Assert.Multiple(() =>
        {
            Assert.That(report.Setup.Where(p => !p.Passed).Select(p => $"{p.Name}: {p.Detail}"), Is.Empty);
            Assert.That(report.Rounds, Has.Count.EqualTo(2), "every round runs");
            Assert.That(report.Rounds.Select(r => r.Recovered), Is.All.False);
            Assert.That(report.Rounds.Select(r => r.Detail), Has.All.StartWith("the fault could not be applied: break: ").And.All.Contains("exited 1"));
            Assert.That(report.Rounds.Select(r => r.Converges), Has.All.Zero, "nothing to recover from, so no converge");
            Assert.That(report.Passed, Is.False);
            Assert.That(System.IO.File.ReadAllText(Path.Combine(_root, "out", "drill.md")), Does.Contain("failed recoveries: 2"));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task A_live_watch_repairs_every_round_and_its_journal_gives_the_times()
    {
        var report = await DrillAsync("Target(\"fix\", File.Content(root + \"/state/config\", \"good\\n\"));", rounds: 3, TimeSpan.FromSeconds(20), watchEvery: TimeSpan.FromMilliseconds(200));
        var journal = System.IO.File.ReadAllLines(Path.Combine(_root, "out", "watch.jsonl"));
        var repairing = journal.Count(l => l.Contains("\"event\":\"pass-end\"", StringComparison.Ordinal) && l.Contains("\"drift\":true", StringComparison.Ordinal));

        Assert.Multiple(() =>
        {
            Assert.That(report.Passed, Is.True, string.Join("\n", report.Setup.Select(p => $"{p.Name}: {p.Detail}").Concat(report.Rounds.Select(r => r.Detail))));
            Assert.That(report.WatchEvery, Is.EqualTo(TimeSpan.FromMilliseconds(200)));
            Assert.That(report.Rounds.Select(r => r.DetectedBy), Has.All.StartWith("fix step 1"), "the drift as the watch's journal names it");
            Assert.That(report.Rounds.Select(r => r.Detail), Has.All.StartWith("repaired by watch pass"));
            Assert.That(report.Rounds.Select(r => r.RecoveredAfter >= r.DetectedAfter), Has.All.True, "a repair ends after the drift was seen");
            Assert.That(report.Rounds.Select(r => r.Converges), Has.All.GreaterThanOrEqualTo(1));
            Assert.That(repairing, Is.GreaterThanOrEqualTo(3), "one repairing pass per round, at least, in the watch's own journal");
            Assert.That(System.IO.File.ReadAllText(Path.Combine(_root, "out", "drill.md")), Does.Contain("a live `runbook watch` every 0.20 s"));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task A_watch_that_never_repairs_ends_each_round_at_its_timeout_as_a_failed_recovery()
    {
        var report = await DrillAsync(RepairsOnlyOnce, rounds: 2, TimeSpan.FromSeconds(3), watchEvery: TimeSpan.FromMilliseconds(200));

        Assert.Multiple(() =>
        {
            Assert.That(report.Setup.Where(p => !p.Passed).Select(p => $"{p.Name}: {p.Detail}"), Is.Empty);
            Assert.That(report.Rounds, Has.Count.EqualTo(2), "every round runs, each ending at its timeout");
            Assert.That(report.Rounds.Select(r => r.Recovered), Is.All.False);
            Assert.That(report.Rounds.Select(r => r.Detail), Has.All.Contains("no recovery within 3 s").And.All.Contains("none saw drift").And.All.Contains("config is good"));
            Assert.That(report.Rounds.Select(r => r.Converges), Has.All.GreaterThan(1), "the watch kept passing over the host until the timeout");
            Assert.That(report.Passed, Is.False);
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task The_scenario_s_monitors_watch_each_round_and_their_figures_are_its_availability()
    {
        var monitor = new CountingMonitor();
        var report = await DrillAsync("Target(\"fix\", File.Content(root + \"/state/config\", \"good\\n\"));", rounds: 2, TimeSpan.FromSeconds(20), monitor);

        Assert.Multiple(() =>
        {
            Assert.That(report.Rounds.Select(r => r.Availability.GetValueOrDefault("watched")), Is.EqualTo(new[] { "round 1", "round 2" }));
            Assert.That(monitor.Running, Is.Zero, "every round's monitor was stopped");
            Assert.That(System.IO.File.ReadAllText(Path.Combine(_root, "out", "drill.md")), Does.Contain("- round 2: watched round 2"));
        });
    }

    // Repairs once: the first converge makes the hosts healthy; after a fault the step finds its marker and does nothing.
    private const string RepairsOnlyOnce = """
        Target("fix", Exec("repair, but only the first time",
            Shell.Script("touch \"$1\" && echo good > \"$2\"", root + "/repaired-once", root + "/state/config"))
            .Until(File.Exists(root + "/repaired-once")));
        """;

    // Breaks once: the setup's break leaves its marker, and every later attempt finds it and exits 1.
    private const string BreaksOnlyOnce = """
        Target("break", File.Directory(root + "/state"),
            Exec("break the config, which works only once", Shell.Script("test ! -e \"$1\" && touch \"$1\" && echo broken > \"$2\"", root + "/broke-once", root + "/state/config"))
                .Until(new Check("the config reads broken", async (h, ct) =>
                {
                    var read = await h.TryReadAsync(HostContext.FileRead(root + "/state/config"), ct);
                    return new CheckResult(read.StandardOutput == "broken\n", read.StandardOutput.Trim());
                })));
        """;

    private async Task<DrillReport> DrillAsync(string runbookBody, int rounds, TimeSpan roundTimeout, ScenarioMonitor? monitor = null, TimeSpan? watchEvery = null, string? breakTarget = null)
    {
        var runbook = Path.Combine(_root, "repair.csx");
        System.IO.File.WriteAllText(runbook, "var root = Environment.GetEnvironmentVariable(\"RB_DRILL_ROOT\")!;\n" + runbookBody + "\nawait RunAsync(Args);\n");
        var scenarioPath = Path.Combine(_root, "file.scenario.csx");
        var breaks = breakTarget ?? """Target("break", File.Directory(root + "/state"), File.Content(root + "/state/config", "broken\n"));""";
        System.IO.File.WriteAllText(scenarioPath, """
            Services();
            var root = Environment.GetEnvironmentVariable("RB_DRILL_ROOT")!;

            """ + breaks + """

            Spec("config is good", File.Content(root + "/state/config", "good\n"));
            """);
        var scenario = await ScenarioFile.LoadAsync(scenarioPath, 0.1, cache: null);
        if (monitor is not null)
        {
            scenario = new ScenarioDefinition(scenario.Name, scenario.Path, scenario.Backend, scenario.Break, scenario.Specs, [monitor], scenario.Runbook, scenario.Scale, scenario.Warnings);
        }

        var drill = new DrillRunner(source => RunbookCompiler.Compile(source), TestContext.Progress);
        return await drill.RunAsync(scenario, runbook, new DrillOptions(Path.Combine(_root, "out"), rounds, TimeSpan.FromMilliseconds(100), 1, roundTimeout, WatchEvery: watchEvery),
            CancellationToken.None, new DirectoryBackend(_root));
    }

    /// <summary>A monitor that reports which round it watched: started before each fault, stopped after the recovery.</summary>
    private sealed class CountingMonitor : ScenarioMonitor
    {
        private int _rounds;

        public int Running;

        public override string Host => "local";

        internal override IConvergeMonitor Create(IHarnessEnvironment environment, HarnessOptions options) => new Round(this, ++_rounds);

        private sealed class Round(CountingMonitor owner, int number) : IConvergeMonitor
        {
            public Task StartAsync(CancellationToken cancellationToken)
            {
                owner.Running++;
                return Task.CompletedTask;
            }

            public Task<IReadOnlyDictionary<string, string>> StopAsync()
            {
                owner.Running--;
                return Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string> { ["watched"] = $"round {number}" });
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
