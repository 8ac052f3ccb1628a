using System.Text.RegularExpressions;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>
/// A disk that fails every read makes its PV "missing": <c>pvs</c> lists it as <c>[unknown]</c> with attribute
/// <c>m</c> and warns on stderr. LVM still writes a VG in that state — <c>vgextend</c> did, raising the VG's
/// seqno and forgetting which device the missing PV was last written to — so every LVM step refuses to change
/// such a VG, naming the disk and the kernel's error, and leaves the decision (replace, or
/// <c>vgreduce --removemissing</c>) to a person.
/// A disk that fails writes to its metadata area ("Failed to write metadata to …", "Failed to write an MDA") leaves
/// that PV with an older copy of the VG's metadata. LVM then warns on every read and the next write quietly
/// "updates old metadata" onto the same failing disk; so when the report warns about the VG's metadata, the step
/// runs <c>vgck</c> and refuses on stale or inconsistent metadata, naming the PV and its seqno.
/// </summary>
internal static partial class FailingDiskGuard
{
    /// <summary>The planned change, or a refusal when the VG has a PV whose disk cannot be read.</summary>
    public static async Task<StepProbe> UnlessFailingAsync(HostContext host, string volumeGroup, StepProbe planned, CancellationToken ct) =>
        planned.Decision == StepDecision.WillChange && volumeGroup.Length > 0 &&
        await VolumeGroupProblemAsync(host, volumeGroup, ct).ConfigureAwait(false) is { } problem
            ? StepProbe.Blocked(planned.Observed, problem)
            : planned;

    /// <summary>Why the VG must not be changed now, or null when all its PVs are readable.</summary>
    public static async Task<string?> VolumeGroupProblemAsync(HostContext host, string volumeGroup, CancellationToken ct)
    {
        var pvs = await LvmReads.PvsAsync(host, ct).ConfigureAwait(false);
        var missing = pvs.Count(p => p.VolumeGroup == volumeGroup && p.Missing);
        if (missing == 0)
        {
            return await StaleMetadataProblemAsync(host, volumeGroup, ct).ConfigureAwait(false);
        }

        var warnings = await WarningsAsync(host, volumeGroup, ct).ConfigureAwait(false);
        var readErrors = new List<string>();
        foreach (var device in warnings.Select(w => LastWrittenTo().Match(w)).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct())
        {
            if (await ReadErrorAsync(host, device, ct).ConfigureAwait(false) is { } error)
            {
                readErrors.Add(error);
            }
        }

        return host.Reason($"VG {volumeGroup} is missing {missing} PV(s): LVM cannot read their disk") +
               (warnings.Count > 0 ? $" ({string.Join(" ", warnings)})" : "") +
               (readErrors.Count > 0 ? $"; the kernel says: {string.Join("; ", readErrors)}" : "") +
               $". Changing {volumeGroup} now would rewrite its metadata without them, so nothing was changed. " +
               WhatToDo(volumeGroup);
    }

    /// <summary>
    /// Why a step about <paramref name="device"/> cannot go on when the device is not a readable PV: its reads fail
    /// and LVM reports a missing PV. Null when that is not the case (the device is then simply not a PV).
    /// </summary>
    public static async Task<string?> UnreadableDeviceProblemAsync(HostContext host, string device, IReadOnlyList<PhysicalVolumeFacts> pvs, CancellationToken ct)
    {
        var missingIn = pvs.Where(p => p.Missing).Select(p => p.VolumeGroup).Distinct().ToList();
        if (missingIn.Count == 0 || await ReadErrorAsync(host, device, ct).ConfigureAwait(false) is not { } error)
        {
            return null;
        }

        var groups = string.Join(", ", missingIn);
        return host.Reason($"{device} cannot be read ({error}) and LVM lists a PV of {groups} as missing: the disk under the PV is failing, ") +
               $"so nothing was written to {groups}. " + WhatToDo(missingIn[0]);
    }

    /// <summary>Why the VG's metadata must be checked by a person first, or null when <c>vgck</c> finds it consistent.</summary>
    private static async Task<string?> StaleMetadataProblemAsync(HostContext host, string volumeGroup, CancellationToken ct)
    {
        // vgck only when the report already warned: a healthy VG costs no extra LVM command per step.
        var report = await host.FactAsync(LvmReads.PvReport, ct).ConfigureAwait(false);
        if (!report.StandardError.Contains($"for VG {volumeGroup}.", StringComparison.Ordinal))
        {
            return null;
        }

        var check = await host.FactAsync(LvmReads.MetadataCheck(volumeGroup), ct).ConfigureAwait(false);
        return VgckProblem(volumeGroup, check) is { } problem ? host.Reason(problem) : null;
    }

    /// <summary>
    /// What <c>vgck</c>'s output says is wrong with the VG's metadata, or null when nothing. It exits 0 on stale copies
    /// (lvm2 2.03 warns and carries on), so its warnings are read, not only its exit code.
    /// </summary>
    internal static string? VgckProblem(string volumeGroup, CommandResult vgck)
    {
        var lines = (vgck.StandardError + "\n" + vgck.StandardOutput).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var stale = lines.Select(l => StaleCopy().Match(l)).Where(m => m.Success && m.Groups["vg"].Value == volumeGroup)
            .Select(m => $"{m.Groups["pv"].Value} holds seqno {m.Groups["old"].Value} where {m.Groups["good"].Value} holds {m.Groups["new"].Value}")
            .Distinct()
            .ToList();
        var inconsistent = lines.Any(l => l.Contains($"Inconsistent metadata found for VG {volumeGroup}", StringComparison.Ordinal) ||
                                          l.Contains($"Failed to write an MDA of VG {volumeGroup}", StringComparison.Ordinal));
        if (stale.Count == 0 && !inconsistent && vgck.ExitCode == 0)
        {
            return null;
        }

        var what = stale.Count > 0 ? $"stale metadata ({string.Join("; ", stale)})" : $"inconsistent metadata (vgck exit {vgck.ExitCode}: {string.Join(" ", lines.Take(3))})";
        var disks = stale.Count > 0 ? string.Join(", ", lines.Select(l => StaleCopy().Match(l)).Where(m => m.Success).Select(m => m.Groups["pv"].Value).Distinct()) : "its PVs";
        return $"vgck finds VG {volumeGroup} with {what}: a metadata write failed on {disks}, and the next LVM write would rewrite it there unchecked, so nothing was changed. " +
               $"What to do: check the disk under {disks} (dmesg, dmsetup status, smartctl); once it takes writes again, `vgck --updatemetadata {volumeGroup}` rewrites the old copy; then run again";
    }

    /// <summary>The tool's own words when one direct read of the first block fails, or null when it succeeds.</summary>
    private static Task<string?> ReadErrorAsync(HostContext host, string device, CancellationToken ct) =>
        host.FactAsync(LvmReads.DirectRead(device), ct);

    /// <summary>LVM's warnings about the VG's missing PVs, from the same <c>pvs</c> the step read.</summary>
    private static async Task<List<string>> WarningsAsync(HostContext host, string volumeGroup, CancellationToken ct)
    {
        var pvs = await host.FactAsync(LvmReads.PvReport, ct).ConfigureAwait(false);
        return pvs.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.Contains($"VG {volumeGroup} is missing PV", StringComparison.Ordinal))
            .Distinct()
            .ToList();
    }

    private static string WhatToDo(string volumeGroup) =>
        $"What to do: check the disk (dmesg, dmsetup status, smartctl); bring it back and run again, or give its data up deliberately with `vgreduce --removemissing {volumeGroup}` and run again";

    [GeneratedRegex(@"last written to (/dev/\S+?)\)")]
    private static partial Regex LastWrittenTo();

    // lvm2 2.03: "WARNING: ignoring metadata seqno 3 on /dev/mapper/mdafail for seqno 4 on /dev/loop4 for VG vgm."
    [GeneratedRegex(@"ignoring metadata seqno (?<old>\d+) on (?<pv>/\S+) for seqno (?<new>\d+) on (?<good>/\S+) for VG (?<vg>\S+?)\.$")]
    private static partial Regex StaleCopy();
}
