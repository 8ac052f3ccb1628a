using System.Text.Json.Nodes;
using Runbooks.Commands;

namespace Runbooks.Engine;

/// <summary>
/// Asks a process to stop, waits out its grace period for it to go, then kills it — the order an SRE types by
/// hand: a polite TERM (through the supervisor, so it does not restart what we stop), KILL only for what lingers.
/// Fails when the process outlives the KILL too, or lingers and there is no KILL to send.
/// </summary>
/// <example><c>new SignalAndWait(new Command("sv", ["down", "/etc/service/web"]), webStopped, TimeSpan.FromSeconds(10), new Command("sv", ["kill", "/etc/service/web"]))</c></example>
public sealed record SignalAndWait(Command Signal, Check Gone, TimeSpan Grace, Command? Kill) : StepAction
{
    /// <summary>How long a killed process may take to disappear before the action fails.</summary>
    public TimeSpan AfterKill { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often to look whether it is gone.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>What to do when even the KILL did not end it, appended to the error.</summary>
    public string? WhenItFails { get; init; }

    public override string Kind => "signal-and-wait";

    public override string Summary =>
        $"$ {Signal.Render()}; wait up to {Poll.Seconds(Grace)} until {Gone.Description}" +
        (Kill is null ? "; no KILL to escalate to" : $"; then $ {Kill.Render()}");

    public override IEnumerable<Command> Commands => [Signal];

    protected override IEnumerable<KeyValuePair<string, JsonNode?>> Fields() =>
    [
        new("signal", Array(Signal.RenderedArgv())),
        new("gone", Gone.Description),
        new("graceSeconds", Grace.TotalSeconds),
        new("kill", Kill is null ? null : Array(Kill.RenderedArgv())),
    ];

    // Stopping a supervised service could be reversed by starting it, but what it held when it stopped (open files,
    // connections, its memory) is gone; a step that means "running again" is a step of its own.
    internal override Reversal ReversalOn(HostContext host) =>
        Undo ?? Reversal.Cannot($"a signalled process cannot be brought back as it was (`{Signal.Render()}`)");

    internal override async Task ExecuteAsync(HostContext host, CancellationToken cancellationToken)
    {
        await host.ApplyAsync(Signal, cancellationToken).ConfigureAwait(false);
        // A process cannot have exited the instant it was signalled: the first look waits one interval.
        var (gone, last) = await Poll.UntilHoldsAsync(host, Gone, Grace, Interval, cancellationToken, waitBeforeFirstLook: true).ConfigureAwait(false);
        if (gone)
        {
            return;
        }

        if (Kill is null)
        {
            throw host.Failure($"'{Gone.Description}' does not hold {Poll.Seconds(Grace)} after `{Signal.Render()}` ({last.Observed}) and there is no KILL to send; stop it by hand");
        }

        await host.ApplyAsync(Kill, cancellationToken).ConfigureAwait(false);
        (gone, last) = await Poll.UntilHoldsAsync(host, Gone, AfterKill, Interval, cancellationToken, waitBeforeFirstLook: true).ConfigureAwait(false);
        if (!gone)
        {
            throw host.Failure($"'{Gone.Description}' does not hold {Poll.Seconds(AfterKill)} after `{Kill.Render()}` ({last.Observed}); " +
                               (WhenItFails ?? "a process stuck in the kernel (state D) cannot be killed: look at /proc/PID/stack"));
        }
    }
}
