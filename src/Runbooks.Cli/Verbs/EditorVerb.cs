using System.CommandLine;
using Runbooks.Lsp;

namespace Runbooks.Cli.Verbs;

/// <summary><c>runbook editor setup [DIR] [--inventory FILE] [--force]</c>: VS Code, Neovim and Helix settings that start <c>runbook lsp</c> (see <see cref="EditorSetup"/>).</summary>
internal static class EditorVerb
{
    public static Command Create()
    {
        var directory = new Argument<string>("dir") { Description = "the folder that holds the runbooks (default: this one)", DefaultValueFactory = _ => "." };
        var inventory = new Option<string?>("--inventory") { Description = "an inventory file (NAME = URI lines) whose host names complete inside .On(\"…\"), recorded in .runbook.json" };
        var force = new Option<bool>("--force") { Description = "overwrite .nvim.lua and .helix/languages.toml even when this tool did not write them" };
        var setup = new Command("setup", "write VS Code, Neovim and Helix settings that start `runbook lsp` for *.csx") { directory, inventory, force };
        setup.SetAction((parse, _) => ExitCodes.GuardAsync(
            () =>
            {
                var root = Path.GetFullPath(parse.GetValue(directory)!);
                Print(root, EditorSetup.Write(root, parse.GetValue(inventory), parse.GetValue(force)));
                return Task.FromResult(ExitCodes.Done);
            },
            Console.Error));
        return new Command("editor", "set up editors for runbooks") { setup };
    }

    /// <summary>One line per file, saying what happened to it; a kept file says how to replace it.</summary>
    internal static void Print(string root, IReadOnlyList<EditorFile> files)
    {
        Console.WriteLine($"editor settings in {root}:");
        foreach (var file in files)
        {
            Console.WriteLine(file.Outcome == "kept" ? $"  {file.Path} (kept: not written by runbook; --force replaces it)" : $"  {file.Path} ({file.Outcome})");
        }
    }
}
