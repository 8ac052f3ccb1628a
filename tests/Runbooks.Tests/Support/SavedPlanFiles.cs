using System.Text.Json.Nodes;

namespace Runbooks.Tests.Support;

/// <summary>The actions a saved plan approves and the ones a run's journal recorded, as JSON text to compare.</summary>
internal static class SavedPlanFiles
{
    // A step waiting behind a blocked one shows what it would do now, but the plan's stage does not run it.
    public static List<string> PlannedActions(string plan) =>
        JsonNode.Parse(System.IO.File.ReadAllText(plan))!["hosts"]!.AsArray()
            .SelectMany(h => h!["targets"]!.AsArray()).SelectMany(t => t!["steps"]!.AsArray())
            .Where(s => s!["waitsFor"] is null).SelectMany(s => s!["actions"]!.AsArray())
            .SelectMany(a => WithArms(a!)).ToList();

    // The journal records a branch, then each action of the arm it took: a plan's branch stands for itself and both arms.
    private static IEnumerable<string> WithArms(JsonNode action) =>
        (string?)action["kind"] == "branch"
            ? [action.ToJsonString(), .. action["then"]!.AsArray().Concat(action["else"]!.AsArray()).SelectMany(a => WithArms(a!))]
            : [action.ToJsonString()];

    public static List<string> ExecutedActions(string journal) =>
        System.IO.File.ReadAllLines(journal).Select(l => JsonNode.Parse(l)!)
            .Where(r => (string?)r["event"] == "action").Select(r => r["action"]!.ToJsonString()).ToList();
}
