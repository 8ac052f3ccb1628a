using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>
/// A pvmove that has not finished: its hidden <c>[pvmoveN]</c> LV (attribute <c>p</c>) is still in the VG.
/// Killing the operator's SSH session does not stop a pvmove on the host — it keeps copying and finishes on
/// its own — but a pvmove killed itself (its session's SIGPIPE, the OOM killer) leaves the LV behind with the kernel
/// mirror still syncing and nobody to switch the LVs over to the new extents; after a power cut
/// <c>vgchange -ay</c> starts LVM's own poller on it. While it is
/// there both PVs count the moved extents as allocated, so every plan made from <c>pvs</c> is wrong.
/// </summary>
/// <remarks>
/// What an SRE wants, and what the steps do: a pvmove still running is waited for — starting a second one
/// races it for the same metadata. An interrupted one is resumed with <c>pvmove</c> (no arguments), not
/// aborted with <c>pvmove --abort</c>: the mirror kept source and destination in step, so resuming is safe,
/// keeps the copy already made and finishes exactly the move the runbook asked for, whereas aborting throws
/// the copy away and the same move must start again from zero. Abort stays a person's call for a failing
/// destination, which the failing-disk guard refuses to write to anyway.
/// </remarks>
internal sealed record UnfinishedMove(MoveInProgressFacts Move, IReadOnlyList<string> RunningPvmoves)
{
    /// <summary>Resumes every interrupted move; exits 0 at once when none is left.</summary>
    public static Command Resume(TimeSpan timeout) => LvmReads.Change("pvmove").WithTimeout(timeout);

    /// <summary>
    /// How an unfinished move is finished: wait until no pvmove or LVM poller runs (a second one would race it for
    /// the same metadata), then <c>pvmove</c>, which resumes one that stopped half way and exits 0 when none is left.
    /// Waiting first is right whether the mover is still running, ended meanwhile, or was killed meanwhile.
    /// </summary>
    public static IReadOnlyList<StepAction> Finish(TimeSpan timeout) =>
    [
        new WaitUntil(NoneRunning, timeout, TimeSpan.FromSeconds(2))
        {
            WhenItFails = "nothing else was changed. Run again later: the step waits for it again",
        },
        new RunCommand(Resume(timeout)),
    ];

    private static readonly Check NoneRunning = new("no pvmove or LVM poller runs", async (host, ct) =>
    {
        var running = await LvmReads.RunningPvmovesAsync(host, ct).ConfigureAwait(false);
        return new CheckResult(running.Count == 0, running.Count == 0 ? "none running" : string.Join("; ", running));
    });

    private string Percent => Move.CopyPercent.ToString("0.##", CultureInfo.InvariantCulture);

    public bool Running => RunningPvmoves.Count > 0;

    public string Observed =>
        $"unfinished pvmove: [{Move.Name}] in {Move.VolumeGroup} moving {Move.SourcePv}, {Percent}% copied; " +
        (Running ? $"pvmove running ({string.Join("; ", RunningPvmoves)})" : "no pvmove or LVM poller running: interrupted");

    public string Note => Running
        ? "a pvmove or LVM poller still runs: a second one would race it for the same metadata, so the step waits for it before resuming"
        : "resumes the interrupted move with `pvmove` rather than `pvmove --abort`: the mirror kept both copies in step, so the copy made so far is kept";

    /// <summary>The first unfinished move in the VG, or null when there is none.</summary>
    public static async Task<UnfinishedMove?> FindAsync(HostContext host, string volumeGroup, CancellationToken ct)
    {
        var move = (await LvmReads.MovesAsync(host, ct).ConfigureAwait(false)).FirstOrDefault(m => m.VolumeGroup == volumeGroup);
        return move is null ? null : new UnfinishedMove(move, await LvmReads.RunningPvmovesAsync(host, ct).ConfigureAwait(false));
    }

    /// <summary>
    /// Why the step cannot plan around this move, or null when finishing it is the step's own evacuation
    /// (its source is <paramref name="device"/>).
    /// </summary>
    public string? Blocks(HostContext host, string device) => Move.SourcePv == device
        ? null
        : host.Reason($"a pvmove of {Move.SourcePv} is unfinished in {Move.VolumeGroup} ([{Move.Name}], {Percent}% copied) and holds extents on other PVs; ") +
          $"finish it (`pvmove`) or give it up (`pvmove --abort`) and run again";
}
