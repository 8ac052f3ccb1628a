namespace Runbooks.Engine;

public enum RunMode
{
    /// <summary>Probe only: nothing changes on any host.</summary>
    Plan,

    /// <summary>Probe, apply, verify.</summary>
    Run,
}

/// <summary>
/// What to run: the mode, target names (empty = <c>default</c> or all), and Bullseye's switches. With
/// <see cref="Locking"/>, a run locks every host its targets run on before the first step and releases
/// them when it ends; a plan never locks.
/// </summary>
public sealed record RunRequest(RunMode Mode, IReadOnlyList<string> Targets, bool SkipDependencies = false, bool Parallel = false, HostLocking? Locking = null)
{
    /// <summary>
    /// Run mode with a saved plan: a step runs only the actions the plan shows for it; a step whose probe now
    /// wants anything else fails without changing anything.
    /// </summary>
    public SavedPlan? Approved { get; init; }

    /// <summary>Names this run's directory on each host where undo's material is kept (default: a timestamp and the process id).</summary>
    public string? RunId { get; init; }

    /// <summary>
    /// How long a step that can cut this controller off (<see cref="Step.CanCutOffController"/>) waits for a fresh
    /// connection to confirm it before the host reverts it by itself.
    /// </summary>
    public TimeSpan ConfirmTimeout { get; init; } = ConfirmedApply.DefaultTimeout;

    /// <summary>Where on each host the runs' kept material lives: <c>/var/lib/runbook/undo/RUN-ID</c> (<c>RUNBOOK_UNDO_DIR</c> moves it).</summary>
    public const string KeepRoot = "/var/lib/runbook/undo";

    internal string KeepDirectory =>
        $"{(Environment.GetEnvironmentVariable("RUNBOOK_UNDO_DIR") is { Length: > 0 } moved ? moved.TrimEnd('/') : KeepRoot)}/{RunId ?? $"run-{DateTime.UtcNow:yyyyMMdd'T'HHmmssfff}-{Environment.ProcessId}"}";
}

public enum TargetStatus
{
    /// <summary>Steps ran and every postcondition was verified.</summary>
    Succeeded,

    /// <summary>Everything already held; no command changed anything.</summary>
    Satisfied,

    Failed,

    /// <summary>Not started: a dependency failed, or the run was cancelled.</summary>
    NotRun,

    /// <summary>Plan mode: probed only.</summary>
    Planned,

    /// <summary>
    /// Run of a saved plan: stopped before a step the plan did not approve because it was blocked when planned, or
    /// waited behind one (or a dependency did); the next stage's plan covers it and what follows.
    /// </summary>
    Waiting,
}

public enum StepOutcome
{
    Satisfied,
    Changed,
    Blocked,
    DidNotLand,
    Failed,
    WillChange,
}

public sealed record StepResult(
    int Index,
    string Description,
    string? Destroys,
    StepOutcome Outcome,
    string Observed,
    IReadOnlyList<string> Unmet,
    IReadOnlyList<StepAction> Actions,
    IReadOnlyList<string> Notes,
    TimeSpan Duration,
    string? ObservedAfter = null,
    string? Error = null)
{
    /// <summary>Plan mode: the facts the decision rested on, for a saved plan.</summary>
    public IReadOnlyList<FactRead> Facts { get; init; } = [];

    /// <summary>
    /// Plan mode: the blocked step this one waits behind (<c>disk3 step 1</c>), earlier in its target or in a target it
    /// depends on; null when the step belongs to this plan's stage. A saved plan runs none of a waiting step.
    /// </summary>
    public string? WaitsFor { get; init; }
}

/// <summary>A check's result in a run or plan; <see cref="Probed"/> is false for a writing check a plan skipped.</summary>
public sealed record CheckOutcome(string Kind, string Description, bool Holds, string Observed, bool Probed = true)
{
    public const string NotProbedWrites = "not probed in a plan: writes";

    /// <summary>Plan mode: the facts the check read, for a saved plan.</summary>
    public IReadOnlyList<FactRead> Facts { get; init; } = [];
}

public sealed record TargetResult(
    string Name,
    string Host,
    TargetStatus Status,
    TimeSpan Duration,
    IReadOnlyList<StepResult> Steps,
    IReadOnlyList<CheckOutcome> Checks,
    string? Error = null)
{
    public bool Ok => Status is TargetStatus.Succeeded or TargetStatus.Satisfied or TargetStatus.Planned;

    /// <summary>Plan mode: the blocked step the rest of this target, and every target depending on it, waits behind.</summary>
    public string? WaitsFor { get; init; }
}

public sealed record RunSummary(RunMode Mode, IReadOnlyList<TargetResult> Targets, TimeSpan Duration)
{
    public bool Succeeded => Targets.All(t => t.Ok);

    /// <summary>
    /// Run of a saved plan: every target either finished or waits for the next stage (at least one does), so the
    /// stage is done and the operator plans again.
    /// </summary>
    public bool StageDone => Targets.Any(t => t.Status == TargetStatus.Waiting) && Targets.All(t => t.Ok || t.Status == TargetStatus.Waiting);

    /// <summary>
    /// Where each host of the run was reached, by inventory name: <c>local</c> may point at
    /// <c>root@10.0.0.5:22</c> when <c>--host</c> moved the default host, and a plan must say so.
    /// </summary>
    public IReadOnlyDictionary<string, string> HostAddresses { get; init; } = new Dictionary<string, string>();

    /// <summary>The host's inventory name, with its address when that says something more.</summary>
    public string DescribeHost(string host) =>
        HostAddresses.TryGetValue(host, out var address) && address != host ? $"{host} ({address})" : host;

    /// <summary>Plan mode: the steps that would change something.</summary>
    public int PendingChanges => Targets.Sum(t => t.Steps.Count(s => s.Outcome == StepOutcome.WillChange));
}
