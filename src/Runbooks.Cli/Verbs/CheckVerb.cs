using System.CommandLine;
using Runbooks.Harness.Lifecycle;
using Runbooks.Scripting;

namespace Runbooks.Cli.Verbs;

/// <summary>
/// <c>runbook check FILE</c>: compile, analyze, define the targets and check the graph. Runs nothing on any host.
/// A <c>*.scenario.csx</c> is checked as a scenario: its globals, its hosts, and every binding to them.
/// </summary>
internal static class CheckVerb
{
    public static Command Create()
    {
        var file = SharedOptions.Runbook();
        var noCache = SharedOptions.NoCache();
        var command = new Command("check", "compile the runbook, run the analyzers and check the target graph; nothing runs") { file, noCache };
        command.SetAction((parse, _) => ExitCodes.GuardAsync(
            async () =>
            {
                var path = parse.GetValue(file)!.FullName;
                if (path.EndsWith(ScenarioFile.Extension, StringComparison.Ordinal))
                {
                    var scenario = await ScenarioFile.LoadAsync(path, 0.1, parse.GetValue(noCache) ? null : CompileCache.Default()).ConfigureAwait(false);
                    foreach (var warning in scenario.Warnings)
                    {
                        Console.Error.WriteLine(warning);
                    }

                    Console.WriteLine($"{scenario.Path}: ok, scenario on {scenario.Backend.Name} ({string.Join(", ", scenario.Backend.HostNames)}), " +
                        $"{scenario.Break.Targets.Count} break target(s), {scenario.Specs.Count} spec(s), {scenario.Warnings.Count} warning(s)");
                    return ExitCodes.Done;
                }

                var runbook = SharedOptions.Load(parse.GetValue(file)!, parse.GetValue(noCache), Console.Error);
                var count = 0;
                await runbook.ExecuteAsync([], (graph, _) =>
                {
                    count = graph.Targets.Count;
                    return Task.CompletedTask;
                }).ConfigureAwait(false);
                Console.WriteLine($"{runbook.Source.Path}: ok, {count} target(s), {runbook.Compiled.Warnings.Count} warning(s){(runbook.Compiled.FromCache ? " (compile cache)" : "")}");
                return ExitCodes.Done;
            },
            Console.Error));
        return command;
    }
}
