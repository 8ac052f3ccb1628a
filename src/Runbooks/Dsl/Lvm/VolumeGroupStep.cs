using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>
/// A step whose actions write a volume group's metadata. The failing-disk guard is applied here, once, to every
/// such step: a change to a VG with a PV whose disk cannot be read is refused (see <see cref="FailingDiskGuard"/>),
/// so no new LVM step can forget it.
/// </summary>
public abstract class VolumeGroupStep : Step
{
    /// <summary>Every VG step starts from the PVs (one <c>lvm fullreport</c> answers them with the VGs and LVs).</summary>
    public override IEnumerable<IFact> Reads => [LvmReads.PhysicalVolumes];

    public sealed override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var decision = await DecideAsync(host, cancellationToken).ConfigureAwait(false);
        if (decision.Probe.Decision != StepDecision.WillChange)
        {
            return decision.Probe;
        }

        if (decision.VolumeGroup is null)
        {
            throw new InvalidOperationException($"{GetType().Name} plans a change without naming the VG it writes; return it through Writing(vg, probe)");
        }

        return await FailingDiskGuard.UnlessFailingAsync(host, decision.VolumeGroup, decision.Probe, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the facts and decides; a change is returned through <see cref="Writing"/>, naming its VG.</summary>
    protected abstract Task<VolumeGroupDecision> DecideAsync(HostContext host, CancellationToken cancellationToken);

    /// <summary>A planned change to <paramref name="volumeGroup"/>; empty for a PV in no VG (nothing to guard).</summary>
    protected static VolumeGroupDecision Writing(string volumeGroup, StepProbe probe) => new(probe, volumeGroup);

    /// <summary>A planned change that writes no VG metadata (a filesystem grown on its LV), said explicitly.</summary>
    protected static VolumeGroupDecision WritingNoVolumeGroup(StepProbe probe) => new(probe, "");
}

/// <summary>A probe and the VG its actions would write; a probe alone (satisfied, blocked) writes none.</summary>
public sealed record VolumeGroupDecision(StepProbe Probe, string? VolumeGroup)
{
    public static implicit operator VolumeGroupDecision(StepProbe probe) => new(probe, null);
}
