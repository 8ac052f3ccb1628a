using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Runbooks.Analyzers;

/// <summary>
/// RB006 (error): <c>.On("name")</c> binding a target to a host that no known inventory names. Only when the hosts are
/// known: the editor passes those of its inventory and of the scenarios beside the runbook as the global analyzer
/// option <c>runbook_known_hosts</c> (names separated by commas, where from in <c>runbook_known_hosts_origin</c>);
/// a C# project can set the same in a <c>.globalconfig</c>. Without the option nothing is reported: the hosts come
/// from <c>--host</c>/<c>--inventory</c> at run time, where an unknown one is refused before anything runs.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UnknownHostAnalyzer : RunbookAnalyzer
{
    /// <summary>The global analyzer option holding the known host names, comma-separated.</summary>
    public const string KnownHostsOption = "runbook_known_hosts";

    /// <summary>The global analyzer option saying where the known hosts come from, for the message.</summary>
    public const string OriginOption = "runbook_known_hosts_origin";

    public static readonly DiagnosticDescriptor Rule = Describe(
        "RB006",
        "Target bound to an unknown host",
        "No host named '{0}' in {1}; known hosts: {2}",
        DiagnosticSeverity.Error);

    public UnknownHostAnalyzer() : base(Rule)
    {
    }

    protected override void Register(AnalysisContext context)
    {
        context.RegisterCompilationStartAction(start =>
        {
            var options = start.Options.AnalyzerConfigOptionsProvider.GlobalOptions;
            if (!options.TryGetValue(KnownHostsOption, out var list))
            {
                return;
            }

            var known = list.Split(',').Select(h => h.Trim()).Where(h => h.Length > 0).ToImmutableHashSet(StringComparer.Ordinal);
            var origin = options.TryGetValue(OriginOption, out var from) && from.Length > 0 ? from : "the inventory";
            var names = string.Join(", ", known.OrderBy(h => h, StringComparer.Ordinal));
            start.RegisterSyntaxNodeAction(
                node =>
                {
                    if (node.SemanticModel.GetOperation(node.Node, node.CancellationToken) is IInvocationOperation
                        {
                            TargetMethod: { Name: "On", ContainingType: { Name: "Target", ContainingNamespace: { Name: "Engine", ContainingNamespace.Name: "Runbooks" } } },
                        } invocation &&
                        invocation.Arguments.FirstOrDefault()?.Value is { } argument &&
                        RunbookAnalyzers.ConstantString(argument) is { } host &&
                        !known.Contains(host))
                    {
                        node.ReportDiagnostic(Diagnostic.Create(Rule, argument.Syntax.GetLocation(), host, origin, names));
                    }
                },
                SyntaxKind.InvocationExpression);
        });
    }
}
