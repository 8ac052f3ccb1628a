using System.Globalization;
using System.Text.Json;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness.Lifecycle;
using Runbooks.Harness.Specs;
using Runbooks.Transport;

namespace Runbooks.Harness.Scenarios.Storage;

/// <summary>
/// The storage incident (incidents/storage-incident-notes.md): vg0 on three loop devices, each broken a
/// different way, data0 mounted read-only, and an object server holding a deleted file so that there is
/// no room for the fourth disk image.
/// </summary>
public sealed class StorageScenario : Scenario
{
    /// <summary>sha256sum output for every object, recorded at break time, outside /data.</summary>
    public const string ChecksumManifest = "/var/lib/runbooks-scenario/objects.sha256";

    public override string Name => "storage";

    public override string Backend => "microvm";

    public override async Task BreakAsync(Inventory inventory, HarnessOptions options, CancellationToken cancellationToken)
    {
        var host = inventory.Context(Inventory.DefaultHost).Transport;
        var sizes = new StorageSizes(options.Scale);
        async Task<CommandResult> Run(Command command) => await host.RunCheckedAsync(command, cancellationToken).ConfigureAwait(false);
        Command C(string program, params Arg[] args) => new(program, args);

        // The disks: images on their own filesystem, sized so the fourth will not fit while the file is held.
        await Run(C("mkdir", "-p", "/media", "/data"));
        await Run(C("mount", "-t", "tmpfs", "-o", $"size={sizes.MediaMiB}m", "tmpfs", "/media"));
        for (var i = 0; i < 3; i++)
        {
            await Run(C("fallocate", "-l", $"{sizes.DiskMiB}M", "--", $"/media/disk{i}.img"));
            await Run(C("losetup", $"/dev/loop{i}", $"/media/disk{i}.img"));
        }

        // loop1: a data offset of ~1 GiB ("not usable 1.00 GiB"); loop2: a PV smaller than its device.
        await Run(C("pvcreate", "-q", "/dev/loop0"));
        await Run(C("pvcreate", "-q", "--dataalignment", $"{sizes.Loop1DataOffsetMiB}m", "/dev/loop1"));
        await Run(C("pvcreate", "-q", "--setphysicalvolumesize", $"{sizes.Loop2PvMiB}m", "/dev/loop2"));
        await Run(C("vgcreate", "-q", "-s", $"{StorageSizes.ExtentMiB}m", "vg0", "/dev/loop0", "/dev/loop1", "/dev/loop2"));

        // data0 fills loop0 and loop2 and ends on loop1 (the incident's LE 704-716 on loop1).
        var extents = await PeCountsAsync(host, cancellationToken).ConfigureAwait(false);
        var wanted = StorageSizes.RoundUpToExtent(sizes.Data0BrokenMiB) / StorageSizes.ExtentMiB;
        var onLoop1 = Math.Clamp(wanted - extents["/dev/loop0"] - extents["/dev/loop2"], 1, extents["/dev/loop1"] - 1);
        await Run(C("lvcreate", "-q", "-y", "-l", Count(extents["/dev/loop0"]), "-n", "data0", "vg0", "/dev/loop0"));
        await Run(C("lvextend", "-q", "-l", "+" + Count(extents["/dev/loop2"]), "vg0/data0", "/dev/loop2"));
        await Run(C("lvextend", "-q", "-l", "+" + Count(onLoop1), "vg0/data0", "/dev/loop1"));
        // nodiscard: a discarding mkfs would punch holes in the fallocated images and free /media space.
        await Run(C("mkfs.ext4", "-q", "-E", "nodiscard", "/dev/vg0/data0").WithTimeout(TimeSpan.FromMinutes(10)));
        await Run(C("mount", "/dev/vg0/data0", "/data"));
        await Run(C("mkdir", "-p", "/data/objects", Path.GetDirectoryName(ChecksumManifest)!));
        await Run(Shell.Script(
            "cd /data/objects && n=0 && for size in \"$@\"; do n=$((n+1)); head -c \"$size\" /dev/urandom > \"object-$n.bin\" || exit 1; done",
            [.. sizes.ObjectBytes.Select(b => (Arg)b.ToString(CultureInfo.InvariantCulture))]).WithTimeout(TimeSpan.FromMinutes(10)));
        await Run(Shell.Script("cd /data/objects && sha256sum -- * > \"$1\"", ChecksumManifest));

        // Read-only, and fstab says so too.
        await Run(C("mount", "-o", "remount,ro", "/data"));
        await Run(Shell.Script("printf '%s\\n' \"$1\" >> /etc/fstab", "/dev/mapper/vg0-data0 /data ext4 ro,relatime 0 0"));
        await Run(C("pvchange", "-q", "-x", "n", "/dev/loop0"));

        // The object server, holding a deleted file that eats the room disk3.img needs.
        await Run(Shell.Script("cat > \"$1\" && chmod 755 \"$1\"", ObjectServer.ServerPath).WithStdin(ObjectServer.Server));
        await Run(Shell.Script("cat > \"$1\" && chmod 755 \"$1\"", ObjectServer.WrapperPath).WithStdin(ObjectServer.Wrapper));
        var avail = long.Parse((await Run(C("df", "-B1", "--output=avail", "/media"))).StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Trim(), CultureInfo.InvariantCulture);
        var held = avail - (sizes.MediaSlackMiB * StorageSizes.MiB);
        await Run(C("fallocate", "-l", held.ToString(CultureInfo.InvariantCulture), "--", ObjectServer.HeldFile));
        await Run(Shell.Script("setsid -f \"$1\" </dev/null >/dev/null 2>&1", ObjectServer.WrapperPath));
        await WaitForServerAsync(host, cancellationToken).ConfigureAwait(false);

        // The break must be faithful: disk3.img must not fit yet.
        var fits = await host.RunAsync(C("fallocate", "-l", $"{sizes.DiskMiB}M", "--", "/media/disk3.img"), cancellationToken).ConfigureAwait(false);
        await Run(C("rm", "-f", "--", "/media/disk3.img"));
        if (fits.ExitCode == 0)
        {
            throw new RunbookException($"storage break is not faithful: disk3.img ({sizes.DiskMiB}M) fits on /media while the deleted file is held; check the sizes in StorageSizes");
        }
    }

    public override IReadOnlyList<Spec> Specs(HarnessOptions options) => StorageSpecs.All(new StorageSizes(options.Scale));

    public override IConvergeMonitor? Monitor(Inventory inventory, HarnessOptions options) =>
        new ObjectServiceMonitor(inventory.Context(Inventory.DefaultHost).Transport, new Uri($"http://127.0.0.1:{ObjectServiceMonitor.HostPortFor(options)}/"));

    private static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static async Task<Dictionary<string, int>> PeCountsAsync(ITransport host, CancellationToken ct)
    {
        var pvs = await host.RunCheckedAsync(new Command("pvs", ["--reportformat", "json", "--units", "b", "--nosuffix", "-o", "pv_name,pv_pe_count"]).AsReadOnly(), ct).ConfigureAwait(false);
        using var json = JsonDocument.Parse(pvs.StandardOutput);
        return json.RootElement.GetProperty("report")[0].GetProperty("pv").EnumerateArray()
            .ToDictionary(p => p.GetProperty("pv_name").GetString()!, p => int.Parse(p.GetProperty("pv_pe_count").GetString()!, CultureInfo.InvariantCulture));
    }

    private static async Task WaitForServerAsync(ITransport host, CancellationToken ct)
    {
        var ready = Shell.Script("test ! -e \"$1\" && curl -sf -o /dev/null http://127.0.0.1:8000/", ObjectServer.HeldFile).AsReadOnly().WithTimeout(TimeSpan.FromSeconds(10));
        for (var attempt = 0; attempt < 60; attempt++)
        {
            if ((await host.RunAsync(ready, ct).ConfigureAwait(false)).ExitCode == 0)
            {
                return;
            }

            await Task.Delay(500, ct).ConfigureAwait(false);
        }

        var log = await host.RunAsync(new Command("tail", ["-n", "20", "/var/log/server.log"]), ct).ConfigureAwait(false);
        throw new RunbookException($"the object server did not answer on port 8000 within 30 s; its log:\n{log.StandardOutput}\n  what to do: run `{ObjectServer.WrapperPath}` by hand in the VM (harness exec) to see why");
    }
}
