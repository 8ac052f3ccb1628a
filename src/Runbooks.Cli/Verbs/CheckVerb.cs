using System.CommandLine;

namespace Runbooks.Cli.Verbs;

/// <summary><c>runbook check FILE</c>: compile, analyze, define the targets and check the graph. Runs nothing on any host.</summary>
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
