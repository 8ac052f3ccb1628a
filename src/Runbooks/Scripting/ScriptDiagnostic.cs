namespace Runbooks.Scripting;

public enum DiagnosticSeverity
{
    Warning,
    Error,
}

/// <summary>A compiler or analyzer finding as data, printed as <c>path(line,col): error CS1002: ; expected</c>.</summary>
public sealed record ScriptDiagnostic(string Path, int Line, int Column, DiagnosticSeverity Severity, string Id, string Message)
{
    public bool IsError => Severity == DiagnosticSeverity.Error;

    public override string ToString() =>
        $"{Path}({Line},{Column}): {(IsError ? "error" : "warning")} {Id}: {Message}";
}

/// <summary>The runbook does not compile, or an analyzer found an error: nothing may run. Exit code 2.</summary>
public sealed class CompilationFailedException : RunbookException
{
    public CompilationFailedException(IReadOnlyList<ScriptDiagnostic> diagnostics)
        : base(string.Join(Environment.NewLine, diagnostics.Where(d => d.IsError)))
    {
        Diagnostics = diagnostics;
    }

    public CompilationFailedException()
    {
        Diagnostics = [];
    }

    public CompilationFailedException(string message)
        : base(message)
    {
        Diagnostics = [];
    }

    public CompilationFailedException(string message, Exception inner)
        : base(message, inner)
    {
        Diagnostics = [];
    }

    public IReadOnlyList<ScriptDiagnostic> Diagnostics { get; }
}
