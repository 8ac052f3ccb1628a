using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>
/// Frees the space of deleted files still held open by a program by ending the holder and letting its
/// supervisor start a fresh one — the incident's fix for the object server, whose wrapper loop restarts it.
/// SIGTERM first (the server exits politely and the restart is quick), SIGKILL only if it lingers.
/// Refuses a holder whose parent is PID 1 or gone: nothing would start it again.
/// </summary>
public sealed class ReleaseDeletedFilesStep(string program, Check serviceUp, bool allowWithoutSupervisor, TimeSpan timeout) : Step
{
    private static readonly TimeSpan LookEvery = TimeSpan.FromMilliseconds(100);

    public override string Description => $"no '{program}' process holds a deleted file open";

    public override string? Destroys => $"the running '{program}' process (its supervisor restarts it)";

    internal sealed record Holder(int Pid, long StartTime, int ParentPid, string Parent, long Bytes);

    public override IEnumerable<IFact> Reads => [ProcReads.DeletedLinkList];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var holders = await HoldersAsync(host, cancellationToken).ConfigureAwait(false);
        if (holders.Count == 0)
        {
            return StepProbe.Satisfied($"no '{program}' process holds a deleted file");
        }

        var observed = string.Join("; ", holders.Select(h => $"pid {h.Pid} holds {Bytes.Show(h.Bytes)} of deleted files, parent {h.ParentPid} ({h.Parent})"));
        var orphans = holders.Where(h => h.ParentPid <= 1).ToList();
        if (orphans.Count > 0 && !allowWithoutSupervisor)
        {
            return StepProbe.Blocked(observed, [.. orphans.Select(h =>
                host.Reason($"pid {h.Pid} ('{program}') has no supervisor (parent {h.ParentPid}); nothing would restart it — pass allowWithoutSupervisor: true to kill it anyway"))]);
        }

        var grace = Grace(timeout);
        var actions = holders.Select(h => (StepAction)new SignalAndWait(Signal("-TERM", h.Pid), Gone(h), grace, Signal("-KILL", h.Pid)) { AfterKill = timeout - grace, Interval = LookEvery })
            .Append(new WaitUntil(serviceUp, timeout, LookEvery) { WhenItFails = "check its supervisor" });
        return StepProbe.Act(observed, actions) with { Notes = [$"its supervisor starts a new '{program}', which must answer '{serviceUp.Description}'"] };
    }

    private static Command Signal(string signal, int pid) => new("kill", [signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

    // The same pid with another start time is a new process: the one signalled is gone.
    private static Check Gone(Holder holder) => new($"pid {holder.Pid} has exited", async (host, ct) =>
    {
        var stat = await ProcReads.StatAsync(host, holder.Pid, ct).ConfigureAwait(false);
        var gone = stat is null || stat.StartTime != holder.StartTime || stat.State == 'Z';
        return new CheckResult(gone, gone ? "exited" : $"pid {holder.Pid} still running");
    });

    private async Task<List<Holder>> HoldersAsync(HostContext host, CancellationToken ct)
    {
        var holders = new List<Holder>();
        var byPid = (await ProcReads.DeletedFilesAsync(host, ct).ConfigureAwait(false)).GroupBy(d => d.Pid).ToList();
        await ProcReads.PrefetchCmdlinesAsync(host, byPid.Select(g => g.Key), ct).ConfigureAwait(false);
        foreach (var group in byPid)
        {
            if (!ProcParser.IsProgram(await ProcReads.CmdlineAsync(host, group.Key, ct).ConfigureAwait(false), program))
            {
                continue;
            }

            var stat = await ProcReads.StatAsync(host, group.Key, ct).ConfigureAwait(false);
            if (stat is null)
            {
                continue;
            }

            var parent = stat.ParentPid > 0 ? string.Join(' ', await ProcReads.CmdlineAsync(host, stat.ParentPid, ct).ConfigureAwait(false)) : "";
            // Several fds on one file count the file once.
            holders.Add(new Holder(group.Key, stat.StartTime, stat.ParentPid, parent, group.DistinctBy(d => d.Path).Sum(d => d.Size)));
        }

        return holders;
    }

    private static TimeSpan Grace(TimeSpan timeout) => TimeSpan.FromTicks(timeout.Ticks / 2);
}
