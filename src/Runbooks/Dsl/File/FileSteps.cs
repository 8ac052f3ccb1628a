using System.Text.RegularExpressions;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>A regular file whose content (and mode) is exactly as given.</summary>
public sealed class FileContentStep(string path, Arg content, string mode) : Step
{
    public override IEnumerable<IFact> Reads => [FileCommands.Facts(path), HostContext.FileContentIfReadable(path)];

    public override string Description => $"{path} has the given content{(content.IsSecret ? " (secret)" : "")}, mode {mode}";

    // Secret content is never hashed into a message: any second owner of a secret file is a conflict.
    public override IEnumerable<ResourceClaim> Claims =>
        [content.IsSecret ? new ResourceClaim("file", path, "secret content", Exclusive: true) : ResourceClaim.File(path, content.Reveal(), mode)];

    // sshd's own configuration: a wrong line there keeps the next connection out.
    public override bool CanCutOffController => path.StartsWith("/etc/ssh/", StringComparison.Ordinal);

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var facts = await FileProbe.StatAsync(host, path, cancellationToken).ConfigureAwait(false);
        if (facts.Exists && !facts.IsRegularFile)
        {
            return StepProbe.Blocked(facts.ToString(), $"{path} is a {facts.Kind}, not a regular file; refusing to replace it");
        }

        if (!facts.Exists)
        {
            // A directory that is missing now may be made by an earlier step of the same run, so the plan can
            // still hold this write: the guard proves the directory right before it, in the plan and in the run.
            var parent = await FileProbe.StatAsync(host, DslArguments.Parent(path), cancellationToken).ConfigureAwait(false);
            if (parent.Exists && !parent.IsDirectory)
            {
                return StepProbe.Blocked("absent", $"{DslArguments.Parent(path)} is a {parent.Kind}, not a directory; refusing to write under it");
            }

            return StepProbe.Act("absent", new Guard(FileProbe.IsDirectory(DslArguments.Parent(path))), WriteFile.New(path, content, mode)) with
            {
                Notes = parent.Exists ? [] : [$"directory {DslArguments.Parent(path)} does not exist now: a step before this one must create it (File.Directory)"],
            };
        }

        var current = await host.FactAsync(HostContext.FileContent(path), cancellationToken).ConfigureAwait(false);
        if (current == content.Reveal())
        {
            return facts.Mode == mode ? StepProbe.Satisfied(facts.ToString()) : StepProbe.Act(facts.ToString(), FileCommands.ChmodFrom(path, mode, facts.Mode));
        }

        return StepProbe.Act(facts + ", content differs", WriteFile.Replacing(path, current, content, mode));
    }
}

/// <summary>A line present in a text file; the rest of the file is left alone.</summary>
public sealed class FileLineStep(string path, string line, bool create, Regex? replacing = null) : Step
{
    public override IEnumerable<IFact> Reads => [FileCommands.Facts(path), HostContext.FileContentIfReadable(path)];

    /// <summary>
    /// The line takes the place of the first line matching <paramref name="pattern"/>, and any other matching line
    /// goes: one <c>listen = …</c> afterwards, not two. Appended when nothing matches. Written whole, atomically.
    /// </summary>
    /// <example><c>File.Line("/etc/app/app.conf", "listen = 0.0.0.0:8080").Replacing(@"^\s*listen\s*=")</c></example>
    public FileLineStep Replacing(string pattern) => new(path, line, create, DslArguments.LinePattern(pattern));

    public override string Description => $"{path} contains the line '{line}'" + (replacing is null ? "" : $" in place of lines matching /{replacing}/");

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var (facts, text, blocked) = await FileProbe.TextAsync(host, path, cancellationToken).ConfigureAwait(false);
        if (blocked is not null)
        {
            return blocked;
        }

        if (!facts.Exists)
        {
            return !create
                ? StepProbe.Blocked("absent", $"{path} does not exist; pass create: true to create it")
                : replacing is null ? StepProbe.Act("absent", FileCommands.AppendTo(path, line + "\n", null)) : StepProbe.Act("absent", WriteFile.New(path, line + "\n"));
        }

        if (replacing is not null)
        {
            var lines = FileProbe.Lines(text);
            var matching = lines.Select((l, i) => (l, i)).Where(x => x.l == line || replacing.IsMatch(x.l)).Select(x => x.i).ToList();
            if (matching.Count == 1 && lines[matching[0]] == line)
            {
                return StepProbe.Satisfied($"line {matching[0] + 1} is the line");
            }

            var kept = lines.Where((_, i) => !matching.Skip(1).Contains(i)).Select((l, i) => matching.Count > 0 && i == matching[0] ? line : l).ToList();
            if (matching.Count == 0)
            {
                kept.Add(line);
            }

            return StepProbe.Act(matching.Count == 0 ? "no line matches" : $"lines {string.Join(", ", matching.Select(i => i + 1))} match", WriteFile.Replacing(path, text, FileProbe.Join(kept)));
        }

        if (text.Split('\n').Any(l => l.TrimEnd('\r') == line))
        {
            return StepProbe.Satisfied("line present");
        }

        var prefix = text.Length > 0 && !text.EndsWith('\n') ? "\n" : "";
        return StepProbe.Act("line absent", FileCommands.AppendTo(path, prefix + line + "\n", text));
    }
}

/// <summary>No line of a text file matches a pattern; the other lines are kept as they are.</summary>
public sealed class FileLinesAbsentStep(string path, Regex pattern) : Step
{
    public override IEnumerable<IFact> Reads => [FileCommands.Facts(path), HostContext.FileContentIfReadable(path)];

    public override string Description => $"no line of {path} matches /{pattern}/";

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var (facts, text, blocked) = await FileProbe.TextAsync(host, path, cancellationToken).ConfigureAwait(false);
        if (blocked is not null || !facts.Exists)
        {
            return blocked ?? StepProbe.Satisfied("absent");
        }

        var lines = FileProbe.Lines(text);
        var matching = lines.Select((l, i) => (l, i)).Where(x => pattern.IsMatch(x.l)).Select(x => x.i).ToList();
        return matching.Count == 0
            ? StepProbe.Satisfied("no line matches")
            : StepProbe.Act($"lines {string.Join(", ", matching.Select(i => i + 1))} match", WriteFile.Replacing(path, text, FileProbe.Join(lines.Where((_, i) => !matching.Contains(i)))));
    }
}

/// <summary>A file no larger than a size, truncated to zero in place when larger.</summary>
public sealed class FileTruncatedStep(string path, long atMost) : Step
{
    public override IEnumerable<IFact> Reads => [FileCommands.Facts(path)];

    public override string Description => atMost == 0 ? $"{path} is empty" : $"{path} is at most {Bytes.Show(atMost)}";

    public override string? Destroys => $"the content of {path}";

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var facts = await FileProbe.StatAsync(host, path, cancellationToken).ConfigureAwait(false);
        if (facts.Exists && !facts.IsRegularFile)
        {
            return StepProbe.Blocked(facts.ToString(), $"{path} is a {facts.Kind}, not a regular file; refusing to truncate it");
        }

        return !facts.Exists || facts.Size <= atMost ? StepProbe.Satisfied(facts.ToString()) : StepProbe.Change(facts.ToString(), FileCommands.Truncate(path));
    }
}

/// <summary>An existing file or directory with the given owner (and group).</summary>
public sealed class FileOwnerStep(string path, string owner, string? group) : Step
{
    public override IEnumerable<IFact> Reads => [FileCommands.Facts(path)];

    public override string Description => $"{path} is owned by {owner}{(group is null ? "" : $":{group}")}";

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var facts = await FileProbe.StatAsync(host, path, cancellationToken).ConfigureAwait(false);
        if (!facts.Exists)
        {
            return StepProbe.Blocked("absent", $"{path} does not exist");
        }

        return facts.Owner == owner && (group is null || facts.Group == group)
            ? StepProbe.Satisfied(facts.ToString())
            : StepProbe.Change(facts.ToString(), FileCommands.Chown(path, owner, group));
    }
}

/// <summary>A directory present with the given mode.</summary>
public sealed class DirectoryStep(string path, string mode) : Step
{
    public override IEnumerable<IFact> Reads => [FileCommands.Facts(path)];

    public override string Description => $"directory {path} exists, mode {mode}";

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var facts = await FileProbe.StatAsync(host, path, cancellationToken).ConfigureAwait(false);
        if (!facts.Exists)
        {
            // The chmod after mkdir -m changes nothing undo must put back (the umask only narrowed a mode it set).
            return StepProbe.Act("absent", FileCommands.MakeNewDirectory(path, mode), new RunCommand(FileCommands.Chmod(path, mode)) { Undo = Reversal.Nothing });
        }

        if (!facts.IsDirectory)
        {
            return StepProbe.Blocked(facts.ToString(), $"{path} is a {facts.Kind}; refusing to replace it with a directory");
        }

        return facts.Mode == mode ? StepProbe.Satisfied(facts.ToString()) : StepProbe.Act(facts.ToString(), FileCommands.ChmodFrom(path, mode, facts.Mode));
    }
}

/// <summary>An existing file or directory with the given mode.</summary>
public sealed class FileModeStep(string path, string mode) : Step
{
    public override IEnumerable<IFact> Reads => [FileCommands.Facts(path)];

    public override string Description => $"{path} has mode {mode}";

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var facts = await FileProbe.StatAsync(host, path, cancellationToken).ConfigureAwait(false);
        if (!facts.Exists)
        {
            return StepProbe.Blocked("absent", $"{path} does not exist");
        }

        return facts.Mode == mode ? StepProbe.Satisfied(facts.ToString()) : StepProbe.Act(facts.ToString(), FileCommands.ChmodFrom(path, mode, facts.Mode));
    }
}

internal static class FileProbe
{
    public static Check IsDirectory(string path) => new($"{path} is a directory", async (host, ct) =>
    {
        var facts = await StatAsync(host, path, ct).ConfigureAwait(false);
        return new CheckResult(facts.IsDirectory, facts.ToString());
    });

    /// <summary>A regular file's facts and text; the text is empty for an absent file; a probe to return when it is no regular file.</summary>
    public static async Task<(FileFacts Facts, string Text, StepProbe? Blocked)> TextAsync(HostContext host, string path, CancellationToken cancellationToken)
    {
        var facts = await StatAsync(host, path, cancellationToken).ConfigureAwait(false);
        if (!facts.Exists)
        {
            return (facts, "", null);
        }

        if (!facts.IsRegularFile)
        {
            return (facts, "", StepProbe.Blocked(facts.ToString(), $"{path} is a {facts.Kind}, not a regular file"));
        }

        return (facts, await host.FactAsync(HostContext.FileContent(path), cancellationToken).ConfigureAwait(false), null);
    }

    /// <summary>A text's lines without their newlines (a last line without one is still a line).</summary>
    public static List<string> Lines(string text) => [.. (text.EndsWith('\n') ? text[..^1] : text).Split('\n').Where((_, i) => text.Length > 0 || i > 0)];

    public static string Join(IEnumerable<string> lines)
    {
        var list = lines.ToList();
        return list.Count == 0 ? "" : string.Join('\n', list) + "\n";
    }

    public static Task<FileFacts> StatAsync(HostContext host, string path, CancellationToken cancellationToken) =>
        host.FactAsync(FileCommands.Facts(path), cancellationToken);
}
