using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Runbooks.Dsl;

/// <summary>A mounted filesystem from <c>findmnt -J -b</c>; sizes in bytes.</summary>
public sealed record MountFacts(string Target, string Source, string FsType, IReadOnlyList<string> Options, long Size, long Used, long Available)
{
    public bool IsReadOnly => Options.Contains("ro");

    /// <summary>Used percent as <c>df</c> computes it (used over used+available, rounded up), the number people and the incident's tests read.</summary>
    public int UsedPercent => Used + Available <= 0 ? 0 : (int)Math.Ceiling(Used * 100.0 / (Used + Available));
}

/// <summary>An fstab entry from <c>findmnt --fstab -J</c>.</summary>
public sealed record FstabEntry(string Target, string Source, string FsType, IReadOnlyList<string> Options);

public static class FsParser
{
    /// <summary>Parses <c>findmnt -J -b -o TARGET,SOURCE,FSTYPE,OPTIONS,SIZE,USED,AVAIL</c>.</summary>
    public static IReadOnlyList<MountFacts> ParseMounts(string json) =>
        Filesystems(json).Select(f => new MountFacts(
            Text(f, "target"), Text(f, "source"), Text(f, "fstype"), SplitOptions(Text(f, "options")),
            Number(f, "size"), Number(f, "used"), Number(f, "avail"))).ToList();

    /// <summary>
    /// The options fields of a <c>findmnt -J</c> report, one line per filesystem in its order, as they are written: what
    /// <c>findmnt -n -o OPTIONS</c> prints for the same selection.
    /// </summary>
    /// <example><c>FsParser.OptionsLines(findmntJson)</c></example>
    public static string OptionsLines(string json) => string.Join('\n', Filesystems(json).Select(f => Text(f, "options")));

    /// <summary>Parses <c>findmnt --fstab -J -o TARGET,SOURCE,FSTYPE,OPTIONS</c>.</summary>
    public static IReadOnlyList<FstabEntry> ParseFstab(string json) =>
        Filesystems(json).Select(f => new FstabEntry(Text(f, "target"), Text(f, "source"), Text(f, "fstype"), SplitOptions(Text(f, "options")))).ToList();

    /// <summary>Block count × block size from <c>tune2fs -l</c>'s <c>Key: value</c> dump.</summary>
    public static long? ParseTune2fsSize(string dump)
    {
        long? count = null, size = null;
        foreach (var line in dump.Split('\n'))
        {
            var colon = line.IndexOf(':');
            if (colon < 0)
            {
                continue;
            }

            var key = line[..colon].Trim();
            var ok = long.TryParse(line[(colon + 1)..].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value);
            if (key == "Block count" && ok)
            {
                count = value;
            }
            else if (key == "Block size" && ok)
            {
                size = value;
            }
        }

        return count * size;
    }

    /// <summary>
    /// Rewrites only the fstab line whose mount point is <paramref name="target"/>, replacing its options field;
    /// every other byte of the file stays as it was. Returns null when no line names the target.
    /// </summary>
    public static string? ReplaceOptions(string fstab, string target, string options)
    {
        var lines = fstab.Split('\n');
        var found = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var fields = lines[i].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 4 || fields[0].StartsWith('#') || Unescape(fields[1]) != target)
            {
                continue;
            }

            fields[3] = options;
            lines[i] = string.Join('\t', fields);
            found = true;
        }

        return found ? string.Join('\n', lines) : null;
    }

    /// <summary>Options without <c>ro</c> and with <c>rw</c>; <c>defaults</c> already means read-write.</summary>
    public static IReadOnlyList<string> Writable(IReadOnlyList<string> options)
    {
        var kept = options.Where(o => o != "ro").ToList();
        if (!kept.Contains("rw") && !kept.Contains("defaults"))
        {
            kept.Insert(0, "rw");
        }

        return kept;
    }

    internal static IReadOnlyList<string> SplitOptions(string options) => options.Split(',', StringSplitOptions.RemoveEmptyEntries);

    // fstab writes a space in a mount point as \040 (and tab as \011, backslash as \134).
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var text = new StringBuilder();
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && field.Substring(i + 1, 3).All(c => c is >= '0' and <= '7'))
            {
                text.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                text.Append(field[i]);
            }
        }

        return text.ToString();
    }

    private static List<JsonElement> Filesystems(string json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }

        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("filesystems").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    private static string Text(JsonElement row, string field) =>
        row.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() ?? "" : "";

    // util-linux prints -b sizes as JSON numbers since 2.37, as strings before.
    private static long Number(JsonElement row, string field) =>
        !row.TryGetProperty(field, out var value) ? 0
        : value.ValueKind == JsonValueKind.Number ? value.GetInt64()
        : long.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
}
