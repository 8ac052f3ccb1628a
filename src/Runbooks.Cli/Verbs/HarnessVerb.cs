using System.CommandLine;
using System.Globalization;
using Runbooks.Compiler;
using Runbooks.Harness;
using Runbooks.Harness.Lifecycle;
using Runbooks.Scripting;
using RunbookCommand = Runbooks.Commands.Command;

namespace Runbooks.Cli.Verbs;

/// <summary>
/// <c>runbook harness run SCENARIO RUNBOOK</c> proves a runbook on disposable hosts broken as the incident
/// was; <c>up</c>/<c>exec</c>/<c>down</c> keep such hosts around to explore by hand.
/// </summary>
internal static class HarnessVerb
{
    public static Command Create() => new("harness", "prove a runbook on disposable hosts broken the way the incident broke them")
    {
        RunCommand(), UpCommand(), ExecCommand(), DownCommand(), ListCommand(),
    };

    private static Argument<string> ScenarioArgument() => new("scenario") { Description = "scenario name (see `runbook harness list`)" };

    private static Option<double> ScaleOption() => new("--scale") { Description = "multiplies every size in the scenario (1 = the incident's real sizes)", DefaultValueFactory = _ => 0.1 };

    private static Option<DirectoryInfo?> StateOption() => new("--state") { Description = "where the hosts' state lives (default ./.runbook/harness/SCENARIO)" };

    private static string StateDirectory(ParseResult parse, Option<DirectoryInfo?> state, string scenario) =>
        parse.GetValue(state)?.FullName ?? Path.GetFullPath(Path.Combine(".runbook", "harness", scenario));

    /// <summary>Re-attaches to hosts a previous `harness up` left running, from their saved state.</summary>
    private static Task<IHarnessEnvironment> AttachAsync(ParseResult parse, Argument<string> scenario, Option<DirectoryInfo?> state, CancellationToken cancellationToken)
    {
        var chosen = HarnessCatalog.Scenario(parse.GetValue(scenario)!);
        return HarnessCatalog.BackendFor(chosen).AttachAsync(new HarnessOptions("", StateDirectory(parse, state, chosen.Name)), cancellationToken);
    }

    private static Command RunCommand()
    {
        var scenario = ScenarioArgument();
        var runbook = new Argument<FileInfo>("runbook") { Description = "the runbook that must repair it" };
        var scale = ScaleOption();
        var keep = new Option<bool>("--keep") { Description = "on failure, leave the hosts up and print how to reach them" };
        var output = new Option<DirectoryInfo?>("--output", "-o") { Description = "report directory (default ./artifacts/harness/SCENARIO)" };
        var verbose = SharedOptions.Verbose();
        var command = new Command("run", "create → break → verify-broken → converge → verify → idempotence → destroy") { scenario, runbook, scale, keep, output, verbose };
        command.SetAction((parse, cancellationToken) => ExitCodes.GuardAsync(
            async () =>
            {
                var chosen = HarnessCatalog.Scenario(parse.GetValue(scenario)!);
                var outputDirectory = parse.GetValue(output)?.FullName ?? Path.GetFullPath(Path.Combine("artifacts", "harness", chosen.Name));
                var options = new HarnessRunOptions(outputDirectory, parse.GetValue(scale), parse.GetValue(keep), parse.GetValue(verbose), CompileCache.Default());
                var runner = new HarnessRunner(source => RunbookCompiler.Compile(source), Console.Out);
                var report = await runner.RunAsync(chosen, HarnessCatalog.BackendFor(chosen), parse.GetValue(runbook)!.FullName, options, cancellationToken).ConfigureAwait(false);
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
                var chosen = HarnessCatalog.Scenario(parse.GetValue(scenario)!);
                var options = new HarnessOptions($"rb{DateTime.UtcNow:HHmmss}", StateDirectory(parse, state, chosen.Name), parse.GetValue(scale));
                Environment.SetEnvironmentVariable(HarnessRunner.ScaleVariable, options.Scale.ToString(CultureInfo.InvariantCulture));
                await using var environment = await HarnessCatalog.BackendFor(chosen).CreateAsync(options, cancellationToken).ConfigureAwait(false);
                if (parse.GetValue(breakIt))
                {
                    await chosen.BreakAsync(environment.Inventory, options, cancellationToken).ConfigureAwait(false);
                }

                Console.WriteLine($"{chosen.Name} is up{(parse.GetValue(breakIt) ? " and broken" : "")}: {environment.HowToReach}");
                Console.WriteLine($"`runbook harness exec {chosen.Name} -- CMD` runs a command there; `runbook harness down {chosen.Name}` removes it.");
                return ExitCodes.Done;
            },
            Console.Error));
        return command;
    }

    private static Command ExecCommand()
    {
        var scenario = ScenarioArgument();
        var state = StateOption();
        var host = new Option<string?>("--on") { Description = "inventory host name (default: the first)" };
        var argv = new Argument<string[]>("command") { Description = "program and arguments", Arity = ArgumentArity.OneOrMore };
        var command = new Command("exec", "run one command on a host created by `harness up`") { scenario, state, host, argv };
        command.SetAction((parse, cancellationToken) => ExitCodes.GuardAsync(
            async () =>
            {
                await using var environment = await AttachAsync(parse, scenario, state, cancellationToken).ConfigureAwait(false);
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
                var chosen = HarnessCatalog.Scenario(parse.GetValue(scenario)!);
                await using var environment = await AttachAsync(parse, scenario, state, cancellationToken).ConfigureAwait(false);
                var leaks = await environment.DestroyAsync(cancellationToken).ConfigureAwait(false);
                Console.WriteLine(leaks.Count == 0 ? $"{chosen.Name} is down; nothing left behind" : $"{chosen.Name} is down but left: {string.Join(", ", leaks)}");
                return leaks.Count == 0 ? ExitCodes.Done : ExitCodes.Failed;
            },
            Console.Error));
        return command;
    }

    private static Command ListCommand()
    {
        var command = new Command("list", "the scenarios the harness can reproduce");
        command.SetAction(_ =>
        {
            foreach (var scenario in HarnessCatalog.Scenarios)
            {
                Console.WriteLine($"{scenario.Name,-12} on {scenario.Backend}");
            }
        });
        return command;
    }
}
