using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Runbooks.Analyzers;

/// <summary>
/// RB001 (warning): a target whose work nothing verifies — raw <c>Exec</c> commands without <c>.Until(…)</c>,
/// or no steps at all — and no <c>.Ensures(…)</c>. Such a target runs on every run and proves nothing. An
/// <c>Exec</c> without <c>.Until(…)</c> is flagged even when the target <c>.Ensures(…)</c> its result: the check
/// then passes, but the command still runs on every run (a log truncated each time the runbook runs).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class TargetWithoutPostconditionAnalyzer : RunbookAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Describe(
        "RB001",
        "Target has no postcondition",
        "Target '{0}' {1}",
        DiagnosticSeverity.Warning);

    public TargetWithoutPostconditionAnalyzer() : base(Rule)
    {
    }

    protected override void Register(AnalysisContext context)
    {
        RunbookAnalyzers.RegisterOperation<IInvocationOperation>(context, Analyze, SyntaxKind.InvocationExpression);
    }

    private static void Analyze(IInvocationOperation invocation, Action<Diagnostic> report)
    {
        if (!RunbookAnalyzers.IsGlobalsMethod(invocation.TargetMethod, "Target"))
        {
            return;
        }

        var ensures = HasEnsuresInChain(invocation);
        var name = RunbookAnalyzers.ConstantString(invocation.Arguments.FirstOrDefault()?.Value) ?? "?";
        var steps = invocation.Arguments.FirstOrDefault(a => a.Parameter?.IsParams == true)?.Value;
        // Steps given one by one (a params array), or as one collection expression [a, b, .. more]; anything else
        // (a variable, a method's result) has steps the analyzer cannot count, so only the first two can be "none".
        var stepValues = steps switch
        {
            IArrayCreationOperation { Initializer: { } initializer } => initializer.ElementValues.Select(RunbookAnalyzers.Unwrap).ToList(),
            ICollectionExpressionOperation collection => collection.Elements.Select(RunbookAnalyzers.Unwrap).ToList(),
            IConversionOperation { Operand: ICollectionExpressionOperation collection } => collection.Elements.Select(RunbookAnalyzers.Unwrap).ToList(),
            _ => [],
        };
        var countable = steps is null or IArrayCreationOperation or ICollectionExpressionOperation or IConversionOperation { Operand: ICollectionExpressionOperation };
        var hasDependencies = invocation.Arguments.Any(a => a.Parameter?.Name == "dependsOn");
        string? problem = null;
        if (stepValues.Any(s => s is IInvocationOperation { TargetMethod.Name: "Exec" }))
        {
            problem = ensures
                ? "runs raw commands without .Until(check): .Ensures(…) verifies the result, but the commands still run on every run; add .Until(check) to the Exec step so a re-run skips them, or .EveryRun() if running every time is the point"
                : "runs raw commands and declares no postcondition; add .Until(check) to the Exec step or .Ensures(…) to the target so a re-run can tell it is done";
        }
        else if (countable && stepValues.Count == 0 && !hasDependencies && !ensures)
        {
            problem = "has no steps and no dependencies and declares no postcondition; add steps, or .Ensures(…) for a target that only checks";
        }

        if (problem is not null)
        {
            report(Diagnostic.Create(Rule, invocation.Syntax.GetLocation(), name, problem));
        }
    }

    private static bool HasEnsuresInChain(IInvocationOperation invocation)
    {
        IOperation current = invocation;
        while (current.Parent is IInvocationOperation parent && ReferenceEquals(RunbookAnalyzers.Unwrap(parent.Instance ?? parent), current))
        {
            if (parent.TargetMethod.Name == "Ensures")
            {
                return true;
            }

            current = parent;
        }

        return false;
    }
}
