using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary><c>fallocate -l</c>: an image file of at least the size.</summary>
public sealed class ImageFileStep(string path, long size) : Step
{
    public override string Description => $"{path} is an image of at least {Bytes.Show(size)}";

    public override IEnumerable<IFact> Reads => [LoopReads.FileSize(path)];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var existing = await LoopReads.FileSizeAsync(host, path, cancellationToken).ConfigureAwait(false);
        if (existing >= size)
        {
            return StepProbe.Satisfied($"{path} is {Bytes.Show(existing.Value)}");
        }

        var directory = path[..Math.Max(1, path.LastIndexOf('/'))];
        var available = await LoopReads.AvailableAsync(host, directory, cancellationToken).ConfigureAwait(false);
        var observed = $"{path} {(existing is null ? "missing" : Bytes.Show(existing.Value))}; {(available is null ? "directory missing" : Bytes.Show(available.Value) + " free")} in {directory}";
        if (available is null)
        {
            return StepProbe.Blocked(observed, host.Reason($"directory {directory} does not exist"));
        }

        // The incident: df said the disk was nearly full because a process held a deleted 3 GB file open.
        var needed = size - (existing ?? 0);
        return available < needed
            ? StepProbe.Blocked(observed, host.Reason($"{directory} has {Bytes.Show(available.Value)} free, {path} needs {Bytes.Show(needed)}; look for deleted files still held open (Proc.ReleaseDeletedFiles)"))
            : StepProbe.Change(observed, new Command("fallocate", ["-l", size.ToString(CultureInfo.InvariantCulture), "--", path]));
    }
}

/// <summary><c>losetup</c>: an image attached to a given loop device, or to the first free one.</summary>
public sealed class AttachStep(string image, string? device) : Step
{
    public override string Description => $"{image} is attached to {device ?? "a loop device"}";

    public override IEnumerable<IFact> Reads => [LoopReads.Devices];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var loops = await LoopReads.ListAsync(host, cancellationToken).ConfigureAwait(false);
        var backing = loops.Where(l => l.BackingFile == image).ToList();
        if (backing.Any(l => device is null || l.Name == device))
        {
            return StepProbe.Satisfied($"{image} backs {string.Join(", ", backing.Select(l => l.Name))}");
        }

        if (backing.Count > 0)
        {
            return StepProbe.Blocked($"{image} backs {backing[0].Name}", host.Reason($"{image} is already attached to {backing[0].Name}; attaching it twice would let two devices write one file"));
        }

        if (device is not null && loops.FirstOrDefault(l => l.Name == device) is { } taken)
        {
            return StepProbe.Blocked($"{device} backed by {taken.BackingFile}", host.Reason($"{device} is attached to {taken.BackingFile}"));
        }

        if (await LoopReads.FileSizeAsync(host, image, cancellationToken).ConfigureAwait(false) is null)
        {
            return StepProbe.Blocked($"{image} missing", host.Reason($"image {image} does not exist (create it with Loop.Image(...).Create(size))"));
        }

        return StepProbe.Change($"{image} not attached",
            device is null ? new Command("losetup", ["-f", "--show", "--", image]) : new Command("losetup", ["--", device, image]));
    }
}

/// <summary><c>losetup -d</c>: refused while the device is a PV or mounted.</summary>
public sealed class DetachStep(string device) : Step
{
    public override string Description => $"{device} is detached";

    public override string? Destroys => $"the attachment of {device} (the image file stays)";

    public override IEnumerable<IFact> Reads => [LoopReads.Devices];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var loop = (await LoopReads.ListAsync(host, cancellationToken).ConfigureAwait(false)).FirstOrDefault(l => l.Name == device);
        if (loop is null)
        {
            return StepProbe.Satisfied($"{device} not attached");
        }

        var observed = $"{device} backed by {loop.BackingFile}";
        var reasons = new List<string>();
        if ((await LvmReads.PvsAsync(host, cancellationToken).ConfigureAwait(false)).FirstOrDefault(p => p.Name == device) is { } pv)
        {
            reasons.Add(host.Reason($"{device} is an LVM PV{(pv.VolumeGroup.Length > 0 ? $" of {pv.VolumeGroup}" : "")}"));
        }

        if (await host.FactAsync(LoopReads.Mounted(device), cancellationToken).ConfigureAwait(false))
        {
            reasons.Add(host.Reason($"{device} is mounted"));
        }

        return reasons.Count > 0 ? StepProbe.Blocked(observed, [.. reasons]) : StepProbe.Change(observed, new Command("losetup", ["-d", device]));
    }
}
