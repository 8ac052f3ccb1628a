using System.CommandLine;
using System.Text.Json.Nodes;
using Runbooks.Cli.Output;
using Runbooks.Compiler;
using Runbooks.Engine;
using Runbooks.Fleet;
using Runbooks.Journal;
using Runbooks.Scripting;

namespace Runbooks.Cli.Verbs;

/// <summary>
/// <c>plan</c> and <c>run</c> of a <c>*.constellation.csx</c>: the fleet options, loading and checking the
/// constellation, the rollout with its progress, and the compliance report. The verbs hand over to this when the
/// file is a constellation.
/// </summary>
internal sealed class ConstellationRun
{
    public Option<string[]> On { get; } = new("--on") { Description = "constellation: machines to act on, @tag or name, comma-separated or repeated (default: all)" };

    public Option<int> Limit { get; } = new("--limit") { Description = "constellation: at most N machines at once", DefaultValueFactory = _ => 10 };

    public Option<string?> Serial { get; } = new("--serial") { Description = "constellation run: rolling batches of N machines or P% of them" };

    public Option<string?> MaxFail { get; } = new("--max-fail") { Description = "constellation run: stop before the next batch once more than P% of a batch failed" };

    public void AddTo(Command command, bool rollout)
    {
        command.Add(On);
        command.Add(Limit);
        if (rollout)
        {
            command.Add(Serial);
            command.Add(MaxFail);
        }
    }

    /// <summary>Refuses the fleet options on a plain runbook, so a typo'd file name does not silently run one host.</summary>
    public void RefuseOnRunbook(ParseResult parse)
    {
        var given = new[] { ("--on", parse.GetResult(On) is { Implicit: false }), ("--limit", parse.GetResult(Limit) is { Implicit: false }), ("--serial", parse.GetValue(Serial) is not null), ("--max-fail", parse.GetValue(MaxFail) is not null) }
            .Where(o => o.Item2).Select(o => o.Item1).ToList();
        if (given.Count > 0)
        {
            throw new InvalidRunbookException($"{string.Join(", ", given)}: for a constellation (a *{ConstellationFile.Suffix} file), not a runbook");
        }
    }

    /// <summary>
    /// The compliance report; with <paramref name="output"/> also the fleet's saved plan, one per machine, made only when
    /// every machine was reached and probed; <paramref name="after"/> is the saved plan of the stage before.
    /// </summary>
    public async Task<int> PlanAsync(ParseResult parse, TargetRun run, string format, bool detailedExitCode, FileInfo? output, FileInfo? after, CancellationToken cancellationToken)
    {
        var previous = after is null ? null : FleetPlanFile.Load(after.FullName);
        await using var fleet = await PrepareAsync(parse, run).ConfigureAwait(false);
        if (previous is not null && previous.Plan.Constellation != fleet.Constellation.Path)
        {
            throw new InvalidRunbookException($"{after!.FullName}: a plan of {previous.Plan.Constellation}, not of {fleet.Constellation.Path}; --after names the plan of this constellation's previous stage");
        }

        var progress = new FleetProgress(Console.Error, Terminal.IsInteractive(parse.GetValue(run.NoColor)) && !Console.IsErrorRedirected);
        var summary = await new Rollout(fleet, Options(parse), progress, progress.For)
            .RunAsync(RunMode.Plan, locking: null, cancellationToken).ConfigureAwait(false);
        progress.Stop();
        var roles = Runbooks.Fleet.Compliance.From(summary);
        Console.Write(FleetRenderer.Compliance(roles, format, fleet.Constellation.Path));
        var failed = roles.Any(r => r.Status is ComplianceStatus.Unreachable or ComplianceStatus.Error);
        if (output is not null)
        {
            var unprobed = summary.Machines.Where(m => !m.Ok || m.Summary is null).ToList();
            if (unprobed.Count > 0)
            {
                // A saved plan approves every selected machine's actions; one the plan could not read has none to approve.
                Console.Error.WriteLine($"plan not saved: {string.Join("; ", unprobed.Select(m => $"{m.Machine.Name} {FleetRenderer.Status(m.Status)}{(m.Error is null ? "" : $": {m.Error}")}"))}; " +
                    "fix it, or leave it out with --on, and plan again");
                return ExitCodes.Failed;
            }

            var document = FleetPlan.From(fleet, summary, previous);
            await System.IO.File.WriteAllTextAsync(output.FullName, document.ToJson(), cancellationToken).ConfigureAwait(false);
            var name = Path.GetFileName(fleet.Constellation.Path);
            Console.Error.WriteLine($"plan saved: {output.FullName}, {document.Machines.Count} machine(s), {document.PendingChanges} step(s) to change " +
                $"(run it with `runbook run {name} --plan {output.Name}`; each machine is refused if a fact its plan rested on moved)");
            foreach (var staged in document.Machines.Where(m => !m.Plan.Stage.Last))
            {
                Console.Error.WriteLine($"  {staged.Machine}: stage {staged.Plan.Stage.Number}, {staged.Plan.Stage.Blocked.Count} step(s) blocked now and {staged.Plan.Stage.Waiting} waiting behind them: " +
                    StageHints.OnceRun(name, output.Name));
            }
        }

        if (failed)
        {
            return ExitCodes.Failed;
        }

        return detailedExitCode && roles.Any(r => r.Status == ComplianceStatus.Drift) ? ExitCodes.ChangesPending : ExitCodes.Done;
    }

    /// <summary>
    /// The rollout, journalled; with <paramref name="planFile"/> exactly that saved fleet plan, refused as a whole when the
    /// constellation or a role's runbook changed and per machine when a machine's facts moved.
    /// </summary>
    public async Task<int> RunAsync(ParseResult parse, TargetRun run, string? journalOption, bool breakLock, FileInfo? planFile, string? approvedBy, CancellationToken cancellationToken)
    {
        var options = Options(parse);
        var approved = planFile is null ? null : FleetPlanFile.Load(planFile.FullName);
        if (approved is not null && (parse.GetValue(On) ?? []).Length > 0)
        {
            throw new InvalidRunbookException("--plan runs the machines the plan was made for; drop --on (to approve fewer machines, plan with --on)");
        }

        await using var fleet = await PrepareAsync(parse, run, approved?.Plan.Machines.Select(m => m.Machine).ToList()).ConfigureAwait(false);
        if (approved is not null && approved.Plan.Drift(fleet) is { Count: > 0 } drift)
        {
            Console.Error.WriteLine(new PlanRefusal($"refusing the saved plan {planFile!.FullName}: what it was made from has changed; nothing was run on any machine.", drift, "plan again, review, and run the new plan"));
            return ExitCodes.Failed;
        }

        var path = fleet.Constellation.Path;
        var journalPath = journalOption ?? JournalWriter.DefaultPath(path);
        using var journal = new JournalWriter(journalPath, new RunMetadata(
            path,
            fleet.Constellation.TextHash,
            fleet.Machines.ToDictionary(m => m.Name, m => m.Transport!.Name),
            [],
            Environment.UserName,
            ToolVersion.Value)
        {
            SavedPlan = planFile?.FullName,
            ApprovedBy = approvedBy,
        });
        journal.Record("fleet-start", new JsonObject
        {
            ["constellation"] = path,
            ["hash"] = fleet.Constellation.TextHash,
            ["user"] = Environment.UserName,
            ["plan"] = planFile?.FullName,
            ["approvedBy"] = approvedBy,
            ["limit"] = options.Limit,
            ["serial"] = options.Serial?.ToString(),
            ["maxFail"] = options.MaxFailPercent,
            ["machines"] = new JsonObject(fleet.Machines.Select(m => KeyValuePair.Create(m.Name, (JsonNode?)new JsonObject
            {
                ["address"] = m.Transport!.Name,
                ["uri"] = m.Uri,
                ["roles"] = new JsonArray([.. m.Roles.Select(r => (JsonNode?)r.Role)]),
                ["planStage"] = approved?.Plan.Machine(m.Name)?.Plan.Stage.Number,
            }))),
        });
        var progress = new FleetProgress(Console.Out, Terminal.IsInteractive(parse.GetValue(run.NoColor)));
        var summary = await new Rollout(fleet, options, progress, m => new CompositeObserver(journal, progress.For(m)))
            .RunAsync(RunMode.Run, RunVerb.Locking(path, breakLock), cancellationToken, approved).ConfigureAwait(false);
        progress.Stop();
        journal.Record("fleet-end", new JsonObject
        {
            ["succeeded"] = summary.Succeeded,
            ["ms"] = Math.Round(summary.Duration.TotalMilliseconds, 1),
            ["stopped"] = summary.StoppedBecause,
            ["machines"] = new JsonObject(summary.Machines.Select(m => KeyValuePair.Create(m.Machine.Name, (JsonNode?)new JsonObject
            {
                ["status"] = FleetRenderer.Status(m.Status),
                ["changed"] = m.Changes,
                ["error"] = m.Error,
            }))),
        });
        Console.Write(FleetRenderer.Summary(summary));
        Console.WriteLine($"journal: {journal.Path}");
        if (summary.Succeeded && summary.StageDone.Count > 0)
        {
            Console.WriteLine(StageHints.PlanAgain($"stage done on {string.Join(", ", summary.StageDone.Select(m => m.Name))}, steps blocked there", Path.GetFileName(path), planFile!.Name));
            return ExitCodes.StageDone;
        }

        return summary.Succeeded ? ExitCodes.Done : ExitCodes.Failed;
    }

    private RolloutOptions Options(ParseResult parse) => RolloutOptions.Parse(parse.GetValue(Limit), parse.GetValue(Serial), parse.GetValue(MaxFail));

    // `machines`: a saved plan's, instead of --on.
    private async Task<PreparedFleet> PrepareAsync(ParseResult parse, TargetRun run, IReadOnlyList<string>? machines = null)
    {
        var problems = new List<string>();
        if ((parse.GetValue(run.Targets) ?? []).Length > 0)
        {
            problems.Add("a constellation runs its roles' targets; name targets in Role(\"name\", \"runbook.csx\", \"target\", …) instead");
        }

        if (parse.GetValue(run.SkipDependencies) || parse.GetValue(run.Parallel))
        {
            problems.Add("--skip-dependencies and --parallel are for a runbook; a constellation runs machines concurrently (--limit)");
        }

        if (problems.Count > 0)
        {
            throw new InvalidRunbookException(problems);
        }

        var noCache = parse.GetValue(run.NoCache);
        var cache = noCache ? null : CompileCache.Default();
        var file = parse.GetValue(run.File)!;
        var constellation = await ConstellationFile.LoadAsync(file.FullName, source => RunbookCompiler.Compile(source, ConstellationFile.Kind), cache).ConfigureAwait(false);
        var addresses = InventoryParser.Entries(parse.GetValue(run.Hosts) ?? [], parse.GetValue(run.Inventory)?.FullName);
        return await PreparedFleet.PrepareAsync(constellation, machines ?? parse.GetValue(On) ?? [], addresses, p => SharedOptions.Load(new FileInfo(p), noCache, Console.Error)).ConfigureAwait(false);
    }
}
