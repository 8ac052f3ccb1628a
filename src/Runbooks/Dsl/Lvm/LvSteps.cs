using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>
/// <c>lvextend</c> with the filesystem to at least a size. "At least", not "exactly": the autogrow daemon grows the
/// LV later and a converging runbook must not shrink it back (lvreduce would destroy data). Also finishes
/// the filesystem when an earlier <c>lvextend</c> forgot <c>--resizefs</c> (the incident did).
/// </summary>
public sealed class GrowLvStep : VolumeGroupStep
{
    private readonly string _volumeGroup;
    private readonly string _name;
    private readonly long? _size;
    private readonly long? _delta;
    private long? _baseline;

    internal GrowLvStep(string volumeGroup, string name, long? size, long? delta)
    {
        _volumeGroup = volumeGroup;
        _name = name;
        _size = size;
        _delta = delta;
    }

    public override string Description => _size is { } size
        ? $"LV {_volumeGroup}/{_name} and its filesystem are at least {Bytes.Show(size)}"
        : $"LV {_volumeGroup}/{_name} and its filesystem grew by {Bytes.Show(_delta!.Value)} in this run";

    // The filesystem under lvm's own name for the LV (its lv_path), which the probe reads once the LV is found.
    public override IEnumerable<IFact> Reads => [.. base.Reads, FsReads.ExtSize($"/dev/{_volumeGroup}/{_name}")];

    protected override async Task<VolumeGroupDecision> DecideAsync(HostContext host, CancellationToken cancellationToken)
    {
        var lvs = await LvmReads.LvsAsync(host, cancellationToken).ConfigureAwait(false);
        var lv = lvs.FirstOrDefault(l => l.VolumeGroup == _volumeGroup && l.Name == _name);
        if (lv is null)
        {
            return StepProbe.Blocked("LV missing", host.Reason($"logical volume {_volumeGroup}/{_name} does not exist (lvs lists {string.Join(", ", lvs.Select(l => $"{l.VolumeGroup}/{l.Name}"))})"));
        }

        // A delta is taken once, against the size first seen in this run: probing again after the change
        // (or resuming) must not grow it a second time.
        _baseline ??= lv.Size;
        var wanted = _size ?? _baseline.Value + _delta!.Value;
        var vg = (await LvmReads.VgsAsync(host, cancellationToken).ConfigureAwait(false)).First(v => v.Name == _volumeGroup);
        var wantedRounded = RoundUp(wanted, vg.ExtentSize);
        var filesystem = await ExtFilesystemSizeAsync(host, lv.Path, cancellationToken).ConfigureAwait(false);
        var observed = $"LV {Bytes.Show(lv.Size)}" + (filesystem is { } f ? $", ext filesystem {Bytes.Show(f)}" : "");
        if (lv.Size >= wantedRounded)
        {
            return filesystem is { } fs && fs < lv.Size
                ? WritingNoVolumeGroup(StepProbe.Change(observed + " (filesystem not grown)", new Command("resize2fs", ["--", lv.Path]).WithTimeout(TimeSpan.FromMinutes(30))))
                : StepProbe.Satisfied(observed);
        }

        var missing = (wantedRounded - lv.Size) / vg.ExtentSize;
        if (vg.FreeExtents < missing)
        {
            return StepProbe.Blocked(observed, host.Reason($"growing {_volumeGroup}/{_name} to {Bytes.Show(wantedRounded)} needs {missing} free extents, {_volumeGroup} has {vg.FreeExtents}; add or resize PVs first"));
        }

        var bytes = wantedRounded.ToString(CultureInfo.InvariantCulture) + "b";
        // Shrinking back would mean shrinking the filesystem first, offline, with whatever was written since at stake.
        var grown = Reversal.Cannot($"LV {_volumeGroup}/{_name} grew from {Bytes.Show(lv.Size)} with its filesystem; undo does not shrink a volume (that needs the filesystem shrunk first, offline)");
        return Writing(_volumeGroup, StepProbe.Act(observed, GrowCommands(bytes, lv.Path, ext: filesystem is not null).Select(c => new RunCommand(c) { Undo = grown })));
    }

    // An ext filesystem (known from tune2fs) is grown with resize2fs directly: --resizefs goes through
    // fsadm, whose checks cost a dozen processes (3.1 s against 0.5 s in the TCG test VM). If resize2fs
    // fails after lvextend, the next probe sees "filesystem not grown" and finishes it.
    private IEnumerable<Command> GrowCommands(string bytes, string path, bool ext)
    {
        var timeout = TimeSpan.FromMinutes(30);
        var lv = $"{_volumeGroup}/{_name}";
        return ext
            ? [LvmReads.Change("lvextend", "-L", bytes, "--", lv).WithTimeout(timeout), new Command("resize2fs", ["--", path]).WithTimeout(timeout)]
            : [LvmReads.Change("lvextend", "--resizefs", "-L", bytes, "--", lv).WithTimeout(timeout)];
    }

    /// <summary>Block count × block size from <c>tune2fs -l</c>; null when the LV holds no ext filesystem.</summary>
    internal static Task<long?> ExtFilesystemSizeAsync(HostContext host, string device, CancellationToken ct) => host.FactAsync(FsReads.ExtSize(device), ct);

    private static long RoundUp(long bytes, long extent) => extent <= 0 ? bytes : (bytes + extent - 1) / extent * extent;
}
