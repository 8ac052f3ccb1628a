using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>Read-only filesystem facts, one run per probe round.</summary>
public static partial class FsReads
{
    public static Command Mount(string target) =>
        new Command("findmnt", ["-J", "-b", "-o", "TARGET,SOURCE,FSTYPE,OPTIONS,SIZE,USED,AVAIL", "--mountpoint", target]).AsReadOnly()
            .WithFactView(text => Usage().Replace(text, ""));

    // A filling disk changes used and avail by the second; a step's decision rests on the mount itself.
    [System.Text.RegularExpressions.GeneratedRegex(@"""(size|used|avail)"":\s*\d+,?")]
    private static partial System.Text.RegularExpressions.Regex Usage();

    /// <summary>The filesystem <paramref name="path"/> lives on (findmnt walks up from a path that does not exist yet).</summary>
    public static Command Containing(string path) =>
        new Command("findmnt", ["-J", "-b", "-o", "TARGET,SOURCE,FSTYPE,OPTIONS,SIZE,USED,AVAIL", "--target", path]).AsReadOnly()
            .WithFactView(text => Usage().Replace(text, ""));

    /// <summary>The mounts holding <paramref name="path"/>, outermost first.</summary>
    /// <example><c>var mounts = await host.FactAsync(FsReads.MountsHolding("/data/objects"), ct);</c></example>
    public static Fact<IReadOnlyList<MountFacts>> MountsHolding(string path) => new(Containing(path), r => FsParser.ParseMounts(r.StandardOutput));

    /// <summary>The filesystem mounted exactly at <paramref name="target"/>, or null when nothing is (findmnt exits 1).</summary>
    /// <example><c>var data = await host.FactAsync(FsReads.MountedAt("/data"), ct);</c></example>
    public static Fact<MountFacts?> MountedAt(string target) => new(
        Mount(target).WithSuccessExitCodes(0, 1),
        // Several filesystems stacked on one mount point: the last mounted is the one in use.
        r => r.ExitCode == 1 && string.IsNullOrWhiteSpace(r.StandardOutput) ? null : FsParser.ParseMounts(r.StandardOutput).LastOrDefault(m => m.Target == target));

    /// <summary>
    /// The options of what is mounted at <paramref name="target"/> as <c>findmnt -n -o OPTIONS --mountpoint</c> prints them
    /// (one line per stacked mount, nothing when none is), taken from the same report as <see cref="MountedAt"/>: a
    /// remount's undo reads the short command later, and the run takes its states from the read its probe made anyway.
    /// </summary>
    /// <example><c>var options = await host.FactAsync(FsReads.MountOptions("/data"), ct);</c></example>
    public static Fact<string> MountOptions(string target) => new(
        MountedAt(target).Read,
        r => FsParser.OptionsLines(r.StandardOutput),
        mustSucceed: false);

    /// <summary>The line of the fstab that mounts <paramref name="target"/>, or null when there is none (or no such file).</summary>
    /// <example><c>var entry = await host.FactAsync(FsReads.FstabEntry("/etc/fstab", "/data"), ct);</c></example>
    public static Fact<FstabEntry?> FstabEntry(string fstabPath, string target) => new(
        Fstab(fstabPath),
        r => r.ExitCode != 0 && string.IsNullOrWhiteSpace(r.StandardOutput) ? null : FsParser.ParseFstab(r.StandardOutput).LastOrDefault(e => e.Target == target),
        mustSucceed: false);

    /// <summary>The size in bytes of the ext filesystem on <paramref name="device"/>, or null when tune2fs finds none.</summary>
    /// <example><c>var bytes = await host.FactAsync(FsReads.ExtSize("/dev/vg0/data0"), ct);</c></example>
    public static Fact<long?> ExtSize(string device) => new(
        new Command("tune2fs", ["-l", "--", device]), r => r.ExitCode == 0 ? FsParser.ParseTune2fsSize(r.StandardOutput) : null, mustSucceed: false);

    /// <summary>The filesystem a path lives on: the innermost mount holding it.</summary>
    public static async Task<MountFacts> ContainingAsync(HostContext host, string path, CancellationToken ct)
    {
        var mounts = await host.FactAsync(MountsHolding(path), ct).ConfigureAwait(false);
        return mounts.Count > 0 ? mounts[^1] : throw host.Failure($"findmnt names no filesystem holding {path}");
    }

    public static Command Fstab(string fstabPath) =>
        new Command("findmnt", ["--fstab", "--tab-file", fstabPath, "-J", "-o", "TARGET,SOURCE,FSTYPE,OPTIONS"]).AsReadOnly();

    /// <summary>The filesystem mounted exactly at <paramref name="target"/>, or null when nothing is (findmnt exits 1).</summary>
    public static Task<MountFacts?> MountAsync(HostContext host, string target, CancellationToken ct) => host.FactAsync(MountedAt(target), ct);

    public static Task<FstabEntry?> FstabEntryAsync(HostContext host, string fstabPath, string target, CancellationToken ct) =>
        host.FactAsync(FstabEntry(fstabPath, target), ct);
}
