using Runbooks.Commands;

namespace Runbooks.Engine;

/// <summary>
/// The unit of change. The engine probes it; if its postcondition holds it is satisfied and nothing runs;
/// else its precondition must hold, its commands run, and a second probe must find the postcondition true.
/// A step plans, it never starts a process itself: it reads facts and applies commands through the host.
/// </summary>
public abstract class Step
{
    /// <summary>What must be true after the step, in words: "line 'x' present in /etc/motd".</summary>
    public abstract string Description { get; }

    /// <summary>What a destructive step destroys (shown in the plan); null for a step that destroys nothing.</summary>
    public virtual string? Destroys => null;

    /// <summary>False for a raw command with nothing to verify: it is applied and not probed again.</summary>
    public virtual bool HasPostcondition => true;

    /// <summary>Reads the facts it needs and decides. Must run read-only commands only.</summary>
    public abstract Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken);

    /// <summary>Runs the planned commands in order. Override when applying needs to wait or poll.</summary>
    public virtual async Task ApplyAsync(HostContext host, StepProbe probe, CancellationToken cancellationToken)
    {
        foreach (var command in probe.Commands)
        {
            await host.ApplyAsync(command, cancellationToken).ConfigureAwait(false);
        }
    }

    public override string ToString() => Description;
}

public enum StepDecision
{
    /// <summary>The postcondition already holds: nothing runs.</summary>
    Satisfied,

    /// <summary>The postcondition does not hold and the precondition does: the commands will run.</summary>
    WillChange,

    /// <summary>The precondition does not hold: the step fails with the reasons and nothing runs.</summary>
    Blocked,
}

/// <summary>What a probe found: the decision, what was observed, the reasons it is blocked, the commands it would run.</summary>
public sealed record StepProbe(StepDecision Decision, string Observed, IReadOnlyList<string> Unmet, IReadOnlyList<Command> Commands)
{
    /// <summary>Notes for the plan about work that is not a command (a wait, a poll).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    public static StepProbe Satisfied(string observed) => new(StepDecision.Satisfied, observed, [], []);

    public static StepProbe Change(string observed, params Command[] commands) => new(StepDecision.WillChange, observed, [], commands);

    public static StepProbe Change(string observed, IEnumerable<Command> commands) => new(StepDecision.WillChange, observed, [], [.. commands]);

    public static StepProbe Blocked(string observed, params string[] reasons) => new(StepDecision.Blocked, observed, reasons, []);
}
