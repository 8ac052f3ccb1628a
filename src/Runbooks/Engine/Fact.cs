using Runbooks.Commands;

namespace Runbooks.Engine;

/// <summary>
/// A fact: a read-only command and the parser of its answer. The engine runs the read at most once per probe
/// round on a host (<see cref="HostContext.FactAsync"/>) and the saved plan hashes its answer, through the read's
/// <see cref="Command.FactView"/>, as one of the facts a decision rested on.
/// </summary>
/// <example><c>new Fact&lt;long&gt;(new Command("blockdev", ["--getsize64", "/dev/loop1"]), r => long.Parse(r.StandardOutput))</c></example>
public sealed record Fact<T> : IFact
{
    /// <param name="read">The command; made read-only here, so a fact can never change the host.</param>
    /// <param name="parse">Turns the answer into the fact; sees the exit code, so "no such device" can be an answer.</param>
    /// <param name="mustSucceed">False when a failing exit code is an answer the parser judges; true fails with the command's error.</param>
    public Fact(Command read, Func<CommandResult, T> parse, bool mustSucceed = true)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(parse);
        Read = read.AsReadOnly();
        Parse = parse;
        MustSucceed = mustSucceed;
    }

    public Command Read { get; }

    public Func<CommandResult, T> Parse { get; }

    public bool MustSucceed { get; }

    /// <summary>
    /// Which results are answers, when neither "success exit codes" nor "any" says it (ip exits 1 both for "does not
    /// exist", an answer, and for real failures); anything else fails with the command's error, naming the host.
    /// </summary>
    public Func<CommandResult, bool>? AnswersWhen { get; init; }

    internal bool Answers(CommandResult result) =>
        AnswersWhen?.Invoke(result) ?? (!MustSucceed || Read.SuccessExitCodes.Contains(result.ExitCode));

    /// <summary>A read that answers this fact among others; asked first when this round has read neither.</summary>
    public CombinedRead? Via { get; init; }
}

/// <summary>A fact whatever its type: the read that answers it, and the combined read that may answer it with others.</summary>
public interface IFact
{
    Command Read { get; }

    CombinedRead? Via { get; }
}

/// <summary>
/// One read that answers several facts' reads at once — <c>lvm fullreport</c> for pvs, vgs, lvs and segments, one
/// shell for a batch of files — because on a slow host every command is a round trip and a device scan.
/// </summary>
/// <example><c>new CombinedRead(LvmFullReport.Command, LvmFullReport.Split)</c></example>
public sealed record CombinedRead
{
    /// <param name="read">The command; it is marked with the reads it stands for (<see cref="Command.Combines"/>).</param>
    /// <param name="parts">The reads it answers, as the separate commands would be run.</param>
    /// <param name="split">Each part's answer as its own command would have given it; null or fewer parts when the output does not fit (an older tool).</param>
    public CombinedRead(Command read, IReadOnlyList<Command> parts, Func<CommandResult, IEnumerable<(Command Part, CommandResult Answer)>?> split)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(parts);
        ArgumentNullException.ThrowIfNull(split);
        Read = read.AsReadOnly() with { Combines = [.. parts.Select(p => p.AsReadOnly())] };
        Split = split;
    }

    public Command Read { get; }

    public Func<CommandResult, IEnumerable<(Command Part, CommandResult Answer)>?> Split { get; }
}
