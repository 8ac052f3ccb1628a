using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;
using Runbooks.Engine;
using Runbooks.Scripting;

// Compiles and runs a runbook with CSharpScript.RunAsync, then plans it on this machine: what `runbook plan`
// does, minus the cache, the analyzers and the CLI.
var path = Path.GetFullPath(args[0]);
var options = ScriptOptions.Default
    .WithFilePath(path)
    .WithReferences(typeof(RunbookGlobals).Assembly)
    .WithImports("System", "System.Linq", "System.Collections.Generic", "System.Threading.Tasks", "Runbooks.Commands", "Runbooks.Dsl", "Runbooks.Engine");
var globals = new RunbookGlobals([], async (g, names) =>
{
    await using var inventory = Inventory.Local();
    var summary = await new Runner(new TargetGraph(g.Targets), inventory, new RunObserver()).RunAsync(new RunRequest(RunMode.Plan, names), CancellationToken.None);
    Console.WriteLine($"{summary.PendingChanges} pending");
});
await CSharpScript.RunAsync(File.ReadAllText(path), options, globals, typeof(RunbookGlobals));
