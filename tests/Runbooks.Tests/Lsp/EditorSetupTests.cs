using System.Text.Json.Nodes;
using Runbooks.Lsp;
using Runbooks.Tests.Support;
using Tomlyn;
using Tomlyn.Model;

namespace Runbooks.Tests.Lsp;

/// <summary>
/// <c>runbook editor setup</c>: the VS Code, Neovim and Helix files it writes parse as their editors parse them and
/// start <c>runbook lsp</c>; the Neovim file is also run under Lua against a stand-in <c>vim</c> table.
/// </summary>
[Category("process"), NonParallelizable]
public class EditorSetupTests : TempFolderTest
{
    private const string Luac = "luac5.4";
    private const string Lua = "lua5.4";

    [Test]
    public void Editor_setup_writes_settings_each_editor_parses_and_each_starts_runbook_lsp()
    {
        var inventory = Path.Combine(Folder, "ops", "hosts.inventory");
        Directory.CreateDirectory(Path.GetDirectoryName(inventory)!);
        File.WriteAllText(inventory, "web = ssh://root@web:22\n");

        var (exit, output, error) = CliRunner.Run("editor", "setup", Folder, "--inventory", inventory);

        Assert.That(exit, Is.Zero, error);
        Assert.That(output, Does.Contain(".nvim.lua (written)"));
        var vscode = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, ".vscode", "settings.json")))!;
        Assert.That(vscode["glspc.server.command"]!.GetValue<string>(), Is.EqualTo("runbook"));
        Assert.That(vscode["glspc.server.commandArguments"]!.AsArray().Select(a => a!.GetValue<string>()), Is.EqualTo(new[] { "lsp" }));
        Assert.That(vscode["files.associations"]!["*.csx"]!.GetValue<string>(), Is.EqualTo("csharp"));

        var helix = TomlSerializer.Deserialize<TomlTable>(File.ReadAllText(Path.Combine(Folder, ".helix", "languages.toml")))!;
        var server = (TomlTable)((TomlTable)helix["language-server"])["runbook"];
        Assert.That(server["command"], Is.EqualTo("runbook"));
        Assert.That(((TomlArray)server["args"]).Cast<object>(), Is.EqualTo(new object[] { "lsp" }));
        var language = ((TomlTableArray)helix["language"]).Single();
        Assert.That(((TomlArray)language["language-servers"]).Cast<object>(), Is.EqualTo(new object[] { "runbook" }));
        Assert.That(((TomlTable)((TomlArray)language["file-types"])[0]!)["glob"], Is.EqualTo("*.csx"));

        var lua = Path.Combine(Folder, ".nvim.lua");
        RequireTool(Luac);
        var (syntaxExit, syntax) = Run(Luac, "-p", lua);
        Assert.That(syntaxExit, Is.Zero, syntax);
        Assert.That(Neovim(lua, Path.Combine(Folder, "disk-full", "disk-full.csx")), Is.EqualTo($"cs|runbook lsp|{Folder}"));

        var runbookJson = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, ".runbook.json")))!;
        Assert.That(runbookJson["inventory"]!.GetValue<string>(), Is.EqualTo("ops/hosts.inventory"));
    }

    [Test]
    public void An_existing_vscode_settings_file_keeps_its_settings_and_a_helix_file_someone_else_wrote_is_kept_unless_forced()
    {
        Directory.CreateDirectory(Path.Combine(Folder, ".vscode"));
        File.WriteAllText(Path.Combine(Folder, ".vscode", "settings.json"), "{\n  // mine\n  \"editor.tabSize\": 2,\n  \"files.associations\": { \"*.tf\": \"terraform\" },\n}\n");
        Directory.CreateDirectory(Path.Combine(Folder, ".helix"));
        File.WriteAllText(Path.Combine(Folder, ".helix", "languages.toml"), "[[language]]\nname = \"rust\"\n");

        var first = EditorSetup.Write(Folder);
        var helixAfterFirst = File.ReadAllText(Path.Combine(Folder, ".helix", "languages.toml"));
        var forced = EditorSetup.Write(Folder, force: true);

        var vscode = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, ".vscode", "settings.json")))!;
        Assert.That(vscode["editor.tabSize"]!.GetValue<int>(), Is.EqualTo(2));
        Assert.That(vscode["files.associations"]!["*.tf"]!.GetValue<string>(), Is.EqualTo("terraform"));
        Assert.That(vscode["files.associations"]!["*.csx"]!.GetValue<string>(), Is.EqualTo("csharp"));
        Assert.That(first.Single(f => f.Path == Path.Combine(".vscode", "settings.json")).Outcome, Is.EqualTo("merged"));
        Assert.That(first.Single(f => f.Path == Path.Combine(".helix", "languages.toml")).Outcome, Is.EqualTo("kept"));
        Assert.That(helixAfterFirst, Is.EqualTo("[[language]]\nname = \"rust\"\n"));
        Assert.That(forced.Single(f => f.Path == Path.Combine(".helix", "languages.toml")).Outcome, Is.EqualTo("written"));
        Assert.That(EditorSetup.Write(Folder).Single(f => f.Path == ".nvim.lua").Outcome, Is.EqualTo("written"), "its own file is rewritten without --force");
    }

    [Test]
    public void A_settings_json_that_does_not_parse_is_refused_with_its_line_and_nothing_is_written()
    {
        Directory.CreateDirectory(Path.Combine(Folder, ".vscode"));
        File.WriteAllText(Path.Combine(Folder, ".vscode", "settings.json"), "{\n  \"a\": 1\n  \"b\": 2\n}\n");

        var (exit, _, error) = CliRunner.Run("editor", "setup", Folder);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain(Path.Combine(Folder, ".vscode", "settings.json") + ":3:"));
        Assert.That(File.Exists(Path.Combine(Folder, ".nvim.lua")), Is.False);
    }

    /// <summary>
    /// Runs the Neovim file under Lua with just enough of <c>vim</c> for it: the autocmd's callback is called for a
    /// buffer of <paramref name="script"/>, and what it set and started is printed as <c>filetype|cmd|root</c>. The root is
    /// the folder of the nearest <c>.runbook.json</c> (setup wrote one, for the inventory).
    /// </summary>
    private string Neovim(string lua, string script)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(script)!);
        var harness = Path.Combine(Folder, "nvim-stub.lua");
        File.WriteAllText(harness, $$"""
            local started, callback = nil, nil
            local buffers = { [7] = {} }
            vim = {
              bo = buffers,
              api = { nvim_create_autocmd = function(events, options) callback = options.callback end },
              lsp = { start = function(config, options) started = config; assert(options.bufnr == 7) end },
              fs = {
                dirname = function(path) return (path:gsub('/[^/]*$', '')) end,
                find = function(names, options)
                  local dir = options.path
                  while dir ~= '' do
                    for _, name in ipairs(names) do
                      local candidate = dir .. '/' .. name
                      local f = io.open(candidate, 'r')
                      if f then f:close(); return { candidate } end
                    end
                    dir = dir:gsub('/[^/]*$', '')
                  end
                  return {}
                end,
              },
            }
            dofile('{{lua}}')
            callback({ buf = 7, file = '{{script}}' })
            print(buffers[7].filetype .. '|' .. table.concat(started.cmd, ' ') .. '|' .. started.root_dir)
            """);
        var (exit, output) = Run(Lua, harness);
        Assert.That(exit, Is.Zero, output);
        return output.Trim();
    }

    private static void RequireTool(string tool)
    {
        if (Run("sh", "-c", $"command -v {tool}").Exit != 0)
        {
            Assert.Ignore($"SKIPPED LOUDLY: {tool} is not installed, so the Neovim settings were not checked; harness/prerequisites.sh installs lua5.4");
        }
    }

    private static (int Exit, string Output) Run(string program, params string[] arguments) => ChildProcess.Run(program, arguments, TimeSpan.FromSeconds(30));
}
