using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Completion;
using Microsoft.CodeAnalysis.Tags;
using Microsoft.CodeAnalysis.Text;
using Runbooks.Lsp.Protocol;
using Runbooks.Lsp.Workspace;

namespace Runbooks.Lsp.Features;

/// <summary>
/// <c>textDocument/completion</c> through Roslyn's <see cref="CompletionService"/> (DSL members, globals,
/// locals), and target names inside <c>DependsOn("…")</c>. Documentation is filled in on
/// <c>completionItem/resolve</c> from the last list, so a long list costs no description lookups.
/// Host names inside <c>.On("…")</c> come from the inventory <see cref="EditorSettings"/> names and the scenarios beside the script.
/// </summary>
internal sealed class CompletionFeature(Func<EditorSettings> settings, ServerStatus status)
{
    private (Document Document, ImmutableArray<CompletionItem> Items)? _last;

    /// <param name="requester">Who asks, recorded in <see cref="ServerStatus"/> when the completion service is new.</param>
    public async Task<JsonObject> CompleteAsync(Document document, int position, JsonNode? context, string requester, CancellationToken cancellationToken)
    {
        var root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        var text = await document.GetTextAsync(cancellationToken).ConfigureAwait(false);
        if (TargetNames.DependsOnLiteralAt(root, position) is { } literal)
        {
            return await DependencyNamesAsync(document, text, literal, cancellationToken).ConfigureAwait(false);
        }

        if (TargetNames.LiteralArgumentAt(root, position, "On") is { } host && document.FilePath is { } path)
        {
            return HostNames(text, host, settings().HostsFor(path).Entries);
        }

        var service = CompletionService.GetService(document);
        if (service is null)
        {
            return Empty();
        }

        status.CompletionServiceUsed(service, requester);

        var trigger = context?["triggerCharacter"] is JsonValue character && character.TryGetValue<string>(out var typed) && typed.Length == 1
            ? CompletionTrigger.CreateInsertionTrigger(typed[0])
            : CompletionTrigger.Invoke;
        var list = await service.GetCompletionsAsync(document, position, trigger, cancellationToken: cancellationToken).ConfigureAwait(false);
        _last = (document, list.ItemsList.ToImmutableArray());
        var items = new JsonArray();
        for (var i = 0; i < _last.Value.Items.Length; i++)
        {
            var item = _last.Value.Items[i];
            items.Add(new JsonObject
            {
                ["label"] = item.DisplayTextPrefix + item.DisplayText + item.DisplayTextSuffix,
                ["kind"] = Kind(item.Tags),
                ["sortText"] = item.SortText,
                ["filterText"] = item.FilterText,
                ["detail"] = item.InlineDescription is { Length: > 0 } inline ? inline : null,
                ["textEdit"] = new JsonObject { ["range"] = LspJson.Range(text, item.Span), ["newText"] = InsertionText(item) },
                ["data"] = i,
            });
        }

        return new JsonObject { ["isIncomplete"] = false, ["items"] = items };
    }

    /// <summary>Adds the item's signature and XML doc summary, looked up in the list it came from.</summary>
    public async Task<JsonNode> ResolveAsync(JsonObject item, CancellationToken cancellationToken)
    {
        if (_last is not { } last || item["data"] is not JsonValue data || !data.TryGetValue<int>(out var index) || index < 0 || index >= last.Items.Length)
        {
            return item;
        }

        var service = CompletionService.GetService(last.Document);
        var description = service is null ? null : await service.GetDescriptionAsync(last.Document, last.Items[index], cancellationToken).ConfigureAwait(false);
        if (description is not null && description.TaggedParts.Length > 0)
        {
            var resolved = (JsonObject)item.DeepClone();
            resolved["documentation"] = new JsonObject { ["kind"] = "markdown", ["value"] = HoverFeature.Markdown(description.TaggedParts) };
            return resolved;
        }

        return item;
    }

    private static async Task<JsonObject> DependencyNamesAsync(Document document, SourceText text, Microsoft.CodeAnalysis.CSharp.Syntax.LiteralExpressionSyntax literal, CancellationToken cancellationToken)
    {
        var compilation = (await document.Project.GetCompilationAsync(cancellationToken).ConfigureAwait(false))!;
        var own = TargetNames.EnclosingTarget(literal);
        var range = BetweenQuotes(text, literal);
        var items = new JsonArray();
        foreach (var target in TargetNames.All(compilation).DistinctBy(t => t.Name).Where(t => t.Name != own))
        {
            items.Add(new JsonObject
            {
                ["label"] = target.Name,
                ["kind"] = 18,
                ["detail"] = $"target, {Path.GetFileName(target.Literal.SyntaxTree.FilePath)}:{target.Literal.GetLocation().GetLineSpan().StartLinePosition.Line + 1}",
                ["textEdit"] = new JsonObject { ["range"] = range.DeepClone(), ["newText"] = target.Name },
            });
        }

        return new JsonObject { ["isIncomplete"] = false, ["items"] = items };
    }

    private static JsonObject HostNames(SourceText text, Microsoft.CodeAnalysis.CSharp.Syntax.LiteralExpressionSyntax literal, IReadOnlyList<Engine.InventoryEntry> hosts)
    {
        var range = BetweenQuotes(text, literal);
        var items = new JsonArray();
        foreach (var host in hosts.DistinctBy(h => h.Name))
        {
            items.Add(new JsonObject
            {
                ["label"] = host.Name,
                ["kind"] = 12,
                ["detail"] = host.Origin.Length > 0 ? $"host {host.Address}, {Path.GetFileName(host.Origin)}" : $"host {host.Address}",
                ["textEdit"] = new JsonObject { ["range"] = range.DeepClone(), ["newText"] = host.Name },
            });
        }

        return new JsonObject { ["isIncomplete"] = false, ["items"] = items };
    }

    /// <summary>What is between a literal's quotes, for its replacement (an unterminated string has no closing one).</summary>
    private static JsonObject BetweenQuotes(SourceText text, Microsoft.CodeAnalysis.CSharp.Syntax.LiteralExpressionSyntax literal)
    {
        var token = literal.Token;
        var end = token.Text.Length > 1 && token.Text.EndsWith('"') ? token.Span.End - 1 : token.Span.End;
        return LspJson.Range(text, TextSpan.FromBounds(token.SpanStart + 1, Math.Max(token.SpanStart + 1, end)));
    }

    private static JsonObject Empty() => new() { ["isIncomplete"] = false, ["items"] = new JsonArray() };

    /// <summary>What typing the item inserts: a generic method's display text ends in <c>&lt;&gt;</c>, which is not code.</summary>
    private static string InsertionText(CompletionItem item) =>
        item.Properties.TryGetValue("InsertionText", out var insertion) && !string.IsNullOrEmpty(insertion) ? insertion : item.DisplayText;

    /// <summary>Roslyn's glyph tags to LSP's CompletionItemKind numbers.</summary>
    private static int Kind(ImmutableArray<string> tags) =>
        tags.Select(tag => tag switch
        {
            WellKnownTags.Method or WellKnownTags.ExtensionMethod => 2,
            WellKnownTags.Field => 5,
            WellKnownTags.Local or WellKnownTags.Parameter or WellKnownTags.RangeVariable => 6,
            WellKnownTags.Class => 7,
            WellKnownTags.Interface => 8,
            WellKnownTags.Namespace => 9,
            WellKnownTags.Property => 10,
            WellKnownTags.Enum => 13,
            WellKnownTags.Keyword => 14,
            WellKnownTags.Snippet => 15,
            WellKnownTags.EnumMember => 20,
            WellKnownTags.Constant => 21,
            WellKnownTags.Structure => 22,
            WellKnownTags.Event => 23,
            WellKnownTags.TypeParameter => 25,
            _ => 0,
        }).FirstOrDefault(kind => kind != 0, 1);
}
