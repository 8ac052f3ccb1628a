using System.Text.Json;
using System.Text.Json.Nodes;
using Runbooks.Lsp.Workspace;

namespace Runbooks.Lsp;

/// <summary>What <see cref="EditorSetup.Write"/> did with one file.</summary>
/// <param name="Path">The file, relative to the folder set up.</param>
/// <param name="Outcome"><c>written</c>, <c>merged</c> (an existing file kept its other settings) or <c>kept</c> (someone else's file, left alone).</param>
public sealed record EditorFile(string Path, string Outcome);

/// <summary>
/// Writes the settings that make VS Code, Neovim and Helix start <c>runbook lsp</c> for <c>*.csx</c> in a folder, for
/// <c>runbook editor setup</c> and <c>runbook init</c>. VS Code gets settings for a generic LSP client extension
/// (a real extension needs npm packages a fresh machine may not reach), merged into an existing
/// <c>settings.json</c>; Neovim a <c>.nvim.lua</c> (read when <c>exrc</c> is on); Helix a workspace
/// <c>.helix/languages.toml</c>. A Neovim or Helix file that someone else wrote is kept unless forced.
/// </summary>
public static class EditorSetup
{
    /// <summary>The line that marks a file as this tool's, so a second setup may rewrite it.</summary>
    public const string Marker = "written by `runbook editor setup`";

    /// <summary>Writes the editor settings into <paramref name="directory"/> (created if missing).</summary>
    /// <param name="inventory">An inventory file for <c>.On("…")</c> completion, recorded in <c>.runbook.json</c>; null leaves that file alone.</param>
    /// <param name="force">Overwrite Neovim and Helix files that this tool did not write.</param>
    public static IReadOnlyList<EditorFile> Write(string directory, string? inventory = null, bool force = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var full = Path.GetFullPath(directory);
        if (System.IO.File.Exists(full))
        {
            throw new InvalidRunbookException($"{full} is a file; give the folder that holds the runbooks");
        }

        if (inventory is not null && !System.IO.File.Exists(Path.GetFullPath(inventory)))
        {
            throw new InvalidRunbookException($"inventory {inventory} does not exist; give the NAME = URI file that --inventory reads");
        }

        // Read and check every existing file before writing any, so a broken settings.json leaves nothing half done.
        var vscode = Path.Combine(full, ".vscode", "settings.json");
        var settings = ReadJsonObject(vscode);
        var runbookJson = Path.Combine(full, EditorSettings.FileName);
        var runbookSettings = inventory is null ? null : ReadJsonObject(runbookJson);

        Directory.CreateDirectory(full);
        var files = new List<EditorFile>();
        var existed = settings is not null;
        settings ??= [];
        settings["files.associations"] = Merge(settings["files.associations"] as JsonObject, "*.csx", "csharp");
        settings["files.eol"] = "\n";
        settings["editor.formatOnSave"] ??= false;
        settings["glspc.server.command"] = "runbook";
        settings["glspc.server.commandArguments"] = new JsonArray("lsp");
        settings["glspc.server.languageId"] = new JsonArray("csharp");
        files.Add(WriteFile(full, vscode, settings.ToJsonString(Indented) + "\n", existed ? "merged" : "written"));

        files.Add(WriteOwn(full, Path.Combine(full, ".nvim.lua"), NeovimLua, force));
        files.Add(WriteOwn(full, Path.Combine(full, ".helix", "languages.toml"), HelixToml, force));

        if (inventory is not null)
        {
            var own = runbookSettings is not null;
            runbookSettings ??= [];
            runbookSettings["inventory"] = Path.GetRelativePath(full, Path.GetFullPath(inventory)).Replace('\\', '/');
            files.Add(WriteFile(full, runbookJson, runbookSettings.ToJsonString(Indented) + "\n", own ? "merged" : "written"));
        }

        return files;
    }

    /// <summary>The Neovim settings: start <c>runbook lsp</c> for each <c>*.csx</c> buffer, rooted at the nearest <c>.runbook.json</c> or git checkout.</summary>
    public const string NeovimLua = """
        -- Runbooks: `runbook lsp` for *.csx (written by `runbook editor setup`).
        -- Neovim reads this file when 'exrc' is on (`vim.o.exrc = true` in init.lua); or copy it into init.lua.
        vim.api.nvim_create_autocmd({ 'BufReadPost', 'BufNewFile' }, {
          pattern = '*.csx',
          callback = function(args)
            vim.bo[args.buf].filetype = 'cs'
            local marker = vim.fs.find({ '.runbook.json', '.git' }, { upward = true, path = vim.fs.dirname(args.file) })[1]
            vim.lsp.start({
              name = 'runbook',
              cmd = { 'runbook', 'lsp' },
              root_dir = marker and vim.fs.dirname(marker) or vim.fs.dirname(args.file),
            }, { bufnr = args.buf })
          end,
        })

        """;

    /// <summary>The Helix settings: a <c>runbook</c> language for <c>*.csx</c> with the C# grammar and <c>runbook lsp</c> as its server.</summary>
    public const string HelixToml = """
        # Runbooks: `runbook lsp` for *.csx (written by `runbook editor setup`).
        # Helix reads .helix/languages.toml in the workspace on top of its own.
        [language-server.runbook]
        command = "runbook"
        args = ["lsp"]

        [[language]]
        name = "runbook"
        scope = "source.csx"
        file-types = [{ glob = "*.csx" }]
        roots = [".runbook.json", ".git"]
        comment-token = "//"
        indent = { tab-width = 4, unit = "    " }
        grammar = "c-sharp"
        language-servers = ["runbook"]

        """;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static readonly JsonDocumentOptions Lenient = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>An existing JSON settings file (comments and trailing commas allowed, as VS Code allows them), or null when there is none.</summary>
    private static JsonObject? ReadJsonObject(string path)
    {
        if (!System.IO.File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(System.IO.File.ReadAllText(path), documentOptions: Lenient) as JsonObject
                ?? throw new InvalidRunbookException($"{path} is not a JSON object; fix or remove it, then set up again");
        }
        catch (JsonException ex)
        {
            throw new InvalidRunbookException($"{path}:{ex.LineNumber + 1}:{ex.BytePositionInLine + 1}: not valid JSON ({ex.Message.Split('.')[0]}); fix or remove it, then set up again");
        }
    }

    private static JsonObject Merge(JsonObject? existing, string key, string value)
    {
        var merged = existing ?? [];
        merged[key] = value;
        return merged;
    }

    private static EditorFile WriteOwn(string root, string path, string text, bool force)
    {
        if (System.IO.File.Exists(path) && !force && !System.IO.File.ReadAllText(path).Contains(Marker, StringComparison.Ordinal))
        {
            return new EditorFile(Path.GetRelativePath(root, path), "kept");
        }

        return WriteFile(root, path, text, "written");
    }

    private static EditorFile WriteFile(string root, string path, string text, string outcome)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, text);
        return new EditorFile(Path.GetRelativePath(root, path), outcome);
    }
}
