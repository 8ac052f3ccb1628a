using System.Text.Json;
using System.Text.Json.Nodes;
using Runbooks.Engine;

namespace Runbooks.Lsp.Workspace;

/// <summary>
/// What the editor told the server, or a <c>.runbook.json</c> beside the scripts says: today, which inventory file
/// names the hosts that <c>.On("…")</c> completes. The editor's <c>initializationOptions.inventory</c> wins (relative
/// to the workspace root); else the nearest <c>.runbook.json</c> in the script's folder or above it, its
/// <c>inventory</c> relative to that file. The file is read on each request, so an edited inventory shows at once.
/// </summary>
internal sealed class EditorSettings
{
    /// <summary>The settings file looked for from a script's folder upward.</summary>
    public const string FileName = ".runbook.json";

    private readonly string? _inventory;
    private readonly TextWriter _log;

    private EditorSettings(string? inventory, TextWriter log)
    {
        _inventory = inventory;
        _log = log;
    }

    public static EditorSettings None(TextWriter log) => new(null, log);

    /// <summary>From the <c>initialize</c> request's parameters.</summary>
    public static EditorSettings FromInitialize(JsonNode? parameters, TextWriter log)
    {
        var root = parameters?["rootUri"] is JsonValue uri && uri.TryGetValue<string>(out var rootUri) ? Protocol.LspJson.PathOf(rootUri)
            : parameters?["rootPath"] is JsonValue path && path.TryGetValue<string>(out var rootPath) ? rootPath
            : Environment.CurrentDirectory;
        var inventory = parameters?["initializationOptions"]?["inventory"] is JsonValue value && value.TryGetValue<string>(out var file) && file.Length > 0
            ? Path.GetFullPath(file, root)
            : null;
        return new EditorSettings(inventory, log);
    }

    /// <summary>The inventory a script's <c>.On("…")</c> draws from, or null when none is given.</summary>
    public string? InventoryFor(string scriptPath)
    {
        if (_inventory is not null)
        {
            return _inventory;
        }

        for (var folder = Path.GetDirectoryName(scriptPath); folder is not null; folder = Path.GetDirectoryName(folder))
        {
            var settings = Path.Combine(folder, FileName);
            if (!System.IO.File.Exists(settings))
            {
                continue;
            }

            try
            {
                return JsonNode.Parse(System.IO.File.ReadAllText(settings))?["inventory"] is JsonValue value && value.TryGetValue<string>(out var file)
                    ? Path.GetFullPath(file, folder)
                    : null;
            }
            catch (Exception ex) when (ex is JsonException or IOException or InvalidOperationException)
            {
                _log.WriteLine($"runbook lsp: {settings}: {ex.Message}; no host names from it");
                return null;
            }
        }

        return null;
    }

    /// <summary>The hosts a script can name: <c>local</c> and the inventory's; a broken inventory is logged and offers only <c>local</c>.</summary>
    public IReadOnlyList<InventoryEntry> HostsFor(string scriptPath)
    {
        var local = new InventoryEntry(Inventory.DefaultHost, "local", "");
        if (InventoryFor(scriptPath) is not { } inventory)
        {
            return [local];
        }

        try
        {
            var entries = InventoryParser.ReadFile(inventory);
            return entries.Any(e => e.Name == Inventory.DefaultHost) ? entries : [local, .. entries];
        }
        catch (InvalidRunbookException ex)
        {
            _log.WriteLine($"runbook lsp: {ex.Message}; no host names from it");
            return [local];
        }
    }
}
