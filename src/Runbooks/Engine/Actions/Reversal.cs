using System.Text.Json.Nodes;
using Runbooks.Commands;

namespace Runbooks.Engine;

/// <summary>
/// How to put back what one action replaced: a read-only command whose output is the state the action changes (its
/// answers just before and just after the action are journaled — from the probe round's reads where the step made
/// them, see <see cref="Observed"/> and <see cref="Proven"/>), and the commands that bring the before-state back.
/// <c>runbook undo</c> runs the inverse only while the read still answers what the run left; confirmed apply arms the
/// same inverse on the host. An action that cannot be put back says why.
/// </summary>
/// <example><c>Reversal.By("icmp_echo_ignore_all back to 1", new Command("sysctl", ["-n", key]), new Command("sysctl", ["-w", key + "=1"]))</c></example>
public sealed record Reversal
{
    private Reversal(string description, Command? read, IReadOnlyList<Command> inverse, string? impossible)
    {
        Description = description;
        Read = read?.AsReadOnly();
        Inverse = inverse;
        Impossible = impossible;
    }

    /// <summary>What undoing does, in words: "sysctl net.ipv4.icmp_echo_ignore_all back to 1".</summary>
    public string Description { get; }

    /// <summary>The read whose answer is the state this action changes; null when nothing lasting changes or it cannot be undone.</summary>
    public Command? Read { get; }

    /// <summary>The commands that bring the before-state back, in order.</summary>
    public IReadOnlyList<Command> Inverse { get; }

    /// <summary>Why this action cannot be undone; null when it can (or leaves nothing to undo).</summary>
    public string? Impossible { get; }

    /// <summary>
    /// The state <see cref="Read"/> answers, taken instead from a read the step makes anyway (the remount's options out
    /// of the findmnt report its probe and its verify read): the before-state is then what the probe saw this round, and
    /// the after-state is one read that the verify finds cached. Its parser must give what <see cref="Read"/> prints, as
    /// <see cref="State"/> compares it: undo later reads <see cref="Read"/> itself and refuses on any difference.
    /// </summary>
    /// <example><c>Reversal.By("/data remounted read-only again", options, remountRo) with { Observed = FsReads.MountOptions("/data") }</c></example>
    public Fact<string>? Observed { get; init; }

    /// <summary>
    /// The before-state the action proves itself before it changes anything (a write refuses unless the file still has
    /// this hash); the engine then reads none.
    /// </summary>
    /// <example><c>Reversal.By("remove /etc/motd again", hashRead, rm) with { Proven = "absent" }</c></example>
    public string? Proven { get; init; }

    /// <summary>True for an action that leaves nothing behind (a wait, a ping, a guard).</summary>
    public bool LeavesNothing => Impossible is null && Read is null;

    /// <summary>An action whose before-state <paramref name="inverse"/> brings back; <paramref name="read"/> tells the states apart.</summary>
    /// <example><c>Reversal.By("rule removed again", countRule, new Command("iptables", ["-D", "INPUT", "-p", "tcp", "-j", "DROP"]))</c></example>
    public static Reversal By(string description, Command read, params IEnumerable<Command> inverse) => new(description, read, [.. inverse], null);

    /// <summary>An action that cannot be put back, and why (an LV grown with its filesystem, a process killed).</summary>
    /// <example><c>Reversal.Cannot("a killed process cannot be brought back")</c></example>
    public static Reversal Cannot(string why) => new("", null, [], why);

    /// <summary>For actions that change nothing lasting (waits, pings, guards): nothing to undo.</summary>
    public static Reversal Nothing { get; } = new("nothing to undo", null, [], null);

    /// <summary>How a read's answer is compared: whitespace runs are one space, ends trimmed (sysctl prints tabs).</summary>
    public static string State(string output) => string.Join(' ', output.Split([' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries));

    /// <summary>The journal's form of an applied action's reversal, with the state read before and after it.</summary>
    internal JsonObject ToJson(string? before, string? left)
    {
        if (Impossible is not null)
        {
            return new JsonObject { ["cannot"] = Impossible };
        }

        if (Read is null)
        {
            return new JsonObject { ["nothing"] = true };
        }

        return new JsonObject
        {
            ["description"] = Description,
            ["read"] = CommandJson.ToJson(Read),
            ["before"] = before,
            ["left"] = left,
            ["inverse"] = new JsonArray([.. Inverse.Select(c => (JsonNode?)CommandJson.ToJson(c))]),
        };
    }

    /// <summary>The inverse as one POSIX shell script, each command quoted word by word: what a host runs by itself to revert.</summary>
    internal static string Script(IEnumerable<Command> commands) =>
        string.Join('\n', commands.Select(c => string.Join(' ', new[] { c.Program }.Concat(c.Arguments.Select(a => a.Reveal())).Select(ShellQuote.Quote)))) + "\n";
}

/// <summary>
/// A command as a journal keeps it so that it can be run again later (undo): program, argv and timeout. Commands
/// holding a secret are never written this way; a reversal that needs one is not offered.
/// </summary>
internal static class CommandJson
{
    public static JsonObject ToJson(Command command)
    {
        if (command.Arguments.Any(a => a.IsSecret) || command.Stdin is not null)
        {
            throw new InvalidOperationException($"`{command.Render()}` carries a secret or stdin; a reversal must not need one");
        }

        return new JsonObject
        {
            ["argv"] = new JsonArray([command.Program, .. command.Arguments.Select(a => (JsonNode?)a.Reveal())]),
            ["timeoutSeconds"] = command.Timeout.TotalSeconds,
            ["ok"] = new JsonArray([.. command.SuccessExitCodes.Select(c => (JsonNode?)c)]),
        };
    }

    public static Command FromJson(JsonNode node)
    {
        var argv = node["argv"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
        var command = new Command(argv[0], argv.Skip(1).Select(Arg.FromString));
        if (node["timeoutSeconds"] is { } timeout)
        {
            command = command.WithTimeout(TimeSpan.FromSeconds(timeout.GetValue<double>()));
        }

        if (node["ok"] is JsonArray ok && ok.Count > 0)
        {
            command = command.WithSuccessExitCodes([.. ok.Select(c => c!.GetValue<int>())]);
        }

        return command;
    }
}
