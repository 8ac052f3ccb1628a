using System.CommandLine;
using Runbooks.Harness.Lifecycle;
using Runbooks.Lsp;
using Runbooks.Scripting;

namespace Runbooks.Cli.Verbs;

/// <summary><c>runbook lsp</c>: a language server for runbooks and scenario files on stdin/stdout, for editors.</summary>
internal static class LspVerb
{
    public static Command Create()
    {
        var command = new Command("lsp", "serve the Language Server Protocol on stdin/stdout (completion, hover, diagnostics, go to definition) for an editor");
        command.SetAction(async (_, cancellationToken) =>
        {
            using var server = new LanguageServer(Console.OpenStandardInput(), Console.OpenStandardOutput(), KindOf, Console.Error);
            return await server.RunAsync(cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>A <c>*.scenario.csx</c> is compiled against the harness's scenario globals; anything else is a runbook.</summary>
    internal static ScriptKind KindOf(string path) =>
        path.EndsWith(ScenarioFile.Extension, StringComparison.OrdinalIgnoreCase) ? ScenarioFile.Kind : ScriptKind.Runbook;
}
