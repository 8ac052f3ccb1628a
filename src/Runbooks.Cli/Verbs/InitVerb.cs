using System.CommandLine;
using Runbooks.Harness.Authoring;

namespace Runbooks.Cli.Verbs;

/// <summary><c>runbook init DIR [--backend netns|services|microvm] [--force]</c>: writes a new incident folder (see <see cref="IncidentScaffold"/>).</summary>
internal static class InitVerb
{
    public static Command Create()
    {
        var directory = new Argument<string>("dir") { Description = "the incident folder to create; its name (lowercase letters, digits, dashes) names the incident" };
        var backend = new Option<string>("--backend") { Description = "where the scenario's hosts run", DefaultValueFactory = _ => IncidentScaffold.Backends[0] };
        backend.AcceptOnlyFromAmong([.. IncidentScaffold.Backends]);
        var force = new Option<bool>("--force") { Description = "write into a folder that is not empty, overwriting the scaffold's files there" };
        var command = new Command("init", "scaffold an incident folder: a runbook, a scenario that proves it, a README, editor settings and a CI workflow")
        {
            directory, backend, force,
        };
        command.SetAction((parse, _) => ExitCodes.GuardAsync(
            () =>
            {
                var result = IncidentScaffold.Write(parse.GetValue(directory)!, parse.GetValue(backend)!, parse.GetValue(force), ToolVersion.Value);
                Console.WriteLine($"wrote {result.Directory} ({result.Backend}):");
                foreach (var file in result.Files)
                {
                    Console.WriteLine($"  {file}");
                }

                EditorVerb.Print(result.Directory, Lsp.EditorSetup.Write(result.Directory));
                var folder = Path.GetRelativePath(Environment.CurrentDirectory, result.Directory);
                Console.WriteLine($"next: `sudo runbook harness run {Path.Combine(folder, result.Name + ".scenario.csx")}` proves it; {Path.Combine(folder, "README.md")} says more");
                return Task.FromResult(ExitCodes.Done);
            },
            Console.Error));
        return command;
    }
}
