using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Emit;
using Microsoft.CodeAnalysis.Scripting;
using Runbooks.Analyzers;
using Runbooks.Scripting;
using ScriptDiagnosticSeverity = Runbooks.Scripting.DiagnosticSeverity;

namespace Runbooks.Compiler;

/// <summary>
/// Compiles a runbook script with Roslyn scripting (dotnet-script's directive syntax: <c>#load</c>,
/// <c>#r</c>), runs the runbook analyzers over it, and emits an assembly. Compile, analyze and emit only:
/// running is <see cref="CompiledRunbook.ExecuteAsync"/>'s job.
/// </summary>
public static class RunbookCompiler
{
    /// <summary>Namespaces every runbook sees without a <c>using</c> (see <see cref="ScriptEnvironment"/>).</summary>
    public static ImmutableArray<string> Imports => ScriptEnvironment.RunbookImports;

    private static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers = RunbookAnalyzers.All;

    /// <summary>Compiles or throws <see cref="CompilationFailedException"/> carrying every diagnostic.</summary>
    public static CompiledRunbook Compile(ScriptSource source, CancellationToken cancellationToken = default) =>
        Compile(source, ScriptKind.Runbook, cancellationToken);

    /// <summary>Compiles a script of the given kind (a runbook, a harness scenario) against its globals type.</summary>
    public static CompiledRunbook Compile(ScriptSource source, ScriptKind kind, CancellationToken cancellationToken = default)
    {
        var options = ScriptEnvironment.ScriptOptions(source.Path, kind);
        var script = CSharpScript.Create(source.Text, options, kind.Globals);
        var compilation = script.GetCompilation();
        var diagnostics = compilation.GetDiagnostics(cancellationToken)
            .Where(d => d.Severity is Microsoft.CodeAnalysis.DiagnosticSeverity.Error or Microsoft.CodeAnalysis.DiagnosticSeverity.Warning)
            .ToList();
        if (!diagnostics.Any(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error))
        {
            // Analyzers need a compilation that binds; on a syntax error they would only add noise.
            var analyzed = compilation.WithAnalyzers(Analyzers, new CompilationWithAnalyzersOptions(
                AnalyzerOptions(), onAnalyzerException: null, concurrentAnalysis: false, logAnalyzerExecutionTime: false));
            diagnostics.AddRange(analyzed.GetAnalyzerDiagnosticsAsync(cancellationToken).GetAwaiter().GetResult());
        }

        var converted = diagnostics.Select(d => Convert(d, source.Path)).OrderBy(d => d.Path, StringComparer.Ordinal).ThenBy(d => d.Line).ThenBy(d => d.Column).ToList();
        if (converted.Any(d => d.IsError))
        {
            throw new CompilationFailedException(converted);
        }

        using var peStream = new MemoryStream();
        var emitted = compilation.Emit(peStream, options: new EmitOptions(debugInformationFormat: DebugInformationFormat.Embedded), cancellationToken: cancellationToken);
        if (!emitted.Success)
        {
            throw new CompilationFailedException([.. emitted.Diagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error).Select(d => Convert(d, source.Path))]);
        }

        var entry = compilation.GetEntryPoint(cancellationToken)
            ?? throw new InvalidOperationException("the script compilation has no entry point");
        var entryType = string.IsNullOrEmpty(entry.ContainingNamespace.MetadataName)
            ? entry.ContainingType.MetadataName
            : $"{entry.ContainingNamespace.MetadataName}.{entry.ContainingType.MetadataName}";
        var references = compilation.References.OfType<PortableExecutableReference>()
            .Select(r => r.FilePath)
            .Where(p => p is not null && source.References.Contains(p, StringComparer.Ordinal))
            .Select(p => p!)
            .ToList();
        return new CompiledRunbook(peStream.ToArray(), entryType, entry.MetadataName, references, [.. converted.Where(d => !d.IsError)]);
    }

    private static AnalyzerOptions AnalyzerOptions() => new([]);

    private static ScriptDiagnostic Convert(Diagnostic diagnostic, string scriptPath)
    {
        var span = diagnostic.Location.GetMappedLineSpan();
        var path = span.IsValid && !string.IsNullOrEmpty(span.Path) ? span.Path : scriptPath;
        return new ScriptDiagnostic(
            path,
            span.StartLinePosition.Line + 1,
            span.StartLinePosition.Character + 1,
            diagnostic.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error ? ScriptDiagnosticSeverity.Error : ScriptDiagnosticSeverity.Warning,
            diagnostic.Id,
            diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture) + Hint(diagnostic));
    }

    /// <summary>What to do about a diagnostic whose usual cause Roslyn cannot see: System.IO's File and Directory hiding the DSL's.</summary>
    private static string Hint(Diagnostic diagnostic)
    {
        if (diagnostic.Id == "CS0006" && ScriptEnvironment.NuGetPackage(diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Split('\'').ElementAtOrDefault(1) ?? "") is { } package)
        {
            return $" (hint: runbook resolves only #r \"nuget: {ScriptEnvironment.PackageId}, …\", to its own DSL; reference {package} by the path of its DLL)";
        }

        var message = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        var hidden = diagnostic.Id is "CS0117" or "CS1501" or "CS0104" or "CS1503" && (message.Contains("'File'", StringComparison.Ordinal) || message.Contains("'Directory'", StringComparison.Ordinal) || message.Contains("System.IO.File", StringComparison.Ordinal));
        var usesSystemIo = diagnostic.Location.SourceTree?.GetText().ToString().Contains("using System.IO;", StringComparison.Ordinal) == true;
        return hidden && usesSystemIo
            ? " (hint: `using System.IO;` brings System.IO.File and Directory, which hide the DSL's File and Directory; remove it and write System.IO.File.… where you need the framework's)"
            : "";
    }
}
