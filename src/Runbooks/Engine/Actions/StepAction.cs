using System.Text.Json.Nodes;
using Runbooks.Commands;

namespace Runbooks.Engine;

/// <summary>
/// One thing a step will do, as its probe decided it: the plan shows it, the journal records it, and the engine
/// executes it — the same value each time, so what was approved is what runs. Steps yield actions; they never
/// run them themselves.
/// </summary>
public abstract record StepAction
{
    /// <summary>One line for a person: <c>$ pvremove -- /dev/loop1</c>, <c>write /etc/fstab</c>.</summary>
    public abstract string Summary { get; }

    /// <summary>Further lines under the summary (a file's diff); empty for most actions.</summary>
    public virtual IReadOnlyList<string> Detail => [];

    /// <summary>The changing commands this action starts for sure (a kill after a grace period is not sure).</summary>
    public virtual IEnumerable<Command> Commands => [];

    /// <summary>The action as JSON for a saved plan or a journal: <c>kind</c> plus its fields, secrets as <c>***</c>.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject { ["kind"] = Kind, ["summary"] = Summary };
        foreach (var (key, value) in Fields())
        {
            json[key] = value;
        }

        return json;
    }

    /// <summary>
    /// What the step knows at probe time about putting this action back; null when it recorded nothing (a raw
    /// <c>Exec</c>), which <c>runbook undo</c> reports as an action it cannot undo. Not part of the plan's
    /// actions: a saved plan compares what runs, not how it is undone.
    /// </summary>
    /// <example><c>new RunCommand(set) { Undo = Reversal.By("back to 1", read, setBack) }</c></example>
    public Reversal? Undo { get; init; }

    /// <summary>The reversal as the engine records it when it executes this action on <paramref name="host"/>.</summary>
    internal virtual Reversal ReversalOn(HostContext host) =>
        Undo ?? Reversal.Cannot("its step records no before-state (a raw command, or a noun that does not keep one yet); put it back by hand if it matters");

    /// <summary>The action's kind in plans and journals: <c>run</c>, <c>write-file</c>, <c>wait-until</c> …</summary>
    public abstract string Kind { get; }

    /// <summary>What the action is made of, for <see cref="ToJson"/>.</summary>
    protected abstract IEnumerable<KeyValuePair<string, JsonNode?>> Fields();

    /// <summary>Does it, on <paramref name="host"/>; only the engine calls this, through <see cref="HostContext.RunActionsAsync"/>.</summary>
    internal abstract Task ExecuteAsync(HostContext host, CancellationToken cancellationToken);

    /// <summary>
    /// Does it and returns the state it left as its reversal's read would answer, when its own command prints that (a
    /// write ends with the file's hash); null when the engine must read it.
    /// </summary>
    internal virtual async Task<string?> ExecuteReportingStateAsync(HostContext host, CancellationToken cancellationToken)
    {
        await ExecuteAsync(host, cancellationToken).ConfigureAwait(false);
        return null;
    }

    internal static JsonNode? Node(string? value) => value is null ? null : JsonValue.Create(value);

    internal static JsonArray Array(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode?)v)]);

    internal static JsonArray Array(IEnumerable<StepAction> actions) => new([.. actions.Select(a => (JsonNode?)a.ToJson())]);

    public sealed override string ToString() => Summary;
}

/// <summary>Runs one changing command; fails on an exit code the command does not call success.</summary>
/// <example><c>new RunCommand(new Command("mount", ["-o", "remount,rw", "--", "/data"]))</c></example>
public sealed record RunCommand(Command Command) : StepAction
{
    /// <summary>
    /// True for tools that report a refusal on stderr with exit 0 (<c>sysctl -w</c> on a key it may not set):
    /// any stderr then fails the action.
    /// </summary>
    public bool StderrMeansFailure { get; init; }

    /// <summary>
    /// A read-only command run when this one fails, where the tool wrote why (a server's log tail): its output joins
    /// the error and the journal, so the retrospective need not go back to the host.
    /// </summary>
    /// <example><c>new RunCommand(start) { WhenItFailsRead = new Command("tail", ["-n", "20", "--", log]) }</c></example>
    public Command? WhenItFailsRead { get; init; }

    public override string Kind => "run";

    public override string Summary => "$ " + Command.Render();

    public override IEnumerable<Command> Commands => [Command];

    protected override IEnumerable<KeyValuePair<string, JsonNode?>> Fields() =>
    [
        new("argv", Array(Command.RenderedArgv())),
        new("stdin", Command.Stdin is { } stdin ? Node(stdin.IsSecret ? Secret.Mask : SecretRedactor.Redact(stdin.Reveal())) : null),
        new("stderrMeansFailure", StderrMeansFailure ? true : null),
        new("whenItFailsRead", WhenItFailsRead is { } read ? Array(read.RenderedArgv()) : null),
    ];

    internal override async Task ExecuteAsync(HostContext host, CancellationToken cancellationToken)
    {
        CommandResult result;
        try
        {
            result = await host.ApplyAsync(Command, cancellationToken).ConfigureAwait(false);
        }
        catch (CommandFailedException failed) when (WhenItFailsRead is { } read)
        {
            var why = await host.TryReadAsync(read, cancellationToken).ConfigureAwait(false);
            var text = why.ExitCode == 0 ? why.StdoutTail(20) : $"(exited {why.ExitCode}: {why.StderrTail(2)})";
            throw new CommandFailedException(failed.Host, failed.Command, failed.Result, $"{read.Render()}:\n{text}");
        }

        if (StderrMeansFailure && !string.IsNullOrWhiteSpace(result.StandardError))
        {
            throw new CommandFailedException(host.Name, Command, result);
        }
    }
}
