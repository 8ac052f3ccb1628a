namespace Runbooks.Harness.Scenarios.Storage;

/// <summary>
/// Every size of the storage incident, multiplied by the run's scale and rounded to whole MiB
/// (scale 1 is the incident: 1800M disks, a 2.8G data0 to grow to 4G, at least 6G after growth).
/// </summary>
public sealed record StorageSizes(double Scale)
{
    public const long MiB = 1024 * 1024;
    public const int ExtentMiB = 4;

    public int Scaled(double mib) => Math.Max(1, (int)Math.Round(mib * Scale, MidpointRounding.AwayFromZero));

    /// <summary>Each disk image: <c>fallocate -l 1800M /media/diskN.img</c>.</summary>
    public int DiskMiB => Scaled(1800);

    /// <summary>loop1's data offset: "PV Size &lt;1.76 GiB / not usable 1.00 GiB".</summary>
    public int Loop1DataOffsetMiB => Scaled(1024);

    /// <summary>loop2's PV before the fix: 1020M of its 1800M device.</summary>
    public int Loop2PvMiB => Scaled(1020);

    /// <summary>data0 as found: 2.80g.</summary>
    public int Data0BrokenMiB => Scaled(2.8 * 1024);

    /// <summary>data0 after the fix, rounded up to whole extents as lvextend does.</summary>
    public int Data0TargetMiB => RoundUpToExtent(Scaled(4096));

    /// <summary>What the growth spec needs /data to reach: "/data is at least 6G".</summary>
    public int GrownMiB => Scaled(6 * 1024);

    /// <summary>Each file the growth spec writes: "100M file created".</summary>
    public int GrowthFileMiB => Scaled(100);

    /// <summary>
    /// The /media filesystem: the three images, the deleted file the server holds (about two disks, as the
    /// incident's 3.7 GB), and half a disk of slack — so disk3.img fits only once the deleted file is released.
    /// </summary>
    public int MediaMiB => (int)Math.Ceiling(5.5 * DiskMiB);

    /// <summary>Free space left on /media while the deleted file is held: less than one disk image.</summary>
    public int MediaSlackMiB => DiskMiB / 2;

    /// <summary>The objects /data serves: 32 files, about 600M in all (the incident's 628M used), sizes 1..32 parts.</summary>
    public IReadOnlyList<long> ObjectBytes
    {
        get
        {
            var total = Scaled(600) * MiB;
            return [.. Enumerable.Range(1, 32).Select(i => Math.Max(1, total * i / 528))];
        }
    }

    public static int RoundUpToExtent(int mib) => (mib + ExtentMiB - 1) / ExtentMiB * ExtentMiB;
}
