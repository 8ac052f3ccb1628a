using System.Diagnostics;
using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Journal;
using Runbooks.Scripting;

namespace Runbooks.Harness.Lifecycle;

/// <summary>Options for a whole harness run.</summary>
/// <param name="OutputDirectory">Where report.md, junit.xml and the journals go.</param>
/// <param name="Keep">Leave the hosts up when the run fails, and say how to reach them.</param>
public sealed record HarnessRunOptions(string OutputDirectory, double Scale = 0.1, bool Keep = false, bool Verbose = false, CompileCache? Cache = null)
{
    /// <summary>
    /// Called once each stage's plan is saved, before its facts are read again for the run: the time a reviewer takes,
    /// in which a host may move. Tests move a fact here and see the plan refused, without a scenario of their own.
    /// </summary>
    internal Func<PlanInReview, CancellationToken, Task>? WhileInReview { get; init; }
}

/// <summary>A stage's saved plan waiting for its run; <see cref="RefusalNowAsync"/> reads its facts again as the run will.</summary>
internal sealed record PlanInReview(int Stage, string Path, IHarnessEnvironment Environment, Func<CancellationToken, Task<PlanRefusal?>> RefusalNowAsync);

/// <summary>
/// create → break → verify-broken → converge → verify → idempotence → destroy. A phase that fails ends the
/// run (destroy still happens unless <c>--keep</c>); every phase is timed and reported.
/// </summary>
public sealed class HarnessRunner(Func<ScriptSource, CompiledRunbook> compile, TextWriter log)
{
    /// <summary>The environment variable a scenario-aware runbook reads its size factor from.</summary>
    public const string ScaleVariable = RunbookGlobals.ScaleVariable;

    /// <summary>Runs the whole lifecycle of a loaded scenario against the runbook it proves (<paramref name="runbookPath"/>, else the one it names).</summary>
    /// <param name="backend">Replaces the declared backend (tests use a scratch directory as the host); null for the declared one.</param>
    public async Task<HarnessReport> RunAsync(ScenarioDefinition scenario, string? runbookPath, HarnessRunOptions options, CancellationToken cancellationToken, IBackend? backend = null)
    {
        runbookPath ??= scenario.Runbook
            ?? throw new InvalidRunbookException($"{scenario.Path} names no runbook (add Proves(\"x.csx\") to it) and none was given: `runbook harness run {scenario.Name} RUNBOOK`");
        backend ??= scenario.CreateBackend();
        var runId = $"rb{DateTime.UtcNow:HHmmss}{Environment.ProcessId % 1000:000}";
        Directory.CreateDirectory(options.OutputDirectory);
        var harnessOptions = new HarnessOptions(runId, Path.Combine(options.OutputDirectory, "work"), options.Scale, options.Verbose);
        var report = new HarnessReport { Scenario = scenario.Name, Runbook = runbookPath, Backend = backend.Name, RunId = runId, Scale = options.Scale };
        Environment.SetEnvironmentVariable(ScaleVariable, options.Scale.ToString(CultureInfo.InvariantCulture));

        var (runbook, environment) = await CompileAndCreateAsync(report.Phases, log, runbookPath, compile, options.Cache, backend, harnessOptions, cancellationToken).ConfigureAwait(false);
        if (runbook is null || environment is null)
        {
            return Finish(report, options);
        }

        foreach (var (key, value) in environment.Facts)
        {
            report.Facts[key] = value;
        }

        try
        {
            var ok = await Phase(report, "break", () => BreakAsync(scenario, environment, Path.Combine(options.OutputDirectory, "break.jsonl"), cancellationToken)).ConfigureAwait(false)
                && await VerifyBrokenAsync(scenario, environment, harnessOptions, report, cancellationToken).ConfigureAwait(false)
                && await ConvergeAsync(scenario, environment, harnessOptions, runbook, options, report, cancellationToken).ConfigureAwait(false)
                && await VerifyAsync(scenario, environment, harnessOptions, report, cancellationToken).ConfigureAwait(false)
                && await IdempotenceAsync(environment, runbook, options, report, cancellationToken).ConfigureAwait(false);
            if (!ok && options.Keep)
            {
                report.HowToReach = environment.HowToReach;
                return Finish(report, options);
            }
        }
        catch (OperationCanceledException)
        {
            report.Phases.Add(new PhaseResult("cancelled", false, TimeSpan.Zero, "the run was cancelled"));
        }

        await Phase(report, "destroy", async () =>
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var leaks = await environment.DestroyAsync(timeout.Token).ConfigureAwait(false);
            report.Leaks.AddRange(leaks);
            await environment.DisposeAsync().ConfigureAwait(false);
            return (leaks.Count == 0, leaks.Count == 0 ? "nothing left behind" : $"leaked: {string.Join(", ", leaks)}");
        }).ConfigureAwait(false);
        return Finish(report, options);
    }

    /// <summary>
    /// Runs the scenario's break targets on the fresh hosts: a runbook that breaks, with its own journal. A break that
    /// changes nothing cannot be reproducing an incident, so it fails the phase.
    /// </summary>
    public static async Task<(bool Ok, string Detail)> BreakAsync(ScenarioDefinition scenario, IHarnessEnvironment environment, string journalPath, CancellationToken cancellationToken)
    {
        var summary = await RunGraphAsync(environment, scenario.Break, [], scenario.Path, "", journalPath, new MutationRecorder(), cancellationToken).ConfigureAwait(false);
        if (!summary.Succeeded)
        {
            return (false, $"the break failed: {string.Join("; ", summary.Targets.Where(t => !t.Ok).Select(t => $"{t.Name}: {t.Error}"))}");
        }

        var changed = summary.Targets.Sum(t => t.Steps.Count(s => s.Outcome == StepOutcome.Changed));
        return changed == 0
            ? (false, $"the break changed nothing on the fresh hosts ({summary.Targets.Sum(t => t.Steps.Count)} step(s), all satisfied): it reproduces no incident")
            : (true, $"broken as the incident was: {changed} step(s) changed");
    }

    private async Task<bool> VerifyBrokenAsync(ScenarioDefinition scenario, IHarnessEnvironment environment, HarnessOptions options, HarnessReport report, CancellationToken cancellationToken) =>
        await Phase(report, "verify-broken", async () =>
        {
            foreach (var spec in scenario.Specs)
            {
                var result = await EvaluateAsync(environment, spec, cancellationToken).ConfigureAwait(false);
                report.Specs.Add(new SpecResult(spec.Name, spec.Host, spec.BrokenByIncident, result.Holds, result.Observed, null, ""));
            }

            var proveNothing = report.Specs.Where(s => !s.BrokenPhaseOk).Select(s => s.Name).ToList();
            return (proveNothing.Count == 0, proveNothing.Count == 0
                ? $"{report.Specs.Count(s => s.BrokenByIncident)} spec(s) fail on the broken hosts, as they must"
                : $"pass on the broken hosts, so they prove nothing: {string.Join(", ", proveNothing)}");
        }).ConfigureAwait(false);

    // The converge is what an operator does with saved plans: plan, approve, run exactly that, and plan the next stage
    // while the last run says steps were blocked. Every stage's journal must hold exactly its plan's actions.
    private async Task<bool> ConvergeAsync(ScenarioDefinition scenario, IHarnessEnvironment environment, HarnessOptions options, LoadedRunbook runbook, HarnessRunOptions runOptions, HarnessReport report, CancellationToken cancellationToken) =>
        await Phase(report, "converge", async () =>
        {
            await using var monitors = await MonitorSet.StartAsync(scenario, environment, options, cancellationToken).ConfigureAwait(false);
            var journal = Path.Combine(runOptions.OutputDirectory, "converge.jsonl");
            report.ConvergeJournal = journal;
            // The journal and plans of an earlier run into the same directory would read as stages of this one.
            foreach (var stale in Directory.GetFiles(runOptions.OutputDirectory, "plan-stage*.json").Append(journal))
            {
                File.Delete(stale);
            }

            var converge = await ConvergeThroughSavedPlansAsync(environment, runbook, runOptions.OutputDirectory, journal, cancellationToken, runOptions.WhileInReview).ConfigureAwait(false);
            foreach (var (key, value) in await monitors.StopAsync().ConfigureAwait(false))
            {
                report.Monitor[key] = value;
            }

            report.ConvergeStages.AddRange(converge.Stages);
            var summary = converge.Summary;
            if (summary is not null)
            {
                report.ConvergeTargets.AddRange(summary.Targets.Select(t =>
                    $"{t.Name} ({t.Host}): {t.Status}, {t.Duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s{(t.Error is null ? "" : $" — {t.Error}")}"));
            }

            var stages = $"{converge.Stages.Count} approved stage(s)";
            if (converge.Refused is { } refused)
            {
                return (false, $"stage {converge.Stages.Count + 1} refused: {refused}");
            }

            if (converge.Stages.FirstOrDefault(s => !s.Equal) is { } unequal)
            {
                return (false, $"a run did not do what its saved plan showed: {unequal}");
            }

            return (summary!.Succeeded, summary.Succeeded
                ? $"{converge.Changed} step(s) changed in {stages}, each equal to its plan"
                : $"failed in stage {converge.Stages.Count} of {stages}: {string.Join("; ", summary.Targets.Where(t => !t.Ok).Select(t => $"{t.Name}: {t.Error}"))}");
        }).ConfigureAwait(false);

    /// <summary>What a converge through saved plans did: each stage's comparison with its plan, the last run, and why a stage was refused.</summary>
    internal sealed record SavedPlanConverge(IReadOnlyList<ConvergeStage> Stages, RunSummary? Summary, int Changed, string? Refused);

    // A runbook whose every stage changes something yet still leaves steps blocked would loop for ever; no shipped one needs more than a few.
    private const int MaxStages = 10;

    /// <summary>
    /// Converges through saved plans, as <c>runbook plan --out</c> / <c>runbook run --plan</c> do, stage after stage: plan
    /// (read-only, saved as <c>plan-stageN.json</c> in <paramref name="directory"/> and read back), plan again right before
    /// the run and refuse if a fact moved, run exactly the saved plan (appended to <paramref name="journal"/>), compare
    /// the run with its plan, and plan the next stage <c>--after</c> it while the run stopped at blocked steps.
    /// </summary>
    internal static async Task<SavedPlanConverge> ConvergeThroughSavedPlansAsync(IHarnessEnvironment environment, LoadedRunbook runbook, string directory, string journal, CancellationToken cancellationToken,
        Func<PlanInReview, CancellationToken, Task>? whileInReview = null)
    {
        var stages = new List<ConvergeStage>();
        var changed = 0;
        PreviousStage? previous = null;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var path = Path.Combine(directory, $"plan-stage{stages.Count + 1}.json");
            clock.Restart();
            var (_, document) = await PlanAsync(environment, runbook, previous, cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(path, document.ToJson(), cancellationToken).ConfigureAwait(false);
            var approved = SavedPlan.Load(path);
            var planned = clock.Elapsed;

            // What `run --plan` does first: plan again, read-only, and refuse the saved plan if anything it rested on moved.
            async Task<PlanRefusal?> RefusalNowAsync(CancellationToken ct) =>
                approved.RefusalAgainst((await PlanAsync(environment, runbook, null, ct).ConfigureAwait(false)).Document, path);
            if (whileInReview is not null)
            {
                await whileInReview(new(stages.Count + 1, path, environment, RefusalNowAsync), cancellationToken).ConfigureAwait(false);
            }

            clock.Restart();
            if (await RefusalNowAsync(cancellationToken).ConfigureAwait(false) is { } refusal)
            {
                return new(stages, null, changed, refusal.ToString());
            }

            var reread = clock.Elapsed;
            clock.Restart();
            var (summary, _) = await RunRunbookAsync(environment, runbook, journal, cancellationToken, (approved, path)).ConfigureAwait(false);
            changed += summary.Targets.Sum(t => t.Steps.Count(s => s.Outcome == StepOutcome.Changed));
            stages.Add(new(PlanConformance.Of(approved, path, JournalReader.Read(journal)), planned, reread, clock.Elapsed));
            if (!summary.StageDone || !stages[^1].Equal || stages.Count == MaxStages)
            {
                return new(stages, summary, changed, summary.StageDone && stages.Count == MaxStages ? $"still blocked after {MaxStages} stages" : null);
            }

            previous = PreviousStage.Of(path, runbook.Source.Path, approved.Targets);
        }
    }

    /// <summary>A read-only plan of the runbook and its saved-plan document, the next stage after <paramref name="after"/> when given.</summary>
    internal static async Task<(RunSummary Summary, SavedPlan Document)> PlanAsync(IHarnessEnvironment environment, LoadedRunbook runbook, PreviousStage? after, CancellationToken cancellationToken)
    {
        (RunSummary, SavedPlan)? planned = null;
        var mutations = new MutationRecorder();
        await runbook.ExecuteAsync([], async (graph, names) =>
        {
            var summary = await new Runner(graph, environment.Inventory, mutations).RunAsync(new RunRequest(RunMode.Plan, names), cancellationToken).ConfigureAwait(false);
            planned = (summary, SavedPlan.From(summary, runbook.Source.Path, runbook.Source.TextHash, names, after));
        }).ConfigureAwait(false);
        return mutations.Commands.Count == 0
            ? planned!.Value
            : throw new RunbookException($"a plan of {runbook.Source.Path} ran mutating commands: {string.Join("; ", mutations.Commands)}");
    }

    private async Task<bool> VerifyAsync(ScenarioDefinition scenario, IHarnessEnvironment environment, HarnessOptions options, HarnessReport report, CancellationToken cancellationToken) =>
        await Phase(report, "verify", async () =>
        {
            foreach (var spec in scenario.Specs)
            {
                var result = await EvaluateAsync(environment, spec, cancellationToken).ConfigureAwait(false);
                var index = report.Specs.FindIndex(s => s.Name == spec.Name);
                report.Specs[index] = report.Specs[index] with { HeldAfter = result.Holds, ObservedAfter = result.Observed };
            }

            var failing = report.Specs.Where(s => !s.AfterOk).Select(s => $"{s.Name} ({s.ObservedAfter})").ToList();
            return (failing.Count == 0, failing.Count == 0 ? $"all {report.Specs.Count} spec(s) hold" : $"failing: {string.Join("; ", failing)}");
        }).ConfigureAwait(false);

    private async Task<bool> IdempotenceAsync(IHarnessEnvironment environment, LoadedRunbook runbook, HarnessRunOptions options, HarnessReport report, CancellationToken cancellationToken) =>
        await Phase(report, "idempotence", async () =>
        {
            var (summary, mutations) = await RunRunbookAsync(environment, runbook, Path.Combine(options.OutputDirectory, "idempotence.jsonl"), cancellationToken).ConfigureAwait(false);
            var unsatisfied = summary.Targets.SelectMany(t => t.Steps.Where(s => s.Outcome != StepOutcome.Satisfied).Select(s => $"{t.Name}: {s.Description} ({s.Outcome})")).ToList();
            var ok = summary.Succeeded && unsatisfied.Count == 0 && mutations.Count == 0;
            return (ok, ok
                ? $"every step satisfied, no mutating command ({summary.Targets.Sum(t => t.Steps.Count)} steps)"
                : $"not idempotent: {string.Join("; ", unsatisfied.Concat(mutations.Select(m => $"ran `{m}`")).Concat(summary.Targets.Where(t => !t.Ok).Select(t => $"{t.Name}: {t.Error}")))}");
        }).ConfigureAwait(false);

    /// <summary>Runs the runbook; with <paramref name="approved"/>, exactly that saved plan (read from its path), as <c>run --plan</c> does.</summary>
    internal static async Task<(RunSummary Summary, List<string> Mutations)> RunRunbookAsync(IHarnessEnvironment environment, LoadedRunbook runbook, string journalPath, CancellationToken cancellationToken,
        (SavedPlan Plan, string Path)? approved = null)
    {
        RunSummary? summary = null;
        var mutations = new MutationRecorder();
        await runbook.ExecuteAsync(approved?.Plan.Targets ?? [], async (graph, names) =>
            summary = await RunGraphAsync(environment, graph, names, runbook.Source.Path, runbook.Source.TextHash, journalPath, mutations, cancellationToken, approved).ConfigureAwait(false)).ConfigureAwait(false);
        return (summary!, mutations.Commands);
    }

    internal static async Task<RunSummary> RunGraphAsync(IHarnessEnvironment environment, TargetGraph graph, IReadOnlyList<string> names, string path, string hash,
        string journalPath, MutationRecorder mutations, CancellationToken cancellationToken, (SavedPlan Plan, string Path)? approved = null)
    {
        using var journal = new JournalWriter(journalPath, new RunMetadata(
            path,
            hash,
            environment.Inventory.Names.ToDictionary(n => n, n => environment.Inventory.Context(n).Transport.Name),
            names,
            Environment.UserName,
            "harness")
        {
            SavedPlan = approved?.Path,
            PlanStage = approved?.Plan.Stage.Number,
            ApprovedBy = approved is null ? null : "harness",
        });
        var runner = new Runner(graph, environment.Inventory, new CompositeObserver(journal, mutations));
        return await runner.RunAsync(new RunRequest(RunMode.Run, names) { Approved = approved?.Plan }, cancellationToken).ConfigureAwait(false);
    }

    internal static async Task<CheckResult> EvaluateAsync(IHarnessEnvironment environment, Spec spec, CancellationToken cancellationToken)
    {
        var host = environment.Inventory.Context(spec.Host);
        host.InvalidateFacts();
        return await spec.Check.EvaluateAsync(host, cancellationToken).ConfigureAwait(false);
    }

    private Task<T?> Phase<T>(HarnessReport report, string name, Func<Task<(T Value, string Detail)>> body) => Phase(report.Phases, log, name, body);

    /// <summary>
    /// Runs one timed phase, logs it and adds its result to <paramref name="phases"/>. A phase whose value is a bool
    /// passes when it is true; any other value passes. A phase that throws fails with the message (and the
    /// run goes on to its destroy); an unexpected exception keeps its type in the message.
    /// </summary>
    /// <summary>
    /// The compile and create phases every lifecycle starts with, compile first: a runbook that does not compile must
    /// not cost a VM boot. Null where a phase failed (it is in <paramref name="phases"/> with its reason).
    /// </summary>
    internal static async Task<(LoadedRunbook? Runbook, IHarnessEnvironment? Environment)> CompileAndCreateAsync(List<PhaseResult> phases, TextWriter log, string runbookPath,
        Func<ScriptSource, CompiledRunbook> compile, CompileCache? cache, IBackend backend, HarnessOptions harnessOptions, CancellationToken cancellationToken)
    {
        var runbook = await Phase(phases, log, "compile", () =>
        {
            var loaded = LoadedRunbook.Load(runbookPath, compile, cache);
            return Task.FromResult((loaded, $"{(loaded.Compiled.FromCache ? "from the compile cache" : "compiled")}, {loaded.Compiled.Warnings.Count} warning(s)"));
        }).ConfigureAwait(false);
        if (runbook is null)
        {
            return (null, null);
        }

        var environment = await Phase(phases, log, "create", async () =>
        {
            var created = await backend.CreateAsync(harnessOptions, cancellationToken).ConfigureAwait(false);
            return (created, string.Join(", ", created.Facts.Select(f => $"{f.Key} {f.Value}")));
        }).ConfigureAwait(false);
        return (runbook, environment);
    }

    internal static async Task<T?> Phase<T>(List<PhaseResult> phases, TextWriter log, string name, Func<Task<(T Value, string Detail)>> body)
    {
        log.WriteLine($"[{name}] …");
        var clock = Stopwatch.StartNew();
        try
        {
            var (value, detail) = await body().ConfigureAwait(false);
            var passed = value is not bool b || b;
            phases.Add(new PhaseResult(name, passed, clock.Elapsed, detail));
            log.WriteLine($"[{name}] {(passed ? "ok" : "FAILED")} in {clock.Elapsed.TotalSeconds:0.0} s — {detail}");
            return passed ? value : default;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var message = ex is RunbookException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            phases.Add(new PhaseResult(name, false, clock.Elapsed, message));
            log.WriteLine($"[{name}] FAILED in {clock.Elapsed.TotalSeconds:0.0} s — {message}");
            return default;
        }
    }

    private static HarnessReport Finish(HarnessReport report, HarnessRunOptions options)
    {
        File.WriteAllText(Path.Combine(options.OutputDirectory, "report.md"), SecretRedactor.Redact(ReportWriter.Markdown(report)));
        File.WriteAllText(Path.Combine(options.OutputDirectory, "junit.xml"), SecretRedactor.Redact(ReportWriter.JUnit(report).ToString()));
        return report;
    }

    internal sealed class MutationRecorder : RunObserver
    {
        public List<string> Commands { get; } = [];

        public override void CommandRan(string host, Command command, CommandResult result)
        {
            if (!command.ReadOnly)
            {
                lock (Commands)
                {
                    Commands.Add($"{host}: {command.Render()}");
                }
            }
        }
    }
}
