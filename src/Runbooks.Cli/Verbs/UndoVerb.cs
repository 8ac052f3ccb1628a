using System.CommandLine;
using Runbooks.Cli.Output;
using Runbooks.Engine;
using Runbooks.Journal;

namespace Runbooks.Cli.Verbs;

/// <summary><c>runbook undo JOURNAL [--apply]</c>: plan (default) or apply the inverse of a journaled run, newest change first.</summary>
internal static class UndoVerb
{
    public static Command Create()
    {
        var journalFile = new Argument<FileInfo>("journal") { Description = "the journal of the run to undo" };
        var hosts = SharedOptions.Hosts();
        var inventoryFile = SharedOptions.Inventory();
        var apply = new Option<bool>("--apply") { Description = "apply the undo (default: plan it, read-only)" };
        var journal = new Option<FileInfo?>("--journal") { Description = "journal of the undo itself (default ./.runbook/journal/undo-NAME-TIME.jsonl)" };
        var breakLock = new Option<bool>("--break-lock") { Description = "take over a host lock whose holder process is gone from this machine" };
        var verbose = SharedOptions.Verbose();
        var noColor = SharedOptions.NoColor();
        var command = new Command("undo", "plan, or with --apply run, the inverse of what a journaled run changed; says what cannot be undone")
        {
            journalFile, hosts, inventoryFile, apply, journal, breakLock, verbose, noColor,
        };
        command.SetAction((parse, cancellationToken) => ExitCodes.GuardAsync(
            async () =>
            {
                var source = parse.GetValue(journalFile)!.FullName;
                var undo = UndoPlan.FromJournal(source);
                // A fleet run's journal says where each machine was reached; --host and --inventory override that.
                await using var inventory = InventoryParser.Parse(parse.GetValue(hosts) ?? [], parse.GetValue(inventoryFile)?.FullName,
                    [.. undo.Machines.Select(m => (m.Name, m.Uri, $"{source} (fleet-start)"))]);
                if (undo.CannotUndo.Count > 0)
                {
                    Console.WriteLine($"cannot be undone ({undo.CannotUndo.Count}):");
                    foreach (var line in undo.CannotUndo)
                    {
                        Console.WriteLine($"  {line}");
                    }
                }

                if (undo.Targets.Count == 0)
                {
                    Console.WriteLine("nothing else was changed that can be put back.");
                    return ExitCodes.Done;
                }

                var names = undo.Targets.Select(t => t.Name).ToList();
                if (!parse.GetValue(apply))
                {
                    var plan = await new Runner(undo.Graph, inventory, new RunObserver()).RunAsync(new RunRequest(RunMode.Plan, names), cancellationToken).ConfigureAwait(false);
                    Console.Write(PlanRenderer.Render(plan, "text", SavedPlan.From(plan, source, "", names)));
                    var refused = plan.Targets.Sum(t => t.Steps.Count(s => s.Outcome == StepOutcome.Blocked));
                    var stops = undo.Machines.Count > 0 ? "stops that machine's undo" : "stops";
                    Console.WriteLine(refused > 0
                        ? $"{refused} change(s) blocked now (above): the host moved on since the run, or an undo step before them has to run first; " +
                          $"--apply probes each right before it and {stops} at the first still blocked"
                        : "apply it with --apply");
                    return refused > 0 ? ExitCodes.Failed : ExitCodes.Done;
                }

                var path = parse.GetValue(journal)?.FullName ?? JournalWriter.DefaultPath("undo-" + Path.GetFileName(source));
                using var writer = new JournalWriter(path, new RunMetadata(
                    source, "", inventory.Names.ToDictionary(n => n, n => inventory.Context(n).Transport.Name), names, Environment.UserName, ToolVersion.Value)
                {
                    UndoOf = source,
                });
                var reporter = new ConsoleReporter(Console.Out, Terminal.IsInteractive(parse.GetValue(noColor)), parse.GetValue(verbose), inventory.Names.ToDictionary(n => n, inventory.Address));
                var request = new RunRequest(RunMode.Run, names, Locking: RunVerb.Locking(source, parse.GetValue(breakLock)));
                var summary = await new Runner(undo.Graph, inventory, new CompositeObserver(writer, reporter)).RunAsync(request, cancellationToken).ConfigureAwait(false);
                reporter.Stop();
                Console.Write(SummaryRenderer.Render(summary));
                Console.WriteLine($"journal: {path}");
                return summary.Succeeded ? ExitCodes.Done : ExitCodes.Failed;
            },
            Console.Error));
        return command;
    }
}
