using System.CommandLine;
using Runbooks.Engine;

namespace Runbooks.Cli.Verbs;

/// <summary><c>runbook list FILE</c>: the targets, as a list, a dependency tree, or with their dependencies.</summary>
internal static class ListVerb
{
    public static Command Create()
    {
        var file = SharedOptions.Runbook();
        var noCache = SharedOptions.NoCache();
        var targets = new Option<bool>("--list-targets", "-l") { Description = "names and descriptions (the default)" };
        var tree = new Option<bool>("--list-tree", "-t") { Description = "each target with its dependency tree" };
        var dependencies = new Option<bool>("--list-dependencies", "-d") { Description = "each target with its direct dependencies" };
        var command = new Command("list", "list the runbook's targets") { file, noCache, targets, tree, dependencies };
        command.SetAction((parse, _) => ExitCodes.GuardAsync(
            async () =>
            {
                var runbook = SharedOptions.Load(parse.GetValue(file)!, parse.GetValue(noCache), Console.Error);
                await runbook.ExecuteAsync([], (graph, _) =>
                {
                    Console.Write(parse.GetValue(tree) ? Tree(graph) : parse.GetValue(dependencies) ? Dependencies(graph) : Names(graph));
                    return Task.CompletedTask;
                }).ConfigureAwait(false);
                return ExitCodes.Done;
            },
            Console.Error));
        return command;
    }

    internal static string Names(TargetGraph graph)
    {
        var width = graph.Targets.Count == 0 ? 0 : graph.Targets.Max(t => t.Name.Length);
        return string.Concat(graph.Targets.Select(t => $"{t.Name.PadRight(width)}  {(t.Host == Inventory.DefaultHost ? "" : $"[{t.Host}] ")}{t.Description}".TrimEnd() + "\n"));
    }

    internal static string Dependencies(TargetGraph graph) =>
        string.Concat(graph.Targets.Select(t => $"{t.Name}{(t.Dependencies.Count == 0 ? "" : ": " + string.Join(", ", t.Dependencies))}\n"));

    internal static string Tree(TargetGraph graph)
    {
        var text = new System.Text.StringBuilder();
        void Walk(Target target, string indent, HashSet<string> path)
        {
            text.Append(indent).Append(target.Name).Append('\n');
            foreach (var dependency in target.Dependencies)
            {
                if (path.Add(dependency))
                {
                    Walk(graph[dependency], indent + "  ", path);
                    path.Remove(dependency);
                }
            }
        }

        foreach (var target in graph.Targets)
        {
            Walk(target, "", [target.Name]);
        }

        return text.ToString();
    }
}
