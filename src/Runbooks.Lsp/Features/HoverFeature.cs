using System.Collections.Immutable;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.QuickInfo;
using Runbooks.Lsp.Protocol;

namespace Runbooks.Lsp.Features;

/// <summary><c>textDocument/hover</c> through Roslyn's <see cref="QuickInfoService"/>: the signature, then the XML docs (summary, example, returns).</summary>
internal static class HoverFeature
{
    public static async Task<JsonNode?> HoverAsync(Document document, int position, CancellationToken cancellationToken)
    {
        var service = QuickInfoService.GetService(document);
        var info = service is null ? null : await service.GetQuickInfoAsync(document, position, cancellationToken).ConfigureAwait(false);
        if (info is null || info.Sections.IsEmpty)
        {
            return null;
        }

        var markdown = new StringBuilder();
        foreach (var section in info.Sections)
        {
            var sectionText = section.Text.Trim();
            if (sectionText.Length == 0)
            {
                continue;
            }

            if (markdown.Length > 0)
            {
                markdown.Append("\n\n");
            }

            markdown.Append(section.Kind == QuickInfoSectionKinds.Description ? $"```csharp\n{sectionText}\n```" : sectionText);
        }

        var text = await document.GetTextAsync(cancellationToken).ConfigureAwait(false);
        return new JsonObject
        {
            ["contents"] = new JsonObject { ["kind"] = "markdown", ["value"] = markdown.ToString() },
            ["range"] = LspJson.Range(text, info.Span),
        };
    }

    /// <summary>A completion description as Markdown: its first line (the signature) as code, the rest as prose.</summary>
    public static string Markdown(ImmutableArray<TaggedText> parts)
    {
        var text = string.Concat(parts.Select(p => p.Text));
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? $"```csharp\n{text.Trim()}\n```" : $"```csharp\n{text[..newline].Trim()}\n```\n\n{text[(newline + 1)..].Trim()}";
    }
}
