using System.Diagnostics;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl.Nouns.Proc;

/// <summary>
/// Frees the space of deleted files still held open by a program by ending the holder and letting its
/// supervisor start a fresh one — the incident's fix for the object server, whose wrapper loop restarts it.
/// SIGTERM first (the server exits politely and the restart is quick), SIGKILL only if it lingers.
/// Refuses a holder whose parent is PID 1 or gone: nothing would start it again.
/// </summary>
public sealed class ReleaseDeletedFilesStep(string program, Check serviceUp, bool allowWithoutSupervisor, TimeSpan timeout) : Step
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    public override string Description => $"no '{program}' process holds a deleted file open";

    public override string? Destroys => $"the running '{program}' process (its supervisor restarts it)";

    internal sealed record Holder(int Pid, long StartTime, int ParentPid, string Parent, long Bytes);

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
                $"on host {host.Name}: pid {h.Pid} ('{program}') has no supervisor (parent {h.ParentPid}); nothing would restart it — pass allowWithoutSupervisor: true to kill it anyway")]);
        }

        return StepProbe.Change(observed, holders.Select(h => new Command("kill", ["-TERM", h.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])))
            with { Notes = [$"then waits up to {timeout.TotalSeconds:0} s for '{serviceUp.Description}' from a new process (SIGKILL after {Grace(timeout).TotalSeconds:0} s)"] };
    }

    public override async Task ApplyAsync(HostContext host, StepProbe probe, CancellationToken cancellationToken)
    {
        var holders = await HoldersAsync(host, cancellationToken).ConfigureAwait(false);
        foreach (var command in probe.Commands)
        {
            await host.ApplyAsync(command, cancellationToken).ConfigureAwait(false);
        }

        var clock = Stopwatch.StartNew();
        var killed = false;
        var last = "";
        while (clock.Elapsed < timeout)
        {
            await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
            host.InvalidateFacts();
            var alive = new List<Holder>();
            foreach (var holder in holders)
            {
                var stat = await ProcReads.StatAsync(host, holder.Pid, cancellationToken).ConfigureAwait(false);
                if (stat is not null && stat.StartTime == holder.StartTime && stat.State != 'Z')
                {
                    alive.Add(holder);
                }
            }

            if (alive.Count > 0)
            {
                last = $"pid {string.Join(", ", alive.Select(a => a.Pid))} still running";
                if (!killed && clock.Elapsed > Grace(timeout))
                {
                    killed = true;
                    foreach (var holder in alive)
                    {
                        await host.ApplyAsync(new Command("kill", ["-KILL", holder.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]), cancellationToken).ConfigureAwait(false);
                    }
                }

                continue;
            }

            var up = await serviceUp.EvaluateAsync(host, cancellationToken).ConfigureAwait(false);
            if (up.Holds)
            {
                return;
            }

            last = $"'{serviceUp.Description}': {up.Observed}";
        }

        throw new RunbookException($"on host {host.Name}: after signalling '{program}' the service did not come back within {timeout.TotalSeconds:0} s ({last}); check its supervisor");
    }

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
