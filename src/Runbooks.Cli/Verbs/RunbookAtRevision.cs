using Runbooks.Commands;
using Runbooks.Transport;

namespace Runbooks.Cli.Verbs;

/// <summary>
/// <c>--at REV</c>: the runbook as it was at a git revision, with every file of the repository as it was then (the
/// files it loads and writes beside it), extracted with <c>git archive</c> into a scratch directory that is removed
/// when the run ends. Nothing in the repository or its worktrees changes.
/// </summary>
internal sealed class RunbookAtRevision : IDisposable
{
    // $1 the repository, $2 the revision, $3 the scratch directory.
    private const string ExtractScript = "set -e\ngit -C \"$1\" archive --format=tar \"$2\" | tar -x -C \"$3\"";

    private readonly string _directory;

    private RunbookAtRevision(string directory, FileInfo file)
    {
        _directory = directory;
        File = file;
    }

    /// <summary>The runbook inside the extracted revision.</summary>
    public FileInfo File { get; }

    public static async Task<RunbookAtRevision> ExtractAsync(FileInfo runbook, string revision, CancellationToken cancellationToken)
    {
        var local = new LocalTransport();
        var top = await local.RunAsync(new Command("git", ["-C", runbook.DirectoryName!, "rev-parse", "--show-toplevel"]).AsReadOnly().WithTimeout(TimeSpan.FromSeconds(20)), cancellationToken).ConfigureAwait(false);
        if (top.ExitCode != 0)
        {
            throw new InvalidRunbookException($"--at {revision}: {runbook.FullName} is not in a git repository ({top.StandardError.Trim()}); --at runs a runbook as committed at a revision");
        }

        var repository = top.StandardOutput.Trim();
        var relative = Path.GetRelativePath(repository, runbook.FullName);
        var known = await local.RunAsync(new Command("git", ["-C", repository, "cat-file", "-e", $"{revision}:{relative.Replace('\\', '/')}"]).AsReadOnly().WithTimeout(TimeSpan.FromSeconds(20)), cancellationToken).ConfigureAwait(false);
        if (known.ExitCode != 0)
        {
            throw new InvalidRunbookException($"--at {revision}: {relative} does not exist at that revision (or the revision is unknown: {known.StandardError.Trim()}); `git log -- {relative}` lists the revisions that have it");
        }

        var directory = Directory.CreateTempSubdirectory("runbook-at-").FullName;
        var extracted = await local.RunAsync(Shell.Script(ExtractScript, repository, revision, directory).WithTimeout(TimeSpan.FromMinutes(2)), cancellationToken).ConfigureAwait(false);
        if (extracted.ExitCode != 0)
        {
            Directory.Delete(directory, recursive: true);
            throw new InvalidRunbookException($"--at {revision}: extracting the revision failed: {extracted.StandardError.Trim()}");
        }

        return new RunbookAtRevision(directory, new FileInfo(Path.Combine(directory, relative)));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
