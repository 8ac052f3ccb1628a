using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>The read-only LVM reports every LVM step shares; one run of each per probe round.</summary>
public static class LvmReads
{
    internal const string PvFields = "pv_name,vg_name,pv_size,dev_size,pv_free,pe_start,pv_pe_count,pv_pe_alloc_count,pv_allocatable,pv_attr,vg_extent_size";
    internal const string VgFields = "vg_name,vg_size,vg_free,vg_extent_size,vg_extent_count,vg_free_count,pv_count,lv_count";
    internal const string LvFields = "lv_name,vg_name,lv_size,lv_path,lv_dm_path,lv_attr,seg_count";
    internal const string MoveFields = "lv_name,vg_name,lv_attr,copy_percent,move_pv";
    internal const string SegmentFields = "lv_name,vg_name,seg_start_pe,seg_size_pe,seg_pe_ranges";

    public static readonly Command Pvs = Report("pvs", PvFields);

    public static readonly Command Vgs = Report("vgs", VgFields);

    public static readonly Command Lvs = Report("lvs", LvFields);

    public static readonly Command Segments = Report("lvs", SegmentFields, "--segments");

    /// <summary>Every LV including hidden ones: an unfinished pvmove shows only here, as <c>[pvmove0]</c>.</summary>
    public static readonly Command AllLvs = Report("lvs", MoveFields, "-a");

    /// <summary>
    /// Processes polling a move, pid and argv per line; exit 1 (none) is an answer. Besides <c>pvmove</c> itself,
    /// <c>vgchange -ay</c> on a VG with an unfinished move forks a background poller that renames itself
    /// <c>(lvm2)</c> — after a reboot that poller, not a pvmove, is what finishes the move.
    /// </summary>
    public static readonly Command Pvmoves = new Command("pgrep", ["-a", "-f", @"^(([^ ]*/)?(lvm )?pvmove( |$)|\(lvm2\) )"]).WithSuccessExitCodes(0, 1).AsReadOnly();

    /// <summary>
    /// <c>lvm fullreport</c>, the read that answers pvs, vgs, lvs, lvs -a and lvs --segments from one device scan: the
    /// first LVM question of a round reads it, so a step that asks three of them starts one LVM process (each is
    /// 0.5–0.9 s in an emulated guest: the device scan, not the report). An LVM without fullreport (before 2.02.158),
    /// or output that does not split, leaves each report to its own command.
    /// </summary>
    internal static readonly CombinedRead FullReport = new(LvmFullReport.Command, [Pvs, Vgs, Lvs, AllLvs, Segments], LvmFullReport.Split);

    /// <summary>The pvs report as LVM gave it: its stderr carries the warnings about missing PVs and stale metadata.</summary>
    internal static readonly Fact<CommandResult> PvReport = new(Pvs, r => r) { Via = FullReport };

    /// <example><c>var pvs = await host.FactAsync(LvmReads.PhysicalVolumes, ct);</c></example>
    public static readonly Fact<IReadOnlyList<PhysicalVolumeFacts>> PhysicalVolumes = new(Pvs, r => LvmParser.ParsePvs(r.StandardOutput)) { Via = FullReport };

    /// <example><c>var vgs = await host.FactAsync(LvmReads.VolumeGroups, ct);</c></example>
    public static readonly Fact<IReadOnlyList<VolumeGroupFacts>> VolumeGroups = new(Vgs, r => LvmParser.ParseVgs(r.StandardOutput)) { Via = FullReport };

    /// <example><c>var lvs = await host.FactAsync(LvmReads.LogicalVolumes, ct);</c></example>
    public static readonly Fact<IReadOnlyList<LogicalVolumeFacts>> LogicalVolumes = new(Lvs, r => LvmParser.ParseLvs(r.StandardOutput)) { Via = FullReport };

    /// <example><c>var segments = await host.FactAsync(LvmReads.LogicalVolumeSegments, ct);</c></example>
    public static readonly Fact<IReadOnlyList<LogicalVolumeSegment>> LogicalVolumeSegments = new(Segments, r => LvmParser.ParseSegments(r.StandardOutput)) { Via = FullReport };

    /// <example><c>var moves = await host.FactAsync(LvmReads.MovesInProgress, ct);</c></example>
    public static readonly Fact<IReadOnlyList<MoveInProgressFacts>> MovesInProgress = new(AllLvs, r => LvmParser.ParseMoves(r.StandardOutput)) { Via = FullReport };

    /// <summary>The processes polling a move, one <c>pid argv</c> line each.</summary>
    /// <example><c>var movers = await host.FactAsync(LvmReads.RunningPvmoves, ct);</c></example>
    public static readonly Fact<IReadOnlyList<string>> RunningPvmoves =
        new(Pvmoves, r => r.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList());

    /// <summary>The device's size in bytes from the kernel, or null when the device does not exist.</summary>
    /// <example><c>var size = await host.FactAsync(LvmReads.DeviceSize("/dev/loop1"), ct);</c></example>
    public static Fact<long?> DeviceSize(string device) =>
        new(new Command("blockdev", ["--getsize64", device]), r => r.ExitCode == 0 && long.TryParse(r.StandardOutput.Trim(), out var size) ? size : null, mustSucceed: false);

    /// <summary>The signature <c>blkid -p</c> finds on a device (<c>ext4</c>, <c>LVM2_member</c>), or null when it is blank.</summary>
    /// <example><c>var type = await host.FactAsync(LvmReads.Signature("/dev/loop3"), ct);</c></example>
    public static Fact<string?> Signature(string device) =>
        // blkid exits 2 when it finds nothing: that is the answer "blank", not a failure.
        new(new Command("blkid", ["-p", "-o", "export", "--", device]).WithSuccessExitCodes(0, 2), r => r.ExitCode != 0 ? null : r.StandardOutput.Split('\n')
            .Where(l => l.StartsWith("TYPE=", StringComparison.Ordinal)).Select(l => l[5..].Trim()).FirstOrDefault(), mustSucceed: false);

    /// <summary>What <c>vgck</c> says about the VG's metadata; its exit code and warnings are the guard's to judge.</summary>
    internal static Fact<CommandResult> MetadataCheck(string volumeGroup) => new(new Command("vgck", ["--", volumeGroup]), r => r, mustSucceed: false);

    /// <summary>Whether one block of the device reads; null when it does, else the kernel's error.</summary>
    internal static Fact<string?> DirectRead(string device) =>
        // O_DIRECT so the page cache cannot answer for a disk that no longer does.
        new(new Command("dd", ["if=" + device, "of=/dev/null", "bs=4096", "count=1", "iflag=direct", "status=none"]).WithTimeout(TimeSpan.FromSeconds(30)),
            r => r.ExitCode == 0 ? null : r.StderrTail(1).Trim(), mustSucceed: false);

    public static Task<IReadOnlyList<PhysicalVolumeFacts>> PvsAsync(HostContext host, CancellationToken ct) => host.FactAsync(PhysicalVolumes, ct);

    public static Task<IReadOnlyList<VolumeGroupFacts>> VgsAsync(HostContext host, CancellationToken ct) => host.FactAsync(VolumeGroups, ct);

    public static Task<IReadOnlyList<LogicalVolumeFacts>> LvsAsync(HostContext host, CancellationToken ct) => host.FactAsync(LogicalVolumes, ct);

    public static Task<IReadOnlyList<LogicalVolumeSegment>> SegmentsAsync(HostContext host, CancellationToken ct) => host.FactAsync(LogicalVolumeSegments, ct);

    public static Task<IReadOnlyList<MoveInProgressFacts>> MovesAsync(HostContext host, CancellationToken ct) => host.FactAsync(MovesInProgress, ct);

    public static Task<IReadOnlyList<string>> RunningPvmovesAsync(HostContext host, CancellationToken ct) => host.FactAsync(RunningPvmoves, ct);

    /// <summary>The device's size in bytes from the kernel, or null when the device does not exist.</summary>
    public static Task<long?> DeviceSizeAsync(HostContext host, string device, CancellationToken ct) => host.FactAsync(DeviceSize(device), ct);

    /// <summary>The signature <c>blkid -p</c> finds on a device (<c>ext4</c>, <c>LVM2_member</c>), or null when it is blank.</summary>
    public static Task<string?> SignatureAsync(HostContext host, string device, CancellationToken ct) => host.FactAsync(Signature(device), ct);

    /// <summary>Builds a changing LVM command; quiet about inherited descriptors (a CLI host leaks some).</summary>
    internal static Command Change(string program, params Arg[] arguments) =>
        new Command(program, arguments).WithEnvironment("LVM_SUPPRESS_FD_WARNINGS", "1");

    /// <summary>Why a step about a device cannot go on when pvs does not list it: a failing disk, or simply not a PV.</summary>
    internal static async Task<string> NotAPvAsync(HostContext host, string device, IReadOnlyList<PhysicalVolumeFacts> pvs, CancellationToken ct) =>
        await FailingDiskGuard.UnreadableDeviceProblemAsync(host, device, pvs, ct).ConfigureAwait(false) ?? NotAPv(host, device, pvs);

    internal static string NotAPv(HostContext host, string device, IReadOnlyList<PhysicalVolumeFacts> pvs) =>
        host.Reason($"{device} is not a physical volume (pvs lists {(pvs.Count == 0 ? "none" : string.Join(", ", pvs.Select(p => p.Name)))}); check the device name");

    internal static Command Report(string tool, string fields, params string[] extra) =>
        new Command(tool, [.. extra, "--reportformat", "json", "--units", "b", "--nosuffix", "-o", fields])
            .WithEnvironment("LVM_SUPPRESS_FD_WARNINGS", "1").AsReadOnly();
}
