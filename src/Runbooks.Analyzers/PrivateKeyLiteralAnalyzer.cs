using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Runbooks.Analyzers;

/// <summary>
/// RB003 (error): a private key written into the runbook. PEM/OpenSSH private key blocks anywhere; a
/// <c>PrivateKey = …</c> line of a WireGuard config; a WireGuard-shaped key (32 bytes, base64) given to
/// something named private or secret. WireGuard public keys look the same, so a bare key elsewhere is
/// left alone. Read keys from the host or a file (<c>Secret.FromFile</c>) instead.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class PrivateKeyLiteralAnalyzer : RunbookAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Describe(
        "RB003",
        "Private key in the runbook source",
        "This literal looks like a private key ({0}); never commit keys: read it on the host or with Secret.FromFile/Secret.FromEnvironment",
        DiagnosticSeverity.Error);

    public PrivateKeyLiteralAnalyzer() : base(Rule)
    {
    }

    protected override void Register(AnalysisContext context)
    {
        RunbookAnalyzers.RegisterOperation<ILiteralOperation>(context, Analyze, SyntaxKind.StringLiteralExpression);
    }

    internal static bool IsWireGuardKey(string text)
    {
        if (text.Length != 44 || text[43] != '=')
        {
            return false;
        }

        try
        {
            return Convert.FromBase64String(text).Length == 32;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static void Analyze(ILiteralOperation literal, Action<Diagnostic> report)
    {
        if (RunbookAnalyzers.ConstantString(literal) is not { } text)
        {
            return;
        }

        var kind = text.IndexOf("PRIVATE KEY-----", StringComparison.Ordinal) >= 0 ? "a PEM/OpenSSH private key block"
            : WireGuardConfigKey.IsMatch(text) ? "a WireGuard PrivateKey line"
            : IsWireGuardKey(text.Trim()) && InPrivateContext(literal) ? "a WireGuard key given to a private/secret value"
            : null;
        if (kind is not null)
        {
            report(Diagnostic.Create(Rule, literal.Syntax.GetLocation(), kind));
        }
    }

    private static bool InPrivateContext(IOperation literal)
    {
        for (var current = literal.Parent; current is not null; current = current.Parent)
        {
            var name = current switch
            {
                IArgumentOperation argument => argument.Parameter?.Name,
                IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator } => declarator.Symbol.Name,
                IFieldInitializerOperation field => string.Join(",", field.InitializedFields.Select(f => f.Name)),
                ISimpleAssignmentOperation { Target: ILocalReferenceOperation local } => local.Local.Name,
                ISimpleAssignmentOperation { Target: IPropertyReferenceOperation property } => property.Property.Name,
                IInvocationOperation { TargetMethod: { Name: "Of", ContainingType.Name: "Secret" } } => "secret",
                _ => null,
            };
            if (name is not null && (name.IndexOf("private", StringComparison.OrdinalIgnoreCase) >= 0 || name.IndexOf("secret", StringComparison.OrdinalIgnoreCase) >= 0))
            {
                return true;
            }

            if (current is IArgumentOperation or IVariableDeclaratorOperation or IFieldInitializerOperation or IBlockOperation)
            {
                // Look through one argument hop (Secret.Of(x)) but not beyond the statement.
                if (current is not IArgumentOperation)
                {
                    return false;
                }
            }
        }

        return false;
    }

    // netstandard2.0 (what an analyzer package targets) has no regex source generator.
    private static readonly Regex WireGuardConfigKey = new(@"PrivateKey\s*=\s*[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=", RegexOptions.CultureInvariant);
}
