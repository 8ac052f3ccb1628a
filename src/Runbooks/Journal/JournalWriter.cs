using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Journal;

/// <summary>
/// Append-only JSON Lines: one record per event, flushed as it is written so the file is valid up to the
/// moment a run dies. Every string passes the secret redactor first.
/// </summary>
public sealed class JournalWriter : RunObserver, IDisposable
{
    private const int TailLines = 20;
    private readonly Lock _gate = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string Target, int Step)> _stepOn = new(StringComparer.Ordinal);
    private FileStream? _stream;

    public JournalWriter(string path, RunMetadata metadata)
    {
        Path = System.IO.Path.GetFullPath(path);
        Metadata = metadata;
    }

    public string Path { get; }

    public RunMetadata Metadata { get; }

    /// <summary>The default journal file for a runbook: <c>./.runbook/journal/NAME-UTCSTAMP.jsonl</c>.</summary>
    public static string DefaultPath(string runbookPath, string? directory = null) =>
        System.IO.Path.Combine(
            directory ?? System.IO.Path.Combine(".runbook", "journal"),
            $"{System.IO.Path.GetFileNameWithoutExtension(runbookPath)}-{DateTime.UtcNow:yyyyMMdd'T'HHmmss'.'fff'Z'}.jsonl");

    public override void RunStarted(RunMode mode, IReadOnlyList<Target> order) => Write("run-start", new JsonObject
    {
        ["mode"] = mode.ToString().ToLowerInvariant(),
        ["runbook"] = Metadata.RunbookPath,
        ["runbookHash"] = Metadata.RunbookHash,
        ["environment"] = new JsonObject(EnvironmentReads.Current.Select(r => KeyValuePair.Create(r.Key, (JsonNode?)r.Value))),
        ["hosts"] = new JsonObject(Metadata.Hosts.Select(h => KeyValuePair.Create(h.Key, (JsonNode?)h.Value))),
        ["user"] = Metadata.User,
        ["requested"] = new JsonArray([.. Metadata.RequestedTargets.Select(t => (JsonNode?)t)]),
        ["order"] = new JsonArray([.. order.Select(t => (JsonNode?)t.Name)]),
        ["tool"] = Metadata.ToolVersion,
        ["resumedFrom"] = Metadata.ResumedFrom,
        ["plan"] = Metadata.SavedPlan,
        ["planStage"] = Metadata.PlanStage,
        ["approvedBy"] = Metadata.ApprovedBy,
        ["undoOf"] = Metadata.UndoOf,
        ["pid"] = Environment.ProcessId,
    });

    public override void TargetStarted(Target target) =>
        Write("target-start", new JsonObject { ["target"] = target.Name, ["host"] = target.Host, ["description"] = target.Description });

    // Actions reach the observer by host; the step that yielded them is the one last started there.
    public override void StepStarted(Target target, int index, Step step) => _stepOn[target.Host] = (target.Name, index + 1);

    public override void StepProbed(Target target, int index, Step step, StepProbe probe, bool verifying) => Write(verifying ? "verify" : "probe", new JsonObject
    {
        ["target"] = target.Name,
        ["host"] = target.Host,
        ["step"] = index + 1,
        ["description"] = step.Description,
        ["decision"] = probe.Decision.ToString(),
        ["observed"] = probe.Observed,
        ["unmet"] = Array(probe.Unmet),
        ["actions"] = new JsonArray([.. probe.Actions.Select(a => (JsonNode?)a.ToJson())]),
        ["notes"] = Array(probe.Notes),
        ["destroys"] = step.Destroys,
    });

    public override void CommandRan(string host, Command command, CommandResult result) => Write("command", new JsonObject
    {
        ["host"] = host,
        ["argv"] = Array(command.RenderedArgv()),
        ["rendered"] = command.Render(),
        ["readOnly"] = command.ReadOnly,
        ["exit"] = result.ExitCode,
        ["started"] = result.Started.ToString("O"),
        ["ms"] = Math.Round(result.Duration.TotalMilliseconds, 1),
        ["stdoutTail"] = command.ReadOnly ? null : result.StdoutTail(TailLines),
        ["stderrTail"] = result.StderrTail(TailLines),
    });

    public override void CommandLost(string host, Command command, string detail) => Write("command-lost", new JsonObject
    {
        ["host"] = host,
        ["argv"] = Array(command.RenderedArgv()),
        ["rendered"] = command.Render(),
        ["readOnly"] = command.ReadOnly,
        ["detail"] = detail,
    });

    public override void CommandTimedOut(string host, Command command, string detail) => Write("command-timed-out", new JsonObject
    {
        ["host"] = host,
        ["argv"] = Array(command.RenderedArgv()),
        ["rendered"] = command.Render(),
        ["readOnly"] = command.ReadOnly,
        ["timeoutSeconds"] = command.Timeout.TotalSeconds,
        ["detail"] = detail,
    });

    // With its step, so a run of a saved plan can be compared with the plan step by step (PlanConformance).
    public override void ActionStarted(string host, StepAction action) => Write("action", new JsonObject
    {
        ["host"] = host,
        ["target"] = _stepOn.TryGetValue(host, out var at) ? at.Target : null,
        ["step"] = _stepOn.TryGetValue(host, out var on) ? on.Step : null,
        ["action"] = action.ToJson(),
    });

    // What undo reads: the action, and how to put it back with the state it found and left.
    public override void ActionApplied(string host, StepAction action, Reversal reversal, string? before, string? left) => Write("action-applied", new JsonObject
    {
        ["host"] = host,
        ["target"] = _stepOn.TryGetValue(host, out var at) ? at.Target : null,
        ["step"] = _stepOn.TryGetValue(host, out var on) ? on.Step : null,
        ["summary"] = action.Summary,
        ["undo"] = reversal.ToJson(before, left),
    }, durable: true);

    public override void Confirmation(string host, Target target, int index, string phase, string detail) => Write("confirm", new JsonObject
    {
        ["host"] = host,
        ["target"] = target.Name,
        ["step"] = index + 1,
        ["phase"] = phase,
        ["detail"] = detail,
    }, durable: true);

    public override void CheckEvaluated(Target target, CheckOutcome outcome) => Write("check", new JsonObject
    {
        ["target"] = target.Name,
        ["host"] = target.Host,
        ["kind"] = outcome.Kind,
        ["description"] = outcome.Description,
        ["holds"] = outcome.Probed ? outcome.Holds : null,
        ["observed"] = outcome.Observed,
    });

    public override void StepEnded(Target target, StepResult result) => Write("step-end", new JsonObject
    {
        ["target"] = target.Name,
        ["host"] = target.Host,
        ["step"] = result.Index + 1,
        ["description"] = result.Description,
        ["outcome"] = result.Outcome.ToString(),
        ["ms"] = Math.Round(result.Duration.TotalMilliseconds, 1),
        ["before"] = result.Observed,
        ["after"] = result.ObservedAfter,
        ["error"] = result.Error ?? (result.Outcome is StepOutcome.Blocked ? string.Join("; ", result.Unmet) : null),
    }, durable: true);

    public override void TargetEnded(TargetResult result) => Write("target-end", new JsonObject
    {
        ["target"] = result.Name,
        ["host"] = result.Host,
        ["status"] = result.Status.ToString(),
        ["ms"] = Math.Round(result.Duration.TotalMilliseconds, 1),
        ["error"] = result.Error,
    }, durable: true);

    public override void RunEnded(RunSummary summary) => Write("run-end", new JsonObject
    {
        ["succeeded"] = summary.Succeeded,
        ["ms"] = Math.Round(summary.Duration.TotalMilliseconds, 1),
        ["targets"] = new JsonObject(summary.Targets.Select(t => KeyValuePair.Create(t.Name, (JsonNode?)t.Status.ToString()))),
    }, durable: true);

    /// <summary>Records that the run stopped without a summary (cancelled, crashed transport).</summary>
    public void Aborted(string reason)
    {
        // A run refused before its first record never started: there is nothing to mark as aborted.
        if (_stream is not null)
        {
            Write("run-aborted", new JsonObject { ["reason"] = reason }, durable: true);
        }
    }

    /// <summary>
    /// Appends a record of <paramref name="kind"/> that the engine does not emit itself (a watch pass, a drill round),
    /// through the same redactor, durably.
    /// </summary>
    public void Record(string kind, JsonObject fields) => Write(kind, fields, durable: true);

    public void Dispose() => _stream?.Dispose();

    private static JsonArray Array(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode?)v)]);

    private void Write(string kind, JsonObject record, bool durable = false)
    {
        var line = new JsonObject { ["ts"] = DateTimeOffset.UtcNow.ToString("O"), ["event"] = kind };
        foreach (var (key, value) in record)
        {
            if (value is not null)
            {
                line[key] = value.DeepClone();
            }
        }

        var bytes = Encoding.UTF8.GetBytes(SecretRedactor.Redact(line.ToJsonString(JournalJson.Options)) + "\n");
        lock (_gate)
        {
            // Opened on the first record, so a run refused before it starts (unknown target, locked host)
            // leaves no empty journal behind.
            if (_stream is null)
            {
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
                _stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
            }

            _stream.Write(bytes);

            // Every record reaches the OS at once (survives the process dying); step and target ends reach
            // the disk (survive the machine dying), which is what --resume reads.
            _stream.Flush(flushToDisk: durable);
        }
    }
}

/// <summary>Who ran what, where: the head of every journal.</summary>
public sealed record RunMetadata(
    string RunbookPath,
    string RunbookHash,
    IReadOnlyDictionary<string, string> Hosts,
    IReadOnlyList<string> RequestedTargets,
    string User,
    string ToolVersion,
    string? ResumedFrom = null)
{
    /// <summary>The saved plan this run executes, when it was started with <c>--plan</c>.</summary>
    public string? SavedPlan { get; init; }

    /// <summary>Which stage of a staged converge the saved plan is (1 for a plan made without <c>--after</c>).</summary>
    public int? PlanStage { get; init; }

    /// <summary>Who approved the saved plan (<c>--approved-by</c>).</summary>
    public string? ApprovedBy { get; init; }

    /// <summary>The journal whose run this one undoes (<c>runbook undo</c>).</summary>
    public string? UndoOf { get; init; }
}

internal static class JournalJson
{
    public static readonly JsonSerializerOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
