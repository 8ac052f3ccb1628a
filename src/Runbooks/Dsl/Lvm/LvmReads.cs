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

    public static async Task<IReadOnlyList<PhysicalVolumeFacts>> PvsAsync(HostContext host, CancellationToken ct) =>
        LvmParser.ParsePvs((await ReportAsync(host, Pvs, ct).ConfigureAwait(false)).StandardOutput);

    public static async Task<IReadOnlyList<VolumeGroupFacts>> VgsAsync(HostContext host, CancellationToken ct) =>
        LvmParser.ParseVgs((await ReportAsync(host, Vgs, ct).ConfigureAwait(false)).StandardOutput);

    public static async Task<IReadOnlyList<LogicalVolumeFacts>> LvsAsync(HostContext host, CancellationToken ct) =>
        LvmParser.ParseLvs((await ReportAsync(host, Lvs, ct).ConfigureAwait(false)).StandardOutput);

    public static async Task<IReadOnlyList<LogicalVolumeSegment>> SegmentsAsync(HostContext host, CancellationToken ct) =>
        LvmParser.ParseSegments((await ReportAsync(host, Segments, ct).ConfigureAwait(false)).StandardOutput);

    public static async Task<IReadOnlyList<MoveInProgressFacts>> MovesAsync(HostContext host, CancellationToken ct) =>
        LvmParser.ParseMoves((await ReportAsync(host, AllLvs, ct).ConfigureAwait(false)).StandardOutput);

    /// <summary>
    /// One report, read once per probe round: the first LVM question of a round reads <see cref="LvmFullReport.Command"/>
    /// and files its parts as the answers to pvs, vgs, lvs, lvs -a and lvs --segments, so a step that asks three of
    /// them starts one LVM process (each is 0.5–0.9 s in an emulated guest: the device scan, not the report). An
    /// LVM without fullreport (before 2.02.158), or output that does not split, leaves each report to its own command.
    /// </summary>
    private static async Task<CommandResult> ReportAsync(HostContext host, Command report, CancellationToken ct)
    {
        if (!host.HasRead(report) && !host.HasRead(LvmFullReport.Command))
        {
            var full = await host.TryReadAsync(LvmFullReport.Command, ct).ConfigureAwait(false);
            if (full.ExitCode == 0 && LvmFullReport.Split(full) is { } parts)
            {
                foreach (var (command, part) in parts)
                {
                    host.Remember(command, part);
                }
            }
        }

        return await host.ReadAsync(report, ct).ConfigureAwait(false);
    }

    public static async Task<IReadOnlyList<string>> RunningPvmovesAsync(HostContext host, CancellationToken ct) =>
        (await host.ReadAsync(Pvmoves, ct).ConfigureAwait(false)).StandardOutput
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    /// <summary>The device's size in bytes from the kernel, or null when the device does not exist.</summary>
    public static async Task<long?> DeviceSizeAsync(HostContext host, string device, CancellationToken ct)
    {
        var result = await host.TryReadAsync(new Command("blockdev", ["--getsize64", device]), ct).ConfigureAwait(false);
        return result.ExitCode == 0 && long.TryParse(result.StandardOutput.Trim(), out var size) ? size : null;
    }

    /// <summary>The signature <c>blkid -p</c> finds on a device (<c>ext4</c>, <c>LVM2_member</c>), or null when it is blank.</summary>
    public static async Task<string?> SignatureAsync(HostContext host, string device, CancellationToken ct)
    {
        // blkid exits 2 when it finds nothing: that is the answer "blank", not a failure.
        var result = await host.TryReadAsync(new Command("blkid", ["-p", "-o", "export", "--", device]).WithSuccessExitCodes(0, 2), ct).ConfigureAwait(false);
        return result.ExitCode != 0 ? null : result.StandardOutput.Split('\n')
            .Where(l => l.StartsWith("TYPE=", StringComparison.Ordinal)).Select(l => l[5..].Trim()).FirstOrDefault();
    }

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
