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
public sealed class StorageScenario
{
    /// <summary>sha256sum output for every object, recorded at break time, outside /data.</summary>
    public const string ChecksumManifest = "/var/lib/runbooks-scenario/objects.sha256";

    public string Name => "storage";

    public string Backend => "microvm";

    public async Task BreakAsync(Inventory inventory, HarnessOptions options, CancellationToken cancellationToken)
    {
        var host = inventory.Context(Inventory.DefaultHost).Transport;
        var sizes = new StorageSizes(options.Scale);
        static Arg N(long n) => n.ToString(CultureInfo.InvariantCulture);

        // The disks: images on their own filesystem, sized so the fourth will not fit while the file is held;
        // loop1 with a data offset of ~1 GiB ("not usable 1.00 GiB"), loop2's PV smaller than its device.
        var disks = await host.RunCheckedAsync(Shell.Script(StorageBreakScripts.Disks,
            N(sizes.MediaMiB), N(sizes.DiskMiB), N(sizes.Loop1DataOffsetMiB), N(sizes.Loop2PvMiB), N(StorageSizes.ExtentMiB)).WithTimeout(TimeSpan.FromMinutes(5)), cancellationToken).ConfigureAwait(false);

        // data0 fills loop0 and loop2 and ends on loop1 (the incident's LE 704-716 on loop1).
        var extents = PeCounts(disks.StandardOutput);
        var wanted = StorageSizes.RoundUpToExtent(sizes.Data0BrokenMiB) / StorageSizes.ExtentMiB;
        var onLoop1 = Math.Clamp(wanted - extents["/dev/loop0"] - extents["/dev/loop2"], 1, extents["/dev/loop1"] - 1);
        await host.RunCheckedAsync(Shell.Script(StorageBreakScripts.Data,
        [
            N(extents["/dev/loop0"]), N(extents["/dev/loop2"]), N(onLoop1), ChecksumManifest, "/dev/mapper/vg0-data0 /data ext4 ro,relatime 0 0",
            .. sizes.ObjectBytes.Select(N),
        ]).WithTimeout(TimeSpan.FromMinutes(10)), cancellationToken).ConfigureAwait(false);

        // The object server, holding a deleted file that eats the room disk3.img needs.
        var server = await host.RunAsync(Shell.Script(StorageBreakScripts.ObjectServer,
            ObjectServer.ServerPath, ObjectServer.Server, ObjectServer.WrapperPath, ObjectServer.Wrapper, ObjectServer.HeldFile,
            N(sizes.MediaSlackMiB), N(sizes.DiskMiB)).WithTimeout(TimeSpan.FromMinutes(2)), cancellationToken).ConfigureAwait(false);
        switch (server.ExitCode)
        {
            case 0:
                return;
            case 3:
                throw new RunbookException($"storage break is not faithful: {server.StderrTail(1)}; check the sizes in StorageSizes");
            case 4:
                throw new RunbookException($"{server.StderrTail(22)}\n  what to do: run `{ObjectServer.WrapperPath}` by hand in the VM (harness exec) to see why");
            default:
                throw new RunbookException($"starting the object server on {host.Name} failed (exit {server.ExitCode}): {server.StderrTail(5)}");
        }
    }

    public IReadOnlyList<Spec> Specs(HarnessOptions options) => StorageSpecs.All(new StorageSizes(options.Scale));

    public IConvergeMonitor? Monitor(Inventory inventory, HarnessOptions options) =>
        new ObjectServiceMonitor(inventory.Context(Inventory.DefaultHost).Transport, new Uri($"http://127.0.0.1:{ObjectServiceMonitor.HostPortFor(options)}/"));

    private static Dictionary<string, int> PeCounts(string pvsJson)
    {
        using var json = ParsePvs(pvsJson);
        return json.RootElement.GetProperty("report")[0].GetProperty("pv").EnumerateArray()
            .ToDictionary(p => p.GetProperty("pv_name").GetString()!, p => int.Parse(p.GetProperty("pv_pe_count").GetString()!, CultureInfo.InvariantCulture));
    }

    private static JsonDocument ParsePvs(string pvsJson)
    {
        try
        {
            return JsonDocument.Parse(pvsJson);
        }
        catch (JsonException ex)
        {
            throw new RunbookException($"the storage break expected pvs JSON after creating vg0 but got: {pvsJson.Trim()} ({ex.Message})");
        }
    }
}
