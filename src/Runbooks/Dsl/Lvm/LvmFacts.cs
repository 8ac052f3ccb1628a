namespace Runbooks.Dsl;

/// <summary>
/// One row of <c>pvs</c>: sizes in bytes; <see cref="VolumeGroup"/> is empty for a PV outside any VG.
/// <see cref="Missing"/> is a PV the VG's metadata names but whose device LVM could not read (named <c>[unknown]</c>).
/// </summary>
public sealed record PhysicalVolumeFacts(
    string Name,
    string VolumeGroup,
    long Size,
    long DeviceSize,
    long Free,
    long PeStart,
    long ExtentCount,
    long AllocatedExtents,
    bool Allocatable,
    long ExtentSize,
    bool Missing = false)
{
    public long FreeExtents => ExtentSize > 0 ? Free / ExtentSize : 0;

    /// <summary>True when the PV covers all of its device after its data offset, within one extent.</summary>
    public bool UsesDevice(long deviceSize) => Size + PeStart + Math.Max(ExtentSize, 1) > deviceSize;
}

/// <summary>One row of <c>vgs</c>.</summary>
public sealed record VolumeGroupFacts(string Name, long Size, long Free, long ExtentSize, long ExtentCount, long FreeExtents, int PvCount, int LvCount);

/// <summary>One row of <c>lvs</c>.</summary>
public sealed record LogicalVolumeFacts(string Name, string VolumeGroup, long Size, string Path, string DmPath, string Attributes, int SegmentCount);

/// <summary>One segment of <c>lvs --segments</c>: logical extents and where they live (<c>/dev/loop1:0-12</c>).</summary>
public sealed record LogicalVolumeSegment(string LogicalVolume, string VolumeGroup, long StartExtent, long ExtentCount, IReadOnlyList<PhysicalExtentRange> Ranges);

/// <summary>A run of physical extents on one PV, inclusive.</summary>
public sealed record PhysicalExtentRange(string Device, long First, long Last)
{
    public long Count => Last - First + 1;

    public override string ToString() => $"{Device}:{First}-{Last}";
}

/// <summary>
/// A pvmove not yet finished, from <c>lvs -a</c>: the hidden LV (<c>pvmove0</c>, shown as <c>[pvmove0]</c>,
/// attribute <c>p</c>), the PV being emptied and how much of the copy the kernel mirror has made.
/// </summary>
public sealed record MoveInProgressFacts(string Name, string VolumeGroup, string SourcePv, double CopyPercent);
