using System.Globalization;
using System.Text.Json;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness.Lifecycle;
using Runbooks.Harness.Scenarios.Storage;

namespace Runbooks.Harness.Specs;

/// <summary>
/// The storage incident's test-storage.sh as specs, every size scaled. They read state only, with two
/// exceptions that are the point of the test: <c>data-writable</c> creates and removes one empty file,
/// and <c>data-grows</c> (last, it fills the volume) writes files to trigger autogrow and removes them.
/// Those writes go straight to the transport, so they are never cached or recorded as read-only facts.
/// </summary>
public static class StorageSpecs
{
    private const string Host = Inventory.DefaultHost;

    public static IReadOnlyList<Spec> All(StorageSizes sizes) =>
    [
        new("data-writable", Host, DataWritable(), BrokenByIncident: true),
        new("vg0-has-4-pvs", Host, Vg0HasFourPvs(), BrokenByIncident: true),
        new("pvs-full-size", Host, PvsFullSize(sizes), BrokenByIncident: true),
        new("data0-size", Host, Data0Size(sizes), BrokenByIncident: true),
        new("objects-intact", Host, ObjectsIntact(), BrokenByIncident: false),
        new("data-grows", Host, DataGrowthSpec.Check(sizes), BrokenByIncident: true),
    ];

    /// <summary>"Ensuring we can write to the data dir": the one write besides the growth spec.</summary>
    public static Check DataWritable() =>
        new("/data is writable (create and remove a file)", async (h, ct) =>
        {
            var probe = await h.Transport.RunAsync(
                Shell.Script("f=\"$1/.runbooks-spec-writable\" && touch -- \"$f\" && rm -f -- \"$f\"", "/data"), ct).ConfigureAwait(false);
            return probe.ExitCode == 0
                ? new CheckResult(true, "created and removed /data/.runbooks-spec-writable")
                : new CheckResult(false, $"cannot write /data: {probe.StderrTail(2)}");
        });

    /// <summary>"Verifying there are 4 PVs in the vg0 VG".</summary>
    public static Check Vg0HasFourPvs() =>
        new("vg0 has 4 PVs", async (h, ct) =>
        {
            var pvs = (await PvsAsync(h, ct).ConfigureAwait(false)).Where(p => p.Vg == "vg0").ToList();
            return new CheckResult(pvs.Count == 4, $"{pvs.Count} PVs in vg0: {string.Join(", ", pvs.Select(p => p.Name))}");
        });

    /// <summary>"Verifying that the vg0 VG is built from 4 1.8G PVs": each PV uses its whole image, within one extent.</summary>
    public static Check PvsFullSize(StorageSizes sizes) =>
        new($"every vg0 PV is {sizes.DiskMiB} MiB within one extent", async (h, ct) =>
        {
            var pvs = (await PvsAsync(h, ct).ConfigureAwait(false)).Where(p => p.Vg == "vg0").ToList();
            var expected = sizes.DiskMiB * StorageSizes.MiB;
            var extent = StorageSizes.ExtentMiB * StorageSizes.MiB;
            var wrong = pvs.Where(p => expected - p.Size > extent || p.Size > expected).ToList();
            return new CheckResult(pvs.Count > 0 && wrong.Count == 0,
                string.Join(", ", pvs.Select(p => $"{p.Name} {p.Size / StorageSizes.MiB} MiB (pe_start {p.PeStart / StorageSizes.MiB} MiB)")));
        });

    /// <summary>"Checking that the data0 volume is 4G": exactly, rounded up to whole extents as lvextend does.</summary>
    public static Check Data0Size(StorageSizes sizes) =>
        new($"data0 is {sizes.Data0TargetMiB} MiB", async (h, ct) =>
        {
            var size = await Data0BytesAsync(h, ct).ConfigureAwait(false);
            return new CheckResult(size == sizes.Data0TargetMiB * StorageSizes.MiB, $"data0 is {size / StorageSizes.MiB} MiB");
        });

    /// <summary>"Ensuring we don't have any corrupted objects", against the checksums recorded at break time.</summary>
    public static Check ObjectsIntact() =>
        new("every object in /data/objects matches its recorded sha256", async (h, ct) =>
        {
            var check = await h.TryReadAsync(
                Shell.Script("cd /data/objects && sha256sum --check --strict --quiet -- \"$1\"", StorageScenario.ChecksumManifest), ct).ConfigureAwait(false);
            return check.ExitCode == 0
                ? new CheckResult(true, "all checksums match")
                : new CheckResult(false, $"checksum mismatch or missing object: {check.StdoutTail(5)} {check.StderrTail(3)}".Trim());
        });

    internal sealed record PvFact(string Name, string Vg, long Size, long DevSize, long PeStart);

    internal static IReadOnlyList<PvFact> ParsePvs(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("report")[0].GetProperty("pv").EnumerateArray().Select(p => new PvFact(
            p.GetProperty("pv_name").GetString()!,
            p.GetProperty("vg_name").GetString()!,
            Bytes(p, "pv_size"), Bytes(p, "dev_size"), Bytes(p, "pe_start")))];
    }

    private static long Bytes(JsonElement element, string field) =>
        long.Parse(element.GetProperty(field).GetString()!, CultureInfo.InvariantCulture);

    private static async Task<IReadOnlyList<PvFact>> PvsAsync(HostContext h, CancellationToken ct)
    {
        var pvs = await h.ReadAsync(new Command("pvs",
            ["--reportformat", "json", "--units", "b", "--nosuffix", "-o", "pv_name,vg_name,pv_size,dev_size,pe_start"]), ct).ConfigureAwait(false);
        return ParsePvs(pvs.StandardOutput);
    }

    private static async Task<long> Data0BytesAsync(HostContext h, CancellationToken ct)
    {
        var lvs = await h.ReadAsync(new Command("lvs",
            ["--reportformat", "json", "--units", "b", "--nosuffix", "-o", "lv_name,lv_size", "vg0/data0"]), ct).ConfigureAwait(false);
        using var doc = JsonDocument.Parse(lvs.StandardOutput);
        return Bytes(doc.RootElement.GetProperty("report")[0].GetProperty("lv")[0], "lv_size");
    }
}
