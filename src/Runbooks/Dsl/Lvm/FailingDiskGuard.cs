using System.Text.RegularExpressions;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl.Nouns.Lvm;

/// <summary>
/// A disk that fails every read makes its PV "missing": <c>pvs</c> lists it as <c>[unknown]</c> with attribute
/// <c>m</c> and warns on stderr. LVM still writes a VG in that state — <c>vgextend</c> did, raising the VG's
/// seqno and forgetting which device the missing PV was last written to — so every LVM step refuses to change
/// such a VG, naming the disk and the kernel's error, and leaves the decision (replace, or
/// <c>vgreduce --removemissing</c>) to a person.
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
            return null;
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

    /// <summary>The tool's own words when one direct read of the first block fails, or null when it succeeds.</summary>
    private static async Task<string?> ReadErrorAsync(HostContext host, string device, CancellationToken ct)
    {
        // O_DIRECT so the page cache cannot answer for a disk that no longer does.
        var read = new Command("dd", ["if=" + device, "of=/dev/null", "bs=4096", "count=1", "iflag=direct", "status=none"]).WithTimeout(TimeSpan.FromSeconds(30));
        var result = await host.TryReadAsync(read, ct).ConfigureAwait(false);
        return result.ExitCode == 0 ? null : result.StderrTail(1).Trim();
    }

    /// <summary>LVM's warnings about the VG's missing PVs, from the same <c>pvs</c> the step read.</summary>
    private static async Task<List<string>> WarningsAsync(HostContext host, string volumeGroup, CancellationToken ct)
    {
        var pvs = await host.ReadAsync(LvmReads.Pvs, ct).ConfigureAwait(false);
        return pvs.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.Contains($"VG {volumeGroup} is missing PV", StringComparison.Ordinal))
            .Distinct()
            .ToList();
    }

    private static string WhatToDo(string volumeGroup) =>
        $"What to do: check the disk (dmesg, dmsetup status, smartctl); bring it back and run again, or give its data up deliberately with `vgreduce --removemissing {volumeGroup}` and run again";

    [GeneratedRegex(@"last written to (/dev/\S+?)\)")]
    private static partial Regex LastWrittenTo();
}
