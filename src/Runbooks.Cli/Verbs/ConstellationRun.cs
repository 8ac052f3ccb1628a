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
    // Refused before anything is loaded or probed: a saved plan records one runbook's hosts, not a fleet's machines and roles.
    public const string NoSavedPlans =
        "saved plans of a constellation are not supported yet (plan --out/--after, run --plan): save a plan per role with " +
        "`runbook plan ROLE.csx --host NAME=URI --out PLAN.json` and run it with `runbook run ROLE.csx --host NAME=URI --plan PLAN.json`; " +
        "`runbook plan CONSTELLATION` is the fleet's compliance report";

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

    public async Task<int> PlanAsync(ParseResult parse, TargetRun run, string format, bool detailedExitCode, CancellationToken cancellationToken)
    {
        await using var fleet = await PrepareAsync(parse, run).ConfigureAwait(false);
        var progress = new FleetProgress(Console.Error, Terminal.IsInteractive(parse.GetValue(run.NoColor)) && !Console.IsErrorRedirected);
        var summary = await new Rollout(fleet, Options(parse), progress, progress.For)
            .RunAsync(RunMode.Plan, locking: null, cancellationToken).ConfigureAwait(false);
        progress.Stop();
        var roles = Runbooks.Fleet.Compliance.From(summary);
        Console.Write(FleetRenderer.Compliance(roles, format, fleet.Constellation.Path));
        if (roles.Any(r => r.Status is ComplianceStatus.Unreachable or ComplianceStatus.Error))
        {
            return ExitCodes.Failed;
        }

        return detailedExitCode && roles.Any(r => r.Status == ComplianceStatus.Drift) ? ExitCodes.ChangesPending : ExitCodes.Done;
    }

    public async Task<int> RunAsync(ParseResult parse, TargetRun run, string? journalOption, bool breakLock, CancellationToken cancellationToken)
    {
        var options = Options(parse);
        await using var fleet = await PrepareAsync(parse, run).ConfigureAwait(false);
        var path = fleet.Constellation.Path;
        var journalPath = journalOption ?? JournalWriter.DefaultPath(path);
        using var journal = new JournalWriter(journalPath, new RunMetadata(
            path,
            fleet.Constellation.TextHash,
            fleet.Machines.ToDictionary(m => m.Name, m => m.Transport!.Name),
            [],
            Environment.UserName,
            ToolVersion.Value));
        journal.Record("fleet-start", new JsonObject
        {
            ["constellation"] = path,
            ["hash"] = fleet.Constellation.TextHash,
            ["user"] = Environment.UserName,
            ["limit"] = options.Limit,
            ["serial"] = options.Serial?.ToString(),
            ["maxFail"] = options.MaxFailPercent,
            ["machines"] = new JsonObject(fleet.Machines.Select(m => KeyValuePair.Create(m.Name, (JsonNode?)new JsonObject
            {
                ["address"] = m.Transport!.Name,
                ["roles"] = new JsonArray([.. m.Roles.Select(r => (JsonNode?)r.Role)]),
            }))),
        });
        var progress = new FleetProgress(Console.Out, Terminal.IsInteractive(parse.GetValue(run.NoColor)));
        var summary = await new Rollout(fleet, options, progress, m => new CompositeObserver(journal, progress.For(m)))
            .RunAsync(RunMode.Run, RunVerb.Locking(path, breakLock), cancellationToken).ConfigureAwait(false);
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
        return summary.Succeeded ? ExitCodes.Done : ExitCodes.Failed;
    }

    private RolloutOptions Options(ParseResult parse) => RolloutOptions.Parse(parse.GetValue(Limit), parse.GetValue(Serial), parse.GetValue(MaxFail));

    private async Task<PreparedFleet> PrepareAsync(ParseResult parse, TargetRun run)
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
        return await PreparedFleet.PrepareAsync(constellation, parse.GetValue(On) ?? [], addresses, p => SharedOptions.Load(new FileInfo(p), noCache, Console.Error)).ConfigureAwait(false);
    }
}
