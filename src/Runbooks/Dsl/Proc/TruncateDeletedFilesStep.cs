using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>
/// Frees the space of deleted files a program still holds open by truncating them through
/// <c>/proc/PID/fd/N</c>: the process keeps running and keeps its fd, the blocks go back to the filesystem.
/// No restart, so no outage — in the storage incident a restart of the object server cost ~3 s of failed
/// requests under emulation. Only a file that nothing else can reach is touched: its fd link still ends in
/// "(deleted)" and its link count is 0, checked again by the command itself right before it truncates
/// (the fd number could be reused between probe and apply).
/// </summary>
public sealed class TruncateDeletedFilesStep(string program, Check serviceUp, TimeSpan timeout) : Step
{
    private static readonly TimeSpan LookEvery = TimeSpan.FromMilliseconds(200);

    // The same two conditions as the probe, re-read in the one shell that truncates, so a file that got a
    // name again or an fd that now points elsewhere is left alone and the step fails instead.
    private const string GuardedTruncate =
        "l=$(readlink -- \"$1\") || { echo \"$1 is gone\" >&2; exit 3; }\n" +
        "case \"$l\" in *' (deleted)') ;; *) echo \"$1 now points to $l, not a deleted file; nothing truncated\" >&2; exit 3;; esac\n" +
        "n=$(stat -L -c %h -- \"$1\") || exit 3\n" +
        "[ \"$n\" = 0 ] || { echo \"$1 ($l) has $n link(s); nothing truncated\" >&2; exit 3; }\n" +
        "exec truncate -s 0 -- \"$1\"\n";

    public override string Description => $"no '{program}' process holds space in a deleted file";

    public override string? Destroys => $"the contents of deleted files that '{program}' holds open (no path reaches them; the process keeps running)";

    public override IEnumerable<IFact> Reads => [ProcReads.DeletedLinkList];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var files = await HeldAsync(host, cancellationToken).ConfigureAwait(false);
        var holding = files.Where(f => f.Size > 0).DistinctBy(f => (f.Pid, f.Path)).ToList();
        if (holding.Count == 0)
        {
            return StepProbe.Satisfied(files.Count == 0 ? $"no '{program}' process holds a deleted file" : $"'{program}' holds {files.Count} deleted file(s), all empty");
        }

        var observed = string.Join("; ", holding.Select(f => $"pid {f.Pid} fd {f.Fd} holds {Bytes.Show(f.Size)} of deleted {f.Path} (links {f.Links?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"})"));
        var linked = holding.Where(f => f.Links != 0).ToList();
        if (linked.Count > 0)
        {
            return StepProbe.Blocked(observed, [.. linked.Select(f =>
                host.Reason($"{f.FdPath} ({f.Path}) has {(f.Links is null ? "an unknown number of" : f.Links.Value.ToString(System.Globalization.CultureInfo.InvariantCulture))} link(s): another name still reaches its contents, so truncating would destroy a live file — release it with DeletedFileRelease.Restart or remove the other name"))]);
        }

        return StepProbe.Act(observed, [
                .. holding.Select(f => new RunCommand(Shell.Script(GuardedTruncate, f.FdPath))),
                new WaitUntil(serviceUp, timeout, LookEvery) { WhenItFails = "check the service's log" },
            ])
            with { Notes = ["the process keeps running"] };
    }

    private async Task<List<DeletedFileFacts>> HeldAsync(HostContext host, CancellationToken ct)
    {
        var held = new List<DeletedFileFacts>();
        var byPid = (await ProcReads.DeletedFilesAsync(host, ct).ConfigureAwait(false)).GroupBy(d => d.Pid).ToList();
        await ProcReads.PrefetchCmdlinesAsync(host, byPid.Select(g => g.Key), ct).ConfigureAwait(false);
        foreach (var group in byPid)
        {
            if (ProcParser.IsProgram(await ProcReads.CmdlineAsync(host, group.Key, ct).ConfigureAwait(false), program))
            {
                held.AddRange(group);
            }
        }

        return held;
    }
}
