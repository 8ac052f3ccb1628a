using System.Diagnostics;
using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness.Lifecycle;
using Runbooks.Scripting;
using Runbooks.Watch;

namespace Runbooks.Harness.Drill;

/// <summary>
/// Options for a drill. Round k's fault is applied <c>Every</c> × k after the hosts are first healthy (at once when the
/// previous round ran over); a round that has not recovered <c>RoundTimeout</c> after its fault is a failed recovery.
/// <c>WatchEvery</c>: a <c>runbook watch</c> with this interval runs over the hosts for the whole drill and does the
/// repairs; null: the drill converges with the runbook once the fault is seen.
/// </summary>
public sealed record DrillOptions(string OutputDirectory, int Rounds, TimeSpan Every, ulong Seed, TimeSpan RoundTimeout, double Scale = 0.1, CompileCache? Cache = null,
    TimeSpan? WatchEvery = null);

/// <summary>
/// Chaos on a schedule against the checks that define health: create → break → converge (healthy: every spec holds)
/// → per round, re-apply a seeded subset of the scenario's break targets (with their dependencies), see the first spec
/// fail, converge with the runbook until every spec holds → destroy. Measures time to detect and time to recover.
/// With a watch, a live <see cref="WatchLoop"/> does the detecting and the repairing, and its journal gives the times.
/// </summary>
public sealed class DrillRunner(Func<ScriptSource, CompiledRunbook> compile, TextWriter log)
{
    /// <summary>How long after a fault the specs are polled for the first failure before the fault counts as unnoticed.</summary>
    private static readonly TimeSpan DetectWindow = TimeSpan.FromSeconds(30);

    /// <summary>Runs the drill; <paramref name="backend"/> replaces the declared one (tests use a scratch directory as the host).</summary>
    public async Task<DrillReport> RunAsync(ScenarioDefinition scenario, string? runbookPath, DrillOptions options, CancellationToken cancellationToken, IBackend? backend = null)
    {
        // Checked before anything boots: a drill without faults to apply would only measure a healthy host.
        if (scenario.Break.Targets.Count == 0)
        {
            throw new InvalidRunbookException($"{scenario.Path}: the scenario has no break targets, so a drill has no faults to apply; add Target(…) steps that break the hosts");
        }

        if (options.WatchEvery is { } watchEvery && watchEvery <= TimeSpan.Zero)
        {
            throw new InvalidRunbookException($"--watch-every {watchEvery}: the watch interval must be positive");
        }

        if (options.Rounds <= 0)
        {
            throw new InvalidRunbookException($"--rounds {options.Rounds}: a drill needs at least one round");
        }

        runbookPath ??= scenario.Runbook
            ?? throw new InvalidRunbookException($"{scenario.Path} names no runbook (add Proves(\"x.csx\") to it) and none was given: `runbook harness drill {scenario.Name} RUNBOOK`");
        backend ??= scenario.CreateBackend();
        var report = new DrillReport
        {
            Scenario = scenario.Name, Runbook = runbookPath, Backend = backend.Name, Seed = options.Seed,
            RoundsRequested = options.Rounds, Every = options.Every, RoundTimeout = options.RoundTimeout, WatchEvery = options.WatchEvery,
        };
        Directory.CreateDirectory(options.OutputDirectory);
        Environment.SetEnvironmentVariable(HarnessRunner.ScaleVariable, options.Scale.ToString(CultureInfo.InvariantCulture));
        var runId = $"rd{DateTime.UtcNow:HHmmss}{Environment.ProcessId % 1000:000}";
        var harnessOptions = new HarnessOptions(runId, Path.Combine(options.OutputDirectory, "work"), options.Scale);

        var (runbook, environment) = await HarnessRunner.CompileAndCreateAsync(report.Setup, log, runbookPath, compile, options.Cache, backend, harnessOptions, cancellationToken).ConfigureAwait(false);
        if (runbook is null || environment is null)
        {
            return Finish(report, options);
        }

        try
        {
            if (await HealthyAsync(scenario, environment, runbook, options, report, cancellationToken).ConfigureAwait(false))
            {
                var faults = FaultChooser.Choose(report.Candidates, options.Rounds, options.Seed);
                var clock = DrillClock.Start();
                await using var watch = options.WatchEvery is { } every
                    ? DrillWatch.Start(runbook, environment.Inventory, Path.Combine(options.OutputDirectory, "watch.jsonl"), every)
                    : null;
                for (var round = 0; round < options.Rounds; round++)
                {
                    var due = options.Every * round - clock.Elapsed;
                    if (due > TimeSpan.Zero)
                    {
                        await Task.Delay(due, cancellationToken).ConfigureAwait(false);
                    }

                    var result = await RoundAsync(round + 1, faults[round], clock, scenario, environment, runbook, watch, options, harnessOptions, cancellationToken).ConfigureAwait(false);
                    report.Rounds.Add(result);
                    log.WriteLine($"[round {result.Number}] {string.Join(", ", result.Faults)}: " + (result.Recovered
                        ? $"detected after {DrillReportWriter.Seconds(result.DetectedAfter)}, recovered after {DrillReportWriter.Seconds(result.RecoveredAfter)}"
                        : $"FAILED RECOVERY — {result.Detail}"));
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            report.Setup.Add(new PhaseResult("cancelled", false, TimeSpan.Zero, "the drill was cancelled"));
        }

        await Phase(report, "destroy", async () =>
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var leaks = await environment.DestroyAsync(timeout.Token).ConfigureAwait(false);
            await environment.DisposeAsync().ConfigureAwait(false);
            return (leaks.Count == 0, leaks.Count == 0 ? "nothing left behind" : $"leaked: {string.Join(", ", leaks)}");
        }).ConfigureAwait(false);
        return Finish(report, options);
    }

    /// <summary>break → converge → every spec holds; then the fault candidates: break targets a plan says would change the healthy hosts.</summary>
    private async Task<bool> HealthyAsync(ScenarioDefinition scenario, IHarnessEnvironment environment, LoadedRunbook runbook, DrillOptions options, DrillReport report, CancellationToken cancellationToken)
    {
        await Phase(report, "break", () =>
            HarnessRunner.BreakAsync(scenario, environment, Path.Combine(options.OutputDirectory, "break.jsonl"), cancellationToken)).ConfigureAwait(false);
        if (!report.Setup[^1].Passed)
        {
            return false;
        }

        await Phase(report, "healthy", async () =>
        {
            var (summary, _) = await HarnessRunner.RunRunbookAsync(environment, runbook, Path.Combine(options.OutputDirectory, "converge.jsonl"), cancellationToken).ConfigureAwait(false);
            var failing = await FailingSpecsAsync(scenario, environment, stopAtFirst: false, cancellationToken).ConfigureAwait(false);
            var ok = summary.Succeeded && failing.Count == 0;
            return (ok, ok ? $"the runbook converged the broken hosts; all {scenario.Specs.Count(s => s.Polled)} polled spec(s) hold"
                : $"no healthy state to drill from: {string.Join("; ", summary.Targets.Where(t => !t.Ok).Select(t => $"{t.Name}: {t.Error}").Concat(failing))}");
        }).ConfigureAwait(false);
        if (!report.Setup[^1].Passed)
        {
            return false;
        }

        await Phase(report, "faults", async () =>
        {
            var plan = await new Runner(scenario.Break, environment.Inventory, new RunObserver()).RunAsync(new RunRequest(RunMode.Plan, []), cancellationToken).ConfigureAwait(false);
            report.Candidates.AddRange(plan.Targets.Where(t => t.Steps.Any(s => s.Outcome == StepOutcome.WillChange)).Select(t => t.Name));
            report.NotDrilled.AddRange(plan.Targets.Select(t => t.Name).Except(report.Candidates));
            var ok = report.Candidates.Count > 0;
            var left = report.NotDrilled.Count == 0 ? "" : $"; as the break leaves them already, so not re-applied: {string.Join(", ", report.NotDrilled)}";
            return (ok, ok ? $"break targets that change the healthy hosts: {string.Join(", ", report.Candidates)}{left}"
                : "re-applying any break target changes nothing on the healthy hosts: there is no fault to drill");
        }).ConfigureAwait(false);
        return report.Setup[^1].Passed;
    }

    /// <summary>The drill's time: a monotonic clock for the rounds, and its wall-clock start to place the watch journal's times on it.</summary>
    private sealed record DrillClock(long StartTimestamp, DateTimeOffset StartedAt)
    {
        public static DrillClock Start() => new(Stopwatch.GetTimestamp(), DateTimeOffset.UtcNow);

        public TimeSpan Elapsed => Stopwatch.GetElapsedTime(StartTimestamp);
    }

    // The scenario's monitors watch the whole round, fault and recovery: their figures and requests are the round's availability.
    private static async Task<DrillRound> RoundAsync(int number, IReadOnlyList<string> faults, DrillClock clock, ScenarioDefinition scenario, IHarnessEnvironment environment,
        LoadedRunbook runbook, DrillWatch? watch, DrillOptions options, HarnessOptions harnessOptions, CancellationToken cancellationToken)
    {
        await using var monitors = await MonitorSet.StartAsync(scenario, environment, harnessOptions, cancellationToken).ConfigureAwait(false);
        var round = await FaultAndRecoverAsync(number, faults, clock, scenario, environment, runbook, watch, options, cancellationToken).ConfigureAwait(false);
        var figures = await monitors.StopAsync().ConfigureAwait(false);
        return round with
        {
            Availability = figures,
            Samples = [.. monitors.Samples.Select(s => new AvailabilitySample(Stopwatch.GetElapsedTime(clock.StartTimestamp, s.Timestamp), s.Ok))],
        };
    }

    private static async Task<DrillRound> FaultAndRecoverAsync(int number, IReadOnlyList<string> faults, DrillClock clock, ScenarioDefinition scenario, IHarnessEnvironment environment,
        LoadedRunbook runbook, DrillWatch? watch, DrillOptions options, CancellationToken cancellationToken)
    {
        // With a watch, the fault goes in between two of its passes.
        using var held = watch is null ? null : await watch.HoldAsync(cancellationToken).ConfigureAwait(false);
        var faultAt = clock.Elapsed;
        var faultStarted = DateTimeOffset.UtcNow;
        var fault = await HarnessRunner.RunGraphAsync(environment, scenario.Break, faults, scenario.Path, "", Path.Combine(options.OutputDirectory, $"round-{number}-fault.jsonl"),
            new HarnessRunner.MutationRecorder(), cancellationToken).ConfigureAwait(false);
        held?.Dispose();
        var changed = fault.Targets.Sum(t => t.Steps.Count(s => s.Outcome == StepOutcome.Changed));
        var faultTook = clock.Elapsed - faultAt;
        var inPlace = DateTimeOffset.UtcNow;
        var sinceFault = Stopwatch.StartNew();
        DrillRound Result(TimeSpan? detected, string? by, TimeSpan? recovered, int converges, string detail) =>
            new(number, faults, changed, faultAt, faultTook, detected, by, recovered, converges, detail);
        if (!fault.Succeeded)
        {
            return Result(null, null, null, 0, $"the fault could not be applied: {string.Join("; ", fault.Targets.Where(t => !t.Ok).Select(t => $"{t.Name}: {t.Error}"))}");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.RoundTimeout);
        TimeSpan? detectedAfter = null;
        string? detectedBy = null;
        var converges = 0;
        try
        {
            if (watch is not null)
            {
                return await WatchRecoversAsync(watch, faultStarted, inPlace, scenario, environment, Result, timeout.Token).ConfigureAwait(false);
            }

            while (sinceFault.Elapsed < DetectWindow)
            {
                var failing = await FailingSpecsAsync(scenario, environment, stopAtFirst: true, timeout.Token).ConfigureAwait(false);
                if (failing.Count > 0)
                {
                    (detectedAfter, detectedBy) = (sinceFault.Elapsed, failing[0]);
                    break;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200), timeout.Token).ConfigureAwait(false);
            }

            var journal = Path.Combine(options.OutputDirectory, $"round-{number}-converge.jsonl");
            while (true)
            {
                converges++;
                var (summary, _) = await HarnessRunner.RunRunbookAsync(environment, runbook, journal, timeout.Token).ConfigureAwait(false);
                // Recovered when this converge ended, if the specs then hold: their sweep is the drill's measuring, not the repair.
                var repaired = sinceFault.Elapsed;
                var failing = await FailingSpecsAsync(scenario, environment, stopAtFirst: false, timeout.Token).ConfigureAwait(false);
                if (failing.Count == 0)
                {
                    var detail = detectedAfter is null ? "no spec failed within 30 s of the fault: the specs do not notice it" : $"{changed} step(s) broken, repaired";
                    return Result(detectedAfter, detectedBy, repaired, converges, summary.Succeeded ? detail : $"{detail}; the runbook itself reported a failure");
                }

                await Task.Delay(TimeSpan.FromSeconds(1), timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var still = await FailingSpecsAsync(scenario, environment, stopAtFirst: false, cancellationToken).ConfigureAwait(false);
            if (watch is not null)
            {
                var passes = watch.Passes().Where(p => p.Ended > inPlace).ToList();
                converges = passes.Count;
                if (passes.FirstOrDefault(p => p.DetectedAt >= faultStarted) is { DetectedAt: { } seen } first)
                {
                    (detectedAfter, detectedBy) = (NotBefore(seen - inPlace), first.DriftAt);
                }
            }

            var tries = watch is null ? $"{converges} converge(s)" : $"{converges} watch pass(es), {(detectedAfter is null ? "none saw drift" : "drift seen")}";
            return Result(detectedAfter, detectedBy, null, converges,
                $"no recovery within {options.RoundTimeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s of the fault ({tries}); "
                + (still.Count == 0 ? "every spec holds now, but the repair was not confirmed before the timeout" : $"still failing: {string.Join("; ", still)}"));
        }
    }

    /// <summary>
    /// Waits for the watch to repair the fault, reading only its journal: detected when a pass's plan probed a drifted step
    /// after the fault began; recovered at the end of the first pass that applied without failing after which every spec holds.
    /// </summary>
    private static async Task<DrillRound> WatchRecoversAsync(DrillWatch watch, DateTimeOffset faultStarted, DateTimeOffset inPlace, ScenarioDefinition scenario,
        IHarnessEnvironment environment, Func<TimeSpan?, string?, TimeSpan?, int, string, DrillRound> result, CancellationToken cancellationToken)
    {
        var verified = 0;
        while (true)
        {
            if (watch.Fault is { } fault)
            {
                throw new RunbookException($"the watch stopped: {fault.Message}");
            }

            var passes = watch.Passes().Where(p => p.Ended > inPlace).ToList();
            var detecting = passes.FirstOrDefault(p => p.DetectedAt >= faultStarted);
            foreach (var pass in passes.Where(p => p.Number > verified && p.Drift && !p.Failed && p.DetectedAt >= faultStarted))
            {
                verified = pass.Number;
                var failing = await FailingSpecsAsync(scenario, environment, stopAtFirst: false, cancellationToken).ConfigureAwait(false);
                if (failing.Count == 0)
                {
                    var during = passes.Count(p => p.Number <= pass.Number);
                    return result(NotBefore(detecting!.DetectedAt!.Value - inPlace), detecting.DriftAt, NotBefore(pass.Ended - inPlace), during,
                        $"repaired by watch pass {pass.Number}{(pass.Number == detecting.Number ? "" : $" (drift first seen by pass {detecting.Number})")}");
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
        }
    }

    // A pass that probed the step while the fault was still being applied saw it before it was all in place.
    private static TimeSpan NotBefore(TimeSpan span) => span < TimeSpan.Zero ? TimeSpan.Zero : span;

    private static async Task<List<string>> FailingSpecsAsync(ScenarioDefinition scenario, IHarnessEnvironment environment, bool stopAtFirst, CancellationToken cancellationToken)
    {
        var failing = new List<string>();
        foreach (var spec in scenario.Specs.Where(s => s.Polled))
        {
            var result = await HarnessRunner.EvaluateAsync(environment, spec, cancellationToken).ConfigureAwait(false);
            if (!result.Holds)
            {
                failing.Add($"{spec.Name} ({result.Observed})");
                if (stopAtFirst)
                {
                    break;
                }
            }
        }

        return failing;
    }

    private Task<T?> Phase<T>(DrillReport report, string name, Func<Task<(T Value, string Detail)>> body) => HarnessRunner.Phase(report.Setup, log, name, body);

    private static DrillReport Finish(DrillReport report, DrillOptions options)
    {
        File.WriteAllText(Path.Combine(options.OutputDirectory, "drill.md"), SecretRedactor.Redact(DrillReportWriter.Markdown(report)));
        return report;
    }
}
