using System.Text;
using System.Text.Json;
using Runbooks.Engine;

namespace Runbooks.Cli.Output;

/// <summary>A plan as text (the terminal), JSON (tools) or Markdown (a PR comment), grouped by host.</summary>
internal static class PlanRenderer
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    public static string Render(RunSummary plan, string format) => format switch
    {
        "json" => JsonSerializer.Serialize(new { hosts = ByHost(plan).Select(h => new { host = h.Key, address = plan.HostAddresses.GetValueOrDefault(h.Key, h.Key), targets = h.ToList() }), pendingChanges = plan.PendingChanges }, Json) + "\n",
        "markdown" => Markdown(plan),
        _ => Text(plan),
    };

    private static IEnumerable<IGrouping<string, TargetResult>> ByHost(RunSummary plan) => plan.Targets.GroupBy(t => t.Host);

    private static string Text(RunSummary plan)
    {
        var text = new StringBuilder();
        foreach (var host in ByHost(plan))
        {
            text.AppendLine($"host {plan.DescribeHost(host.Key)}");
            foreach (var target in host)
            {
                text.AppendLine($"  target {target.Name}{(target.Error is null ? "" : $" — {target.Error}")}");
                foreach (var check in target.Checks)
                {
                    text.AppendLine($"    {check.Kind} {check.Description}: {(check.Holds ? "holds" : "does not hold")} ({check.Observed})");
                }

                foreach (var step in target.Steps)
                {
                    text.AppendLine($"    {Label(step.Outcome),-12} {step.Description}");
                    if (step.Outcome != StepOutcome.Satisfied)
                    {
                        text.AppendLine($"                 observed: {step.Observed}");
                    }

                    if (step.Destroys is not null && step.Outcome == StepOutcome.WillChange)
                    {
                        text.AppendLine($"                 DESTROYS: {step.Destroys}");
                    }

                    foreach (var reason in step.Unmet)
                    {
                        text.AppendLine($"                 precondition: {reason}");
                    }

                    if (step.Error is not null)
                    {
                        text.AppendLine($"                 error: {step.Error}");
                    }

                    foreach (var command in step.Commands)
                    {
                        text.AppendLine($"                 $ {command}");
                    }

                    foreach (var note in step.Notes)
                    {
                        text.AppendLine($"                 then {note}");
                    }
                }
            }
        }

        text.AppendLine($"{plan.PendingChanges} step(s) would change; {plan.Targets.Sum(t => t.Steps.Count(s => s.Outcome == StepOutcome.Satisfied))} satisfied; {plan.Targets.Sum(t => t.Steps.Count(s => s.Outcome == StepOutcome.Blocked))} blocked now (a blocked step may be unblocked by the steps before it).");
        return text.ToString();
    }

    private static string Markdown(RunSummary plan)
    {
        var text = new StringBuilder().AppendLine("## Plan").AppendLine();
        foreach (var host in ByHost(plan))
        {
            text.AppendLine($"### Host `{plan.DescribeHost(host.Key)}`").AppendLine().AppendLine("| target | step | decision | commands |").AppendLine("|---|---|---|---|");
            foreach (var target in host)
            {
                foreach (var step in target.Steps)
                {
                    var commands = string.Join("<br>", step.Commands.Select(c => $"`{c.Replace("|", "\\|", StringComparison.Ordinal)}`"));
                    var decision = Label(step.Outcome) + (step.Destroys is not null && step.Outcome == StepOutcome.WillChange ? $" ⚠ destroys {step.Destroys}" : "")
                        + (step.Unmet.Count > 0 ? $" ({string.Join("; ", step.Unmet)})" : "");
                    text.AppendLine($"| {target.Name} | {step.Description.Replace("|", "\\|", StringComparison.Ordinal)} | {decision} | {commands} |");
                }
            }

            text.AppendLine();
        }

        text.AppendLine($"**{plan.PendingChanges}** step(s) would change.");
        return text.ToString();
    }

    private static string Label(StepOutcome outcome) => outcome switch
    {
        StepOutcome.WillChange => "will change",
        StepOutcome.Satisfied => "satisfied",
        StepOutcome.Blocked => "blocked",
        _ => outcome.ToString().ToLowerInvariant(),
    };
}
