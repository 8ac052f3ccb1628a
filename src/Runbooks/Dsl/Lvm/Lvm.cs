using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>LVM physical volumes, volume groups and logical volumes. Every member returns steps or checks; none runs anything.</summary>
public static class Lvm
{
    /// <summary>A physical volume by device path.</summary>
    /// <example><c>Lvm.Pv("/dev/loop1").Evacuate()</c></example>
    public static PhysicalVolume Pv(string device) => new(DslArguments.Device(device, nameof(device)));

    /// <summary>A volume group by name.</summary>
    /// <example><c>Lvm.Vg("vg0").Extend("/dev/loop3")</c></example>
    public static VolumeGroup Vg(string name) => new(DslArguments.LvmName(name, nameof(name)));

    /// <summary>A logical volume as <c>vg/lv</c>.</summary>
    /// <example><c>Lvm.Lv("vg0/data0").GrowTo("4G")</c></example>
    public static LogicalVolume Lv(string path)
    {
        var parts = (path ?? "").Split('/');
        if (parts.Length != 2)
        {
            throw new ArgumentException($"'{path}' must be VG/LV, like vg0/data0", nameof(path));
        }

        return new LogicalVolume(DslArguments.LvmName(parts[0], nameof(path)), DslArguments.LvmName(parts[1], nameof(path)));
    }
}

/// <summary>A PV by device; its members are steps.</summary>
public sealed class PhysicalVolume
{
    /// <summary>pvmove can run for hours on real disks; five minutes (the command default) is far too short.</summary>
    public static readonly TimeSpan DefaultMoveTimeout = TimeSpan.FromHours(2);

    internal PhysicalVolume(string device) => Device = device;

    public string Device { get; }

    /// <summary>Makes the device a PV (<c>pvcreate</c>); refused when the device holds any signature.</summary>
    /// <example><c>Lvm.Pv("/dev/loop3").Create()</c></example>
    public Step Create() => new CreatePvStep(Device);

    /// <summary>Grows the PV over its whole device (<c>pvresize</c>); satisfied within one extent of the device size.</summary>
    /// <example><c>Lvm.Pv("/dev/loop2").ResizeToDevice()</c></example>
    public Step ResizeToDevice() => new ResizePvStep(Device);

    /// <summary>Lets LVM allocate extents on the PV, or forbids it (<c>pvchange -x</c>).</summary>
    /// <example><c>Lvm.Pv("/dev/loop0").Allocatable()</c></example>
    public Step Allocatable(bool allocatable = true) => new PvAllocatableStep(Device, allocatable);

    /// <summary>Moves every allocated extent off the PV (<c>pvmove</c>); needs as many free extents on the VG's other allocatable PVs.</summary>
    /// <example><c>Lvm.Pv("/dev/loop1").Evacuate()</c></example>
    public Step Evacuate(TimeSpan? timeout = null) =>
        new EvacuateStep(Device, DslArguments.PositiveTime(timeout ?? DefaultMoveTimeout, nameof(timeout)));

    /// <summary>Takes the PV out of its VG (<c>vgreduce</c>); refused while it holds an allocated extent.</summary>
    /// <example><c>Lvm.Pv("/dev/loop1").RemoveFrom("vg0")</c></example>
    public Step RemoveFrom(string volumeGroup) => new RemovePvFromVgStep(DslArguments.LvmName(volumeGroup, nameof(volumeGroup)), Device);

    /// <summary>
    /// Rebuilds the PV when its data offset exceeds <paramref name="maxDataOffset"/> (default 8 MiB; LVM's own is 1 MiB):
    /// evacuate → vgreduce → pvremove → pvcreate → vgextend.
    /// </summary>
    /// <example><c>Lvm.Pv("/dev/loop1").RecreateIfOffsetAbove("vg0")</c></example>
    public Step RecreateIfOffsetAbove(string volumeGroup, string maxDataOffset = "8M", TimeSpan? moveTimeout = null) =>
        new RecreatePvStep(DslArguments.LvmName(volumeGroup, nameof(volumeGroup)), Device, Bytes.Parse(maxDataOffset),
            DslArguments.PositiveTime(moveTimeout ?? DefaultMoveTimeout, nameof(moveTimeout)));

    /// <summary>Holds when no extent is allocated on the device (or it is no PV at all): nothing lives on it.</summary>
    /// <example><c>new Guard(Lvm.Pv("/dev/loop1").HoldsNoExtents())</c></example>
    public Check HoldsNoExtents() => new($"{Device} holds no allocated extents", async (host, ct) =>
    {
        var pv = (await LvmReads.PvsAsync(host, ct).ConfigureAwait(false)).FirstOrDefault(p => p.Name == Device);
        return new CheckResult(pv is null || pv.AllocatedExtents == 0, pv is null ? "not a PV" : $"{pv.AllocatedExtents} extents allocated");
    });

    /// <summary>Holds when the device is a PV of the VG.</summary>
    /// <example><c>.Ensures(Lvm.Pv("/dev/loop3").IsIn("vg0"))</c></example>
    public Check IsIn(string volumeGroup)
    {
        DslArguments.LvmName(volumeGroup, nameof(volumeGroup));
        return new Check($"{Device} is a PV of {volumeGroup}", async (host, ct) =>
        {
            var pv = (await LvmReads.PvsAsync(host, ct).ConfigureAwait(false)).FirstOrDefault(p => p.Name == Device);
            return new CheckResult(pv?.VolumeGroup == volumeGroup, pv is null ? "not a PV" : $"in '{pv.VolumeGroup}'");
        });
    }
}

/// <summary>A VG by name.</summary>
public sealed class VolumeGroup
{
    internal VolumeGroup(string name) => Name = name;

    public string Name { get; }

    /// <summary>Adds a device to the VG (<c>vgextend</c>, after <c>pvcreate</c> when the device is blank).</summary>
    /// <example><c>Lvm.Vg("vg0").Extend("/dev/loop3")</c></example>
    public Step Extend(string device) => new ExtendVgStep(Name, DslArguments.Device(device, nameof(device)));

    /// <summary>Holds when the VG has exactly this many PVs.</summary>
    /// <example><c>.Ensures(Lvm.Vg("vg0").HasPvCount(4))</c></example>
    public Check HasPvCount(int count) => new($"{Name} has {count} PVs", async (host, ct) =>
    {
        var vg = (await LvmReads.VgsAsync(host, ct).ConfigureAwait(false)).FirstOrDefault(v => v.Name == Name);
        return new CheckResult(vg?.PvCount == count, vg is null ? "VG missing" : $"{vg.PvCount} PVs");
    });
}

/// <summary>An LV as VG/LV.</summary>
public sealed class LogicalVolume
{
    internal LogicalVolume(string volumeGroup, string name)
    {
        VolumeGroup = volumeGroup;
        Name = name;
    }

    public string VolumeGroup { get; }

    public string Name { get; }

    /// <summary>Grows the LV and its filesystem to at least <paramref name="size"/> (never shrinks).</summary>
    /// <example><c>Lvm.Lv("vg0/data0").GrowTo("4G")</c></example>
    public Step GrowTo(string size) => GrowTo(Bytes.Parse(size));

    /// <summary>Grows the LV and its filesystem to at least <paramref name="bytes"/> (never shrinks).</summary>
    /// <example><c>Lvm.Lv("vg0/data0").GrowTo(4L &lt;&lt; 30)</c></example>
    public Step GrowTo(long bytes) => new GrowLvStep(VolumeGroup, Name, DslArguments.PositiveSize(bytes, nameof(bytes)), null);

    /// <summary>
    /// Grows the LV and its filesystem by <paramref name="delta"/> over the size first seen in this run. Every new run grows
    /// it again: use <see cref="GrowTo(string)"/> in a runbook meant to converge.
    /// </summary>
    /// <example><c>Lvm.Lv("vg0/data0").GrowBy("500M")</c></example>
    public Step GrowBy(string delta) => new GrowLvStep(VolumeGroup, Name, null, Bytes.Parse(delta));

    /// <summary>Holds when the LV is exactly this size.</summary>
    /// <example><c>.Ensures(Lvm.Lv("vg0/data0").HasSize("4G"))</c></example>
    public Check HasSize(string size)
    {
        var bytes = Bytes.Parse(size);
        return new Check($"{VolumeGroup}/{Name} is {Bytes.Show(bytes)}", async (host, ct) =>
        {
            var lv = (await LvmReads.LvsAsync(host, ct).ConfigureAwait(false)).FirstOrDefault(l => l.VolumeGroup == VolumeGroup && l.Name == Name);
            return new CheckResult(lv?.Size == bytes, lv is null ? "LV missing" : Bytes.Show(lv.Size));
        });
    }
}
