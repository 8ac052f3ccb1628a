using System.CommandLine;
using Runbooks.Harness.Drill;
using Runbooks.Scripting;
using Runbooks.Watch;

namespace Runbooks.Cli.Verbs;

/// <summary><c>runbook harness drill SCENARIO [RUNBOOK] --rounds N --every T [--seed S] [--watch [--watch-every T]]</c>: break on a schedule, measure the recovery.</summary>
internal static class HarnessDrillVerb
{
    public static Command Create()
    {
        var scenario = HarnessVerb.ScenarioArgument();
        var runbook = new Argument<FileInfo?>("runbook") { Description = "the runbook that restores health (default: the one the scenario names with Proves)", Arity = ArgumentArity.ZeroOrOne };
        var rounds = new Option<int>("--rounds") { Description = "how many faults to apply, one per round", DefaultValueFactory = _ => 3 };
        var every = new Option<string>("--every") { Description = "time from one round's fault to the next (500ms, 10s, 5m)", DefaultValueFactory = _ => "10s" };
        var seed = new Option<ulong>("--seed") { Description = "chooses each round's faults; the same seed applies the same faults", DefaultValueFactory = _ => 1 };
        var timeout = new Option<string>("--round-timeout") { Description = "a round not recovered this long after its fault is a failed recovery", DefaultValueFactory = _ => "2m" };
        var watch = new Option<bool>("--watch") { Description = "repair with a live `runbook watch` running over the hosts for the whole drill, timed from its journal, instead of a converge per round" };
        var watchEvery = new Option<string?>("--watch-every") { Description = "with --watch: the watch's interval from one pass's start to the next (default 2s)" };
        var scale = HarnessVerb.ScaleOption();
        var output = new Option<DirectoryInfo?>("--output", "-o") { Description = "report directory (default ./artifacts/harness/SCENARIO); the report is drill.md" };
        var command = new Command("drill", "create → break → converge (healthy) → per round: re-apply a seeded subset of the break, converge until the specs hold → destroy; MTTR p50/p95")
        {
            scenario, runbook, rounds, every, seed, timeout, watch, watchEvery, scale, output,
        };
        command.SetAction((parse, cancellationToken) => ExitCodes.GuardAsync(
            async () =>
            {
                var options = (Every: Duration.Parse(parse.GetValue(every)!, "--every"), Timeout: Duration.Parse(parse.GetValue(timeout)!, "--round-timeout"));
                if (parse.GetValue(watchEvery) is not null && !parse.GetValue(watch))
                {
                    throw new InvalidRunbookException("--watch-every sets the interval of the watch that --watch runs; add --watch");
                }

                TimeSpan? watchInterval = parse.GetValue(watch) ? Duration.Parse(parse.GetValue(watchEvery) ?? "2s", "--watch-every") : null;
                if (parse.GetValue(rounds) <= 0)
                {
                    throw new InvalidRunbookException($"--rounds {parse.GetValue(rounds)}: a drill needs at least one round");
                }

                var chosen = await HarnessVerb.LoadAsync(parse.GetValue(scenario)!, parse.GetValue(scale)).ConfigureAwait(false);
                var outputDirectory = parse.GetValue(output)?.FullName ?? Path.GetFullPath(Path.Combine("artifacts", "harness", chosen.Name));
                var drill = new DrillRunner(source => Compiler.RunbookCompiler.Compile(source), Console.Out);
                var report = await drill.RunAsync(chosen, parse.GetValue(runbook)?.FullName,
                    new DrillOptions(outputDirectory, parse.GetValue(rounds), options.Every, parse.GetValue(seed), options.Timeout, parse.GetValue(scale), CompileCache.Default(), watchInterval),
                    cancellationToken).ConfigureAwait(false);
                Console.WriteLine();
                Console.WriteLine($"drill {chosen.Name}: {(report.Passed ? "PASSED" : "FAILED")}; MTTR p50 {DrillReportWriter.Seconds(report.Mttr(50))}, p95 {DrillReportWriter.Seconds(report.Mttr(95))}; "
                    + $"{report.Rounds.Count(r => !r.Recovered)} failed recover(ies)");
                Console.WriteLine($"report: {Path.Combine(outputDirectory, "drill.md")}");
                return report.Passed ? ExitCodes.Done : ExitCodes.Failed;
            },
            Console.Error));
        return command;
    }
}
