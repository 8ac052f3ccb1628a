using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary><c>pvcreate</c> on a blank device; satisfied when the device is already a PV.</summary>
public sealed class CreatePvStep(string device) : Step
{
    public override IEnumerable<IFact> Reads => [LvmReads.PhysicalVolumes];

    public override string Description => $"{device} is an LVM physical volume";

    public override string? Destroys => $"the first sectors of {device} (pvcreate writes a label; refused unless the device is blank)";

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var pvs = await LvmReads.PvsAsync(host, cancellationToken).ConfigureAwait(false);
        if (pvs.Any(p => p.Name == device))
        {
            return StepProbe.Satisfied($"{device} is a PV");
        }

        if (await LvmReads.DeviceSizeAsync(host, device, cancellationToken).ConfigureAwait(false) is null)
        {
            return StepProbe.Blocked($"{device} missing", host.Reason($"device {device} does not exist (attach it first, e.g. Loop.Device(\"{device}\").Attach(image))"));
        }

        var signature = await LvmReads.SignatureAsync(host, device, cancellationToken).ConfigureAwait(false);
        return signature is null
            ? StepProbe.Change($"{device} is blank", LvmReads.Change("pvcreate", "--", device))
            : StepProbe.Blocked($"{device} holds {signature}", host.Reason($"{device} holds a {signature} signature; wipe it deliberately if its data is not needed"));
    }
}

/// <summary><c>pvresize</c>: the PV grows to cover its whole device after its data offset.</summary>
public sealed class ResizePvStep(string device) : VolumeGroupStep
{
    public override string Description => $"PV {device} uses all of its device (within one extent)";

    protected override async Task<VolumeGroupDecision> DecideAsync(HostContext host, CancellationToken cancellationToken)
    {
        var pvs = await LvmReads.PvsAsync(host, cancellationToken).ConfigureAwait(false);
        var pv = pvs.FirstOrDefault(p => p.Name == device);
        if (pv is null)
        {
            return StepProbe.Blocked($"{device} is not a PV", await LvmReads.NotAPvAsync(host, device, pvs, cancellationToken).ConfigureAwait(false));
        }

        // pvs asks the kernel for dev_size on every run (the BLKGETSIZE64 blockdev uses), so a loop device grown with
        // losetup -c shows at once; blockdev is only the fallback for a report without the field.
        var deviceSize = pv.DeviceSize > 0 ? pv.DeviceSize : await LvmReads.DeviceSizeAsync(host, device, cancellationToken).ConfigureAwait(false)
            ?? throw host.Failure($"blockdev cannot read the size of {device} although pvs lists it");
        var observed = $"PV {Bytes.Show(pv.Size)} + data offset {Bytes.Show(pv.PeStart)} on a {Bytes.Show(deviceSize)} device";
        return pv.UsesDevice(deviceSize)
            ? StepProbe.Satisfied(observed)
            : Writing(pv.VolumeGroup, StepProbe.Change(observed, LvmReads.Change("pvresize", "--", device)));
    }
}

/// <summary><c>pvchange -x y|n</c>.</summary>
public sealed class PvAllocatableStep(string device, bool allocatable) : VolumeGroupStep
{
    public override string Description => $"PV {device} is {(allocatable ? "" : "not ")}allocatable";

    protected override async Task<VolumeGroupDecision> DecideAsync(HostContext host, CancellationToken cancellationToken)
    {
        var pvs = await LvmReads.PvsAsync(host, cancellationToken).ConfigureAwait(false);
        var pv = pvs.FirstOrDefault(p => p.Name == device);
        if (pv is null || pv.VolumeGroup.Length == 0)
        {
            return StepProbe.Blocked($"{device} is not a PV in a VG", pv is null ? await LvmReads.NotAPvAsync(host, device, pvs, cancellationToken).ConfigureAwait(false) : host.Reason($"{device} is in no volume group; allocatable only means something inside one"));
        }

        var observed = $"allocatable={(pv.Allocatable ? "yes" : "no")}";
        return pv.Allocatable == allocatable
            ? StepProbe.Satisfied(observed)
            : Writing(pv.VolumeGroup, StepProbe.Change(observed, LvmReads.Change("pvchange", "-x", allocatable ? "y" : "n", "--", device)));
    }
}

/// <summary>
/// <c>pvmove</c> every allocated extent off a PV onto the other allocatable PVs of its VG. Satisfied when the
/// PV has zero allocated extents. pvmove allocates only on allocatable PVs — <c>--alloc anywhere</c> relaxes
/// where on them extents may go, not that rule — so free space on a PV marked not allocatable does not count
/// and the step says to set it allocatable first.
/// </summary>
public sealed class EvacuateStep(string device, TimeSpan timeout) : VolumeGroupStep
{
    public override string Description => $"PV {device} holds no allocated extents";

    protected override async Task<VolumeGroupDecision> DecideAsync(HostContext host, CancellationToken cancellationToken)
    {
        var pvs = await LvmReads.PvsAsync(host, cancellationToken).ConfigureAwait(false);
        var pv = pvs.FirstOrDefault(p => p.Name == device);
        if (pv is null)
        {
            return StepProbe.Blocked($"{device} is not a PV", await LvmReads.NotAPvAsync(host, device, pvs, cancellationToken).ConfigureAwait(false));
        }

        if (pv.AllocatedExtents == 0)
        {
            return StepProbe.Satisfied($"{device}: 0 of {pv.ExtentCount} extents allocated");
        }

        if (await UnfinishedMove.FindAsync(host, pv.VolumeGroup, cancellationToken).ConfigureAwait(false) is { } move)
        {
            return move.Blocks(host, device) is { } why
                ? StepProbe.Blocked(move.Observed, why)
                : Writing(pv.VolumeGroup, StepProbe.Act(move.Observed, UnfinishedMove.Finish(timeout)) with { Notes = [move.Note] });
        }

        var plan = Plan(host, pv, pvs);
        return plan.Reason is { } reason
            ? StepProbe.Blocked(plan.Observed, reason)
            : Writing(pv.VolumeGroup, StepProbe.Change(plan.Observed, Move(device, plan.Destinations, timeout)));
    }

    internal sealed record EvacuationPlan(string Observed, IReadOnlyList<string> Destinations, string? Reason);

    internal static EvacuationPlan Plan(HostContext host, PhysicalVolumeFacts pv, IReadOnlyList<PhysicalVolumeFacts> pvs)
    {
        var others = pvs.Where(p => p.VolumeGroup == pv.VolumeGroup && p.Name != pv.Name).ToList();
        var usable = others.Where(p => p.Allocatable && p.FreeExtents > 0).ToList();
        var free = usable.Sum(p => p.FreeExtents);
        var stranded = others.Where(p => !p.Allocatable && p.FreeExtents > 0).ToList();
        var observed = $"{device(pv)}: {pv.AllocatedExtents} extents allocated; {free} free on allocatable PVs of {pv.VolumeGroup} ({string.Join(", ", usable.Select(p => $"{p.Name}:{p.FreeExtents}"))})";
        if (free >= pv.AllocatedExtents)
        {
            return new EvacuationPlan(observed, usable.Select(p => p.Name).ToList(), null);
        }

        var hint = stranded.Count > 0
            ? $"; {string.Join(", ", stranded.Select(p => $"{p.Name} has {p.FreeExtents} free but is not allocatable"))} — set it allocatable first"
            : "; add a PV to the VG first (Lvm.Vg(...).Extend(...)) or resize the others to their devices";
        return new EvacuationPlan(observed, [], host.Reason($"moving {pv.AllocatedExtents} extents off {pv.Name} needs as many free extents on the other allocatable PVs of {pv.VolumeGroup}, which have {free}{hint}"));

        static string device(PhysicalVolumeFacts p) => p.Name;
    }

    internal static Command Move(string device, IReadOnlyList<string> destinations, TimeSpan timeout)
    {
        // Destinations are named so pvmove can never pick a PV the plan did not count; --alloc anywhere
        // because "normal" refuses to split a segment across PVs, which a nearly full VG often needs.
        Arg[] args = ["--alloc", "anywhere", "--", device, .. destinations.Select(d => (Arg)d)];
        return LvmReads.Change("pvmove", args).WithTimeout(timeout);
    }
}

/// <summary><c>vgreduce</c>: the PV leaves its VG; refused while it holds any allocated extent.</summary>
public sealed class RemovePvFromVgStep(string volumeGroup, string device) : VolumeGroupStep
{
    public override string Description => $"{device} is not in VG {volumeGroup}";

    public override string? Destroys => $"{device}'s membership of {volumeGroup} (only with zero allocated extents)";

    protected override async Task<VolumeGroupDecision> DecideAsync(HostContext host, CancellationToken cancellationToken)
    {
        var pvs = await LvmReads.PvsAsync(host, cancellationToken).ConfigureAwait(false);
        var pv = pvs.FirstOrDefault(p => p.Name == device);
        if (pv is null || pv.VolumeGroup != volumeGroup)
        {
            return StepProbe.Satisfied($"{device} is in {(pv is null ? "no PV list" : pv.VolumeGroup.Length == 0 ? "no VG" : pv.VolumeGroup)}");
        }

        return pv.AllocatedExtents > 0
            ? StepProbe.Blocked($"{pv.AllocatedExtents} extents allocated", host.Reason($"{device} still holds {pv.AllocatedExtents} allocated extents of {volumeGroup}; evacuate it first (Lvm.Pv(\"{device}\").Evacuate())"))
            : Writing(volumeGroup, StepProbe.Change($"{device} in {volumeGroup}, 0 extents allocated", LvmReads.Change("vgreduce", "--", volumeGroup, device)));
    }
}

/// <summary><c>vgextend</c> (with <c>pvcreate</c> first when the device is blank).</summary>
public sealed class ExtendVgStep(string volumeGroup, string device) : VolumeGroupStep
{
    public override string Description => $"{device} is a PV of VG {volumeGroup}";

    protected override async Task<VolumeGroupDecision> DecideAsync(HostContext host, CancellationToken cancellationToken)
    {
        var pvs = await LvmReads.PvsAsync(host, cancellationToken).ConfigureAwait(false);
        var vgs = await LvmReads.VgsAsync(host, cancellationToken).ConfigureAwait(false);
        var pv = pvs.FirstOrDefault(p => p.Name == device);
        if (pv?.VolumeGroup == volumeGroup)
        {
            return StepProbe.Satisfied($"{device} is in {volumeGroup}");
        }

        if (vgs.All(v => v.Name != volumeGroup))
        {
            return StepProbe.Blocked("VG missing", host.Reason($"volume group {volumeGroup} does not exist (vgs lists {string.Join(", ", vgs.Select(v => v.Name))})"));
        }

        if (pv is { VolumeGroup.Length: > 0 })
        {
            return StepProbe.Blocked($"{device} is in {pv.VolumeGroup}", host.Reason($"{device} belongs to VG {pv.VolumeGroup}; remove it there first"));
        }

        if (pv is not null)
        {
            return Writing(volumeGroup, StepProbe.Change($"{device} is a PV outside any VG", LvmReads.Change("vgextend", "--", volumeGroup, device)));
        }

        var probe = await new CreatePvStep(device).ProbeAsync(host, cancellationToken).ConfigureAwait(false);
        return probe.Decision == StepDecision.Blocked
            ? probe
            : Writing(volumeGroup, StepProbe.Act(probe.Observed, [.. probe.Actions, new RunCommand(LvmReads.Change("vgextend", "--", volumeGroup, device))]));
    }
}
