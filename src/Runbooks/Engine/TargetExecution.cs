using System.Diagnostics;
using Runbooks.Transport;

namespace Runbooks.Engine;

/// <summary>
/// One target on one host: requires → steps → ensures, with every decision reported. In a plan, a dependency's
/// blocked step (<c>waitsFor</c>) makes every step of this target wait for the next stage too.
/// </summary>
internal sealed class TargetExecution(Target target, HostContext host, IRunObserver observer, RunMode mode, SavedPlan? approved = null, TimeSpan? confirmTimeout = null, string? waitsFor = null, ReadAhead? readAhead = null)
{
    private readonly List<StepResult> _steps = [];
    private readonly List<CheckOutcome> _checks = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ReadAhead _ahead = readAhead ?? new ReadAhead(host, [target]);

    public async Task<TargetResult> RunAsync(CancellationToken cancellationToken)
    {
        await _ahead.TargetStartingAsync(target, cancellationToken).ConfigureAwait(false);
        var unmet = await EvaluateAsync("requires", target.Requirements, cancellationToken).ConfigureAwait(false);
        if (unmet.Count > 0 && mode == RunMode.Run)
        {
            return Finish(TargetStatus.Failed, $"requirement not met, nothing was changed: {string.Join("; ", unmet)}");
        }

        var changed = false;
        for (var index = 0; index < target.Steps.Count; index++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (approved?.Step(target.Name, index) is { InStage: false } later)
            {
                // A saved plan approves no action of a step that was blocked when planned, nor of one behind it,
                // whatever its probe says now: the stage ends here for this target and the next plan covers the rest.
                return Finish(TargetStatus.Waiting, later.WaitsFor is { } behind
                    ? $"step {index + 1} '{later.Description}' waits for {behind}: the next stage's plan covers it"
                    : $"step {index + 1} '{later.Description}' was blocked when planned: the next stage's plan covers it");
            }

            var result = await RunStepAsync(index, target.Steps[index], cancellationToken).ConfigureAwait(false);
            if (mode == RunMode.Plan)
            {
                result = result with { WaitsFor = waitsFor };
                if (waitsFor is null && result.Outcome == StepOutcome.Blocked)
                {
                    waitsFor = $"{target.Name} step {index + 1}";
                }
            }

            _steps.Add(result);
            observer.StepEnded(target, result);
            changed |= result.Outcome == StepOutcome.Changed;
            if (result.Outcome is StepOutcome.Changed or StepOutcome.WillChange)
            {
                host.RecordChange(target.Name, $"step {index + 1} '{result.Description}'");
            }
            if (mode == RunMode.Run && result.Outcome is StepOutcome.Blocked or StepOutcome.DidNotLand or StepOutcome.Failed)
            {
                return Finish(TargetStatus.Failed, $"step {index + 1} '{result.Description}': {Explain(result)}");
            }
        }

        var broken = await EvaluateAsync("ensures", target.Guarantees, cancellationToken).ConfigureAwait(false);
        if (mode == RunMode.Plan)
        {
            return Finish(TargetStatus.Planned, unmet.Count > 0 ? $"requirement not met now: {string.Join("; ", unmet)}" : null);
        }

        if (broken.Count > 0)
        {
            return Finish(TargetStatus.Failed, $"did not land: {string.Join("; ", broken)}");
        }

        return Finish(changed ? TargetStatus.Succeeded : TargetStatus.Satisfied, null);
    }

    private async Task<StepResult> RunStepAsync(int index, Step step, CancellationToken cancellationToken)
    {
        observer.StepStarted(target, index, step);
        var clock = Stopwatch.StartNew();
        // No InvalidateFacts here: facts only go stale when a command is applied (HostContext.ApplyAsync
        // clears them on every host), so consecutive probes with nothing applied between them share one
        // round — a plan of the storage runbook reads pvs once instead of once per PV step.
        StepProbe? before = null;
        try
        {
            await _ahead.ProbingAsync(target, index, cancellationToken).ConfigureAwait(false);
            var facts = mode == RunMode.Plan ? FactLog.Begin() : null;
            try
            {
                before = await step.ProbeAsync(host, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                FactLog.End();
            }

            observer.StepProbed(target, index, step, before, verifying: false);
            StepResult Result(StepOutcome outcome, string? after = null, string? error = null) =>
                new(index, step.Description, step.Destroys, outcome, before.Observed, before.Unmet, before.Actions, before.Notes, clock.Elapsed, after, error)
                {
                    Facts = facts?.Reads ?? [],
                };

            switch (before.Decision)
            {
                case StepDecision.Satisfied:
                    return Result(StepOutcome.Satisfied);
                case StepDecision.Blocked:
                    return Result(StepOutcome.Blocked);
                case StepDecision.WillChange when mode == RunMode.Plan:
                    return Result(StepOutcome.WillChange);
            }

            if (approved is not null && NotApproved(index, before) is { } refusal)
            {
                return Result(StepOutcome.Failed, error: refusal);
            }

            // No InvalidateFacts after applying either: every applied command already ended the round, so what
            // is cached now was read after the last change — a wait that polled until the postcondition held has
            // already read exactly what the verify needs.
            if (step.CanCutOffController && host.Transport is IFreshConnections fresh)
            {
                await ConfirmedApply.ApplyAsync(step, before, host, fresh, target, index, observer, confirmTimeout ?? ConfirmedApply.DefaultTimeout, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await step.ApplyAsync(host, before, cancellationToken).ConfigureAwait(false);
            }

            if (!step.HasPostcondition)
            {
                return Result(StepOutcome.Changed, "(no postcondition to verify)");
            }

            await _ahead.VerifyingAsync(target, index, cancellationToken).ConfigureAwait(false);
            var after = await step.ProbeAsync(host, cancellationToken).ConfigureAwait(false);
            observer.StepProbed(target, index, step, after, verifying: true);
            return after.Decision == StepDecision.Satisfied
                ? Result(StepOutcome.Changed, after.Observed)
                : Result(StepOutcome.DidNotLand, after.Observed);
        }
        catch (RunbookException ex)
        {
            return new StepResult(index, step.Description, step.Destroys, StepOutcome.Failed, before?.Observed ?? "", before?.Unmet ?? [],
                before?.Actions ?? [], before?.Notes ?? [], clock.Elapsed, null, WithNextStep(ex));
        }
    }

    // The probe is made again right before the step runs; an earlier step may have changed what it reads, and then
    // its actions are no longer the approved ones: nothing of this step runs, and the operator plans again.
    private string? NotApproved(int index, StepProbe probe)
    {
        var planned = approved!.Step(target.Name, index);
        if (planned is null || !planned.WillChange)
        {
            return $"not in the approved plan: the plan says {planned?.Decision ?? "nothing"} for this step, but it now wants to {string.Join("; ", probe.Actions.Select(a => a.Summary))}; nothing of it ran — plan again";
        }

        return SavedPlan.SameActions([.. probe.Actions.Select(a => a.ToJson())], planned.Actions)
            ? null
            : $"its actions now differ from the approved plan (planned: {string.Join("; ", planned.Actions.Select(a => (string?)a["summary"]))}; now: {string.Join("; ", probe.Actions.Select(a => a.Summary))}); nothing of it ran — plan again";
    }

    // A tool's non-zero exit carries the tool's words but not ours; the other errors already say what to do.
    private static string WithNextStep(RunbookException ex) => ex is CommandFailedException
        ? ex.Message + "\n  what to do: fix what the command's output above shows, then run again: every step re-probes, so what already holds is skipped"
        : ex.Message;

    private async Task<List<string>> EvaluateAsync(string kind, IReadOnlyList<Check> checks, CancellationToken cancellationToken)
    {
        var failing = new List<string>();
        // Checks share the probe round too: a target's Ensures right after its last step reads the same vgs
        // the step's verify just read, and nothing changed in between (a check that polls invalidates itself).
        foreach (var check in checks)
        {
            if (check.Writes && mode == RunMode.Plan)
            {
                var skipped = new CheckOutcome(kind, check.Description, false, CheckOutcome.NotProbedWrites, Probed: false);
                _checks.Add(skipped);
                observer.CheckEvaluated(target, skipped);
                continue;
            }

            // A plan keeps what the check read, so a run of it refuses when a check's facts moved as it does for a step's.
            var facts = mode == RunMode.Plan ? FactLog.Begin() : null;
            CheckResult result;
            try
            {
                result = await check.EvaluateAsync(host, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                FactLog.End();
            }

            var outcome = new CheckOutcome(kind, check.Description, result.Holds, result.Observed) { Facts = facts?.Reads ?? [] };
            _checks.Add(outcome);
            observer.CheckEvaluated(target, outcome);
            if (!result.Holds)
            {
                failing.Add($"{check.Description} (observed: {result.Observed})");
            }
        }

        return failing;
    }

    private TargetResult Finish(TargetStatus status, string? error) =>
        new(target.Name, target.Host, status, _clock.Elapsed, _steps, _checks, error) { WaitsFor = mode == RunMode.Plan ? waitsFor : null };

    internal static string Explain(StepResult result) => result.Outcome switch
    {
        StepOutcome.Blocked => $"precondition not met, nothing was changed: {string.Join("; ", result.Unmet)}",
        StepOutcome.DidNotLand => $"actions ran but the postcondition does not hold (before: {result.Observed}; after: {result.ObservedAfter})",
        StepOutcome.Failed => result.Error ?? "failed",
        _ => result.Outcome.ToString(),
    };
}
