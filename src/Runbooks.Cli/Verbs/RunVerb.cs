using System.CommandLine;
using Runbooks.Cli.Output;
using Runbooks.Engine;
using Runbooks.Journal;

namespace Runbooks.Cli.Verbs;

/// <summary><c>runbook run FILE [targets]</c>: probe, apply, verify, journal.</summary>
internal static class RunVerb
{
    public static Command Create()
    {
        var run = new TargetRun();
        var fleet = new ConstellationRun();
        var journal = new Option<FileInfo?>("--journal") { Description = "journal file (default ./.runbook/journal/NAME-TIME.jsonl)" };
        var resume = new Option<FileInfo?>("--resume") { Description = "continue the run recorded in this journal (every step is probed again)" };
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "plan only: probe and show, change nothing" };
        var breakLock = new Option<bool>("--break-lock") { Description = "take over a host lock whose holder process is gone from this machine (a killed run)" };
        var savedPlan = new Option<FileInfo?>("--plan") { Description = "run exactly this saved plan (`runbook plan FILE --out PLAN`); refused if any fact it rested on changed" };
        var approvedBy = new Option<string?>("--approved-by") { Description = "who approved the saved plan; recorded in the journal" };
        var confirmTimeout = new Option<int>("--confirm-timeout")
        {
            Description = "seconds a step that can cut this controller off (firewall, routes, addresses, WireGuard, sshd config) has to be confirmed over a fresh SSH connection before the host reverts it by itself",
            DefaultValueFactory = _ => (int)ConfirmedApply.DefaultTimeout.TotalSeconds,
        };
        confirmTimeout.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 2)
            {
                r.AddError("--confirm-timeout must be at least 2 seconds");
            }
        });
        var command = new Command("run", "run the runbook: probe, apply, verify and journal each step");
        run.AddTo(command, atRevision: true);
        command.Add(journal);
        command.Add(resume);
        command.Add(dryRun);
        command.Add(breakLock);
        command.Add(savedPlan);
        command.Add(approvedBy);
        fleet.AddTo(command, rollout: true);
        command.Add(confirmTimeout);
        command.SetAction((parse, cancellationToken) => ExitCodes.GuardAsync(
            async () =>
            {
                if (Runbooks.Fleet.ConstellationFile.IsConstellation(parse.GetValue(run.File)!.FullName))
                {
                    if (parse.GetValue(dryRun) || parse.GetValue(resume) is not null)
                    {
                        throw new InvalidRunbookException("--dry-run and --resume are for a runbook; `runbook plan CONSTELLATION` is a constellation's dry run");
                    }

                    return await fleet.RunAsync(parse, run, parse.GetValue(journal)?.FullName, parse.GetValue(breakLock), parse.GetValue(savedPlan), parse.GetValue(approvedBy), cancellationToken).ConfigureAwait(false);
                }

                fleet.RefuseOnRunbook(parse);
                if (parse.GetValue(dryRun))
                {
                    var (plan, document) = await run.PlanAsync(parse, cancellationToken).ConfigureAwait(false);
                    Console.Write(PlanRenderer.Render(plan, "text", document));
                    return ExitCodes.Done;
                }

                SavedPlan? approved = null;
                if (parse.GetValue(savedPlan) is { } planFile)
                {
                    approved = SavedPlan.Load(planFile.FullName);
                    if ((parse.GetValue(run.Targets) ?? []).Length > 0 || parse.GetValue(resume) is not null)
                    {
                        throw new InvalidRunbookException("--plan runs the targets the plan was made for; drop the target names and --resume");
                    }

                    // Every fact the plan rested on is read again, read-only, before anything runs.
                    var (_, now) = await run.PlanAsync(parse, cancellationToken, approved.Targets).ConfigureAwait(false);
                    if (approved.RefusalAgainst(now, planFile.FullName) is { } refusal)
                    {
                        Console.Error.WriteLine(refusal);
                        return ExitCodes.Failed;
                    }
                }

                var resumed = parse.GetValue(resume) is { } resumeFile ? JournalReader.Read(resumeFile.FullName) : null;
                var journalPath = resumed?.Path ?? parse.GetValue(journal)?.FullName ?? JournalWriter.DefaultPath(parse.GetValue(run.File)!.FullName);
                var targets = approved?.Targets ?? (resumed is not null && (parse.GetValue(run.Targets) ?? []).Length == 0 ? resumed.RequestedTargets() : null);
                if (resumed is not null)
                {
                    Console.Error.WriteLine($"resuming {resumed.Path}: {resumed.CompletedTargets().Count} target(s) completed before; every step is probed again and what is done reports satisfied");
                }

                JournalWriter? writer = null;
                ConsoleReporter? reporter = null;
                try
                {
                    var summary = await run.ExecuteAsync(
                        parse,
                        RunMode.Run,
                        (runbook, inventory, requested) =>
                        {
                            writer = new JournalWriter(journalPath, new RunMetadata(
                                runbook.Source.Path,
                                runbook.Source.TextHash,
                                inventory.Names.ToDictionary(n => n, n => inventory.Context(n).Transport.Name),
                                requested,
                                Environment.UserName,
                                ToolVersion.Value,
                                resumed?.Path)
                            {
                                SavedPlan = parse.GetValue(savedPlan)?.FullName,
                                PlanStage = approved?.Stage.Number,
                                ApprovedBy = parse.GetValue(approvedBy),
                            });
                            reporter = new ConsoleReporter(Console.Out, Terminal.IsInteractive(parse.GetValue(run.NoColor)), parse.GetValue(run.Verbose),
                                inventory.Names.ToDictionary(n => n, inventory.Address));
                            return new CompositeObserver(writer, reporter);
                        },
                        cancellationToken,
                        targets,
                        Locking(parse.GetValue(run.File)!.FullName, parse.GetValue(breakLock)),
                        approved,
                        request: r => r with { RunId = Path.GetFileNameWithoutExtension(journalPath), ConfirmTimeout = TimeSpan.FromSeconds(parse.GetValue(confirmTimeout)) }).ConfigureAwait(false);
                    reporter?.Stop();
                    Console.Write(SummaryRenderer.Render(summary!));
                    Console.WriteLine($"journal: {journalPath}");
                    if (approved is not null && summary!.StageDone)
                    {
                        var name = parse.GetValue(run.File)!.Name;
                        Console.WriteLine(StageHints.PlanAgain($"stage {approved.Stage.Number} done, {approved.Stage.Blocked.Count} steps blocked", name, parse.GetValue(savedPlan)!.Name, $"stage{approved.Stage.Number + 1}.json"));
                        return ExitCodes.StageDone;
                    }

                    return summary!.Succeeded ? ExitCodes.Done : ExitCodes.Failed;
                }
                catch (Exception ex) when (writer is not null && ex is OperationCanceledException or RunbookException)
                {
                    reporter?.Stop();
                    writer.Aborted(ex is OperationCanceledException ? "cancelled by the operator" : ex.Message);
                    Console.Error.WriteLine($"journal: {journalPath}");
                    throw;
                }
                finally
                {
                    writer?.Dispose();
                }
            },
            Console.Error));
        return command;
    }

    internal static HostLocking Locking(string runbook, bool breakStale) => HostLocking.FromEnvironment(runbook, breakStale);
}
