using System.CommandLine;
using Runbooks.Cli.Verbs;

namespace Runbooks.Cli;

/// <summary>Parses arguments and hands each verb to its handler; no logic lives here.</summary>
internal static class CommandLine
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("runbook — compile, plan, run, journal and prove incident-repair runbooks")
        {
            InitVerb.Create(),
            CheckVerb.Create(),
            ListVerb.Create(),
            PlanVerb.Create(),
            RunVerb.Create(),
            UndoVerb.Create(),
            WatchVerb.Create(),
            JournalVerb.Create(),
            HarnessVerb.Create(),
            LspVerb.Create(),
            EditorVerb.Create(),
        };
        // No response files: `--on @lab` names a tag, not a file of arguments.
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync(error.Message).ConfigureAwait(false);
            }

            await Console.Error.WriteLineAsync("See `runbook --help`.").ConfigureAwait(false);
            return ExitCodes.Invalid;
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // The first Ctrl+C stops between commands and writes the journal's end; a second one kills.
            e.Cancel = !cancel.IsCancellationRequested;
            cancel.Cancel();
        };
        return await parsed.InvokeAsync(new InvocationConfiguration(), cancel.Token).ConfigureAwait(false);
    }
}
