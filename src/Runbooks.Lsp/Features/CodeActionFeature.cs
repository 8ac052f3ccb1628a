using System.Text;
using System.Text.Json.Nodes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using Runbooks.Analyzers;
using Runbooks.Lsp.Protocol;

namespace Runbooks.Lsp.Features;

/// <summary>
/// <c>textDocument/codeAction</c>: the quick fix for RB002. An interpolated shell script
/// (<c>Shell.Script($"lsblk /dev/{device}")</c>, or <c>new Command("sh", ["-c", $"…"])</c>) becomes a constant
/// script whose holes are positional parameters, the values passed after it:
/// <c>Shell.Script("lsblk /dev/\"$1\"", device)</c>. Each hole is double-quoted in the script, so a value is one
/// word to the shell whatever it holds; a hole the author had already quoted keeps its quotes.
/// </summary>
internal static class CodeActionFeature
{
    public static async Task<JsonArray> CodeActionsAsync(string uri, Document document, JsonNode? parameters, CancellationToken cancellationToken)
    {
        var text = await document.GetTextAsync(cancellationToken).ConfigureAwait(false);
        var range = parameters?["range"] ?? throw new RpcException(RpcException.InvalidParams, "codeAction without a range");
        var span = TextSpan.FromBounds(LspJson.Offset(text, range["start"]), Math.Max(LspJson.Offset(text, range["start"]), LspJson.Offset(text, range["end"])));
        var root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        var model = (await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false))!;
        var actions = new JsonArray();
        foreach (var script in root.DescendantNodes(span).OfType<InterpolatedStringExpressionSyntax>().Where(s => s.Span.IntersectsWith(span) || s.Span.Contains(span.Start)))
        {
            if (Rewrite(script, model, cancellationToken) is not { } fix)
            {
                continue;
            }

            actions.Add(new JsonObject
            {
                ["title"] = "Pass the values as positional parameters (Shell.Script)",
                ["kind"] = "quickfix",
                ["isPreferred"] = true,
                ["diagnostics"] = Matching(parameters?["context"]?["diagnostics"], text, script.Span),
                ["edit"] = new JsonObject
                {
                    ["changes"] = new JsonObject
                    {
                        [uri] = new JsonArray(new JsonObject { ["range"] = LspJson.Range(text, fix.Span), ["newText"] = fix.Text }),
                    },
                },
            });
        }

        return actions;
    }

    /// <summary>The replacement for the call that holds <paramref name="script"/>, or null when it is not an RB002 case this fix understands.</summary>
    internal static (TextSpan Span, string Text)? Rewrite(InterpolatedStringExpressionSyntax script, SemanticModel model, CancellationToken cancellationToken)
    {
        // Shell.Script($"…", existing…): the holes number after the values already passed.
        if (script.Parent is ArgumentSyntax { Parent: ArgumentListSyntax arguments } argument
            && arguments.Arguments.IndexOf(argument) == 0
            && arguments.Parent is InvocationExpressionSyntax invocation
            && model.GetSymbolInfo(invocation, cancellationToken).Symbol is IMethodSymbol { Name: "Script", ContainingType.Name: "Shell" })
        {
            var existing = arguments.Arguments.Skip(1).Select(a => a.ToString()).ToList();
            return Positional(script, model, existing.Count, cancellationToken) is { } positional
                ? (arguments.Span, Arguments(positional.Script, [.. existing, .. positional.Values]))
                : null;
        }

        // new Command("sh", ["-c", $"…"]): exactly a shell and its script, nothing after it to renumber around.
        if (script.Parent is { } element && (element is ExpressionElementSyntax || element is ArgumentSyntax)
            && script.FirstAncestorOrSelf<BaseObjectCreationExpressionSyntax>() is { ArgumentList.Arguments: [_, var argv] } creation
            && model.GetOperation(creation, cancellationToken) is Microsoft.CodeAnalysis.Operations.IObjectCreationOperation { Type.Name: "Command" } operation
            && operation.Arguments[0].Value.ConstantValue.Value is "sh" or "/bin/sh"
            && argv.Expression is CollectionExpressionSyntax { Elements: [ExpressionElementSyntax flag, ExpressionElementSyntax body] }
            && flag.Expression is LiteralExpressionSyntax { Token.ValueText: "-c" }
            && body.Expression == script)
        {
            return Positional(script, model, 0, cancellationToken) is { } positional
                ? (creation.Span, "Shell.Script" + Arguments(positional.Script, positional.Values))
                : null;
        }

        return null;
    }

    private static string Arguments(string script, IEnumerable<string> values) =>
        "(" + string.Join(", ", values.Prepend(SymbolDisplay.FormatLiteral(script, quote: true))) + ")";

    /// <summary>
    /// The script with each hole as <c>"$N"</c> and the hole's expressions as arguments (the same expression
    /// twice is one parameter). Null for a hole with an alignment, whose padding the shell cannot reproduce.
    /// </summary>
    private static (string Script, List<string> Values)? Positional(InterpolatedStringExpressionSyntax interpolated, SemanticModel model, int existing, CancellationToken cancellationToken)
    {
        var script = new StringBuilder();
        var values = new List<string>();
        var contents = interpolated.Contents;
        var dropQuote = false;
        for (var i = 0; i < contents.Count; i++)
        {
            if (contents[i] is InterpolatedStringTextSyntax literal)
            {
                script.Append(dropQuote ? literal.TextToken.ValueText[1..] : literal.TextToken.ValueText);
                dropQuote = false;
                continue;
            }

            var hole = (InterpolationSyntax)contents[i];
            if (hole.AlignmentClause is not null)
            {
                return null;
            }

            var value = Value(hole, model, cancellationToken);
            var index = values.IndexOf(value);
            if (index < 0)
            {
                values.Add(value);
                index = values.Count - 1;
            }

            var number = existing + index + 1;
            var next = i + 1 < contents.Count && contents[i + 1] is InterpolatedStringTextSyntax after ? after.TextToken.ValueText : "";
            // $10 is $1 then 0 to sh, and so is $1 before a digit: braces make the parameter unambiguous.
            var parameter = number > 9 || (next.Length > 0 && char.IsAsciiDigit(next[0])) ? $"${{{number}}}" : $"${number}";
            switch (QuoteAtEnd(script))
            {
                case '"':
                    script.Append(parameter);
                    break;
                case '\'' when script[^1] == '\'' && next.StartsWith('\''):
                    // '{x}' would keep $1 literal: the quotes become ones that expand.
                    script[^1] = '"';
                    script.Append(parameter).Append('"');
                    dropQuote = true;
                    break;
                case '\'':
                    // Inside '…': close it, expand the parameter in double quotes, reopen.
                    script.Append('\'').Append('"').Append(parameter).Append('"').Append('\'');
                    break;
                default:
                    script.Append('"').Append(parameter).Append('"');
                    break;
            }
        }

        return (script.ToString(), values);
    }

    /// <summary>The shell quote open at the end of <paramref name="script"/>: <c>'</c>, <c>"</c>, or none.</summary>
    private static char QuoteAtEnd(StringBuilder script)
    {
        var open = '\0';
        for (var i = 0; i < script.Length; i++)
        {
            var c = script[i];
            if (open == '\'')
            {
                open = c == '\'' ? '\0' : open;
            }
            else if (c == '\\')
            {
                i++;
            }
            else if (c == '"')
            {
                open = open == '"' ? '\0' : '"';
            }
            else if (c == '\'' && open == '\0')
            {
                open = '\'';
            }
        }

        return open;
    }

    /// <summary>A hole's expression as an argument: a string, Secret or Arg as it is; anything else as its invariant text.</summary>
    private static string Value(InterpolationSyntax hole, SemanticModel model, CancellationToken cancellationToken)
    {
        var expression = hole.Expression.WithoutTrivia();
        var type = model.GetTypeInfo(hole.Expression, cancellationToken).Type;
        var format = hole.FormatClause?.FormatStringToken.ValueText;
        if (format is null && type is { SpecialType: SpecialType.System_String } or { Name: "Secret" or "Arg", ContainingNamespace.Name: "Commands" })
        {
            return expression.ToString();
        }

        var receiver = expression is IdentifierNameSyntax or MemberAccessExpressionSyntax or InvocationExpressionSyntax or ElementAccessExpressionSyntax
            ? expression.ToString()
            : $"({expression})";
        return format is null
            ? $"{receiver}.ToString()"
            : $"{receiver}.ToString({SymbolDisplay.FormatLiteral(format, quote: true)}, System.Globalization.CultureInfo.InvariantCulture)";
    }

    /// <summary>The editor's RB002 diagnostics this action fixes, echoed back as the spec asks.</summary>
    private static JsonArray Matching(JsonNode? diagnostics, SourceText text, TextSpan script)
    {
        var matching = new JsonArray();
        var range = text.Lines.GetLinePositionSpan(script);
        foreach (var diagnostic in (diagnostics as JsonArray ?? []).OfType<JsonObject>())
        {
            if (diagnostic["code"]?.GetValueKind() == System.Text.Json.JsonValueKind.String && diagnostic["code"]!.GetValue<string>() == InterpolatedShellCommandAnalyzer.Rule.Id
                && diagnostic["range"]?["start"]?["line"]?.GetValue<int>() is { } line && line >= range.Start.Line && line <= range.End.Line)
            {
                matching.Add(diagnostic.DeepClone());
            }
        }

        return matching;
    }
}
