using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary><c>mount -o remount,rw|ro</c>: changes the live mount only, without unmounting (no downtime).</summary>
public sealed class RemountStep(string target, bool writable) : Step
{
    public override string Description => $"{target} is mounted {(writable ? "read-write" : "read-only")}";

    public override IEnumerable<ResourceClaim> Claims => [ResourceClaim.Mount(target, writable ? "read-write" : "read-only")];

    public override IEnumerable<IFact> Reads => [FsReads.MountedAt(target)];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var mount = await FsReads.MountAsync(host, target, cancellationToken).ConfigureAwait(false);
        if (mount is null)
        {
            return StepProbe.Blocked("not mounted", host.Reason($"nothing is mounted at {target}"));
        }

        var observed = $"{mount.Source} on {target} ({string.Join(',', mount.Options)})";
        return mount.IsReadOnly != writable
            ? StepProbe.Satisfied(observed)
            : StepProbe.Act(observed, new RunCommand(new Command("mount", ["-o", writable ? "remount,rw" : "remount,ro", "--", target]))
            {
                Undo = Reversal.By($"{target} remounted {(writable ? "read-only" : "read-write")} again", new Command("findmnt", ["-n", "-o", "OPTIONS", "--mountpoint", target]),
                    new Command("mount", ["-o", writable ? "remount,ro" : "remount,rw", "--", target])) with { Observed = FsReads.MountOptions(target) },
            });
    }
}

/// <summary>Replaces the options of one fstab line: one atomic write, refused if the file changed since it was probed.</summary>
public sealed class FstabOptionsStep(string fstabPath, string target, Func<IReadOnlyList<string>, IReadOnlyList<string>> fix, string wanted) : Step
{
    public override string Description => $"{fstabPath} mounts {target} {wanted}";

    public override IEnumerable<ResourceClaim> Claims => [new("fstab entry", $"{target} in {fstabPath}", wanted)];

    public override IEnumerable<IFact> Reads => [FsReads.FstabEntry(fstabPath, target)];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var entry = await FsReads.FstabEntryAsync(host, fstabPath, target, cancellationToken).ConfigureAwait(false);
        if (entry is null)
        {
            return StepProbe.Blocked("no entry", host.Reason($"{fstabPath} has no line for {target}"));
        }

        var options = fix(entry.Options);
        var observed = $"{target} options {string.Join(',', entry.Options)}";
        if (options.SequenceEqual(entry.Options))
        {
            return StepProbe.Satisfied(observed);
        }

        var content = await host.FactAsync(HostContext.FileContent(fstabPath), cancellationToken).ConfigureAwait(false);
        var rewritten = FsParser.ReplaceOptions(content, target, string.Join(',', options))
            ?? throw host.Failure($"findmnt lists {target} in {fstabPath} but no line of the file names it; fix it by hand");
        return StepProbe.Act(observed + $" → {string.Join(',', options)}", WriteFile.Replacing(fstabPath, content, rewritten));
    }
}

/// <summary><c>resize2fs</c> online: the ext filesystem fills its device.</summary>
public sealed class GrowFilesystemStep(string target) : Step
{
    public override string Description => $"the filesystem at {target} fills its device";

    public override IEnumerable<IFact> Reads => [FsReads.MountedAt(target)];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var mount = await FsReads.MountAsync(host, target, cancellationToken).ConfigureAwait(false);
        if (mount is null || !mount.FsType.StartsWith("ext", StringComparison.Ordinal))
        {
            return StepProbe.Blocked(mount is null ? "not mounted" : mount.FsType, host.Reason($"{target} is {(mount is null ? "not mounted" : $"{mount.FsType}, not ext2/3/4")}; only ext filesystems are grown here"));
        }

        var deviceSize = await host.FactAsync(LvmReads.DeviceSize(mount.Source), cancellationToken).ConfigureAwait(false)
            ?? throw host.Failure($"blockdev cannot read the size of {mount.Source}, the device under {target}");
        var fsSize = await host.FactAsync(FsReads.ExtSize(mount.Source), cancellationToken).ConfigureAwait(false)
            ?? throw host.Failure($"tune2fs finds no ext filesystem on {mount.Source}, the device under {target}");
        var observed = $"filesystem {Bytes.Show(fsSize)} on a {Bytes.Show(deviceSize)} device {mount.Source}";
        // resize2fs rounds down to whole blocks; anything within 64 KiB is already full size.
        return deviceSize - fsSize < 64 * 1024
            ? StepProbe.Satisfied(observed)
            : StepProbe.Change(observed, new Command("resize2fs", ["--", mount.Source]).WithTimeout(TimeSpan.FromMinutes(30)));
    }
}
