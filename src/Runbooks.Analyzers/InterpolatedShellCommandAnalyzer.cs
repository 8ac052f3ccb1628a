using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Runbooks.Analyzers;

/// <summary>
/// RB002 (error): a shell script built from values — <c>Shell.Script($"…{x}…")</c>, or <c>new Command("sh",
/// ["-c", $"…"])</c>. A device name like <c>loop1; rm -rf /</c> would run. Pass values as arguments
/// (<c>Shell.Script("… \"$1\"", x)</c>) or use an argv command. In a scenario, a script kept as a file beside it is
/// <c>ScriptBeside("files/break.sh", x)</c>: as constant as a literal when its path is a constant, since the file is
/// part of the reviewed incident folder; a path chosen at run time is flagged.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class InterpolatedShellCommandAnalyzer : RunbookAnalyzer
{
    private static readonly ImmutableHashSet<string> Shells = ["sh", "bash", "dash", "zsh", "ash", "/bin/sh", "/bin/bash", "/usr/bin/bash"];

    public static readonly DiagnosticDescriptor Rule = Describe(
        "RB002",
        "Shell command built from values",
        "The shell script passed to {0} is built from values at run time (injection risk); keep the script a constant and pass values as arguments: Shell.Script(\"cmd \\\"$1\\\"\", value), or in a scenario ScriptBeside(\"files/x.sh\", value)",
        DiagnosticSeverity.Error);

    public InterpolatedShellCommandAnalyzer() : base(Rule)
    {
    }

    protected override void Register(AnalysisContext context)
    {
        RunbookAnalyzers.RegisterOperation<IInvocationOperation>(context, AnalyzeInvocation, SyntaxKind.InvocationExpression);
        RunbookAnalyzers.RegisterOperation<IObjectCreationOperation>(context, AnalyzeCreation, SyntaxKind.ObjectCreationExpression, SyntaxKind.ImplicitObjectCreationExpression);
    }

    private static void AnalyzeInvocation(IInvocationOperation invocation, Action<Diagnostic> report)
    {
        if (invocation.TargetMethod is { Name: "ScriptBeside", ContainingType.Name: "ScenarioGlobals" } && invocation.Arguments.Length > 0
            && RunbookAnalyzers.ConstantString(invocation.Arguments[0].Value) is null)
        {
            report(Diagnostic.Create(Rule, invocation.Arguments[0].Value.Syntax.GetLocation(), "ScriptBeside"));
        }

        if (invocation.TargetMethod is { Name: "Script", ContainingType.Name: "Shell" } && invocation.Arguments.Length > 0)
        {
            var script = invocation.Arguments[0].Value;
            if (RunbookAnalyzers.ConstantString(script) is null)
            {
                report(Diagnostic.Create(Rule, script.Syntax.GetLocation(), "Shell.Script"));
            }
        }
    }


    private static void AnalyzeCreation(IObjectCreationOperation creation, Action<Diagnostic> report)
    {
        if (creation.Type?.Name != "Command" || creation.Arguments.Length < 2)
        {
            return;
        }

        var program = RunbookAnalyzers.ConstantString(creation.Arguments[0].Value);
        if (program is null || !Shells.Contains(program))
        {
            return;
        }

        var built = creation.Arguments[1].Value.Descendants()
            .FirstOrDefault(o => o is IInterpolatedStringOperation || (o is IBinaryOperation { OperatorKind: BinaryOperatorKind.Add } b && b.Type?.SpecialType == SpecialType.System_String && !b.ConstantValue.HasValue));
        if (built is not null)
        {
            report(Diagnostic.Create(Rule, built.Syntax.GetLocation(), $"new Command(\"{program}\", …)"));
        }
    }
}
