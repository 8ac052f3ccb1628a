using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Runbooks.Analyzers;

/// <summary>
/// RB004 (error): <c>DependsOn("name")</c> naming no target defined anywhere in the runbook or the files it
/// <c>#load</c>s — found at compile time, with the position of the typo. Skipped when a target name is computed.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UnknownDependencyAnalyzer : RunbookAnalyzer
{
    public static readonly DiagnosticDescriptor Rule = Describe(
        "RB004",
        "Dependency names no target",
        "No target named '{0}' is defined; defined targets: {1}",
        DiagnosticSeverity.Error, compilationEnd: true);

    public UnknownDependencyAnalyzer() : base(Rule)
    {
    }

    protected override void Register(AnalysisContext context)
    {
        context.RegisterCompilationStartAction(start =>
        {
            var defined = new ConcurrentBag<string>();
            var referenced = new ConcurrentBag<(string Name, Location Location)>();
            var computedNames = 0;
            RunbookAnalyzers.RegisterOperation<IInvocationOperation>(
                start,
                invocation =>
                {
                    if (RunbookAnalyzers.IsGlobalsMethod(invocation.TargetMethod, "Target"))
                    {
                        var name = RunbookAnalyzers.ConstantString(invocation.Arguments.FirstOrDefault()?.Value);
                        if (name is null)
                        {
                            Interlocked.Increment(ref computedNames);
                        }
                        else
                        {
                            defined.Add(name);
                        }
                    }
                    else if (RunbookAnalyzers.IsGlobalsMethod(invocation.TargetMethod, "DependsOn"))
                    {
                        foreach (var value in invocation.Arguments.SelectMany(a => a.Value is IArrayCreationOperation { Initializer: { } init } ? init.ElementValues : [a.Value]))
                        {
                            if (RunbookAnalyzers.ConstantString(value) is { } dependency)
                            {
                                referenced.Add((dependency, value.Syntax.GetLocation()));
                            }
                        }
                    }
                },
                SyntaxKind.InvocationExpression);
            start.RegisterCompilationEndAction(end =>
            {
                if (Volatile.Read(ref computedNames) > 0)
                {
                    return;
                }

                var names = new HashSet<string>(defined, StringComparer.Ordinal);
                var list = string.Join(", ", names.OrderBy(n => n, StringComparer.Ordinal));
                foreach (var (name, location) in referenced.Where(r => !names.Contains(r.Name)))
                {
                    end.ReportDiagnostic(Diagnostic.Create(Rule, location, name, list));
                }
            });
        });
    }
}
