using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Runbooks.Analyzers;
using Runbooks.Lsp.Protocol;
using Runbooks.Lsp.Workspace;

namespace Runbooks.Lsp.Features;

/// <summary>
/// Compile errors and RB001–RB006 for an open script, as <c>textDocument/publishDiagnostics</c> parameters.
/// Unlike <c>runbook check</c>, the analyzers run even when the script has errors: while typing there
/// nearly always is one, and the RB002 on line 3 should not vanish because line 9 is half written.
/// A script the workspace holds is compiled there (completion then reuses the compilation); one opened before the
/// workspace is composed is compiled from its text with the same options, which is how a cold start gets its
/// first diagnostics without waiting for Roslyn's MEF host.
/// </summary>
internal static class DiagnosticsFeature
{
    /// <param name="knownHosts">The host names <c>.On("…")</c> may use (RB006), with where they come from; empty when none are known.</param>
    public static async Task<JsonObject> PublishAsync(ScriptSnapshot script, KnownHosts knownHosts, CancellationToken cancellationToken)
    {
        var (tree, compilation) = await script.CompileAsync(cancellationToken).ConfigureAwait(false);
        var diagnostics = await DiagnoseAsync(compilation, knownHosts, cancellationToken).ConfigureAwait(false);
        var loads = LoadDirectives(tree, script.Path);
        var uri = script.Uri;
        var items = new JsonArray();
        foreach (var diagnostic in diagnostics.Distinct())
        {
            var span = Placement(diagnostic, tree, loads, out var prefix);
            if (span is null)
            {
                continue;
            }

            items.Add(new JsonObject
            {
                ["range"] = LspJson.Range(span.Value),
                ["severity"] = LspJson.Severity(diagnostic.Severity),
                ["code"] = diagnostic.Id,
                ["source"] = "runbook",
                ["message"] = prefix + diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture),
            });
        }

        return new JsonObject { ["uri"] = uri, ["version"] = null, ["diagnostics"] = items };
    }

    /// <summary>
    /// The compiler's diagnostics and the RB analyzers', errors or not; hidden ones left out. Both from the analyzers'
    /// compilation: it is a copy of the one given, so asking the original for its own diagnostics as well bound the
    /// whole script twice.
    /// </summary>
    public static async Task<IEnumerable<Diagnostic>> DiagnoseAsync(Compilation compilation, KnownHosts knownHosts, CancellationToken cancellationToken)
    {
        var analyzed = compilation.WithAnalyzers(RunbookAnalyzers.All, new CompilationWithAnalyzersOptions(
            knownHosts.AnalyzerOptions(), onAnalyzerException: null, concurrentAnalysis: false, logAnalyzerExecutionTime: false));
        return (await analyzed.GetAllDiagnosticsAsync(cancellationToken).ConfigureAwait(false))
            .Where(d => d.Severity != DiagnosticSeverity.Hidden);
    }

    /// <summary>
    /// Where a diagnostic shows in this file: at its own span, or — when it lies in a <c>#load</c>ed file —
    /// on the directive that loads it, prefixed with its file and line; so a broken loaded file is visible.
    /// </summary>
    private static Microsoft.CodeAnalysis.Text.LinePositionSpan? Placement(Diagnostic diagnostic, SyntaxTree tree, ImmutableDictionary<string, Microsoft.CodeAnalysis.Text.LinePositionSpan> loads, out string prefix)
    {
        prefix = "";
        var location = diagnostic.Location;
        if (location.SourceTree == tree)
        {
            return location.GetLineSpan().Span;
        }

        if (location == Location.None)
        {
            return default(Microsoft.CodeAnalysis.Text.LinePositionSpan);
        }

        var mapped = location.GetLineSpan();
        if (mapped.Path is { } path && loads.TryGetValue(path, out var directive))
        {
            prefix = $"{Path.GetFileName(path)}({mapped.StartLinePosition.Line + 1},{mapped.StartLinePosition.Character + 1}): ";
            return directive;
        }

        return null;
    }

    private static ImmutableDictionary<string, Microsoft.CodeAnalysis.Text.LinePositionSpan> LoadDirectives(SyntaxTree tree, string path)
    {
        var resolver = Compiler.ScriptEnvironment.SourceResolver(path);
        var loads = ImmutableDictionary.CreateBuilder<string, Microsoft.CodeAnalysis.Text.LinePositionSpan>(StringComparer.Ordinal);
        foreach (var directive in tree.GetCompilationUnitRoot().GetLoadDirectives())
        {
            if (resolver.ResolveReference(directive.File.ValueText, path) is { } resolved)
            {
                loads.TryAdd(resolved, directive.GetLocation().GetLineSpan().Span);
            }
        }

        return loads.ToImmutable();
    }
}
