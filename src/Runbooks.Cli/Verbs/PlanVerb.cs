using System.CommandLine;
using Runbooks.Cli.Output;
using Runbooks.Engine;

namespace Runbooks.Cli.Verbs;

/// <summary><c>runbook plan FILE [targets]</c>: probe every step read-only and show what would change, with its actions.</summary>
internal static class PlanVerb
{
    public static Command Create()
    {
        var run = new TargetRun();
        var fleet = new ConstellationRun();
        var format = new Option<string>("--format") { Description = "text, json or markdown (and junit for a constellation)", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json", "markdown", "junit");
        var output = new Option<FileInfo?>("--out") { Description = "also save the plan (JSON) for `runbook run FILE --plan PLAN`" };
        var after = new Option<FileInfo?>("--after") { Description = "this plan is the next stage after that saved plan, which has run (a runbook whose later steps were blocked until earlier ones ran)" };
        var detailed = new Option<bool>("--detailed-exitcode") { Description = "exit 0 when nothing would change, 3 when changes are pending (1 failed, 2 usage)" };
        var command = new Command("plan", "show, read-only, what each step would change on the host(s)");
        run.AddTo(command, atRevision: true);
        command.Add(format);
        command.Add(output);
        command.Add(after);
        command.Add(detailed);
        fleet.AddTo(command, rollout: false);
        command.SetAction((parse, cancellationToken) => ExitCodes.GuardAsync(
            async () =>
            {
                if (Runbooks.Fleet.ConstellationFile.IsConstellation(parse.GetValue(run.File)!.FullName))
                {
                    return await fleet.PlanAsync(parse, run, parse.GetValue(format)!, parse.GetValue(detailed), parse.GetValue(output), parse.GetValue(after), cancellationToken).ConfigureAwait(false);
                }

                fleet.RefuseOnRunbook(parse);
                if (parse.GetValue(format) == "junit")
                {
                    throw new InvalidRunbookException("--format junit is a constellation's compliance report; a runbook's plan is text, json or markdown");
                }

                var (summary, document) = await run.PlanAsync(parse, cancellationToken, after: parse.GetValue(after)?.FullName).ConfigureAwait(false);
                Console.Write(PlanRenderer.Render(summary, parse.GetValue(format)!, document));
                if (parse.GetValue(output) is { } file)
                {
                    await System.IO.File.WriteAllTextAsync(file.FullName, document.ToJson(), cancellationToken).ConfigureAwait(false);
                    var name = parse.GetValue(run.File)!.Name;
                    Console.Error.WriteLine($"plan saved: {file.FullName}, stage {document.Stage.Number} (run it with `runbook run {name} --plan {file.Name}`)");
                    if (!document.Stage.Last)
                    {
                        // A saved plan holds only what was decided now: a step blocked now, or behind one, has no approved actions.
                        Console.Error.WriteLine(document.Stage.Changes == 0
                            ? $"  stage {document.Stage.Number} changes nothing and {document.Stage.Blocked.Count} step(s) stay blocked: no step before them unblocks them (see their preconditions above)"
                            : $"  this stage changes {document.Stage.Changes} step(s); {document.Stage.Blocked.Count} are blocked now and {document.Stage.Waiting} more wait behind them: " +
                              StageHints.OnceRun(name, file.Name));
                    }
                }

                if (summary.Targets.Any(t => t.Steps.Any(s => s.Outcome == StepOutcome.Failed)))
                {
                    return ExitCodes.Failed;
                }

                return parse.GetValue(detailed) && summary.PendingChanges > 0 ? ExitCodes.ChangesPending : ExitCodes.Done;
            },
            Console.Error));
        return command;
    }
}
