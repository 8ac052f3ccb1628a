using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>Mounted filesystems and fstab entries.</summary>
public static class Fs
{
    /// <summary>The filesystem mounted at a directory.</summary>
    /// <example><c>Fs.Mount("/data").Writable()</c></example>
    public static MountPoint Mount(string target) => new(DslArguments.AbsolutePath(target, nameof(target)));

    /// <summary>The fstab line of a mount point (default file <c>/etc/fstab</c>).</summary>
    /// <example><c>Fs.Fstab("/data").Writable()</c></example>
    /// <summary>The filesystem a path lives on, whichever mount point that is (<c>/var/log/app/access.log</c> on <c>/var/log</c> or <c>/</c>).</summary>
    /// <example><c>Spec("log-fs-below-80", Fs.Of("/var/log/app/access.log").UsageBelow(80)).On("web")</c></example>
    public static FilesystemOf Of(string path) => new(DslArguments.AbsolutePath(path));

    public static FstabLine Fstab(string target, string fstabPath = "/etc/fstab") =>
        new(DslArguments.AbsolutePath(target, nameof(target)), DslArguments.AbsolutePath(fstabPath, nameof(fstabPath)));
}

/// <summary>A mount point; its members are steps and checks.</summary>
public sealed class MountPoint
{
    internal MountPoint(string target) => Target = target;

    public string Target { get; }

    /// <summary>Remounts read-write in place (<c>mount -o remount,rw</c>); satisfied when the options already say rw.</summary>
    /// <example><c>Fs.Mount("/data").Writable()</c></example>
    public Step Writable() => new RemountStep(Target, writable: true);

    /// <summary>Remounts read-only in place; satisfied when the options already say ro.</summary>
    /// <example><c>Fs.Mount("/data").ReadOnly()</c></example>
    public Step ReadOnly() => new RemountStep(Target, writable: false);

    /// <summary>Grows the ext filesystem to fill its device (<c>resize2fs</c>, online).</summary>
    /// <example><c>Fs.Mount("/data").GrowToDevice()</c></example>
    public Step GrowToDevice() => new GrowFilesystemStep(Target);

    /// <summary>
    /// Holds when a file can be created in the directory. This check WRITES: it creates and removes an empty
    /// hidden file (<c>.runbooks-probe.*</c>), because mount options alone do not prove writability. A plan
    /// therefore does not run it and shows "not probed in a plan: writes".
    /// </summary>
    /// <example><c>.Ensures(Fs.Mount("/data").CanWrite())</c></example>
    public Check CanWrite() => Check.Writing($"a file can be created in {Target}", async (host, ct) =>
    {
        // Journaled as a read: it leaves nothing behind, so a converge that only checks is not a change.
        var probe = Shell.Script("f=$(mktemp -p \"$1\" .runbooks-probe.XXXXXX) && rm -f -- \"$f\"", Target).AsReadOnly();
        var result = await host.ProbeByWritingAsync(probe, ct).ConfigureAwait(false);
        return new CheckResult(result.ExitCode == 0, result.ExitCode == 0 ? "created and removed a file" : result.StderrTail(2));
    });

    /// <summary>Holds when usage (as <c>df</c> shows it) is below the percentage.</summary>
    /// <example><c>.Ensures(Fs.Mount("/data").UsageBelow(90))</c></example>
    public Check UsageBelow(int percent)
    {
        CheckPercent(percent);
        return new Check($"{Target} is less than {percent}% full", async (host, ct) =>
        {
            var mount = await FsReads.MountAsync(host, Target, ct).ConfigureAwait(false);
            return mount is null
                ? new CheckResult(false, "not mounted")
                : new CheckResult(mount.UsedPercent < percent, $"{mount.UsedPercent}% of {Bytes.Show(mount.Size)}");
        });
    }

    internal static void CheckPercent(int percent)
    {
        if (percent is <= 0 or > 100)
        {
            throw new ArgumentException($"percent {percent} must be 1..100", nameof(percent));
        }
    }
}

/// <summary>The filesystem holding a path, found on the host when a check runs.</summary>
public sealed class FilesystemOf
{
    internal FilesystemOf(string path) => Path = path;

    public string Path { get; }

    /// <summary>Holds when the usage of the filesystem holding the path is below the percentage; says which mount it is.</summary>
    /// <example><c>.Ensures(Fs.Of("/var/log/app/access.log").UsageBelow(50))</c></example>
    public Check UsageBelow(int percent)
    {
        MountPoint.CheckPercent(percent);
        return new Check($"the filesystem holding {Path} is less than {percent}% full", async (host, ct) =>
        {
            var mount = await FsReads.ContainingAsync(host, Path, ct).ConfigureAwait(false);
            return new CheckResult(mount.UsedPercent < percent, $"{mount.Target}: {mount.UsedPercent}% of {Bytes.Show(mount.Size)}");
        });
    }
}

/// <summary>An fstab line by mount point.</summary>
public sealed class FstabLine
{
    internal FstabLine(string target, string fstabPath)
    {
        Target = target;
        FstabPath = fstabPath;
    }

    public string Target { get; }

    public string FstabPath { get; }

    /// <summary>Drops <c>ro</c> from the line's options (adding <c>rw</c> unless <c>defaults</c> is there); rewrites only that line.</summary>
    /// <example><c>Fs.Fstab("/data").Writable()</c></example>
    public Step Writable() => new FstabOptionsStep(FstabPath, Target, FsParser.Writable, "read-write");

    /// <summary>Sets the line's options exactly; rewrites only that line.</summary>
    /// <example><c>Fs.Fstab("/data").Options("defaults,noatime")</c></example>
    public Step Options(string options)
    {
        var wanted = FsParser.SplitOptions(options ?? "");
        if (wanted.Count == 0 || wanted.Any(o => o.Any(char.IsWhiteSpace)))
        {
            throw new ArgumentException($"fstab options '{options}' must be a non-empty comma list without spaces", nameof(options));
        }

        return new FstabOptionsStep(FstabPath, Target, _ => wanted, $"with options {options}");
    }
}
