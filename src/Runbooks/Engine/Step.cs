using Runbooks.Commands;

namespace Runbooks.Engine;

/// <summary>
/// The unit of change. The engine probes it; if its postcondition holds it is satisfied and nothing runs;
/// else its precondition must hold, the engine executes the actions the probe yielded, and a second probe must
/// find the postcondition true. A step plans, it never starts a process itself: the plan, the journal and the
/// apply are one list of actions.
/// </summary>
public abstract class Step
{
    /// <summary>What must be true after the step, in words: "line 'x' present in /etc/motd".</summary>
    public abstract string Description { get; }

    /// <summary>What a destructive step destroys (shown in the plan); null for a step that destroys nothing.</summary>
    public virtual string? Destroys => null;

    /// <summary>
    /// What the step owns on its host (a port, a file's content, a sysctl's value, a rule's presence). Read before
    /// anything runs to refuse two roles on one machine that want the same thing two ways; a step that owns
    /// nothing another step could contradict claims nothing.
    /// </summary>
    public virtual IEnumerable<ResourceClaim> Claims => [];

    /// <summary>
    /// True for a step whose change can cut the controller off the host (firewall, routes, addresses, WireGuard, sshd's
    /// config). Over SSH such a step is applied confirmed: the host arms its own revert first, and a fresh connection
    /// must confirm the change within the run's confirm timeout or the host puts the before-state back by itself.
    /// </summary>
    public virtual bool CanCutOffController => false;

    /// <summary>False for a raw command with nothing to verify: it is applied and not probed again.</summary>
    public virtual bool HasPostcondition => true;

    /// <summary>
    /// The facts the probe reads whatever it finds, known before it runs; the engine reads them in one round trip:
    /// for the probe, the step's own and, after satisfied steps, the next steps' too (<see cref="ReadAhead"/>); for its
    /// verify, with the next step's (nothing is applied in between); for a plan, those of every step of a host at once.
    /// Declare what the probe reads on its usual path (a declared read a path skips costs one more program in a batch);
    /// a read made only rarely, or whose command depends on an earlier answer, is not declared here.
    /// </summary>
    /// <example><c>public override IEnumerable&lt;IFact&gt; Reads => [LoopReads.Devices];</c></example>
    public virtual IEnumerable<IFact> Reads => [];

    /// <summary>Reads the facts it needs and decides. Must run read-only commands only.</summary>
    public abstract Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken);

    /// <summary>
    /// Executes the probe's actions, in order, through the engine. A step that overrides this must say in one
    /// line why its actions cannot express what it does, and must still yield actions that render it.
    /// </summary>
    public virtual Task ApplyAsync(HostContext host, StepProbe probe, CancellationToken cancellationToken) =>
        host.RunActionsAsync(probe.Actions, cancellationToken);

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

/// <summary>What a probe found: the decision, what was observed, the reasons it is blocked, the actions it would take.</summary>
public sealed record StepProbe(StepDecision Decision, string Observed, IReadOnlyList<string> Unmet, IReadOnlyList<StepAction> Actions)
{
    /// <summary>Notes for the plan: why the actions are these (not what they do — they render themselves).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>The changing commands the actions start for sure, in order.</summary>
    public IReadOnlyList<Command> Commands => [.. Actions.SelectMany(a => a.Commands)];

    public static StepProbe Satisfied(string observed) => new(StepDecision.Satisfied, observed, [], []);

    /// <summary>Sugar for a step whose actions are plain commands, run in order.</summary>
    /// <example><c>StepProbe.Change("ro", new Command("mount", ["-o", "remount,rw", "--", "/data"]))</c></example>
    public static StepProbe Change(string observed, params Command[] commands) => Change(observed, (IEnumerable<Command>)commands);

    public static StepProbe Change(string observed, IEnumerable<Command> commands) => new(StepDecision.WillChange, observed, [], [.. commands.Select(c => new RunCommand(c))]);

    /// <example><c>StepProbe.Act("fstab says ro", WriteFile.Replacing(path, before, after))</c></example>
    public static StepProbe Act(string observed, params StepAction[] actions) => Act(observed, (IEnumerable<StepAction>)actions);

    public static StepProbe Act(string observed, IEnumerable<StepAction> actions) => new(StepDecision.WillChange, observed, [], [.. actions]);

    public static StepProbe Blocked(string observed, params string[] reasons) => new(StepDecision.Blocked, observed, reasons, []);
}
