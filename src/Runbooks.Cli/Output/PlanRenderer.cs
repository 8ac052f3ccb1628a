using System.Text;
using Runbooks.Engine;

namespace Runbooks.Cli.Output;

/// <summary>
/// One plan, three renderings: text (the terminal), Markdown (a PR comment) and JSON (tools, and the saved plan
/// <c>run --plan</c> executes). Text and Markdown show the same things: observed state, checks, actions with
/// their diffs, notes.
/// </summary>
internal static class PlanRenderer
{
    public static string Render(RunSummary plan, string format, SavedPlan document) => format switch
    {
        "json" => document.ToJson(),
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
                    text.AppendLine($"    {check.Kind} {check.Description}: {CheckVerdict(check)}");
                }

                foreach (var step in target.Steps)
                {
                    const string Under = "                 ";
                    if (step.WaitsFor is not null)
                    {
                        text.AppendLine($"    {"waits",-12} {step.Description}").AppendLine($"{Under}{Waiting(step)}");
                        continue;
                    }

                    text.AppendLine($"    {Label(step.Outcome),-12} {step.Description}");
                    if (step.Outcome != StepOutcome.Satisfied)
                    {
                        text.AppendLine($"{Under}observed: {Indent(step.Observed, Under + "          ")}");
                    }

                    if (step.Destroys is not null && step.Outcome == StepOutcome.WillChange)
                    {
                        text.AppendLine($"{Under}DESTROYS: {step.Destroys}");
                    }

                    foreach (var reason in step.Unmet)
                    {
                        text.AppendLine($"{Under}precondition: {reason}");
                    }

                    if (step.Error is not null)
                    {
                        text.AppendLine($"{Under}error: {step.Error}");
                    }

                    foreach (var action in step.Actions)
                    {
                        text.AppendLine($"{Under}{(action is RunCommand ? "" : "» ")}{action.Summary}");
                        foreach (var line in action.Detail)
                        {
                            text.AppendLine($"{Under}  {line}");
                        }
                    }

                    foreach (var note in step.Notes)
                    {
                        text.AppendLine($"{Under}note: {note}");
                    }
                }
            }
        }

        text.AppendLine(Totals(plan));
        return text.ToString();
    }

    private static string Markdown(RunSummary plan)
    {
        var text = new StringBuilder().AppendLine("## Plan").AppendLine();
        foreach (var host in ByHost(plan))
        {
            text.AppendLine($"### Host `{plan.DescribeHost(host.Key)}`").AppendLine();
            foreach (var target in host)
            {
                text.AppendLine($"#### Target `{target.Name}`{(target.Error is null ? "" : $" — {Escape(target.Error)}")}").AppendLine();
                foreach (var check in target.Checks)
                {
                    text.AppendLine($"- {check.Kind} {Escape(check.Description)}: {Escape(CheckVerdict(check))}");
                }

                if (target.Checks.Count > 0)
                {
                    text.AppendLine();
                }

                foreach (var step in target.Steps)
                {
                    if (step.WaitsFor is not null)
                    {
                        text.AppendLine($"**waits** — {Escape(step.Description)}").AppendLine().AppendLine($"- {Escape(Waiting(step))}").AppendLine();
                        continue;
                    }

                    text.AppendLine($"**{Label(step.Outcome)}** — {Escape(step.Description)}").AppendLine();
                    if (step.Outcome != StepOutcome.Satisfied)
                    {
                        // Multi-line observed text keeps its lines and indentation in a block; one line stays inline.
                        if (step.Observed.Contains('\n', StringComparison.Ordinal))
                        {
                            text.AppendLine("- observed:").AppendLine().AppendLine("  ```").AppendLine("  " + step.Observed.Replace("\n", "\n  ", StringComparison.Ordinal)).AppendLine("  ```");
                        }
                        else
                        {
                            text.AppendLine($"- observed: {Escape(step.Observed)}");
                        }
                    }

                    if (step.Destroys is not null && step.Outcome == StepOutcome.WillChange)
                    {
                        text.AppendLine($"- ⚠ **destroys** {Escape(step.Destroys)}");
                    }

                    foreach (var reason in step.Unmet)
                    {
                        text.AppendLine($"- precondition: {Escape(reason)}");
                    }

                    if (step.Error is not null)
                    {
                        text.AppendLine($"- error: {Escape(step.Error)}");
                    }

                    foreach (var action in step.Actions)
                    {
                        text.AppendLine(action is RunCommand run ? $"- `{run.Command.Render().Replace("`", "'", StringComparison.Ordinal)}`" : $"- {Escape(action.Summary)}");
                        if (action.Detail.Count > 0)
                        {
                            text.AppendLine().AppendLine("  ```diff");
                            foreach (var line in action.Detail)
                            {
                                text.AppendLine("  " + line);
                            }

                            text.AppendLine("  ```");
                        }
                    }

                    foreach (var note in step.Notes)
                    {
                        text.AppendLine($"- note: {Escape(note)}");
                    }

                    text.AppendLine();
                }
            }
        }

        text.AppendLine(Totals(plan));
        return text.ToString();
    }

    private static string Totals(RunSummary plan)
    {
        var steps = plan.Targets.SelectMany(t => t.Steps).ToList();
        var waiting = steps.Count(s => s.WaitsFor is not null && s.Outcome != StepOutcome.Blocked);
        return $"{steps.Count(s => s.Outcome == StepOutcome.WillChange && s.WaitsFor is null)} step(s) would change; {steps.Count(s => s.Outcome == StepOutcome.Satisfied && s.WaitsFor is null)} satisfied; " +
            $"{steps.Count(s => s.Outcome == StepOutcome.Blocked)} blocked now" +
            (waiting > 0 ? $" and {waiting} waiting behind a blocked step" : "") + " (a blocked step may be unblocked by the steps before it: plan again once they ran).";
    }

    // A step behind a blocked one is probed (read-only) but not part of this plan: its actions are planned again next stage.
    private static string Waiting(StepResult step) =>
        $"behind {step.WaitsFor}, which is blocked now: planned in the next stage (now: {Label(step.Outcome)})";

    private static string CheckVerdict(CheckOutcome check) =>
        !check.Probed ? check.Observed : $"{(check.Holds ? "holds" : "does not hold")} ({check.Observed})";

    // Multi-line observed text keeps its shape: each further line starts under the first.
    private static string Indent(string text, string indent) => text.Replace("\n", "\n" + indent, StringComparison.Ordinal);

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    private static string Label(StepOutcome outcome) => outcome switch
    {
        StepOutcome.WillChange => "will change",
        StepOutcome.Satisfied => "satisfied",
        StepOutcome.Blocked => "blocked",
        _ => outcome.ToString().ToLowerInvariant(),
    };
}
