using System.Text.Json.Nodes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FindSymbols;
using Microsoft.CodeAnalysis.Text;
using Runbooks.Lsp.Protocol;

namespace Runbooks.Lsp.Features;

/// <summary>
/// <c>textDocument/definition</c>: from a <c>DependsOn("x")</c> string to <c>Target("x", …)</c>, from a
/// <c>#load</c> directive to the file, and from any symbol defined in the script or a loaded file to its
/// declaration. A symbol from an assembly has no source here: the answer is null, not a hang.
/// </summary>
internal static class DefinitionFeature
{
    public static async Task<JsonNode?> DefinitionAsync(Document document, int position, CancellationToken cancellationToken)
    {
        var root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        if (TargetNames.DependsOnLiteralAt(root, position) is { } literal)
        {
            var compilation = (await document.Project.GetCompilationAsync(cancellationToken).ConfigureAwait(false))!;
            var locations = new JsonArray();
            foreach (var target in TargetNames.All(compilation).Where(t => t.Name == literal.Token.ValueText))
            {
                locations.Add(Location(target.Literal.GetLocation()));
            }

            return locations;
        }

        if (root.FindTrivia(position, findInsideTrivia: true).GetStructure() is LoadDirectiveTriviaSyntax load
            && ScriptPath(document) is { } path
            && Compiler.ScriptEnvironment.SourceResolver(path).ResolveReference(load.File.ValueText, path) is { } loaded
            && System.IO.File.Exists(loaded))
        {
            return LspJson.Location(LspJson.UriOf(loaded), default);
        }

        var symbol = await SymbolFinder.FindSymbolAtPositionAsync(document, position, cancellationToken).ConfigureAwait(false);
        if (symbol is null)
        {
            return null;
        }

        var sources = new JsonArray();
        foreach (var location in symbol.Locations.Where(l => l.IsInSource && !string.IsNullOrEmpty(l.SourceTree?.FilePath)))
        {
            sources.Add(Location(location));
        }

        return sources.Count > 0 ? sources : null;
    }

    private static string? ScriptPath(Document document) => document.FilePath;

    private static JsonObject Location(Location location)
    {
        var span = location.GetLineSpan();
        return LspJson.Location(LspJson.UriOf(span.Path), span.Span);
    }
}
