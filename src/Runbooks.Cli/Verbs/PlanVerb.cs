using System.CommandLine;
using Runbooks.Cli.Output;
using Runbooks.Engine;

namespace Runbooks.Cli.Verbs;

/// <summary><c>runbook plan FILE [targets]</c>: probe every step read-only and show what would change, with argv.</summary>
internal static class PlanVerb
{
    public static Command Create()
    {
        var run = new TargetRun();
        var format = new Option<string>("--format") { Description = "text, json or markdown", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json", "markdown");
        var command = new Command("plan", "show, read-only, what each step would change on the host(s)");
        run.AddTo(command);
        command.Add(format);
        command.SetAction((parse, cancellationToken) => ExitCodes.GuardAsync(
            async () =>
            {
                var summary = await run.ExecuteAsync(parse, RunMode.Plan, (_, _, _) => new RunObserver(), cancellationToken).ConfigureAwait(false);
                Console.Write(PlanRenderer.Render(summary!, parse.GetValue(format)!));
                return summary!.Targets.Any(t => t.Steps.Any(s => s.Outcome == StepOutcome.Failed)) ? ExitCodes.Failed : ExitCodes.Done;
            },
            Console.Error));
        return command;
    }
}
