using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Runbooks.Analyzers;

/// <summary>The runbook analyzers, ids RB001–RB004 and RB006 (the README lists them with examples).</summary>
public static class RunbookAnalyzers
{
    public static readonly ImmutableArray<DiagnosticAnalyzer> All =
    [
        new TargetWithoutPostconditionAnalyzer(),
        new InterpolatedShellCommandAnalyzer(),
        new PrivateKeyLiteralAnalyzer(),
        new UnknownDependencyAnalyzer(),
        new UnknownHostAnalyzer(),
    ];

    internal const string Category = "Runbooks";

    /// <summary>
    /// Registers an operation callback through syntax: operation actions are not raised for a script's
    /// top-level statements, but every syntax node there still maps to its operation.
    /// </summary>
    internal static void RegisterOperation<TOperation>(AnalysisContext context, Action<TOperation, Action<Diagnostic>> analyze, params Microsoft.CodeAnalysis.CSharp.SyntaxKind[] kinds)
        where TOperation : class, IOperation =>
        context.RegisterSyntaxNodeAction(
            node =>
            {
                if (node.SemanticModel.GetOperation(node.Node, node.CancellationToken) is TOperation operation)
                {
                    analyze(operation, node.ReportDiagnostic);
                }
            },
            kinds);

    internal static void RegisterOperation<TOperation>(CompilationStartAnalysisContext context, Action<TOperation> analyze, params Microsoft.CodeAnalysis.CSharp.SyntaxKind[] kinds)
        where TOperation : class, IOperation =>
        context.RegisterSyntaxNodeAction(
            node =>
            {
                if (node.SemanticModel.GetOperation(node.Node, node.CancellationToken) is TOperation operation)
                {
                    analyze(operation);
                }
            },
            kinds);

    /// <summary>A runbook verb: on the tool's globals, or on the static facade a dotnet-script runbook or a C# project calls.</summary>
    internal static bool IsGlobalsMethod(IMethodSymbol method, string name) =>
        method.Name == name && method.ContainingType?.Name is "RunbookGlobals" or "Runbook";

    internal static string? ConstantString(IOperation? operation) =>
        operation?.ConstantValue is { HasValue: true, Value: string text } ? text : null;

    /// <summary>Strips implicit conversions (string → Arg, array → IEnumerable) to reach what the author wrote.</summary>
    internal static IOperation Unwrap(IOperation operation)
    {
        while (operation is IConversionOperation conversion)
        {
            operation = conversion.Operand;
        }

        return operation;
    }
}
