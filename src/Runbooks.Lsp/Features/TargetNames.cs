using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Runbooks.Lsp.Features;

/// <summary>
/// Targets by name, read from syntax alone (<c>Target("name", …)</c> with a literal name) in the script and
/// the files it <c>#load</c>s, and the <c>DependsOn("…")</c> string a position is in. Syntax is enough and
/// is there even when the script does not bind.
/// </summary>
internal static class TargetNames
{
    /// <summary>A target's name as written: its literal, in which tree.</summary>
    public sealed record Definition(string Name, LiteralExpressionSyntax Literal);

    public static IEnumerable<Definition> All(Compilation compilation) =>
        compilation.SyntaxTrees.SelectMany(tree => tree.GetRoot().DescendantNodes()
            .OfType<InvocationExpressionSyntax>()
            .Where(invocation => CalledName(invocation) == "Target")
            .Select(NameLiteral)
            .OfType<LiteralExpressionSyntax>()
            .Select(literal => new Definition(literal.Token.ValueText, literal)));

    /// <summary>The string literal at <paramref name="position"/> when it is an argument of <c>DependsOn(…)</c>.</summary>
    public static LiteralExpressionSyntax? DependsOnLiteralAt(SyntaxNode root, int position) => LiteralArgumentAt(root, position, "DependsOn");

    /// <summary>The string literal at <paramref name="position"/> when it is an argument of a call named <paramref name="method"/> (<c>.On("…")</c>).</summary>
    public static LiteralExpressionSyntax? LiteralArgumentAt(SyntaxNode root, int position, string method)
    {
        var token = root.FindToken(position);
        if (!token.IsKind(SyntaxKind.StringLiteralToken) || position <= token.SpanStart || position > token.Span.End)
        {
            // Also the empty "" the editor just typed: the caret sits between its quotes.
            token = root.FindToken(Math.Max(0, position - 1));
            if (!token.IsKind(SyntaxKind.StringLiteralToken) || position <= token.SpanStart || position > token.Span.End)
            {
                return null;
            }
        }

        return token.Parent is LiteralExpressionSyntax { Parent: ArgumentSyntax { Parent: ArgumentListSyntax { Parent: InvocationExpressionSyntax invocation } } } literal
            && CalledName(invocation) == method
            ? literal
            : null;
    }

    /// <summary>The name of the target whose definition encloses a node, so a target is not offered as its own dependency.</summary>
    public static string? EnclosingTarget(SyntaxNode node) =>
        node.Ancestors().OfType<InvocationExpressionSyntax>().Where(i => CalledName(i) == "Target").Select(NameLiteral).FirstOrDefault()?.Token.ValueText;

    private static LiteralExpressionSyntax? NameLiteral(InvocationExpressionSyntax invocation) =>
        invocation.ArgumentList.Arguments.FirstOrDefault()?.Expression is LiteralExpressionSyntax literal && literal.IsKind(SyntaxKind.StringLiteralExpression)
            ? literal
            : null;

    private static string? CalledName(InvocationExpressionSyntax invocation) => invocation.Expression switch
    {
        IdentifierNameSyntax name => name.Identifier.ValueText,
        MemberAccessExpressionSyntax access => access.Name.Identifier.ValueText,
        _ => null,
    };
}
