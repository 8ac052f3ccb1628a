using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Runbooks.Engine;

/// <summary>
/// A plan as a document: what <c>runbook plan --format json</c> prints and <c>--out</c> saves, and what
/// <c>runbook run --plan</c> executes. It holds every step's actions and a hash of every fact each decision
/// rested on, so a run can refuse when the host moved since the plan was approved. The schema is in the README.
/// </summary>
public sealed record SavedPlan(
    string Schema,
    string Runbook,
    string RunbookSha256,
    IReadOnlyList<string> Targets,
    int PendingChanges,
    IReadOnlyList<PlannedHost> Hosts)
{
    public const string CurrentSchema = "runbooks-plan/1";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The document for a plan-mode summary.</summary>
    public static SavedPlan From(RunSummary plan, string runbook, string runbookSha256, IReadOnlyList<string> targets) => new(
        CurrentSchema,
        runbook,
        runbookSha256,
        targets,
        plan.PendingChanges,
        [.. plan.Targets.GroupBy(t => t.Host).Select(h => new PlannedHost(
            h.Key,
            plan.HostAddresses.GetValueOrDefault(h.Key, h.Key),
            [.. h.Select(t => new PlannedTarget(
                t.Name,
                Camel(t.Status.ToString()),
                t.Error,
                [.. t.Checks.Select(c => new PlannedCheck(c.Kind, c.Description, c.Probed ? c.Holds : null, c.Observed))],
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
                    s.Error))]))]))]);

    public string ToJson() => Commands.SecretRedactor.Redact(JsonSerializer.Serialize(this, Json)) + "\n";

    /// <summary>Reads a saved plan; fails naming the file when it is not one.</summary>
    public static SavedPlan Load(string path)
    {
        SavedPlan? plan;
        try
        {
            plan = JsonSerializer.Deserialize<SavedPlan>(System.IO.File.ReadAllText(path), Json);
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            throw new InvalidRunbookException($"{path}: not a saved plan ({ex.Message}); save one with `runbook plan FILE --out {path}`");
        }

        if (plan is null || plan.Schema != CurrentSchema)
        {
            throw new InvalidRunbookException($"{path}: schema '{plan?.Schema}' is not {CurrentSchema}; plan again with this version");
        }

        return plan;
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
            var facts = fresh?.Facts.ToDictionary(f => (f.Host, f.Command), f => f.Sha256) ?? [];
            foreach (var fact in step.Facts)
            {
                if (!facts.TryGetValue((fact.Host, fact.Command), out var hash))
                {
                    problems.Add($"on host {fact.Host}: `{fact.Command}` (read by {target.Name} step {step.Step}) is no longer read: the decision it fed changed");
                }
                else if (hash != fact.Sha256)
                {
                    problems.Add($"on host {fact.Host}: the fact `{fact.Command}` changed since the plan (read by {target.Name} step {step.Step}, '{step.Description}')");
                }
            }

            if (fresh is not null && (fresh.Decision != step.Decision || !SameActions(fresh.Actions, step.Actions)))
            {
                problems.Add(fresh.Decision != step.Decision
                    ? $"on host {host.Host}: {target.Name} step {step.Step} ('{step.Description}') now decides {fresh.Decision}, the plan {step.Decision}"
                    : $"on host {host.Host}: {target.Name} step {step.Step} ('{step.Description}') now wants other actions than the plan's");
            }
        }

        return problems;
    }

    /// <summary>True when two action lists say the same thing (compared as JSON, secrets masked).</summary>
    public static bool SameActions(IReadOnlyList<JsonObject> a, IReadOnlyList<JsonObject> b) =>
        a.Count == b.Count && a.Zip(b).All(p => JsonNode.DeepEquals(p.First, p.Second));

    private static string Camel(string name) => char.ToLowerInvariant(name[0]) + name[1..];
}

/// <summary>One host of a saved plan: its inventory name, where it was reached, and its targets.</summary>
public sealed record PlannedHost(string Host, string Address, IReadOnlyList<PlannedTarget> Targets);

/// <summary>One target of a saved plan, with its checks and steps.</summary>
public sealed record PlannedTarget(string Name, string Status, string? Error, IReadOnlyList<PlannedCheck> Checks, IReadOnlyList<PlannedStep> Steps);

/// <summary>A check as planned; <see cref="Holds"/> is null for a writing check a plan does not run.</summary>
public sealed record PlannedCheck(string Kind, string Description, bool? Holds, string Observed);

/// <summary>One step of a saved plan: the decision, its actions as JSON, and the facts it rested on.</summary>
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
    string? Error)
{
    [JsonIgnore]
    public bool WillChange => Decision == "willChange";
}
