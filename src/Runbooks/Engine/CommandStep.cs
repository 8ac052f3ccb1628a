using Runbooks.Commands;

namespace Runbooks.Engine;

/// <summary>
/// Raw commands, for what no noun covers yet. Without <see cref="Until"/> it has no postcondition: it runs
/// on every run and nothing verifies it (analyzer RB001 warns). With one, it behaves like any step.
/// </summary>
/// <example><c>Exec("reload nginx", new Command("nginx", ["-s", "reload"])).Until(Http.Get(url).Returns(200))</c></example>
public sealed class CommandStep : DeclaredDestructionStep
{
    private readonly string _description;
    private readonly IReadOnlyList<Command> _commands;
    private readonly Check? _done;
    private readonly IReadOnlyList<ResourceClaim> _owns;
    private readonly TimeSpan? _settle;

    public CommandStep(string description, IReadOnlyList<Command> commands, Check? done = null, string? destroys = null)
        : this(description, commands, done, [], null, destroys)
    {
    }

    private CommandStep(string description, IReadOnlyList<Command> commands, Check? done, IReadOnlyList<ResourceClaim> owns, TimeSpan? settle, string? destroys)
        : base(destroys)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        if (commands.Count == 0)
        {
            throw new ArgumentException("Exec needs at least one command", nameof(commands));
        }

        _description = description;
        _commands = commands;
        _done = done;
        _owns = owns;
        _settle = settle;
    }

    private static readonly TimeSpan SettleInterval = TimeSpan.FromMilliseconds(100);

    public override string Description => _done is null ? _description : $"{_description} (until {_done.Description})";

    public override bool HasPostcondition => _done is not null;

    /// <summary>
    /// Says the commands run on every run on purpose (a build, a test run): nothing is converged, so there is no
    /// <see cref="Until"/> to give. Quiets RB001; the plan still shows the commands as a change every time.
    /// </summary>
    /// <example><c>Exec("dotnet build", new Command("dotnet", ["build"])).EveryRun()</c></example>
    public CommandStep EveryRun() => _done is null ? this : throw new InvalidOperationException("a step with .Until(…) skips once done; it cannot also run every run");

    /// <summary>The condition that means the commands are no longer needed, and that must hold after they ran.</summary>
    public CommandStep Until(Check done) => new(_description, _commands, done, _owns, _settle, base.Destroys);

    /// <summary>
    /// After the commands, waits up to <paramref name="timeout"/> for the <see cref="Until"/> check to hold (a daemon
    /// they start takes a moment to listen) instead of verifying it at once. Shown in the plan as a wait.
    /// </summary>
    /// <example><c>Exec("start the app", start).Until(Probe.Tcp("127.0.0.1", 8080, TcpOutcome.Connected)).Within(TimeSpan.FromSeconds(10))</c></example>
    public CommandStep Within(TimeSpan timeout) =>
        _done is null ? throw new InvalidOperationException("Within(…) waits for the .Until(…) check; give .Until first")
        : new(_description, _commands, _done, _owns, Dsl.DslArguments.PositiveTime(timeout, nameof(timeout)), base.Destroys);

    /// <summary>
    /// Declares what the raw commands own on the host (a port the daemon they start listens on), which the engine
    /// cannot see in an argv: a constellation refuses a second role on the machine that wants it too.
    /// </summary>
    /// <example><c>Exec("start the app", start).Until(Probe.Tcp("127.0.0.1", 8080, TcpOutcome.Connected)).Owns(ResourceClaim.Port(8080))</c></example>
    public CommandStep Owns(params ResourceClaim[] claims) => new(_description, _commands, _done, [.. _owns, .. claims], _settle, base.Destroys);

    public override IEnumerable<ResourceClaim> Claims => _owns;

    /// <summary>
    /// Says what the raw commands destroy (a log's content, a table's rows): the plan flags the step with
    /// <c>DESTROYS: …</c> as it does the built-in destructive steps, and the journal records it.
    /// </summary>
    /// <example><c>Exec("empty the spool", new Command("find", ["/var/spool/app", "-delete"])).Destroys("every file in /var/spool/app").Until(check)</c></example>
    public new CommandStep Destroys(string what)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(what);
        return new(_description, _commands, _done, _owns, _settle, what.Trim());
    }

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        if (_done is null)
        {
            return StepProbe.Change("no postcondition: always runs", _commands);
        }

        var result = await _done.EvaluateAsync(host, cancellationToken).ConfigureAwait(false);
        if (result.Holds)
        {
            return StepProbe.Satisfied(result.Observed);
        }

        return _settle is { } settle
            ? StepProbe.Act(result.Observed, [.. _commands.Select(c => (StepAction)new RunCommand(c)), new WaitUntil(_done, settle, SettleInterval)])
            : StepProbe.Change(result.Observed, _commands);
    }
}

/// <summary>
/// A step whose destruction the author declares rather than its noun knowing it: <c>Exec(…).Destroys("…")</c> names
/// a method after the property every step has, so the property lives here.
/// </summary>
public abstract class DeclaredDestructionStep(string? destroys) : Step
{
    public override string? Destroys => destroys;
}
