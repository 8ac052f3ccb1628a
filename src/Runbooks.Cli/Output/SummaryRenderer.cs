using System.Text;
using Runbooks.Engine;

namespace Runbooks.Cli.Output;

/// <summary>The closing table: every target with its status and duration, then one verdict line.</summary>
internal static class SummaryRenderer
{
    public static string Render(RunSummary summary)
    {
        var text = new StringBuilder().AppendLine();
        var width = Math.Max(6, summary.Targets.Count == 0 ? 0 : summary.Targets.Max(t => t.Name.Length));
        text.AppendLine($"{"target".PadRight(width)}  {"status",-9}  {"time",8}  steps");
        foreach (var target in summary.Targets)
        {
            var changed = target.Steps.Count(s => s.Outcome == StepOutcome.Changed);
            var satisfied = target.Steps.Count(s => s.Outcome == StepOutcome.Satisfied);
            text.AppendLine($"{target.Name.PadRight(width)}  {Status(target.Status),-9}  {target.Duration.TotalSeconds,7:0.00}s  {changed} changed, {satisfied} satisfied");
        }

        var counts = summary.Targets.GroupBy(t => t.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {Status(g.Key)}");
        text.AppendLine($"{(summary.Succeeded ? "done" : summary.StageDone ? "stage done" : "FAILED")}: {string.Join(", ", counts)} in {summary.Duration.TotalSeconds:0.00} s");
        return text.ToString();
    }

    public static string Status(TargetStatus status) => status switch
    {
        TargetStatus.Succeeded => "changed",
        TargetStatus.Satisfied => "satisfied",
        TargetStatus.Failed => "failed",
        TargetStatus.NotRun => "not run",
        TargetStatus.Waiting => "waiting",
        _ => "planned",
    };
}
