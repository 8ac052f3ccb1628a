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

    /// <summary>The filesystem a path lives on: the innermost mount holding it.</summary>
    public static async Task<MountFacts> ContainingAsync(HostContext host, string path, CancellationToken ct)
    {
        var result = await host.ReadAsync(Containing(path), ct).ConfigureAwait(false);
        var mounts = FsParser.ParseMounts(result.StandardOutput);
        return mounts.Count > 0 ? mounts[^1] : throw host.Failure($"findmnt names no filesystem holding {path}");
    }

    public static Command Fstab(string fstabPath) =>
        new Command("findmnt", ["--fstab", "--tab-file", fstabPath, "-J", "-o", "TARGET,SOURCE,FSTYPE,OPTIONS"]).AsReadOnly();

    /// <summary>The filesystem mounted exactly at <paramref name="target"/>, or null when nothing is (findmnt exits 1).</summary>
    public static async Task<MountFacts?> MountAsync(HostContext host, string target, CancellationToken ct)
    {
        var result = await host.TryReadAsync(Mount(target), ct).ConfigureAwait(false);
        if (result.ExitCode == 1 && string.IsNullOrWhiteSpace(result.StandardOutput))
        {
            return null;
        }

        if (result.ExitCode != 0)
        {
            throw new CommandFailedException(host.Name, Mount(target), result);
        }

        // Several filesystems stacked on one mount point: the last mounted is the one in use.
        return FsParser.ParseMounts(result.StandardOutput).LastOrDefault(m => m.Target == target);
    }

    public static async Task<FstabEntry?> FstabEntryAsync(HostContext host, string fstabPath, string target, CancellationToken ct)
    {
        var result = await host.TryReadAsync(Fstab(fstabPath), ct).ConfigureAwait(false);
        if (result.ExitCode != 0 && string.IsNullOrWhiteSpace(result.StandardOutput))
        {
            return null;
        }

        return FsParser.ParseFstab(result.StandardOutput).LastOrDefault(e => e.Target == target);
    }
}
