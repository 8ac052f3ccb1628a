using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>A regular file whose content (and mode) is exactly as given.</summary>
public sealed class FileContentStep(string path, Arg content, string mode) : Step
{
    public override string Description => $"{path} has the given content{(content.IsSecret ? " (secret)" : "")}, mode {mode}";

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

        var current = (await host.ReadAsync(FileCommands.Read(path), cancellationToken).ConfigureAwait(false)).StandardOutput;
        if (current == content.Reveal())
        {
            return facts.Mode == mode ? StepProbe.Satisfied(facts.ToString()) : StepProbe.Act(facts.ToString(), FileCommands.ChmodFrom(path, mode, facts.Mode));
        }

        return StepProbe.Act(facts + ", content differs", WriteFile.Replacing(path, current, content, mode));
    }
}

/// <summary>A line present in a text file; the rest of the file is left alone.</summary>
public sealed class FileLineStep(string path, string line, bool create) : Step
{
    public override string Description => $"{path} contains the line '{line}'";

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var facts = await FileProbe.StatAsync(host, path, cancellationToken).ConfigureAwait(false);
        if (!facts.Exists)
        {
            return create
                ? StepProbe.Act("absent", FileCommands.AppendTo(path, line + "\n", null))
                : StepProbe.Blocked("absent", $"{path} does not exist; pass create: true to create it");
        }

        if (!facts.IsRegularFile)
        {
            return StepProbe.Blocked(facts.ToString(), $"{path} is a {facts.Kind}, not a regular file");
        }

        var text = (await host.ReadAsync(FileCommands.Read(path), cancellationToken).ConfigureAwait(false)).StandardOutput;
        if (text.Split('\n').Any(l => l.TrimEnd('\r') == line))
        {
            return StepProbe.Satisfied("line present");
        }

        var prefix = text.Length > 0 && !text.EndsWith('\n') ? "\n" : "";
        return StepProbe.Act("line absent", FileCommands.AppendTo(path, prefix + line + "\n", text));
    }
}

/// <summary>A directory present with the given mode.</summary>
public sealed class DirectoryStep(string path, string mode) : Step
{
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

    public static async Task<FileFacts> StatAsync(HostContext host, string path, CancellationToken cancellationToken)
    {
        var result = await host.TryReadAsync(FileCommands.Stat(path), cancellationToken).ConfigureAwait(false);
        return FileFactsParser.Parse(path, result.ExitCode, result.StandardOutput, result.StandardError);
    }
}
