using System.Text.Json.Nodes;
using System.Xml.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Runbooks.Lsp.Features;

/// <summary>
/// <c>textDocument/signatureHelp</c> from the semantic model: the overloads of the call the caret is in,
/// each with its XML doc summary, and which argument the caret is on. (Roslyn's own signature help
/// providers are not public API.)
/// </summary>
internal static class SignatureHelpFeature
{
    private static readonly SymbolDisplayFormat Format = SymbolDisplayFormat.MinimallyQualifiedFormat
        .WithParameterOptions(SymbolDisplayParameterOptions.IncludeType | SymbolDisplayParameterOptions.IncludeName | SymbolDisplayParameterOptions.IncludeParamsRefOut | SymbolDisplayParameterOptions.IncludeDefaultValue);

    public static async Task<JsonNode?> SignatureHelpAsync(Document document, int position, CancellationToken cancellationToken)
    {
        var root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        // The token before the caret: at the end of `Lvm.Pv(` the token at the caret is the end of file.
        var arguments = root.FindToken(Math.Max(0, position - 1)).Parent?.AncestorsAndSelf().OfType<BaseArgumentListSyntax>()
            .FirstOrDefault(list => list.OpenToken(position) && (list.CloseToken().IsMissing || position <= list.CloseToken().SpanStart));
        if (arguments is null)
        {
            return null;
        }

        var model = (await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false))!;
        var (methods, chosen) = arguments.Parent switch
        {
            InvocationExpressionSyntax invocation => (model.GetMemberGroup(invocation.Expression, cancellationToken).OfType<IMethodSymbol>().ToList(), model.GetSymbolInfo(invocation, cancellationToken).Symbol),
            BaseObjectCreationExpressionSyntax creation => ((model.GetTypeInfo(creation, cancellationToken).Type as INamedTypeSymbol)?.InstanceConstructors.Where(c => c.DeclaredAccessibility == Accessibility.Public).ToList() ?? [], model.GetSymbolInfo(creation, cancellationToken).Symbol),
            _ => ([], null),
        };
        if (methods.Count == 0)
        {
            return null;
        }

        var argumentIndex = arguments.Arguments.GetSeparators().Count(s => s.SpanStart < position);
        var signatures = new JsonArray();
        foreach (var method in methods)
        {
            var parameters = new JsonArray();
            foreach (var parameter in method.Parameters)
            {
                parameters.Add(new JsonObject { ["label"] = parameter.ToDisplayString(Format) });
            }

            signatures.Add(new JsonObject
            {
                ["label"] = method.ToDisplayString(Format),
                ["documentation"] = Summary(method),
                ["parameters"] = parameters,
            });
        }

        var active = chosen is IMethodSymbol bound && methods.IndexOf(bound) is >= 0 and var index
            ? index
            : Math.Max(0, methods.FindIndex(m => m.Parameters.Length > argumentIndex || m.Parameters.LastOrDefault()?.IsParams == true));
        var activeMethod = methods[active];
        var activeParameter = activeMethod.Parameters.Length == 0 ? 0 : Math.Min(argumentIndex, activeMethod.Parameters.Length - 1);
        return new JsonObject { ["signatures"] = signatures, ["activeSignature"] = active, ["activeParameter"] = activeParameter };
    }

    private static string? Summary(ISymbol symbol)
    {
        var xml = symbol.GetDocumentationCommentXml();
        if (string.IsNullOrWhiteSpace(xml))
        {
            return null;
        }

        try
        {
            var summary = XElement.Parse(xml).Element("summary");
            return summary is null ? null : string.Join(" ", summary.Nodes().Select(n => n is XElement e ? (e.Attribute("cref")?.Value.Split('.').Last() ?? e.Value) : n.ToString()).Select(s => s.Trim()).Where(s => s.Length > 0));
        }
        catch (System.Xml.XmlException)
        {
            return null;
        }
    }

    private static bool OpenToken(this BaseArgumentListSyntax list, int position) => list switch
    {
        ArgumentListSyntax a => a.OpenParenToken.Span.End <= position,
        BracketedArgumentListSyntax b => b.OpenBracketToken.Span.End <= position,
        _ => false,
    };

    private static SyntaxToken CloseToken(this BaseArgumentListSyntax list) => list switch
    {
        ArgumentListSyntax a => a.CloseParenToken,
        BracketedArgumentListSyntax b => b.CloseBracketToken,
        _ => default,
    };
}
