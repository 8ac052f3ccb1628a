using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Runbooks.Engine;

namespace Runbooks.Fleet;

/// <summary>
/// A constellation's plan as a document: one saved plan per machine (a <see cref="SavedPlan"/> whose one host is
/// the machine), with the SHA-256 of the constellation and of each role's runbook. <c>runbook plan CONSTELLATION
/// --out PLAN</c> saves it; <c>runbook run CONSTELLATION --plan PLAN</c> refuses the whole plan when the constellation
/// or a role's runbook changed, and otherwise re-reads each machine's facts right before that machine runs: a
/// machine where one moved is refused (nothing runs there, and <c>--max-fail</c> counts it as failed), the others
/// run exactly their saved actions. The schema is in the README.
/// </summary>
public sealed record FleetPlan(
    string Schema,
    string Constellation,
    string ConstellationSha256,
    IReadOnlyList<PlannedRunbook> Runbooks,
    int PendingChanges,
    IReadOnlyList<PlannedMachine> Machines)
{
    public const string CurrentSchema = "runbooks-fleet-plan/1";

    /// <summary>
    /// The document for a fleet plan in which every machine was reached and probed; <paramref name="after"/> is the
    /// saved plan of the stage before (each machine's stage follows its own entry there).
    /// </summary>
    public static FleetPlan From(PreparedFleet fleet, FleetSummary plan, FleetPlanFile? after = null)
    {
        var machines = plan.Machines.Select(m => new PlannedMachine(
            m.Machine.Name,
            [.. m.Machine.Roles.Select(r => r.Role)],
            MachinePlan(fleet, m.Machine, m.Summary ?? throw new InvalidOperationException($"machine {m.Machine.Name} was not probed"), after))).ToList();
        return new(
            CurrentSchema,
            fleet.Constellation.Path,
            fleet.Constellation.TextHash,
            [.. fleet.Machines.SelectMany(m => m.Roles).DistinctBy(r => r.RunbookPath).Select(r => new PlannedRunbook(r.RunbookPath, r.RunbookSha256))],
            machines.Sum(m => m.Plan.PendingChanges),
            machines);
    }

    /// <summary>
    /// One machine's saved plan: what <see cref="From"/> records and what a run builds again, read-only, right before
    /// the machine runs, so the two compare like any saved plan.
    /// </summary>
    public static SavedPlan MachinePlan(PreparedFleet fleet, FleetMachine machine, RunSummary summary, FleetPlanFile? after = null)
    {
        PreviousStage? previous = after?.Plan.Machine(machine.Name) is { } before ? new(before.Plan.Stage.Number, after.Path, after.Sha256) : null;
        return SavedPlan.From(summary, fleet.Constellation.Path, MachineSha256(fleet, machine), machine.TargetNames, previous);
    }

    public string ToJson() => Commands.SecretRedactor.Redact(JsonSerializer.Serialize(this, SavedPlan.Json)) + "\n";

    /// <summary>The entry of machine <paramref name="name"/>, or null when the plan has none.</summary>
    public PlannedMachine? Machine(string name) => Machines.FirstOrDefault(m => m.Machine == name);

    /// <summary>
    /// Why no machine may run this plan against <paramref name="now"/> (the constellation loaded again, its machines
    /// selected as the plan's): the constellation or a role's runbook changed, or a machine's roles did. Each machine's
    /// facts are compared later, right before it runs.
    /// </summary>
    public IReadOnlyList<string> Drift(PreparedFleet now)
    {
        var problems = new List<string>();
        if (now.Constellation.Path != Constellation)
        {
            problems.Add($"the plan is of {Constellation}, not of {now.Constellation.Path}");
        }
        else if (now.Constellation.TextHash != ConstellationSha256)
        {
            problems.Add($"the constellation {Constellation} changed since the plan was made (sha256 {ConstellationSha256[..12]}… then, {now.Constellation.TextHash[..12]}… now)");
        }

        var runbooks = now.Machines.SelectMany(m => m.Roles).DistinctBy(r => r.RunbookPath).ToDictionary(r => r.RunbookPath, r => r.RunbookSha256);
        foreach (var runbook in Runbooks.Where(r => runbooks.TryGetValue(r.Path, out var sha) && sha != r.Sha256))
        {
            problems.Add($"the role runbook {runbook.Path} changed since the plan was made (sha256 {runbook.Sha256[..12]}… then, {runbooks[runbook.Path][..12]}… now)");
        }

        foreach (var machine in Machines)
        {
            var current = now.Machines.FirstOrDefault(m => m.Name == machine.Machine);
            if (current is not null && !current.Roles.Select(r => r.Role).SequenceEqual(machine.Roles))
            {
                problems.Add($"machine {machine.Machine} runs [{string.Join(", ", current.Roles.Select(r => r.Role))}] now, the plan [{string.Join(", ", machine.Roles)}]");
            }
        }

        return problems;
    }

    // What a machine's plan was made from: the constellation and the runbook of each role placed on it.
    private static string MachineSha256(PreparedFleet fleet, FleetMachine machine) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            string.Join("\n", [fleet.Constellation.TextHash, .. machine.Roles.Select(r => $"{r.Role} {r.RunbookPath} {r.RunbookSha256}")]))));
}

/// <summary>A saved fleet plan as read from its file: the plan, the path it goes by, and the SHA-256 of the file (what the next stage records).</summary>
/// <example><c>var approved = FleetPlanFile.Load("fleet.json");</c></example>
public sealed record FleetPlanFile(FleetPlan Plan, string Path, string Sha256)
{
    /// <summary>Reads a saved fleet plan; fails naming the file when it is not one (a single runbook's plan included).</summary>
    public static FleetPlanFile Load(string path)
    {
        var (plan, schema, sha256) = SavedPlan.ReadDocument<FleetPlan>(path, FleetPlan.CurrentSchema, "CONSTELLATION");
        return plan is not null ? new(plan, path, sha256) : throw new InvalidRunbookException(schema == SavedPlan.CurrentSchema
            ? $"{path}: a runbook's saved plan, not a constellation's; run it with `runbook run RUNBOOK --plan {path}`"
            : $"{path}: schema '{schema}' is not {FleetPlan.CurrentSchema}; plan again with this version");
    }
}

/// <summary>A role's runbook as the plan was made from it.</summary>
public sealed record PlannedRunbook(string Path, string Sha256);

/// <summary>One machine of a fleet plan: its roles and its saved plan (whose one host is the machine).</summary>
public sealed record PlannedMachine(string Machine, IReadOnlyList<string> Roles, SavedPlan Plan);
