using System.Text.Json;
using System.Text.Json.Nodes;

namespace Runbooks.Journal;

/// <summary>Reads a journal back, tolerating the torn last line a killed run leaves.</summary>
public sealed class JournalReader
{
    private JournalReader(string path, IReadOnlyList<JsonObject> records, int? tornLine)
    {
        Path = path;
        Records = records;
        TornLine = tornLine;
    }

    public string Path { get; }

    public IReadOnlyList<JsonObject> Records { get; }

    /// <summary>The line number of an incomplete last record, when the run was killed while writing it.</summary>
    public int? TornLine { get; }

    public static JournalReader Read(string path)
    {
        if (!System.IO.File.Exists(path))
        {
            throw new InvalidRunbookException($"journal {path} does not exist");
        }

        var records = new List<JsonObject>();
        int? torn = null;
        var lines = System.IO.File.ReadAllLines(path);
        for (var i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]))
            {
                continue;
            }

            try
            {
                records.Add(JsonNode.Parse(lines[i])?.AsObject() ?? throw new JsonException("not an object"));
            }
            catch (JsonException) when (i == lines.Length - 1)
            {
                torn = i + 1;
            }
            catch (JsonException ex)
            {
                throw new InvalidRunbookException($"{path}:{i + 1}: not a journal record ({ex.Message})");
            }
        }

        return new JournalReader(path, records, torn);
    }

    /// <summary>Target names whose last run ended satisfied or succeeded.</summary>
    public IReadOnlySet<string> CompletedTargets() =>
        Records.Where(r => Str(r, "event") == "target-end" && Str(r, "status") is "Succeeded" or "Satisfied")
            .Select(r => Str(r, "target")!)
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>The targets the journaled run was asked for (from its first run-start).</summary>
    public IReadOnlyList<string> RequestedTargets() =>
        Records.FirstOrDefault(r => Str(r, "event") == "run-start")?["requested"]?.AsArray().Select(n => n!.GetValue<string>()).ToList() ?? [];

    /// <summary>
    /// A fleet run's machines with the address each was reached at, from its <c>fleet-start</c>; empty for a runbook's
    /// journal (whose hosts are given again with <c>--host</c>).
    /// </summary>
    public IReadOnlyList<(string Name, string Uri)> FleetMachines() =>
        Records.FirstOrDefault(r => Str(r, "event") == "fleet-start")?["machines"] is JsonObject machines
            ? [.. machines.Select(m => (m.Key, m.Value is JsonObject o ? Str(o, "uri") : null)).Where(m => m.Item2 is not null).Select(m => (m.Key, m.Item2!))]
            : [];

    internal static string? Str(JsonObject record, string key) =>
        record.TryGetPropertyValue(key, out var node) && node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
