using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Runbooks.Journal;

/// <summary>Renders a journal as a Markdown timeline a retrospective can paste in.</summary>
public static class JournalMarkdown
{
    public static string Render(JournalReader journal)
    {
        var text = new StringBuilder();
        var start = journal.Records.FirstOrDefault(r => JournalReader.Str(r, "event") == "run-start");
        var fleet = journal.Records.Any(r => JournalReader.Str(r, "event") == "fleet-start");
        // From the first record: a watch's journal starts with watch-start, before its first pass's run-start.
        var origin = start is null ? (DateTimeOffset?)null : Time(journal.Records[0]);
        text.Append("# Journal: ").AppendLine(start is null ? journal.Path : Path.GetFileName(JournalReader.Str(start, "runbook")));
        text.AppendLine();
        if (start is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- **Started** {JournalReader.Str(start, "ts")} by `{JournalReader.Str(start, "user")}`, mode **{JournalReader.Str(start, "mode")}**");
            text.AppendLine(CultureInfo.InvariantCulture, $"- **Runbook** `{JournalReader.Str(start, "runbook")}` (sha256 {JournalReader.Str(start, "runbookHash")})");
            text.AppendLine(CultureInfo.InvariantCulture, $"- **Hosts** {string.Join(", ", start["hosts"]?.AsObject().Select(h => $"{h.Key} = `{h.Value}`") ?? [])}");
            text.AppendLine(CultureInfo.InvariantCulture, $"- **Targets** {string.Join(" → ", start["order"]?.AsArray().Select(n => n?.ToString()) ?? [])}");
            if (start["environment"] is JsonObject { Count: > 0 } environment)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"- **Environment read** {string.Join(", ", environment.Select(e => e.Value is null ? $"`{e.Key}` (not set)" : $"`{e.Key}={e.Value}`"))}");
            }
            if (JournalReader.Str(start, "plan") is { } plan)
            {
                var stage = start["planStage"] is JsonValue number && number.GetValue<int>() > 1 ? $" (stage {number})" : "";
                text.AppendLine(CultureInfo.InvariantCulture, $"- **Saved plan** `{plan}`{stage}, approved by {JournalReader.Str(start, "approvedBy") ?? "(nobody named)"}");
            }
        }

        text.AppendLine().AppendLine("| time | where | event |").AppendLine("|---:|---|---|");
        foreach (var record in journal.Records)
        {
            var line = Describe(record);
            if (line is null)
            {
                continue;
            }

            var offset = origin is null ? "" : $"+{(Time(record) - origin.Value).TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture)} s";
            // A fleet's journal holds the same target on many machines: name the machine when the record does.
            var where = (JournalReader.Str(record, "target"), JournalReader.Str(record, "host")) switch
            {
                ({ } target, { } host) when fleet => $"{host} · {target}",
                ({ } target, _) => target,
                (_, { } host) => host,
                _ => "",
            };
            text.AppendLine(CultureInfo.InvariantCulture, $"| {offset} | {Cell(where)} | {Cell(line)} |");
        }

        if (journal.TornLine is { } torn)
        {
            text.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"> The journal ends with an incomplete record at line {torn}: the run was interrupted while writing it.");
        }
        else if (!journal.Records.Any(r => JournalReader.Str(r, "event") is "run-end" or "run-aborted" or "watch-end"))
        {
            text.AppendLine().AppendLine("> The journal has no end record: the run was interrupted. `runbook run --resume` continues it.");
        }

        return text.ToString();
    }

    private static string? Describe(JsonObject r)
    {
        string? S(string key) => JournalReader.Str(r, key);
        return S("event") switch
        {
            "run-start" => $"run started ({S("mode")})",
            "fleet-start" => $"fleet run of {S("constellation")} started: {string.Join(", ", r["machines"]?.AsObject().Select(m => m.Key) ?? [])}",
            "fleet-end" => $"**fleet run {(r["succeeded"]?.GetValue<bool>() == true ? "succeeded" : "FAILED")}** in {r["ms"]} ms{(S("stopped") is { } stop ? $" — {stop}" : "")}",
            "target-start" => $"**target {S("target")}** on {S("host")}",
            "probe" => $"step {r["step"]} _{S("description")}_: {S("decision")} — observed {S("observed")}{Unmet(r)}",
            "action" => r["action"] is JsonObject action && (string?)action["kind"] != "run" ? $"» {(string?)action["summary"]}" : null,
            "command" => r["readOnly"]?.GetValue<bool>() == true ? null : $"{Command(r)} → exit {r["exit"]} in {r["ms"]} ms{Tail(S("stderrTail"))}",
            "verify" => $"verify step {r["step"]}: {(S("decision") == "Satisfied" ? "holds" : "**does not hold**")} — observed {S("observed")}",
            "check" => r["holds"] is null
                ? $"{S("kind")} _{S("description")}_: {S("observed")}"
                : $"{S("kind")} _{S("description")}_: {(r["holds"]?.GetValue<bool>() == true ? "holds" : "**does not hold**")} ({S("observed")})",
            "step-end" => $"step {r["step"]} {S("outcome")} in {r["ms"]} ms{(S("error") is { } e ? $" — {e}" : "")}",
            "target-end" => $"**{S("target")}: {S("status")}** in {r["ms"]} ms{(S("error") is { } e ? $" — {e}" : "")}",
            "run-end" => $"run ended: {(r["succeeded"]?.GetValue<bool>() == true ? "succeeded" : "**failed**")} in {r["ms"]} ms",
            "run-aborted" => $"**run aborted**: {S("reason")}",
            "resume" => $"resumed from {S("journal")}",
            "watch-start" => $"**watch started**: a pass every {r["intervalSeconds"]} s, backing off up to {r["backoffCap"]}× after failures",
            "pass-end" => Pass(r),
            "watch-end" => $"**watch ended** after {r["passes"]} pass(es): {S("reason")}",
            // The retrospective wants a revert made by the host itself in plain sight; an undoable action is the normal case.
            "confirm" => S("phase") is "confirmed" or "armed" ? $"confirmed apply, step {r["step"]}: {S("phase")} — {S("detail")}" : $"**confirmed apply, step {r["step"]}: {S("phase")}** — {S("detail")}",
            "action-applied" => r["undo"]?["cannot"] is { } cannot ? $"cannot be undone: {(string?)cannot}" : null,
            _ => null,
        };
    }

    // The one atomic-write script is the same long text every time; the action line above it already says which
    // file, so the timeline names the file instead of repeating the script.
    private static string Command(JsonObject r) =>
        r["argv"] is JsonArray argv && argv.Count >= 5 && (string?)argv[0] == "sh" && (string?)argv[2] == Engine.WriteFile.Script
            ? $"atomic write of `{(string?)argv[4]}`"
            : $"`$ {JournalReader.Str(r, "rendered")}`";

    private static string Pass(JsonObject r)
    {
        string? S(string key) => JournalReader.Str(r, key);
        var what = r["stopped"]?.GetValue<bool>() == true ? "stopped mid-pass"
            : r["failed"]?.GetValue<bool>() == true ? $"**failed** — {S("error")}"
            : r["drift"]?.GetValue<bool>() == true ? $"drift in {S("driftAt")}; detected after {r["detectMs"]} ms, repaired in {r["repairMs"]} ms"
            : "no drift";
        return $"**pass {r["pass"]}**: {what}{(S("backoff") is { } backoff ? $" — backing off: {backoff}" : "")}";
    }

    private static string Unmet(JsonObject r) =>
        r["unmet"] is JsonArray { Count: > 0 } unmet ? $" — blocked: {string.Join("; ", unmet.Select(u => u?.ToString()))}" : "";

    private static string Tail(string? stderr) => string.IsNullOrWhiteSpace(stderr) ? "" : $" — stderr: {stderr}";

    private static DateTimeOffset Time(JsonObject record) =>
        DateTimeOffset.Parse(JournalReader.Str(record, "ts") ?? "", CultureInfo.InvariantCulture);

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", "<br>", StringComparison.Ordinal);
}
