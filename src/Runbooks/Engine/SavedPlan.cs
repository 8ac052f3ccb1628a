using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Runbooks.Engine;

/// <summary>
/// A plan as a document: what <c>runbook plan --format json</c> prints and <c>--out</c> saves, and what
/// <c>runbook run --plan</c> executes. It holds every step's actions and a hash of every fact each decision and
/// each <c>Requires</c>/<c>Ensures</c> check rested on, so a run can refuse when the host moved since the plan was
/// approved. A runbook whose later steps are blocked until earlier ones ran converges in stages: the plan is one
/// stage (<see cref="Stage"/>), and the next plan (<c>--after</c> this one) covers the next. The schema is in the README.
/// </summary>
public sealed record SavedPlan(
    string Schema,
    string Runbook,
    string RunbookSha256,
    IReadOnlyList<string> Targets,
    int PendingChanges,
    PlanStage Stage,
    IReadOnlyList<PlannedHost> Hosts)
{
    // 2: the stage, check facts and waitsFor; a /1 plan lacks the check hashes a run must compare, so it is refused.
    public const string CurrentSchema = "runbooks-plan/2";

    // One casing and escaping for every saved document (a constellation's plan nests these).
    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The document for a plan-mode summary; <paramref name="after"/> is the saved plan of the stage before, if any.</summary>
    public static SavedPlan From(RunSummary plan, string runbook, string runbookSha256, IReadOnlyList<string> targets, PreviousStage? after = null) => new(
        CurrentSchema,
        runbook,
        runbookSha256,
        targets,
        plan.PendingChanges,
        PlanStage.Of(plan, after),
        [.. plan.Targets.GroupBy(t => t.Host).Select(h => new PlannedHost(
            h.Key,
            plan.HostAddresses.GetValueOrDefault(h.Key, h.Key),
            [.. h.Select(t => new PlannedTarget(
                t.Name,
                Camel(t.Status.ToString()),
                t.Error,
                [.. t.Checks.Select(c => new PlannedCheck(c.Kind, c.Description, c.Probed ? c.Holds : null, c.Observed, c.Facts))],
                [.. t.Steps.Select(s => new PlannedStep(
                    s.Index + 1,
                    s.Description,
                    Camel(s.Outcome.ToString()),
                    s.Observed,
                    s.Destroys,
                    s.Unmet,
                    s.Notes,
                    [.. s.Actions.Select(a => a.ToJson())],
                    s.Facts,
                    s.Error,
                    s.WaitsFor))]))]))]);

    public string ToJson() => Commands.SecretRedactor.Redact(JsonSerializer.Serialize(this, Json)) + "\n";

    /// <summary>Reads a saved plan; fails naming the file when it is not one.</summary>
    public static SavedPlan Load(string path) => LoadHashed(path).Plan;

    // The plan and the SHA-256 of the very bytes it was read from: what the next stage's plan records.
    internal static (SavedPlan Plan, string Sha256) LoadHashed(string path)
    {
        var (plan, schema, sha256) = ReadDocument<SavedPlan>(path, CurrentSchema, "FILE");
        return (plan ?? throw new InvalidRunbookException($"{path}: schema '{schema}' is not {CurrentSchema}; plan again with this version"), sha256);
    }

    /// <summary>
    /// A plan document (a runbook's or a constellation's) read once from its file: the document when its schema is
    /// <paramref name="schema"/> (else null, with the schema found), and the SHA-256 of the file's bytes.
    /// </summary>
    internal static (T? Document, string? Schema, string Sha256) ReadDocument<T>(string path, string schema, string planned)
        where T : class
    {
        try
        {
            var bytes = System.IO.File.ReadAllBytes(path);
            using var document = JsonDocument.Parse(bytes);
            var found = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("schema", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            return (found == schema ? document.RootElement.Deserialize<T>(Json) : null, found, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)));
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            throw new InvalidRunbookException($"{path}: not a saved plan ({ex.Message}); save one with `runbook plan {planned} --out {path}`");
        }
    }

    /// <summary>Every step of the plan with its target and host.</summary>
    public IEnumerable<(PlannedHost Host, PlannedTarget Target, PlannedStep Step)> Steps() =>
        Hosts.SelectMany(h => h.Targets.SelectMany(t => t.Steps.Select(s => (h, t, s))));

    /// <summary>The planned step, or null when the plan has none at that place.</summary>
    public PlannedStep? Step(string target, int index) =>
        Steps().Where(s => s.Target.Name == target && s.Step.Step == index + 1).Select(s => s.Step).FirstOrDefault();

    /// <summary>
    /// Why this plan may not run against <paramref name="now"/> (the same runbook planned again, read-only, just
    /// now): every fact that changed or is no longer read, named with its host, and any host that moved.
    /// </summary>
    public IReadOnlyList<string> Drift(SavedPlan now)
    {
        var problems = new List<string>();
        if (now.RunbookSha256 != RunbookSha256)
        {
            problems.Add($"the runbook {Runbook} changed since the plan was made (sha256 {RunbookSha256[..12]}… then, {now.RunbookSha256[..12]}… now)");
        }

        foreach (var host in Hosts)
        {
            var current = now.Hosts.FirstOrDefault(h => h.Host == host.Host);
            if (current is not null && current.Address != host.Address)
            {
                problems.Add($"host {host.Host} was {host.Address} when planned and is {current.Address} now");
            }
        }

        foreach (var (host, target, step) in Steps())
        {
            var fresh = now.Step(target.Name, step.Step - 1);
            Compare(step.Facts, fresh?.Facts, $"{target.Name} step {step.Step}", $"{target.Name} step {step.Step}, '{step.Description}'", fresh?.Error ?? fresh?.Observed, problems);

            if (fresh is not null && (fresh.Decision != step.Decision || !SameActions(fresh.Actions, step.Actions)))
            {
                problems.Add(fresh.Decision != step.Decision
                    ? $"on host {host.Host}: {target.Name} step {step.Step} ('{step.Description}') now decides {fresh.Decision}, the plan {step.Decision}"
                    : $"on host {host.Host}: {target.Name} step {step.Step} ('{step.Description}') now wants other actions than the plan's");
            }
        }

        foreach (var host in Hosts)
        {
            foreach (var target in host.Targets)
            {
                var fresh = now.Hosts.FirstOrDefault(h => h.Host == host.Host)?.Targets.FirstOrDefault(t => t.Name == target.Name);
                foreach (var (check, index) in target.Checks.Select((c, i) => (c, i)))
                {
                    // Matched by place and kind: a target's checks come in the order the script declares them.
                    var again = fresh?.Checks.ElementAtOrDefault(index) is { } c && c.Kind == check.Kind && c.Description == check.Description ? c : null;
                    var by = $"{target.Name}'s {check.Kind} check '{check.Description}'";
                    Compare(check.Facts, again?.Facts, by, by, again?.Observed, problems);
                }
            }
        }

        return problems;
    }

    /// <summary>
    /// Why this plan, saved at <paramref name="path"/>, may not run now; <paramref name="now"/> is the same runbook planned
    /// again, read-only, right before the run. Null: run it. What <c>runbook run --plan</c> and the harness's converge both ask.
    /// </summary>
    public PlanRefusal? RefusalAgainst(SavedPlan now, string path)
    {
        var drift = Drift(now);
        if (drift.Count > 0)
        {
            return new($"refusing the saved plan {path}: what it was made from has changed; nothing was run.", drift, "plan again, review, and run the new plan");
        }

        // Running it would change nothing and leave the same steps blocked: an automated loop of plan and run would spin.
        return Stage is { Changes: 0, Last: false } stuck
            ? new($"refusing the saved plan {path}: stage {stuck.Number} changes nothing and {stuck.Blocked.Count} step(s) stay blocked ({string.Join(", ", stuck.Blocked)}); nothing was run.",
                [], "no step before them unblocks them; see their preconditions in the plan and fix the host or the runbook")
            : null;
    }

    // A fact no longer read means the decision that read it went another way (or the read failed: what the reader
    // observes now says which); a changed hash means the host moved.
    private static void Compare(IReadOnlyList<FactRead> planned, IReadOnlyList<FactRead>? fresh, string reader, string readerInFull, string? observedNow, List<string> problems)
    {
        var facts = fresh?.ToDictionary(f => (f.Host, f.Command), f => f.Sha256) ?? [];
        foreach (var fact in planned)
        {
            if (!facts.TryGetValue((fact.Host, fact.Command), out var hash))
            {
                problems.Add($"on host {fact.Host}: `{fact.Command}` (read by {reader}) is no longer read: the decision it fed changed" +
                    (observedNow is { Length: > 0 } ? $" (observed now: {observedNow})" : ""));
            }
            else if (hash != fact.Sha256)
            {
                problems.Add($"on host {fact.Host}: the fact `{fact.Command}` changed since the plan (read by {readerInFull})");
            }
        }
    }

    /// <summary>True when two action lists say the same thing (compared as JSON, secrets masked).</summary>
    public static bool SameActions(IReadOnlyList<JsonObject> a, IReadOnlyList<JsonObject> b) =>
        a.Count == b.Count && a.Zip(b).All(p => JsonNode.DeepEquals(p.First, p.Second));

    private static string Camel(string name) => char.ToLowerInvariant(name[0]) + name[1..];
}

/// <summary>Why a saved plan was refused before anything ran: the reason, each fact that moved, and what to do.</summary>
public sealed record PlanRefusal(string Reason, IReadOnlyList<string> Problems, string WhatToDo)
{
    public override string ToString() =>
        string.Join("\n", [Reason, .. Problems.Select(p => $"  {p}"), $"  what to do: {WhatToDo}"]);
}

/// <summary>One host of a saved plan: its inventory name, where it was reached, and its targets.</summary>
public sealed record PlannedHost(string Host, string Address, IReadOnlyList<PlannedTarget> Targets);

/// <summary>One target of a saved plan, with its checks and steps.</summary>
public sealed record PlannedTarget(string Name, string Status, string? Error, IReadOnlyList<PlannedCheck> Checks, IReadOnlyList<PlannedStep> Steps);

/// <summary>A check as planned, with the facts it read; <see cref="Holds"/> is null for a writing check a plan does not run.</summary>
public sealed record PlannedCheck(string Kind, string Description, bool? Holds, string Observed, IReadOnlyList<FactRead> Facts);

/// <summary>
/// One step of a saved plan: the decision, its actions as JSON, the facts it rested on, and — for a step this stage
/// does not run — the blocked step it waits behind.
/// </summary>
public sealed record PlannedStep(
    int Step,
    string Description,
    string Decision,
    string Observed,
    string? Destroys,
    IReadOnlyList<string> Unmet,
    IReadOnlyList<string> Notes,
    IReadOnlyList<JsonObject> Actions,
    IReadOnlyList<FactRead> Facts,
    string? Error,
    string? WaitsFor)
{
    [JsonIgnore]
    public bool WillChange => Decision == "willChange";

    /// <summary>False for a step this stage does not run: blocked when planned, or behind a blocked one.</summary>
    [JsonIgnore]
    public bool InStage => Decision != "blocked" && WaitsFor is null;
}

/// <summary>The saved plan a stage follows: its path and the SHA-256 of its text, so the chain of approvals can be traced.</summary>
public sealed record PreviousStage(int Number, string Plan, string Sha256)
{
    /// <summary>Reads the saved plan of the stage before; refuses one made for another runbook or other targets.</summary>
    public static PreviousStage Of(string path, string runbook, IReadOnlyList<string> targets)
    {
        var (previous, sha256) = SavedPlan.LoadHashed(path);
        if (previous.Runbook != runbook || !previous.Targets.SequenceEqual(targets))
        {
            throw new InvalidRunbookException(
                $"{path}: a plan of {previous.Runbook} [{string.Join(", ", previous.Targets)}], not of {runbook} [{string.Join(", ", targets)}]; --after names the plan of this runbook's previous stage");
        }

        return new(previous.Stage.Number, path, sha256);
    }
}

/// <summary>
/// Which stage of a staged converge a plan is: its number (1 unless made <c>--after</c> the plan before), how many
/// steps this stage changes, and what it leaves for the next: the steps blocked now and the others waiting behind them.
/// </summary>
public sealed record PlanStage(int Number, string? After, string? AfterSha256, int Changes, IReadOnlyList<string> Blocked, int Waiting)
{
    internal static PlanStage Of(RunSummary plan, PreviousStage? after)
    {
        var steps = plan.Targets.SelectMany(t => t.Steps.Select(s => (Target: t, Step: s))).ToList();
        return new(
            (after?.Number ?? 0) + 1,
            after?.Plan,
            after?.Sha256,
            steps.Count(s => s.Step.Outcome == StepOutcome.WillChange && s.Step.WaitsFor is null),
            [.. steps.Where(s => s.Step.Outcome == StepOutcome.Blocked).Select(s => $"{s.Target.Name} step {s.Step.Index + 1}")],
            steps.Count(s => s.Step.Outcome != StepOutcome.Blocked && s.Step.WaitsFor is not null));
    }

    /// <summary>True when this stage leaves nothing for another: no step blocked, none waiting.</summary>
    [JsonIgnore]
    public bool Last => Blocked.Count == 0 && Waiting == 0;
}
