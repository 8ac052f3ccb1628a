using System.Collections.Immutable;
using System.Text.Json;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using System.Text.Json.Nodes;
using Runbooks.Engine;

namespace Runbooks.Lsp.Workspace;

/// <summary>
/// What the editor told the server, or a <c>.runbook.json</c> beside the scripts says: today, which inventory file
/// names the hosts that <c>.On("…")</c> completes and RB006 checks (with the hosts of the scenarios beside a runbook). The editor's <c>initializationOptions.inventory</c> wins (relative
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

    /// <summary>
    /// The hosts a script can name: <c>local</c>, the inventory's, and those the <c>*.scenario.csx</c> files in the
    /// script's folder declare with <c>.Host("…")</c> (the hosts the harness gives the runbook they prove). A broken
    /// inventory is logged and adds nothing.
    /// </summary>
    public KnownHosts HostsFor(string scriptPath)
    {
        var entries = new List<InventoryEntry>();
        var sources = ImmutableArray.CreateBuilder<string>();
        if (InventoryFor(scriptPath) is { } inventory)
        {
            try
            {
                entries.AddRange(InventoryParser.ReadFile(inventory));
                sources.Add(inventory);
            }
            catch (InvalidRunbookException ex)
            {
                _log.WriteLine($"runbook lsp: {ex.Message}; no host names from it");
            }
        }

        if (!scriptPath.EndsWith(ScenarioExtension, StringComparison.OrdinalIgnoreCase) && Path.GetDirectoryName(scriptPath) is { } folder && Directory.Exists(folder))
        {
            foreach (var scenario in Directory.EnumerateFiles(folder, "*" + ScenarioExtension).Order(StringComparer.Ordinal))
            {
                var declared = ScenarioHosts(scenario);
                entries.AddRange(declared);
                if (declared.Count > 0)
                {
                    sources.Add(scenario);
                }
            }
        }

        if (!entries.Any(e => e.Name == Inventory.DefaultHost))
        {
            entries.Insert(0, KnownHosts.LocalOnly.Entries[0]);
        }

        return new KnownHosts(entries, sources.ToImmutable());
    }

    private const string ScenarioExtension = ".scenario.csx";

    /// <summary>
    /// The names a scenario gives its hosts, read from its syntax (<c>net.Host("server")</c>), not by running it: an
    /// editor opening a folder must not execute the scripts in it.
    /// </summary>
    private List<InventoryEntry> ScenarioHosts(string scenario)
    {
        string text;
        try
        {
            text = System.IO.File.ReadAllText(scenario);
        }
        catch (IOException ex)
        {
            _log.WriteLine($"runbook lsp: {scenario}: {ex.Message}; no host names from it");
            return [];
        }

        var tree = CSharpSyntaxTree.ParseText(text, Compiler.ScriptEnvironment.ParseOptions, scenario);
        return [.. tree.GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>()
            .Where(call => call.Expression is MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Host" } && call.ArgumentList.Arguments.Count == 1)
            .Select(call => call.ArgumentList.Arguments[0].Expression)
            .OfType<LiteralExpressionSyntax>()
            .Where(literal => literal.IsKind(SyntaxKind.StringLiteralExpression) && literal.Token.ValueText.Length > 0)
            .Select(literal => new InventoryEntry(literal.Token.ValueText, "declared by the scenario", $"{scenario}:{literal.GetLocation().GetLineSpan().StartLinePosition.Line + 1}"))];
    }
}
