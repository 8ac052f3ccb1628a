using System.CommandLine;
using Runbooks.Journal;

namespace Runbooks.Cli.Verbs;

/// <summary><c>runbook journal show FILE.jsonl</c>: the run as a Markdown timeline for the retrospective.</summary>
internal static class JournalVerb
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("journal") { Description = "a .jsonl journal written by `runbook run`" };
        var show = new Command("show", "render a journal as a Markdown timeline") { file };
        show.SetAction((parse, _) => ExitCodes.GuardAsync(
            () =>
            {
                Console.Write(JournalMarkdown.Render(JournalReader.Read(parse.GetValue(file)!.FullName)));
                return Task.FromResult(ExitCodes.Done);
            },
            Console.Error));
        return new Command("journal", "read run journals") { show };
    }
}
