using System.Text.Json.Nodes;

namespace Runbooks.Engine;

/// <summary>
/// Re-checks a precondition on fresh facts right before the next action, and stops the step if it no longer
/// holds: the probe saw zero allocated extents, but only a look just before <c>pvremove</c> proves it.
/// </summary>
/// <example><c>new Guard(Lvm.Pv("/dev/loop1").HoldsNoExtents())</c></example>
public sealed record Guard(Check Holds) : StepAction
{
    public override string Kind => "guard";

    public override string Summary => $"guard: {Holds.Description}";

    protected override IEnumerable<KeyValuePair<string, JsonNode?>> Fields() => [new("holds", Holds.Description)];

    internal override Reversal ReversalOn(HostContext host) => Reversal.Nothing;

    internal override Task ExecuteAsync(HostContext host, CancellationToken cancellationToken) => VerifyAsync(host, null, cancellationToken);

    internal async Task VerifyAsync(HostContext host, StepAction? next, CancellationToken cancellationToken)
    {
        host.InvalidateFacts();
        var result = await Holds.EvaluateAsync(host, cancellationToken).ConfigureAwait(false);
        if (!result.Holds)
        {
            throw host.Failure($"'{Holds.Description}' no longer holds ({result.Observed}){(next is null ? "" : $" before `{next.Summary.TrimStart('$', ' ')}`")}; stopped, nothing more was changed");
        }
    }
}

/// <summary>
/// A choice the plan shows because its fact exists only at apply time ("if the mover is still running: wait;
/// otherwise: resume"). Use it only for such facts: anything a probe can read belongs in the probe.
/// </summary>
/// <example><c>new Branch(moverRunning, [new WaitUntil(moverGone, timeout, interval)], [new RunCommand(resume)])</c></example>
public sealed record Branch(Check Condition, IReadOnlyList<StepAction> WhenTrue, IReadOnlyList<StepAction> WhenFalse) : StepAction
{
    public override string Kind => "branch";

    public override string Summary =>
        $"if {Condition.Description}: {Describe(WhenTrue)}; otherwise: {Describe(WhenFalse)}";

    protected override IEnumerable<KeyValuePair<string, JsonNode?>> Fields() =>
        [new("if", Condition.Description), new("then", Array(WhenTrue)), new("else", Array(WhenFalse))];

    // The branch taken runs its own actions through the engine, each recorded with its own reversal.
    internal override Reversal ReversalOn(HostContext host) => Reversal.Nothing;

    internal override async Task ExecuteAsync(HostContext host, CancellationToken cancellationToken)
    {
        host.InvalidateFacts();
        var result = await Condition.EvaluateAsync(host, cancellationToken).ConfigureAwait(false);
        await host.RunActionsAsync(result.Holds ? WhenTrue : WhenFalse, cancellationToken).ConfigureAwait(false);
    }

    private static string Describe(IReadOnlyList<StepAction> actions) =>
        actions.Count == 0 ? "nothing" : string.Join(", then ", actions.Select(a => a.Summary));
}
