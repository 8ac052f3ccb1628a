using System.Text.Json;
using Runbooks.Commands;

namespace Runbooks.Dsl;

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
        Dictionary<string, List<(string Json, bool Hidden)>> rows;
        try
        {
            rows = Rows(full.StandardOutput);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return null;
        }

        // lvs without -a leaves out what LVM hides (a pvmove's [pvmove0], a mirror's legs).
        CommandResult Part(string kind, bool withHidden = true) =>
            full with { StandardOutput = $"{{\"report\":[{{\"{kind}\":[{string.Join(",", rows[kind].Where(r => withHidden || !r.Hidden).Select(r => r.Json))}]}}]}}" };
        return
        [
            (LvmReads.Pvs, Part("pv")),
            (LvmReads.Vgs, Part("vg")),
            (LvmReads.Lvs, Part("lv", withHidden: false)),
            (LvmReads.AllLvs, Part("lv")),
            (LvmReads.Segments, Part("seg", withHidden: false)),
        ];
    }

    private static Dictionary<string, List<(string Json, bool Hidden)>> Rows(string json)
    {
        var rows = new Dictionary<string, List<(string Json, bool Hidden)>> { ["pv"] = [], ["vg"] = [], ["lv"] = [], ["seg"] = [] };
        using var document = JsonDocument.Parse(json);
        foreach (var entry in document.RootElement.GetProperty("report").EnumerateArray())
        {
            foreach (var (kind, list) in rows)
            {
                if (entry.TryGetProperty(kind, out var items))
                {
                    list.AddRange(items.EnumerateArray().Select(i => (i.GetRawText(), Hidden(i))));
                }
            }
        }

        return rows;
    }

    // LVM shows a hidden LV's name in brackets.
    private static bool Hidden(JsonElement row) =>
        row.TryGetProperty("lv_name", out var name) && name.GetString() is { } text && text.StartsWith('[');
}
