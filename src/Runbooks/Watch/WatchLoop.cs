using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Runbooks.Engine;
using Runbooks.Journal;

namespace Runbooks.Watch;

/// <summary>
/// How often a watch passes over the hosts and how it backs off. <c>Interval</c> runs from one pass's start to the
/// next while passes succeed; after failing passes the wait doubles per failure up to <c>BackoffCap</c> intervals.
/// <c>Locking</c> is taken for an apply only: a plan never locks, so an operator can still run by hand between passes.
/// <c>MaxPasses</c> null: until stopped. <c>PassGate</c>, when set, is awaited before each pass and the value it gives is
/// disposed when the pass ends: whoever else holds it (a drill applying a fault) keeps passes from starting meanwhile.
/// </summary>
public sealed record WatchOptions(
    TimeSpan Interval,
    int? MaxPasses = null,
    int BackoffCap = 10,
    HostLocking? Locking = null,
    bool SkipDependencies = false,
    bool Parallel = false,
    Func<CancellationToken, Task<IDisposable>>? PassGate = null);

/// <summary>
/// What one pass found and did. <c>TimeToDetect</c>: from the pass start to the probe that first saw a step that will
/// change (null without drift). <c>TimeToRepair</c>: from that probe to the end of the verified apply (null when nothing
/// was applied or the apply failed). <c>NextPassIn</c>: the wait before the next pass starts, backed off after failures.
/// </summary>
public sealed record WatchPass(
    int Number,
    DateTimeOffset Started,
    TimeSpan Duration,
    bool Drift,
    bool Failed,
    int Changed,
    TimeSpan? TimeToDetect,
    TimeSpan? TimeToRepair,
    string? Reason,
    TimeSpan NextPassIn,
    int ConsecutiveFailures);

/// <summary>How the loop ended.</summary>
public sealed record WatchResult(IReadOnlyList<WatchPass> Passes, bool Stopped)
{
    /// <summary>The last pass left the host as the runbook describes it.</summary>
    public bool Healthy => Passes.Count == 0 || !Passes[^1].Failed;
}

/// <summary>
/// Keeps hosts in the state a runbook describes: each pass plans (read-only probes); only when a step will
/// change does it apply, and the engine verifies every change. Passes succeed on the interval; failing ones
/// back off (×2 per consecutive failure, capped) so a runbook that cannot repair the host does not hammer it.
/// Every pass is one <c>pass-start</c>/<c>pass-end</c> pair in the journal; a quiet pass writes nothing else,
/// a pass that found drift or failed also records its plan and its apply.
/// </summary>
public sealed class WatchLoop(TargetGraph graph, Inventory inventory, IReadOnlyList<string> targets, JournalWriter journal, WatchOptions options)
{
    private bool _inPass;

    /// <summary>
    /// Runs passes until <paramref name="stop"/> fires or <see cref="WatchOptions.MaxPasses"/> is reached;
    /// <paramref name="onPass"/> is told of each pass as it ends (console progress).
    /// </summary>
    public async Task<WatchResult> RunAsync(CancellationToken stop, Action<WatchPass>? onPass = null)
    {
        if (options.Interval <= TimeSpan.Zero)
        {
            throw new InvalidRunbookException($"the watch interval must be positive (got {options.Interval})");
        }

        // Unknown targets and cycles are usage errors: reported once, before the first pass, not as failing passes.
        graph.Order(targets, options.SkipDependencies);
        var passes = new List<WatchPass>();
        var failures = 0;
        journal.Record("watch-start", new JsonObject
        {
            ["runbook"] = journal.Metadata.RunbookPath,
            ["intervalSeconds"] = options.Interval.TotalSeconds,
            ["backoffCap"] = options.BackoffCap,
            ["maxPasses"] = options.MaxPasses,
            ["pid"] = Environment.ProcessId,
        });
        var stopped = false;
        try
        {
            while (options.MaxPasses is not { } max || passes.Count < max)
            {
                var started = Stopwatch.GetTimestamp();
                var pass = await PassAsync(passes.Count + 1, failures, stop).ConfigureAwait(false);
                failures = pass.ConsecutiveFailures;
                passes.Add(pass);
                onPass?.Invoke(pass);
                if (options.MaxPasses is { } limit && passes.Count >= limit)
                {
                    break;
                }

                var wait = pass.NextPassIn - Stopwatch.GetElapsedTime(started);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            stopped = true;
        }

        // A pass cut short by the stop is not counted; what it left is not known, so the watch does not claim health.
        var midPass = stopped && _inPass;
        journal.Record("watch-end", new JsonObject
        {
            ["passes"] = passes.Count,
            ["reason"] = stopped ? (midPass ? $"stopped by signal during pass {passes.Count + 1}" : "stopped by signal between passes") : "reached --max-passes",
            ["healthy"] = midPass ? null : passes.Count == 0 || !passes[^1].Failed,
        });
        return new WatchResult(passes, stopped);
    }

    private async Task<WatchPass> PassAsync(int number, int failuresBefore, CancellationToken stop)
    {
        using var gate = options.PassGate is { } passGate ? await passGate(stop).ConfigureAwait(false) : null;
        _inPass = true;
        var startedAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        journal.Record("pass-start", new JsonObject { ["pass"] = number });
        var plan = new DeferredObserver(journal, clock);
        RunSummary? applied = null;
        string? reason;
        try
        {
            var planned = await new Runner(graph, inventory, plan).RunAsync(Request(RunMode.Plan), stop).ConfigureAwait(false);
            reason = planned.PendingChanges > 0 ? null : Problems(planned);
            if (planned.PendingChanges > 0 || reason is not null)
            {
                // The plan that made this pass act goes in the journal; a quiet pass leaves only its pass-end.
                plan.Flush();
            }

            if (planned.PendingChanges > 0)
            {
                applied = await new Runner(graph, inventory, journal).RunAsync(Request(RunMode.Run), stop).ConfigureAwait(false);
                reason = applied.Succeeded ? null : Problems(applied) ?? "the apply failed";
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            plan.Flush();
            journal.Aborted("the watch was stopped mid-pass");
            journal.Record("pass-end", new JsonObject
            {
                ["pass"] = number,
                ["drift"] = plan.DetectedAt is not null,
                ["failed"] = false,
                ["stopped"] = true,
                ["ms"] = Ms(clock.Elapsed),
            });
            throw;
        }
        catch (RunbookException ex) when (ex is not InvalidRunbookException)
        {
            // A host that cannot be reached or is locked by an operator: the pass fails and the loop backs off.
            plan.Flush();
            reason = ex.Message;
        }

        var duration = clock.Elapsed;
        var failed = reason is not null;
        var failures = failed ? failuresBefore + 1 : 0;
        var next = NextDelay(options.Interval, failures, options.BackoffCap);
        var detect = plan.DetectedAt;
        TimeSpan? repair = applied is { Succeeded: true } && detect is { } seen ? duration - seen : null;
        var pass = new WatchPass(number, startedAt, duration, detect is not null, failed,
            applied?.Targets.Sum(t => t.Steps.Count(s => s.Outcome == StepOutcome.Changed)) ?? 0, detect, repair, reason, next, failures);
        journal.Record("pass-end", new JsonObject
        {
            ["pass"] = number,
            ["drift"] = pass.Drift,
            ["failed"] = failed,
            ["changed"] = pass.Changed,
            ["driftAt"] = plan.DriftStep,
            ["detectMs"] = detect is { } d ? Ms(d) : null,
            ["repairMs"] = repair is { } r ? Ms(r) : null,
            ["ms"] = Ms(duration),
            ["error"] = reason,
            ["consecutiveFailures"] = failures,
            ["nextPassInSeconds"] = Math.Round(next.TotalSeconds, 3),
            ["backoff"] = failures == 0 ? null
                : $"{(next / options.Interval).ToString("0.#", CultureInfo.InvariantCulture)}× the interval after {failures} failing pass(es) in a row: {reason}",
        });
        _inPass = false;
        return pass;
    }

    // One undo directory for the whole watch, named after its journal: a file replaced again and again is kept once
    // per content (by its hash), not once per pass.
    private RunRequest Request(RunMode mode) =>
        new(mode, targets, options.SkipDependencies, options.Parallel, mode == RunMode.Run ? options.Locking : null) { RunId = Path.GetFileNameWithoutExtension(journal.Path) };

    /// <summary>
    /// The wait before the next pass: the interval while passes succeed; after <paramref name="failures"/> failing
    /// passes in a row, interval × 2^failures, never more than <paramref name="cap"/> intervals.
    /// </summary>
    public static TimeSpan NextDelay(TimeSpan interval, int failures, int cap)
    {
        var factor = failures <= 0 ? 1 : Math.Min(Math.Pow(2, Math.Min(failures, 30)), Math.Max(1, cap));
        return interval * factor;
    }

    // What a plan or run reports as wrong besides pending changes: blocked or failed steps, unmet checks.
    private static string? Problems(RunSummary summary)
    {
        var problems = summary.Targets
            .SelectMany(t => t.Steps.Where(s => s.Outcome is StepOutcome.Blocked or StepOutcome.DidNotLand or StepOutcome.Failed)
                .Select(s => $"{t.Name} step {s.Index + 1} '{s.Description}': {s.Error ?? (s.Unmet.Count > 0 ? string.Join("; ", s.Unmet) : s.Outcome.ToString())}")
                .Concat(t.Checks.Where(c => !c.Holds).Select(c => $"{t.Name}: {c.Kind} '{c.Description}' does not hold (observed: {c.Observed})"))
                .Concat(t.Status is TargetStatus.Failed or TargetStatus.NotRun && t.Error is { } error && t.Steps.All(s => s.Outcome is StepOutcome.Satisfied or StepOutcome.Changed)
                    ? [$"{t.Name}: {error}"] : []))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    private static double Ms(TimeSpan span) => Math.Round(span.TotalMilliseconds, 1);

    /// <summary>
    /// Holds a plan's events until the pass knows whether they matter, and notes when the first step that
    /// will change was probed: the moment the drift was detected.
    /// </summary>
    private sealed class DeferredObserver(IRunObserver inner, Stopwatch clock) : IRunObserver
    {
        private readonly Lock _gate = new();
        private readonly List<Action> _events = [];

        public TimeSpan? DetectedAt { get; private set; }

        public string? DriftStep { get; private set; }

        public void Flush()
        {
            lock (_gate)
            {
                foreach (var replay in _events)
                {
                    replay();
                }

                _events.Clear();
            }
        }

        public void RunStarted(RunMode mode, IReadOnlyList<Target> order) => Defer(() => inner.RunStarted(mode, order));

        public void TargetStarted(Target target) => Defer(() => inner.TargetStarted(target));

        public void StepStarted(Target target, int index, Step step) => Defer(() => inner.StepStarted(target, index, step));

        public void StepProbed(Target target, int index, Step step, StepProbe probe, bool verifying)
        {
            lock (_gate)
            {
                if (DetectedAt is null && probe.Decision == StepDecision.WillChange)
                {
                    DetectedAt = clock.Elapsed;
                    DriftStep = $"{target.Name} step {index + 1} '{step.Description}': {probe.Observed}";
                }
            }

            Defer(() => inner.StepProbed(target, index, step, probe, verifying));
        }

        public void CommandRan(string host, Runbooks.Commands.Command command, Runbooks.Commands.CommandResult result) => Defer(() => inner.CommandRan(host, command, result));

        public void CheckEvaluated(Target target, CheckOutcome outcome) => Defer(() => inner.CheckEvaluated(target, outcome));

        public void StepEnded(Target target, StepResult result) => Defer(() => inner.StepEnded(target, result));

        public void TargetEnded(TargetResult result) => Defer(() => inner.TargetEnded(result));

        public void RunEnded(RunSummary summary) => Defer(() => inner.RunEnded(summary));

        private void Defer(Action replay)
        {
            lock (_gate)
            {
                _events.Add(replay);
            }
        }
    }
}
