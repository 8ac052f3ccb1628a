using System.Collections.Immutable;
using System.Text;

namespace Runbooks.Commands;

/// <summary>
/// An immutable argv record: what to run, never a shell string. Every <c>With…</c> returns a new value.
/// </summary>
/// <example><c>new Command("losetup", ["-J", "-l"]).AsReadOnly()</c></example>
public sealed record Command
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);

    public Command(string program, IEnumerable<Arg> arguments)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(program);
        if (program.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException($"program '{program}' contains whitespace; pass arguments as a list", nameof(program));
        }

        Program = program;
        Arguments = [.. arguments];
    }

    public string Program { get; }

    public ImmutableArray<Arg> Arguments { get; }

    /// <summary>Bytes fed to the process's stdin; may be a secret (e.g. a private key for <c>wg pubkey</c>).</summary>
    public Arg? Stdin { get; init; }

    public ImmutableDictionary<string, string> Environment { get; init; } = ImmutableDictionary<string, string>.Empty;

    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>
    /// True for commands that only read state (facts, probes). Plans run only these, and the transport
    /// refuses anything else while planning.
    /// </summary>
    public bool ReadOnly { get; init; }

    /// <summary>
    /// For a read: the part of stdout a decision rests on, when the tool also prints what changes by itself
    /// (an uptime, CPU times, byte counters). A saved plan hashes this view, so a service that merely ran one
    /// second longer does not count as a host that moved. Null: all of stdout.
    /// </summary>
    public Func<string, string>? FactView { get; init; }

    /// <summary>
    /// For one read that answers several (<c>lvm fullreport</c>, a batch of files): the reads it stands for. The
    /// engine files its answer under each of them; a transport that cannot give the combined answer (a recording of
    /// the separate reads) may fail it, and the engine then runs each read on its own. Empty for other commands.
    /// </summary>
    public ImmutableArray<Command> Combines { get; init; } = [];

    /// <summary>Exit codes that mean success for this tool (some tools exit 1 for "nothing to do").</summary>
    public ImmutableArray<int> SuccessExitCodes { get; init; } = [0];

    public Command AsReadOnly() => this with { ReadOnly = true };

    public Command WithStdin(Arg stdin) => this with { Stdin = stdin };

    public Command WithTimeout(TimeSpan timeout) => this with { Timeout = timeout };

    public Command WithEnvironment(string name, string value) => this with { Environment = Environment.SetItem(name, value) };

    public Command WithSuccessExitCodes(params int[] codes) => this with { SuccessExitCodes = [.. codes] };

    /// <example><c>new Command("sv", ["status", dir]).AsReadOnly().WithFactView(ServiceReads.WithoutUptime)</c></example>
    public Command WithFactView(Func<string, string> view) => this with { FactView = view };

    /// <summary>The argv as a person should read it: shell-quoted where needed, secrets as <c>***</c>.</summary>
    public string Render()
    {
        var text = new StringBuilder();
        foreach (var (name, value) in Environment.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            text.Append(name).Append('=').Append(ShellQuote.Quote(value)).Append(' ');
        }

        text.Append(ShellQuote.Quote(Program));
        foreach (var arg in Arguments)
        {
            text.Append(' ').Append(arg.IsSecret ? Secret.Mask : ShellQuote.Quote(arg.ToString()));
        }

        if (Stdin is { } stdin)
        {
            text.Append(stdin.IsSecret ? " <<< ***" : " <<< (stdin)");
        }

        return SecretRedactor.Redact(text.ToString());
    }

    public IReadOnlyList<string> RenderedArgv() =>
        [Program, .. Arguments.Select(a => SecretRedactor.Redact(a.ToString()))];

    public bool Equals(Command? other) =>
        other is not null && Program == other.Program && ReadOnly == other.ReadOnly &&
        Arguments.Select(a => a.Reveal()).SequenceEqual(other.Arguments.Select(a => a.Reveal())) &&
        Stdin?.Reveal() == other.Stdin?.Reveal() &&
        Environment.Count == other.Environment.Count && !Environment.Except(other.Environment).Any();

    public override int GetHashCode() => HashCode.Combine(Program, Arguments.Length, ReadOnly);

    public override string ToString() => Render();
}
