using System.Globalization;
using System.Text.Json;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>An attached loop device from <c>losetup -J -l</c>: which file backs it.</summary>
public sealed record LoopDeviceFacts(string Name, string BackingFile, long Offset, long SizeLimit, bool ReadOnly)
{
    /// <summary>The kernel appends " (deleted)" when the backing file was removed while attached.</summary>
    public bool BackingFileDeleted => BackingFile.EndsWith(" (deleted)", StringComparison.Ordinal);
}

public static class LoopParser
{
    /// <summary>Parses <c>losetup -J -l</c>; empty output (no devices, older util-linux) is an empty list.</summary>
    public static IReadOnlyList<LoopDeviceFacts> ParseList(string json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }

        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("loopdevices").EnumerateArray().Select(d => new LoopDeviceFacts(
            d.GetProperty("name").GetString() ?? "",
            d.TryGetProperty("back-file", out var file) ? file.GetString() ?? "" : "",
            Number(d, "offset"),
            Number(d, "sizelimit"),
            Flag(d, "ro"))).ToList();
    }

    // util-linux before 2.37 printed numbers and flags as strings ("0", "1").
    private static long Number(JsonElement d, string field) =>
        !d.TryGetProperty(field, out var v) ? 0
        : v.ValueKind == JsonValueKind.Number ? v.GetInt64()
        : long.TryParse(v.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;

    private static bool Flag(JsonElement d, string field) =>
        d.TryGetProperty(field, out var v) && (v.ValueKind == JsonValueKind.True || (v.ValueKind == JsonValueKind.String && v.GetString() == "1"));
}

public static class LoopReads
{
    public static readonly Command List = new Command("losetup", ["-J", "-l"]).AsReadOnly();

    /// <example><c>var loops = await host.FactAsync(LoopReads.Devices, ct);</c></example>
    public static readonly Fact<IReadOnlyList<LoopDeviceFacts>> Devices = new(List, r => LoopParser.ParseList(r.StandardOutput));

    /// <summary>The file's size in bytes, or null when it does not exist.</summary>
    /// <example><c>var bytes = await host.FactAsync(LoopReads.FileSize("/media/disk3.img"), ct);</c></example>
    public static Fact<long?> FileSize(string path) => new(
        new Command("stat", ["-c", "%s", "--", path]),
        r => r.ExitCode == 0 && long.TryParse(r.StandardOutput.Trim(), CultureInfo.InvariantCulture, out var size) ? size : null,
        mustSucceed: false);

    /// <summary>Bytes available to root in the directory's filesystem (<c>df --output=avail</c>, one column).</summary>
    /// <example><c>var free = await host.FactAsync(LoopReads.Available("/media"), ct);</c></example>
    public static Fact<long?> Available(string directory) => new(
        new Command("df", ["-B1", "--output=avail", "--", directory]),
        r => r.ExitCode == 0 && long.TryParse(r.StandardOutput.Trim().Split('\n').LastOrDefault()?.Trim(), CultureInfo.InvariantCulture, out var bytes) ? bytes : null,
        mustSucceed: false);

    /// <summary>Whether anything has the device mounted, from <c>findmnt --source</c> (exit 1: nothing).</summary>
    /// <example><c>var busy = await host.FactAsync(LoopReads.Mounted("/dev/loop1"), ct);</c></example>
    public static Fact<bool> Mounted(string device) => new(
        new Command("findmnt", ["-J", "-o", "TARGET", "--source", device]),
        r => r.ExitCode == 0 && r.StandardOutput.Contains("\"target\"", StringComparison.Ordinal),
        mustSucceed: false);

    public static Task<IReadOnlyList<LoopDeviceFacts>> ListAsync(HostContext host, CancellationToken ct) => host.FactAsync(Devices, ct);

    /// <summary>The file's size in bytes, or null when it does not exist.</summary>
    public static Task<long?> FileSizeAsync(HostContext host, string path, CancellationToken ct) => host.FactAsync(FileSize(path), ct);

    /// <summary>Bytes available to root in the directory's filesystem (<c>df --output=avail</c>, one column).</summary>
    public static Task<long?> AvailableAsync(HostContext host, string directory, CancellationToken ct) => host.FactAsync(Available(directory), ct);
}
