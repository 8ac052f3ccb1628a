using System.Text.Json;
using Runbooks.Commands;

namespace Runbooks.Dsl.Nouns.Lvm;

/// <summary>
/// <c>lvm fullreport</c>: PVs, VGs, LVs (hidden ones too, for an unfinished pvmove) and segments from one device
/// scan. Its JSON has one entry per VG (orphan PVs in an entry of their own), each with <c>pv</c>, <c>vg</c>,
/// <c>lv</c>, <c>seg</c> and <c>pvseg</c> lists — the same rows, with the same fields, that the separate
/// reports print, so the separate parsers read its parts unchanged.
/// </summary>
internal static class LvmFullReport
{
    public static readonly Command Command = new Command("lvm", [
            "fullreport", "-a", "--reportformat", "json", "--units", "b", "--nosuffix",
            "--configreport", "pv", "-o", LvmReads.PvFields,
            "--configreport", "vg", "-o", LvmReads.VgFields,
            "--configreport", "lv", "-o", $"{LvmReads.LvFields},copy_percent,move_pv",
            "--configreport", "seg", "-o", LvmReads.SegmentFields,
            // pvseg cannot be left out; one short column keeps it small.
            "--configreport", "pvseg", "-o", "pv_name"])
        .WithEnvironment("LVM_SUPPRESS_FD_WARNINGS", "1").AsReadOnly();

    /// <summary>
    /// The answers pvs, vgs, lvs, lvs -a and lvs --segments would have given, each with the report's stderr (LVM's
    /// warnings about a missing PV are read from there); null when the output is not a fullreport.
    /// </summary>
    public static IReadOnlyList<(Command Command, CommandResult Result)>? Split(CommandResult full)
    {
        Dictionary<string, List<string>> rows;
        try
        {
            rows = Rows(full.StandardOutput);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return null;
        }

        var visibleLvs = rows["lv"].Where(r => !Hidden(r)).ToList();
        var visibleSegments = rows["seg"].Where(r => !Hidden(r)).ToList();
        CommandResult Part(string kind, IEnumerable<string> list) =>
            full with { StandardOutput = $"{{\"report\":[{{\"{kind}\":[{string.Join(",", list)}]}}]}}" };
        return
        [
            (LvmReads.Pvs, Part("pv", rows["pv"])),
            (LvmReads.Vgs, Part("vg", rows["vg"])),
            (LvmReads.Lvs, Part("lv", visibleLvs)),
            (LvmReads.AllLvs, Part("lv", rows["lv"])),
            (LvmReads.Segments, Part("seg", visibleSegments)),
        ];
    }

    private static Dictionary<string, List<string>> Rows(string json)
    {
        var rows = new Dictionary<string, List<string>> { ["pv"] = [], ["vg"] = [], ["lv"] = [], ["seg"] = [] };
        using var document = JsonDocument.Parse(json);
        foreach (var entry in document.RootElement.GetProperty("report").EnumerateArray())
        {
            foreach (var (kind, list) in rows)
            {
                if (entry.TryGetProperty(kind, out var items))
                {
                    list.AddRange(items.EnumerateArray().Select(i => i.GetRawText()));
                }
            }
        }

        return rows;
    }

    // lvs without -a leaves out what LVM hides (a pvmove's [pvmove0], a mirror's legs): names in brackets.
    private static bool Hidden(string row)
    {
        using var document = JsonDocument.Parse(row);
        return document.RootElement.TryGetProperty("lv_name", out var name) && name.GetString() is { } text && text.StartsWith('[');
    }
}
