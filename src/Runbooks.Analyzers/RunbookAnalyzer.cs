using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Runbooks.Analyzers;

/// <summary>
/// What every RB analyzer shares: one rule, the Runbooks category, enabled by default, concurrent, and no reports in
/// generated code. An analyzer only says what it registers.
/// </summary>
public abstract class RunbookAnalyzer(DiagnosticDescriptor rule) : DiagnosticAnalyzer
{
    public sealed override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [rule];

    public sealed override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        Register(context);
    }

    /// <summary>Registers the analyzer's callbacks.</summary>
    protected abstract void Register(AnalysisContext context);

    /// <summary>A rule of the Runbooks category; <paramref name="compilationEnd"/> for one reported after the whole compilation is seen.</summary>
    private protected static DiagnosticDescriptor Describe(string id, string title, string message, DiagnosticSeverity severity, bool compilationEnd = false) =>
        compilationEnd
            ? new(id, title, message, RunbookAnalyzers.Category, severity, isEnabledByDefault: true, customTags: WellKnownDiagnosticTags.CompilationEnd)
            : new(id, title, message, RunbookAnalyzers.Category, severity, isEnabledByDefault: true);
}
