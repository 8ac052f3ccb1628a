using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Runbooks.Commands;

namespace Runbooks.Engine;

/// <summary>
/// Writes a whole file atomically — beside it, then renamed over it, so a reader never sees half a file and a
/// crash leaves the old one whole — and only if the file is still as the probe saw it (same SHA-256, or still
/// absent): an edit made between plan and apply is refused, not overwritten. Renders as a unified diff.
/// </summary>
/// <example><c>WriteFile.Replacing("/etc/fstab", before: current, content: fixedText)</c></example>
public sealed record WriteFile : StepAction
{
    // One script for every file the DSL writes. Values arrive as $1..$5, never spliced into the text.
    // mktemp creates the file 0600, so a secret is private from its first byte; the mode is set before the rename.
    // A file that is itself a mount point (a container's /etc/hosts, a netns host's /etc/sysctl.conf) cannot be
    // renamed over (EBUSY): it is written in place, the only way there is; any other failure is cat's to report.
    // With $5 (this run's directory on the host) the old file is first copied there for undo and the hash is checked
    // on that copy, so what is kept, named by its SHA-256, is exactly what gets replaced. The last line printed is the
    // file's hash as written: the after-state undo compares, without a second command. Every program started costs
    // 0.05 s on an emulated host, so the hash is cut by the shell, not by `cut`, and a given mode skips --reference.
    internal const string Script =
        "set -e\n" +
        "tmp= keep=\n" +
        "trap '[ -z \"$tmp\" ] || rm -f -- \"$tmp\"; [ -z \"$keep\" ] || rm -f -- \"$keep\"' EXIT\n" +
        "case \"$2\" in\n" +
        "  absent) [ ! -e \"$1\" ] || { echo \"$1 was created since it was probed; nothing written, plan again\" >&2; exit 3; } ;;\n" +
        "  *) old=$1\n" +
        "     if [ -n \"$5\" ]; then [ -d \"$5\" ] || mkdir -p -m 700 -- \"$5\"; keep=$(mktemp \"$5/$2.XXXXXX\"); cp -p -- \"$1\" \"$keep\"; old=$keep; fi\n" +
        "     h=$(sha256sum 2>/dev/null < \"$old\") || h=\n" +
        "     [ \"${h%% *}\" = \"$2\" ] || { echo \"$1 changed since it was probed; nothing written, plan again\" >&2; exit 3; }\n" +
        "     if [ -n \"$keep\" ]; then mv -f -- \"$keep\" \"$5/$2\"; keep=; fi ;;\n" +
        "esac\n" +
        "tmp=$(mktemp \"$1.runbook.XXXXXX\")\n" +
        "if [ -n \"$4\" ]; then cat -- \"$4\" > \"$tmp\"; else cat > \"$tmp\"; fi\n" +
        "if [ -e \"$1\" ]; then [ -n \"$3\" ] || chmod --reference=\"$1\" -- \"$tmp\"; chown --reference=\"$1\" -- \"$tmp\" 2>/dev/null || :; fi\n" +
        "if [ -n \"$3\" ]; then chmod \"$3\" -- \"$tmp\"; elif [ -n \"$4\" ]; then chmod --reference=\"$4\" -- \"$tmp\"; elif [ ! -e \"$1\" ]; then chmod 0644 -- \"$tmp\"; fi\n" +
        "mv -f -- \"$tmp\" \"$1\" 2>/dev/null || cat -- \"$tmp\" > \"$1\"\n" +
        HashScript + "\n";

    // The file's SHA-256, or "absent": the state undo compares.
    private const string HashScript = "if [ -e \"$1\" ]; then h=$(sha256sum < \"$1\"); echo \"${h%% *}\"; else echo absent; fi";

    private WriteFile(string path, Arg content, string? mode, string? expectedSha256, string? before)
    {
        Path = path;
        Content = content;
        Mode = mode;
        ExpectedSha256 = expectedSha256;
        Before = before;
    }

    public string Path { get; }

    public Arg Content { get; }

    /// <summary>The mode to set; null keeps the mode (and owner) of the file it replaces, 0644 for a new file.</summary>
    public string? Mode { get; }

    /// <summary>The SHA-256 of the file as probed; null when the probe found no file.</summary>
    public string? ExpectedSha256 { get; }

    /// <summary>The file as probed, for the diff; null when absent or when only its hash was read.</summary>
    public string? Before { get; }

    /// <summary>A file the probe found absent; refused if it appeared meanwhile.</summary>
    /// <example><c>WriteFile.New("/etc/motd", "hello\n", "0644")</c></example>
    public static WriteFile New(string path, Arg content, string? mode = null) => new(path, content, mode, null, null);

    /// <summary>A file the probe read as <paramref name="before"/>; refused if it changed meanwhile.</summary>
    /// <example><c>WriteFile.Replacing("/etc/fstab", current, fixedText)</c></example>
    public static WriteFile Replacing(string path, string before, Arg content, string? mode = null) => new(path, content, mode, Sha256(before), before);

    /// <summary>A file whose hash alone was read (a private config the runner does not read); no diff is shown.</summary>
    /// <example><c>WriteFile.ReplacingHash("/etc/wireguard/wg0.conf", sha256, text, "0600")</c></example>
    public static WriteFile ReplacingHash(string path, string sha256, Arg content, string? mode = null) => new(path, content, mode, sha256, null);

    public static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public override string Kind => "write-file";

    public override string Summary =>
        $"write {Path}{(Mode is null ? "" : $" (mode {Mode})")}" +
        (ExpectedSha256 is null ? ", a new file" : Before is null ? $", replacing the file with sha256 {ExpectedSha256[..Math.Min(12, ExpectedSha256.Length)]}…" : "") +
        (Content.IsSecret ? " — content secret" : "");

    public override IReadOnlyList<string> Detail =>
        Content.IsSecret ? []
        : Before is null && ExpectedSha256 is not null ? ["(the file's current text was not read, only its hash; the new text:)", .. Content.Reveal().TrimEnd('\n').Split('\n').Select(l => "+" + l)]
        : UnifiedDiff.Lines(Path, Before ?? "", Content.Reveal(), beforeExists: ExpectedSha256 is not null);

    public override IEnumerable<Command> Commands => [Command];

    /// <summary>The one command that does the write, as the plan shows it.</summary>
    public Command Command => Shell.Script(Script, Path, ExpectedSha256 ?? "absent", Mode ?? "").WithStdin(Content);

    /// <summary>True for the command this action runs, whether or not it also keeps the old file for undo.</summary>
    /// <example><c>if (write.Runs(command)) { /* the atomic write of write.Path */ }</c></example>
    public bool Runs(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var planned = Command;
        return command.Program == planned.Program && !command.ReadOnly && command.Arguments.Length >= planned.Arguments.Length &&
               command.Arguments.Take(planned.Arguments.Length).Select(a => a.Reveal()).SequenceEqual(planned.Arguments.Select(a => a.Reveal()));
    }

    // The old file goes into the run's directory on the host when undo can bring it back from there.
    private Command CommandOn(HostContext host) =>
        ExpectedSha256 is not null && host.KeepDirectory is { } keep ? Shell.Script(Script, Path, ExpectedSha256, Mode ?? "", "", keep).WithStdin(Content) : Command;

    protected override IEnumerable<KeyValuePair<string, JsonNode?>> Fields() =>
    [
        new("path", Path),
        new("mode", Node(Mode)),
        new("expectedSha256", Node(ExpectedSha256)),
        new("contentSha256", Content.IsSecret ? null : Sha256(Content.Reveal())),
        new("diff", Content.IsSecret ? null : Array(Detail)),
    ];

    internal override Task ExecuteAsync(HostContext host, CancellationToken cancellationToken) => ExecuteReportingStateAsync(host, cancellationToken);

    internal override async Task<string?> ExecuteReportingStateAsync(HostContext host, CancellationToken cancellationToken)
    {
        var result = await host.ApplyAsync(CommandOn(host), cancellationToken).ConfigureAwait(false);
        return Reversal.State(result.StandardOutput.TrimEnd().Split('\n')[^1]);
    }

    /// <summary>The read of a file's SHA-256 (or <c>absent</c>): the state file reversals compare.</summary>
    internal static Command HashRead(string path) => Shell.Script(HashScript, path).AsReadOnly().WithTimeout(TimeSpan.FromSeconds(20));

    /// <summary>
    /// A new file is removed again; a replaced one is kept in the run's directory on the host by the write itself and
    /// written back from there. Either only while the file still has the content this write left. The before-state is
    /// the one the write checks before it changes anything, so it is not read again.
    /// </summary>
    internal override Reversal ReversalOn(HostContext host)
    {
        var read = HashRead(Path);
        if (ExpectedSha256 is null)
        {
            return Reversal.By($"remove {Path} again (it did not exist)", read, new Command("rm", ["-f", "--", Path])) with { Proven = "absent" };
        }

        if (host.KeepDirectory is not { } keep)
        {
            return Reversal.Cannot($"the old {Path} was not kept: the run had no directory on the host to keep it in");
        }

        var kept = $"{keep}/{ExpectedSha256}";
        var left = Sha256(Content.Reveal());
        return Reversal.By($"write {Path} back as it was (sha256 {ExpectedSha256[..12]}…, kept in {kept})", read,
            Shell.Script(Script, Path, left, "", kept)) with { Proven = ExpectedSha256 };
    }
}
