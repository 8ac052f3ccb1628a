using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Runbooks.Harness;
using Runbooks.Harness.Lifecycle;
using Runbooks.Scripting;
using RunbookCommand = Runbooks.Commands.Command;

namespace Runbooks.Cli.Verbs;

/// <summary>
/// <c>runbook harness run SCENARIO [RUNBOOK]</c> proves a runbook on disposable hosts broken as the incident
/// was; <c>up</c>/<c>exec</c>/<c>down</c> keep such hosts around to explore by hand. SCENARIO is a
/// <c>*.scenario.csx</c> file or the name of one the tool ships.
/// </summary>
internal static class HarnessVerb
{
    public static Command Create() => new("harness", "prove a runbook on disposable hosts broken the way the incident broke them")
    {
        RunCommand(), HarnessDrillVerb.Create(), UpCommand(), ExecCommand(), DownCommand(), ListCommand(), PrerequisitesCommand(),
    };

    internal static Argument<string> ScenarioArgument() => new("scenario") { Description = "a *.scenario.csx file, or the name of a shipped one (see `runbook harness list`)" };

    internal static Option<double> ScaleOption() => new("--scale") { Description = "multiplies every size in the scenario and the runbook (1 = the incident's real sizes)", DefaultValueFactory = _ => 0.1 };

    private static Option<DirectoryInfo?> StateOption() => new("--state") { Description = "where the hosts' state lives (default ./.runbook/harness/SCENARIO)" };

    private static string StateDirectory(ParseResult parse, Option<DirectoryInfo?> state, string scenario) =>
        parse.GetValue(state)?.FullName ?? Path.GetFullPath(Path.Combine(".runbook", "harness", scenario));

    /// <summary>Compiles and defines the scenario before anything boots; its warnings go to stderr.</summary>
    internal static async Task<ScenarioDefinition> LoadAsync(string nameOrPath, double scale)
    {
        Environment.SetEnvironmentVariable(HarnessRunner.ScaleVariable, scale.ToString(CultureInfo.InvariantCulture));
        var scenario = await HarnessCatalog.LoadAsync(nameOrPath, scale, CompileCache.Default()).ConfigureAwait(false);
        foreach (var warning in scenario.Warnings)
        {
            Console.Error.WriteLine(warning);
        }

        return scenario;
    }

    /// <summary>Re-attaches to hosts a previous `harness up` left running, from their saved state.</summary>
    private static async Task<(ScenarioDefinition Scenario, IHarnessEnvironment Environment)> AttachAsync(ParseResult parse, Argument<string> scenario, Option<DirectoryInfo?> state, CancellationToken cancellationToken)
    {
        var chosen = await LoadAsync(parse.GetValue(scenario)!, 0.1).ConfigureAwait(false);
        var environment = await chosen.CreateBackend().AttachAsync(new HarnessOptions("", StateDirectory(parse, state, chosen.Name)), cancellationToken).ConfigureAwait(false);
        return (chosen, environment);
    }

    private static Command RunCommand()
    {
        var scenario = ScenarioArgument();
        var runbook = new Argument<FileInfo?>("runbook") { Description = "the runbook that must repair it (default: the one the scenario names with Proves)", Arity = ArgumentArity.ZeroOrOne };
        var scale = ScaleOption();
        var keep = new Option<bool>("--keep") { Description = "on failure, leave the hosts up and print how to reach them" };
        var output = new Option<DirectoryInfo?>("--output", "-o") { Description = "report directory (default ./artifacts/harness/SCENARIO)" };
        var verbose = SharedOptions.Verbose();
        var command = new Command("run", "create → break → verify-broken → converge → verify → idempotence → destroy") { scenario, runbook, scale, keep, output, verbose };
        command.SetAction((parse, cancellationToken) => ExitCodes.GuardAsync(
            async () =>
            {
                var chosen = await LoadAsync(parse.GetValue(scenario)!, parse.GetValue(scale)).ConfigureAwait(false);
                var outputDirectory = parse.GetValue(output)?.FullName ?? Path.GetFullPath(Path.Combine("artifacts", "harness", chosen.Name));
                var options = new HarnessRunOptions(outputDirectory, parse.GetValue(scale), parse.GetValue(keep), parse.GetValue(verbose), CompileCache.Default());
                var runner = new HarnessRunner(source => Compiler.RunbookCompiler.Compile(source), Console.Out);
                var report = await runner.RunAsync(chosen, parse.GetValue(runbook)?.FullName, options, cancellationToken).ConfigureAwait(false);
                Console.WriteLine();
                Console.Write(ReportWriter.Markdown(report));
                Console.WriteLine($"\nreport: {Path.Combine(outputDirectory, "report.md")}\njunit:  {Path.Combine(outputDirectory, "junit.xml")}");
                return report.Passed ? ExitCodes.Done : ExitCodes.Failed;
            },
            Console.Error));
        return command;
    }

    private static Command UpCommand()
    {
        var scenario = ScenarioArgument();
        var scale = ScaleOption();
        var state = StateOption();
        var breakIt = new Option<bool>("--break") { Description = "also break the hosts the way the incident did" };
        var command = new Command("up", "create the scenario's hosts and leave them running") { scenario, scale, state, breakIt };
        command.SetAction((parse, cancellationToken) => ExitCodes.GuardAsync(
            async () =>
            {
                var chosen = await LoadAsync(parse.GetValue(scenario)!, parse.GetValue(scale)).ConfigureAwait(false);
                var options = new HarnessOptions($"rb{DateTime.UtcNow:HHmmss}", StateDirectory(parse, state, chosen.Name), parse.GetValue(scale));
                await using var environment = await chosen.CreateBackend().CreateAsync(options, cancellationToken).ConfigureAwait(false);
                if (parse.GetValue(breakIt))
                {
                    var (ok, detail) = await HarnessRunner.BreakAsync(chosen, environment, Path.Combine(options.WorkDirectory, "break.jsonl"), cancellationToken).ConfigureAwait(false);
                    Console.WriteLine($"break: {detail}");
                    if (!ok)
                    {
                        Console.WriteLine($"the hosts stay up to look at: {environment.HowToReach}");
                        return ExitCodes.Failed;
                    }
                }

                Console.WriteLine($"{chosen.Name} is up{(parse.GetValue(breakIt) ? " and broken" : "")}: {environment.HowToReach}");
                Console.WriteLine($"`runbook harness exec {parse.GetValue(scenario)} -- CMD` runs a command there; `runbook harness down {parse.GetValue(scenario)}` removes it.");
                return ExitCodes.Done;
            },
            Console.Error));
        return command;
    }

    private static Command ExecCommand()
    {
        var scenario = ScenarioArgument();
        var state = StateOption();
        var host = new Option<string?>("--on") { Description = "host name (default: the first the scenario declares)" };
        var argv = new Argument<string[]>("command") { Description = "program and arguments", Arity = ArgumentArity.OneOrMore };
        var command = new Command("exec", "run one command on a host created by `harness up`") { scenario, state, host, argv };
        command.SetAction((parse, cancellationToken) => ExitCodes.GuardAsync(
            async () =>
            {
                var (_, environment) = await AttachAsync(parse, scenario, state, cancellationToken).ConfigureAwait(false);
                await using var _ = environment;
                var name = parse.GetValue(host) ?? environment.Inventory.Names.First();
                var words = parse.GetValue(argv)!;
                var result = await environment.Inventory.Context(name).Transport
                    .RunAsync(new RunbookCommand(words[0], words.Skip(1).Select(w => (Runbooks.Commands.Arg)w)), cancellationToken).ConfigureAwait(false);
                Console.Out.Write(result.StandardOutput);
                Console.Error.Write(result.StandardError);
                return result.ExitCode;
            },
            Console.Error));
        return command;
    }

    private static Command DownCommand()
    {
        var scenario = ScenarioArgument();
        var state = StateOption();
        var command = new Command("down", "destroy hosts created by `harness up` and report anything left behind") { scenario, state };
        command.SetAction((parse, cancellationToken) => ExitCodes.GuardAsync(
            async () =>
            {
                var (chosen, environment) = await AttachAsync(parse, scenario, state, cancellationToken).ConfigureAwait(false);
                await using var _ = environment;
                var leaks = await environment.DestroyAsync(cancellationToken).ConfigureAwait(false);
                Console.WriteLine(leaks.Count == 0 ? $"{chosen.Name} is down; nothing left behind" : $"{chosen.Name} is down but left: {string.Join(", ", leaks)}");
                return leaks.Count == 0 ? ExitCodes.Done : ExitCodes.Failed;
            },
            Console.Error));
        return command;
    }

    private static Command ListCommand()
    {
        var format = new Option<string>("--format") { Description = "text, or json (for a CI matrix)", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var paths = new Argument<string[]>("scenario") { Description = "scenario files or folders to list (default: the shipped ones)", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("list", "the scenarios the harness can reproduce: shipped ones, or the files/folders given") { format, paths };
        command.SetAction((parse, _) => ExitCodes.GuardAsync(
            async () =>
            {
                var given = parse.GetValue(paths) ?? [];
                var files = given.Length == 0 ? HarnessCatalog.ShippedScenarios
                    : [.. given.SelectMany<string, string>(p => Directory.Exists(p)
                        ? Directory.EnumerateFiles(p, "*" + ScenarioFile.Extension, SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                        : [HarnessCatalog.Resolve(p)])];
                var rows = new List<ScenarioListing>();
                foreach (var file in files)
                {
                    var scenario = await LoadAsync(file, 0.1).ConfigureAwait(false);
                    rows.Add(new ScenarioListing(scenario.Name, scenario.Path, scenario.Backend.Name, [.. scenario.Backend.HostNames], scenario.Runbook, scenario.Specs.Count));
                }

                if (parse.GetValue(format) == "json")
                {
                    Console.WriteLine(JsonSerializer.Serialize(rows, ListingJson.Default.ListScenarioListing));
                }
                else
                {
                    foreach (var row in rows)
                    {
                        Console.WriteLine($"{row.Name,-12} on {row.Backend,-8} hosts {string.Join(",", row.Hosts),-16} {row.Specs} spec(s)  {row.Path}");
                    }
                }

                return ExitCodes.Done;
            },
            Console.Error));
        return command;
    }

    private static Command PrerequisitesCommand()
    {
        var command = new Command("prerequisites", "print the script that installs the Debian/Ubuntu packages the backends need (pipe it to `sudo bash`)");
        command.SetAction((_, _) => ExitCodes.GuardAsync(
            () =>
            {
                var script = HarnessCatalog.PrerequisitesScript;
                if (!File.Exists(script))
                {
                    throw new RunbookException($"{script} is missing beside the tool; reinstall it (`dotnet tool update -g Runbooks.Tool`)");
                }

                Console.Write(File.ReadAllText(script));
                return Task.FromResult(ExitCodes.Done);
            },
            Console.Error));
        return command;
    }
}

/// <summary>One row of <c>harness list --format json</c>: what a CI matrix needs to run the scenario.</summary>
internal sealed record ScenarioListing(string Name, string Path, string Backend, List<string> Hosts, string? Runbook, int Specs);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(List<ScenarioListing>))]
internal sealed partial class ListingJson : System.Text.Json.Serialization.JsonSerializerContext;
