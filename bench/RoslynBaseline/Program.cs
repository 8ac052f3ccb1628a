using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;
using Runbooks.Engine;
using Runbooks.Scripting;

// Compiles and runs a runbook with CSharpScript.RunAsync, then plans it: what `runbook plan` does, minus the
// cache, the analyzers and the CLI. An optional second argument is a --host address (ssh://root@h:port), so
// the same host answers both tools' probes.
//   RoslynBaseline RUNBOOK.csx [HOST]
var path = Path.GetFullPath(args[0]);
var hosts = args.Length > 1 ? new[] { args[1] } : [];
var options = ScriptOptions.Default
    .WithFilePath(path)
    .WithReferences(typeof(RunbookGlobals).Assembly)
    .WithImports("System", "System.Linq", "System.Collections.Generic", "System.Threading.Tasks", "Runbooks.Commands", "Runbooks.Dsl", "Runbooks.Engine");
var globals = new RunbookGlobals([], async (g, names) =>
{
    await using var inventory = InventoryParser.Parse(hosts, null);
    var summary = await new Runner(new TargetGraph(g.Targets), inventory, new RunObserver()).RunAsync(new RunRequest(RunMode.Plan, names), CancellationToken.None);
    Console.WriteLine($"{summary.PendingChanges} pending");
});
await CSharpScript.RunAsync(File.ReadAllText(path), options, globals, typeof(RunbookGlobals));
