using System.Text.Json.Nodes;
using Runbooks.Engine;

namespace Runbooks.Journal;

/// <summary>
/// A run of a saved plan compared with the plan, action for action, from the run's journal. Equal when each step the
/// plan's stage approved ran exactly its planned actions in order (a branch: the branch, then the actions of one of
/// its arms), every other step ran none, and each approved step ended. An approved step that already held when probed
/// again right before it ran (a tunnel whose peers shook hands meanwhile) runs none of its actions: that is equal
/// too, and named in <see cref="HeldWhenProbedAgain"/>.
/// </summary>
/// <param name="Stage">The plan's stage number.</param>
/// <param name="Steps">The steps the stage approved a change for.</param>
/// <param name="Actions">The actions the journal recorded for the run.</param>
/// <param name="HeldWhenProbedAgain">Approved steps that already held when the run reached them, so ran nothing.</param>
/// <param name="Differences">What ran otherwise than the plan showed; empty when the run was its plan.</param>
public sealed record PlanConformance(int Stage, int Steps, int Actions, IReadOnlyList<string> HeldWhenProbedAgain, IReadOnlyList<string> Differences)
{
    /// <summary>Nothing ran that the plan did not show, and every approved step ran as shown or already held.</summary>
    public bool Equal => Differences.Count == 0;

    /// <summary>Equal, and every approved step ran all of its actions.</summary>
    public bool Exact => Equal && HeldWhenProbedAgain.Count == 0;

    /// <summary>
    /// Compares the run of the plan saved at <paramref name="planPath"/> that <paramref name="journal"/> recorded (the last
    /// run started with that plan: a journal may hold several stages) with the plan.
    /// </summary>
    public static PlanConformance Of(SavedPlan plan, string planPath, JournalReader journal)
    {
        var start = journal.Records.Select((r, i) => (r, i)).LastOrDefault(p => JournalReader.Str(p.r, "event") == "run-start" && JournalReader.Str(p.r, "plan") == planPath);
        if (start.r is null)
        {
            return new(plan.Stage.Number, Approved(plan).Count, 0, [], [$"{journal.Path} holds no run of the saved plan {planPath}"]);
        }

        return Compare(plan, [.. journal.Records.Skip(start.i + 1).TakeWhile(r => JournalReader.Str(r, "event") != "run-start")]);
    }

    /// <summary>
    /// Each machine's run of the fleet plan saved at <paramref name="planPath"/> that <paramref name="journal"/> recorded
    /// (the last fleet run started with it), compared with that machine's plan. Machines run concurrently into one
    /// journal, so each is compared on its own records; a machine refused or not run has none, so differs.
    /// </summary>
    public static IReadOnlyList<(string Machine, PlanConformance Conformance)> OfFleet(Fleet.FleetPlan plan, string planPath, JournalReader journal)
    {
        var start = journal.Records.Select((r, i) => (r, i)).LastOrDefault(p => JournalReader.Str(p.r, "event") == "fleet-start" && JournalReader.Str(p.r, "plan") == planPath);
        var run = start.r is null ? [] : journal.Records.Skip(start.i + 1).TakeWhile(r => JournalReader.Str(r, "event") != "fleet-start").ToList();
        return [.. plan.Machines.Select(m => (m.Machine, start.r is null
            ? new PlanConformance(m.Plan.Stage.Number, Approved(m.Plan).Count, 0, [], [$"{journal.Path} holds no fleet run of the saved plan {planPath}"])
            : Compare(m.Plan, [.. run.Where(r => JournalReader.Str(r, "host") == m.Machine)])))];
    }

    private static List<(PlannedHost Host, PlannedTarget Target, PlannedStep Step)> Approved(SavedPlan plan) =>
        [.. plan.Steps().Where(s => s.Step.InStage && s.Step.WillChange)];

    // The run's records (from its start to its end) against the plan.
    private static PlanConformance Compare(SavedPlan plan, IReadOnlyList<JsonObject> run)
    {
        var approved = Approved(plan);
        var ran = run.Where(r => JournalReader.Str(r, "event") == "action")
            .GroupBy(r => (Host: JournalReader.Str(r, "host"), Target: JournalReader.Str(r, "target"), Step: (int?)r["step"]))
            .ToDictionary(g => g.Key, g => g.Select(r => r["action"]!).ToList());
        var ended = run.Where(r => JournalReader.Str(r, "event") == "step-end")
            .ToDictionary(r => (Host: JournalReader.Str(r, "host"), Target: JournalReader.Str(r, "target"), Step: (int?)r["step"]), r => JournalReader.Str(r, "outcome"));

        var held = new List<string>();
        var differences = new List<string>();
        foreach (var (host, target, step) in approved)
        {
            var key = (Host: (string?)host.Host, Target: (string?)target.Name, Step: (int?)step.Step);
            var name = $"on host {host.Host}: {target.Name} step {step.Step} ('{step.Description}')";
            var actions = ran.Remove(key, out var list) ? list : [];
            var outcome = ended.GetValueOrDefault(key);
            if (outcome is null)
            {
                differences.Add($"{name} was approved but never ended in the run");
            }
            else if (outcome == nameof(StepOutcome.Satisfied) && actions.Count == 0)
            {
                held.Add(name);
            }
            else if (!RanAsPlanned(step.Actions, actions))
            {
                differences.Add($"{name} ran [{Summaries(actions)}], the plan showed [{string.Join("; ", step.Actions.Select(a => (string?)a["summary"]))}]");
            }
        }

        foreach (var (key, actions) in ran)
        {
            differences.Add($"on host {key.Host}: {key.Target} step {key.Step} ran [{Summaries(actions)}], which the plan's stage did not approve");
        }

        return new(plan.Stage.Number, approved.Count, run.Count(r => JournalReader.Str(r, "event") == "action"), held, differences);
    }

    /// <summary>One line for a report: "stage 2: 5 step(s), 9 action(s), equal to its plan".</summary>
    public override string ToString() =>
        $"stage {Stage}: {Steps} step(s), {Actions} action(s), " +
        (Equal ? "equal to its plan" : $"NOT its plan: {string.Join("; ", Differences)}") +
        (HeldWhenProbedAgain.Count > 0 ? $" ({HeldWhenProbedAgain.Count} already held when probed again, so none of its actions ran: {string.Join("; ", HeldWhenProbedAgain)})" : "");

    private static bool RanAsPlanned(IReadOnlyList<JsonObject> planned, List<JsonNode> ran) =>
        Runs([.. planned]).Any(r => r.Count == ran.Count && r.Zip(ran).All(p => JsonNode.DeepEquals(p.First, p.Second)));

    // Every sequence the plan's actions can run as: a branch runs as itself, then the actions of one of its arms.
    private static List<List<JsonNode?>> Runs(IReadOnlyList<JsonNode?> planned)
    {
        List<List<JsonNode?>> runs = [[]];
        foreach (var action in planned)
        {
            List<List<JsonNode?>> ways = (string?)action!["kind"] == "branch"
                ? [.. Runs([.. action["then"]!.AsArray()]).Concat(Runs([.. action["else"]!.AsArray()])).Select(arm => (List<JsonNode?>)[action, .. arm])]
                : [[action]];
            runs = [.. runs.SelectMany(r => ways.Select(w => (List<JsonNode?>)[.. r, .. w]))];
        }

        return runs;
    }

    private static string Summaries(IEnumerable<JsonNode> actions) => string.Join("; ", actions.Select(a => (string?)a["summary"]));
}
