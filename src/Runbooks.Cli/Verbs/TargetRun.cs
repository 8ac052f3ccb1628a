using System.CommandLine;
using Runbooks.Engine;
using Runbooks.Scripting;

namespace Runbooks.Cli.Verbs;

/// <summary>What plan and run share: the options, loading the runbook, the inventory, and handing the graph to the runner.</summary>
internal sealed class TargetRun
{
    public Argument<FileInfo> File { get; } = SharedOptions.Runbook();

    public Argument<string[]> Targets { get; } = SharedOptions.Targets();

    public Option<bool> NoCache { get; } = SharedOptions.NoCache();

    public Option<string[]> Hosts { get; } = SharedOptions.Hosts();

    public Option<FileInfo?> Inventory { get; } = SharedOptions.Inventory();

    public Option<bool> SkipDependencies { get; } = SharedOptions.SkipDependencies();

    public Option<bool> Parallel { get; } = SharedOptions.Parallel();

    public Option<bool> Verbose { get; } = SharedOptions.Verbose();

    public Option<bool> NoColor { get; } = SharedOptions.NoColor();

    public Option<string?> At { get; } = new("--at") { Description = "the runbook (and every file of its repository) as committed at this git revision: rollback by applying the previous state" };

    public void AddTo(Command command, bool atRevision = false)
    {
        if (atRevision)
        {
            command.Add(At);
        }

        command.Add(File);
        command.Add(Targets);
        command.Add(NoCache);
        command.Add(Hosts);
        command.Add(Inventory);
        command.Add(SkipDependencies);
        command.Add(Parallel);
        command.Add(Verbose);
        command.Add(NoColor);
    }

    /// <summary>
    /// A read-only plan, with its document (the JSON rendering and the saved plan); <paramref name="after"/> names the
    /// saved plan of the stage before, checked against this runbook and its targets before anything is probed.
    /// </summary>
    public async Task<(RunSummary Summary, SavedPlan Document)> PlanAsync(ParseResult parse, CancellationToken cancellationToken, IReadOnlyList<string>? targetsOverride = null, string? after = null)
    {
        SavedPlan? document = null;
        PreviousStage? previous = null;
        var summary = await ExecuteAsync(
            parse,
            RunMode.Plan,
            (runbook, _, requested) =>
            {
                previous = after is null ? null : PreviousStage.Of(after, runbook.Source.Path, requested);
                return new RunObserver();
            },
            cancellationToken,
            targetsOverride,
            onSummary: (runbook, requested, s) => document = SavedPlan.From(s, runbook.Source.Path, runbook.Source.TextHash, requested, previous)).ConfigureAwait(false);
        return (summary!, document!);
    }

    /// <summary>Loads the runbook, builds the inventory, and runs the graph in <paramref name="mode"/>.</summary>
    public async Task<RunSummary?> ExecuteAsync(
        ParseResult parse,
        RunMode mode,
        Func<LoadedRunbook, Inventory, IReadOnlyList<string>, IRunObserver> observer,
        CancellationToken cancellationToken,
        IReadOnlyList<string>? targetsOverride = null,
        HostLocking? locking = null,
        SavedPlan? approved = null,
        Action<LoadedRunbook, IReadOnlyList<string>, RunSummary>? onSummary = null,
        Func<RunRequest, RunRequest>? request = null)
    {
        using var atRevision = parse.GetValue(At) is { } revision ? await RunbookAtRevision.ExtractAsync(parse.GetValue(File)!, revision, cancellationToken).ConfigureAwait(false) : null;
        var runbook = SharedOptions.Load(atRevision?.File ?? parse.GetValue(File)!, parse.GetValue(NoCache), Console.Error);
        await using var inventory = InventoryParser.Parse(parse.GetValue(Hosts) ?? [], parse.GetValue(Inventory)?.FullName);
        RunSummary? summary = null;
        var names = targetsOverride ?? parse.GetValue(Targets) ?? [];
        await runbook.ExecuteAsync(names, async (graph, requested) =>
        {
            var made = new RunRequest(mode, requested, parse.GetValue(SkipDependencies), parse.GetValue(Parallel), locking) { Approved = approved };
            var runner = new Runner(graph, inventory, observer(runbook, inventory, requested));
            summary = await runner.RunAsync(request?.Invoke(made) ?? made, cancellationToken).ConfigureAwait(false);
            onSummary?.Invoke(runbook, requested, summary);
        }).ConfigureAwait(false);
        return summary;
    }
}
