using Runbooks.Engine;

namespace Runbooks.Scripting;

/// <summary>
/// What <c>await RunAsync(Args)</c> does in a script run by <c>dotnet script</c> rather than by <c>runbook</c>: reads
/// <c>[check|plan|run] [TARGET…] [--host URI|NAME=URI]… [--inventory FILE]</c> from the script's own arguments and
/// checks, plans or runs the targets with the same engine, host lock and inventory rules as the tool, printing plain
/// text. With no verb it plans: a script started by mistake changes nothing. Exit code (through
/// <see cref="Environment.ExitCode"/>): 0 done, 1 a target failed, 2 usage or graph error, as the tool's.
/// </summary>
public static class StandaloneRun
{
    private static readonly string[] Verbs = ["check", "plan", "run"];

    /// <summary>Checks, plans or runs <paramref name="targets"/> as <paramref name="args"/> say; returns the exit code it also sets.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<Target> targets, IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        int exit;
        try
        {
            exit = await ExecuteAsync(targets, args, output, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidRunbookException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            exit = 2;
        }
        catch (RunbookException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            exit = 1;
        }

        Environment.ExitCode = exit;
        return exit;
    }

    private static async Task<int> ExecuteAsync(IReadOnlyList<Target> targets, IReadOnlyList<string> args, TextWriter output, CancellationToken cancellationToken)
    {
        var (verb, names, hosts, inventoryFile) = Parse(args);
        var graph = new TargetGraph(targets);
        var order = graph.Order(names, skipDependencies: false);
        if (verb == "check")
        {
            await output.WriteLineAsync($"ok: {targets.Count} target(s); would run {string.Join(" -> ", order.Select(t => t.Name))}").ConfigureAwait(false);
            return 0;
        }

        await using var inventory = InventoryParser.Parse(hosts, inventoryFile);
        var mode = verb == "run" ? RunMode.Run : RunMode.Plan;
        var script = Environment.GetCommandLineArgs().FirstOrDefault(a => a.EndsWith(".csx", StringComparison.Ordinal)) ?? "dotnet-script";
        var request = new RunRequest(mode, names, Locking: mode == RunMode.Run ? HostLocking.FromEnvironment(script, breakStale: false) : null);
        var summary = await new Runner(graph, inventory, new RunObserver()).RunAsync(request, cancellationToken).ConfigureAwait(false);
        foreach (var target in summary.Targets)
        {
            await output.WriteLineAsync($"{target.Name} on {target.Host} ({inventory.Address(target.Host)}): {target.Status.ToString().ToLowerInvariant()}{(target.Error is null ? "" : $": {target.Error}")}").ConfigureAwait(false);
            foreach (var step in target.Steps)
            {
                await output.WriteLineAsync($"  {step.Index + 1}. [{Outcome(step.Outcome)}] {step.Description}{(step.Error is null ? "" : $": {step.Error}")}").ConfigureAwait(false);
                foreach (var unmet in step.Unmet)
                {
                    await output.WriteLineAsync($"       unmet: {unmet}").ConfigureAwait(false);
                }

                foreach (var action in step.Outcome == StepOutcome.WillChange ? step.Actions : [])
                {
                    await output.WriteLineAsync($"       {action.Summary}").ConfigureAwait(false);
                }
            }
        }

        return summary.Succeeded ? 0 : 1;
    }

    private static (string Verb, IReadOnlyList<string> Targets, IReadOnlyList<string> Hosts, string? Inventory) Parse(IReadOnlyList<string> args)
    {
        var verb = args.Count > 0 && Verbs.Contains(args[0]) ? args[0] : "plan";
        var names = new List<string>();
        var hosts = new List<string>();
        string? inventory = null;
        for (var i = verb == "plan" && (args.Count == 0 || args[0] != "plan") ? 0 : 1; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--host" when i + 1 < args.Count:
                    hosts.Add(args[++i]);
                    break;
                case "--inventory" when i + 1 < args.Count:
                    inventory = args[++i];
                    break;
                case var option when option.StartsWith('-'):
                    throw new InvalidRunbookException($"unknown option '{option}' (a script run by dotnet script takes: [check|plan|run] [TARGET…] [--host URI|NAME=URI]… [--inventory FILE]; the rest is `runbook`'s)");
                default:
                    names.Add(args[i]);
                    break;
            }
        }

        return (verb, names, hosts, inventory);
    }

    private static string Outcome(StepOutcome outcome) => outcome switch
    {
        StepOutcome.WillChange => "will change",
        StepOutcome.DidNotLand => "did not land",
        _ => outcome.ToString().ToLowerInvariant(),
    };
}
