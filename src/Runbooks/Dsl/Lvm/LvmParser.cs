using System.Globalization;
using System.Text.Json;

namespace Runbooks.Dsl;

/// <summary>
/// Pure parsers over <c>--reportformat json --units b --nosuffix</c> reports. LVM prints every value as a
/// string, empty for "not set" (a PV outside a VG has <c>vg_name</c> "" and extent size 0).
/// </summary>
public static class LvmParser
{
    public static IReadOnlyList<PhysicalVolumeFacts> ParsePvs(string json) =>
        Rows(json, "pv").Select(r => new PhysicalVolumeFacts(
            Text(r, "pv_name"),
            Text(r, "vg_name"),
            Number(r, "pv_size"),
            Number(r, "dev_size"),
            Number(r, "pv_free"),
            Number(r, "pe_start"),
            Number(r, "pv_pe_count"),
            Number(r, "pv_pe_alloc_count"),
            Text(r, "pv_allocatable") == "allocatable",
            ExtentSize(r),
            // pv_attr is "a-m" for a missing PV: the third character is LVM's (m)issing flag.
            Text(r, "pv_attr") is { Length: >= 3 } attr && attr[2] == 'm')).ToList();

    public static IReadOnlyList<VolumeGroupFacts> ParseVgs(string json) =>
        Rows(json, "vg").Select(r => new VolumeGroupFacts(
            Text(r, "vg_name"),
            Number(r, "vg_size"),
            Number(r, "vg_free"),
            Number(r, "vg_extent_size"),
            Number(r, "vg_extent_count"),
            Number(r, "vg_free_count"),
            (int)Number(r, "pv_count"),
            (int)Number(r, "lv_count"))).ToList();

    public static IReadOnlyList<LogicalVolumeFacts> ParseLvs(string json) =>
        Rows(json, "lv").Select(r => new LogicalVolumeFacts(
            Text(r, "lv_name"),
            Text(r, "vg_name"),
            Number(r, "lv_size"),
            Text(r, "lv_path"),
            Text(r, "lv_dm_path"),
            Text(r, "lv_attr"),
            (int)Number(r, "seg_count"))).ToList();

    public static IReadOnlyList<LogicalVolumeSegment> ParseSegments(string json) =>
        Rows(json, "seg").Select(r => new LogicalVolumeSegment(
            Text(r, "lv_name"),
            Text(r, "vg_name"),
            Number(r, "seg_start_pe"),
            Number(r, "seg_size_pe"),
            ParseRanges(Text(r, "seg_pe_ranges")))).ToList();

    /// <summary>The pvmove LVs of an <c>lvs -a</c> report: attribute <c>p</c>, name without LVM's brackets for hidden LVs.</summary>
    public static IReadOnlyList<MoveInProgressFacts> ParseMoves(string json) =>
        Rows(json, "lv").Where(r => Text(r, "lv_attr").StartsWith('p')).Select(r => new MoveInProgressFacts(
            Text(r, "lv_name").Trim('[', ']'),
            Text(r, "vg_name"),
            Text(r, "move_pv"),
            double.TryParse(Text(r, "copy_percent"), NumberStyles.Float, CultureInfo.InvariantCulture, out var copied) ? copied : 0)).ToList();

    /// <summary>Parses <c>seg_pe_ranges</c>: space-separated <c>/dev/loop1:0-12</c> entries.</summary>
    public static IReadOnlyList<PhysicalExtentRange> ParseRanges(string ranges) =>
        ranges.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(entry =>
        {
            var colon = entry.LastIndexOf(':');
            var dash = entry.IndexOf('-', colon + 1);
            if (colon <= 0 || dash < 0)
            {
                throw new FormatException($"seg_pe_ranges entry '{entry}' is not DEVICE:FIRST-LAST");
            }

            return new PhysicalExtentRange(
                entry[..colon],
                long.Parse(entry[(colon + 1)..dash], CultureInfo.InvariantCulture),
                long.Parse(entry[(dash + 1)..], CultureInfo.InvariantCulture));
        }).ToList();

    private static IEnumerable<JsonElement> Rows(string json, string kind)
    {
        using var document = JsonDocument.Parse(json);
        var rows = new List<JsonElement>();
        foreach (var report in document.RootElement.GetProperty("report").EnumerateArray())
        {
            if (report.TryGetProperty(kind, out var list))
            {
                rows.AddRange(list.EnumerateArray().Select(e => e.Clone()));
            }
        }

        return rows;
    }

    // A report recorded with another -o list may lack a field: absent reads as LVM's own "not set".
    private static string Text(JsonElement row, string field) =>
        row.TryGetProperty(field, out var value) ? value.GetString() ?? "" : "";

    private static long ExtentSize(JsonElement row)
    {
        var size = Number(row, "vg_extent_size");
        var count = Number(row, "pv_pe_count");
        return size > 0 || count == 0 ? size : Number(row, "pv_size") / count;
    }

    private static long Number(JsonElement row, string field)
    {
        var text = Text(row, field);
        return text.Length == 0 ? 0 : long.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);
    }
}
