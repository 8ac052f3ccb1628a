using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>
/// Rebuilds a PV whose data offset (pe_start) is wrong — the incident's loop1 started its data 1 GiB into
/// the disk — as one guarded sequence: evacuate → vgreduce → pvremove → pvcreate → vgextend. Every stage is
/// planned from fresh facts, the destructive stages behind a guard that re-reads the PV right before them, and a
/// run that stopped half way resumes from where the device is (outside the VG, or no longer a PV).
/// </summary>
public sealed class RecreatePvStep(string volumeGroup, string device, long maxPeStart, TimeSpan moveTimeout) : VolumeGroupStep
{
    public override string Description => $"{device} is a PV of {volumeGroup} with its data offset at most {Bytes.Show(maxPeStart)}";

    public override string? Destroys => $"the LVM label and metadata of {device}, after every extent has been moved off it";

    protected override async Task<VolumeGroupDecision> DecideAsync(HostContext host, CancellationToken cancellationToken)
    {
        var pvs = await LvmReads.PvsAsync(host, cancellationToken).ConfigureAwait(false);
        var pv = pvs.FirstOrDefault(p => p.Name == device);
        if (pv is not null && pv.VolumeGroup == volumeGroup && pv.PeStart <= maxPeStart)
        {
            return StepProbe.Satisfied($"{device} in {volumeGroup}, data offset {Bytes.Show(pv.PeStart)}");
        }

        var vgs = await LvmReads.VgsAsync(host, cancellationToken).ConfigureAwait(false);
        if (vgs.All(v => v.Name != volumeGroup))
        {
            return StepProbe.Blocked("VG missing", host.Reason($"volume group {volumeGroup} does not exist"));
        }

        StepAction vgextend = new RunCommand(LvmReads.Change("vgextend", "--", volumeGroup, device));
        var recreated = Reversal.Cannot($"{device} was recreated as a PV (pvremove, pvcreate): its old LVM metadata, and the data offset that made it worth recreating, are gone");
        StepAction pvcreate = new RunCommand(LvmReads.Change("pvcreate", "--", device)) { Undo = recreated };
        StepAction pvremove = new RunCommand(LvmReads.Change("pvremove", "--", device)) { Undo = recreated };
        // The destructive stages run only on fresh proof that nothing lives on the PV any more.
        StepAction empty = new Guard(Runbooks.Dsl.Lvm.Pv(device).HoldsNoExtents());
        if (pv is null)
        {
            // Resuming after pvremove: the device must be blank, or it holds something we did not put there.
            if (await LvmReads.DeviceSizeAsync(host, device, cancellationToken).ConfigureAwait(false) is null)
            {
                return StepProbe.Blocked($"{device} missing", LvmReads.NotAPv(host, device, pvs));
            }

            var signature = await LvmReads.SignatureAsync(host, device, cancellationToken).ConfigureAwait(false);
            return signature is null
                ? Writing(volumeGroup, StepProbe.Act($"{device} is blank (not a PV)", pvcreate, vgextend))
                : StepProbe.Blocked($"{device} holds {signature}", host.Reason($"{device} is not a PV and holds a {signature} signature; refusing to overwrite it"));
        }

        var observed = $"{device} in {(pv.VolumeGroup.Length == 0 ? "no VG" : pv.VolumeGroup)}, data offset {Bytes.Show(pv.PeStart)}, {pv.AllocatedExtents} extents allocated";
        if (pv.VolumeGroup.Length == 0)
        {
            return Writing(volumeGroup, pv.PeStart <= maxPeStart ? StepProbe.Act(observed, vgextend) : StepProbe.Act(observed, empty, pvremove, pvcreate, vgextend));
        }

        if (pv.VolumeGroup != volumeGroup)
        {
            return StepProbe.Blocked(observed, host.Reason($"{device} belongs to VG {pv.VolumeGroup}, not {volumeGroup}"));
        }

        var actions = new List<StepAction>();
        var notes = new List<string>();
        if (await UnfinishedMove.FindAsync(host, volumeGroup, cancellationToken).ConfigureAwait(false) is { } move)
        {
            // Finishing the move is the evacuation; its extents on both PVs make any fresh plan wrong.
            if (move.Blocks(host, device) is { } why)
            {
                return StepProbe.Blocked(move.Observed, why);
            }

            observed = $"{observed}; {move.Observed}";
            actions.AddRange(UnfinishedMove.Finish(moveTimeout));
            notes.Add(move.Note);
        }
        else if (pv.AllocatedExtents > 0)
        {
            var plan = EvacuateStep.Plan(host, pv, pvs);
            if (plan.Reason is { } reason)
            {
                return StepProbe.Blocked(plan.Observed, reason);
            }

            actions.Add(new RunCommand(EvacuateStep.Move(device, plan.Destinations, moveTimeout)));
        }

        actions.AddRange([empty, new RunCommand(LvmReads.Change("vgreduce", "--", volumeGroup, device)), empty, pvremove, pvcreate, vgextend]);
        return Writing(volumeGroup, StepProbe.Act(observed, actions) with { Notes = notes });
    }
}
