using Runbooks.Compiler;
using Runbooks.Lsp.Features;
using Runbooks.Lsp.Workspace;
using Runbooks.Scripting;

namespace Runbooks.Tests.Lsp;

/// <summary>The editor's view of a script and <c>runbook check</c>'s are one definition: the same findings at the same places, whether the editor compiled the text alone or in its workspace.</summary>
public class EditorCompilerParityTests
{
    [TestCase("interpolated-shell.csx")]
    [TestCase("private-key.csx")]
    [TestCase("unknown-dependency.csx")]
    [TestCase("no-postcondition.csx")]
    [TestCase("syntax-error.csx")]
    [CancelAfter(60_000)]
    public async Task The_editor_reports_what_the_compiler_reports(string name, CancellationToken cancellationToken)
    {
        var path = Support.CliRunner.Fixture(name);
        IReadOnlyList<ScriptDiagnostic> compiler;
        try
        {
            compiler = RunbookCompiler.Compile(ScriptSource.Read(path), cancellationToken).Warnings;
        }
        catch (CompilationFailedException ex)
        {
            compiler = ex.Diagnostics;
        }

        using var workspace = new RunbookWorkspace(_ => ScriptKind.Runbook);
        var uri = new Uri(path).AbsoluteUri;
        // Opened before the workspace is composed, the script is compiled from its text (a cold start's first
        // diagnostics); once it is, in the workspace. Both must publish the same.
        var fromText = workspace.Open(uri, await File.ReadAllTextAsync(path, cancellationToken));
        Assert.That(fromText.Document, Is.Null, "nothing composed the workspace yet");
        var published = await DiagnosticsFeature.PublishAsync(fromText, KnownHosts.LocalOnly, cancellationToken);
        Assert.That(workspace.Find(uri, "test"), Is.Not.Null);
        var inWorkspace = workspace.Change(uri, fromText.Text)!;
        Assert.That(inWorkspace.Document, Is.Not.Null);
        var publishedInWorkspace = await DiagnosticsFeature.PublishAsync(inWorkspace, KnownHosts.LocalOnly, cancellationToken);
        Assert.That(publishedInWorkspace.ToJsonString(), Is.EqualTo(published.ToJsonString()), "the same diagnostics from the text and from the workspace");
        var editor = published["diagnostics"]!.AsArray()
            .Select(d => (Id: d!["code"]!.GetValue<string>(), Line: d["range"]!["start"]!["line"]!.GetValue<int>() + 1, Column: d["range"]!["start"]!["character"]!.GetValue<int>() + 1))
            .ToList();

        // The compiler skips the analyzers once there is an error; the editor runs them anyway, so compare
        // what the compiler saw: every one of its findings is in the editor's, at the same place.
        Assert.That(compiler, Is.Not.Empty);
        Assert.That(editor, Is.SupersetOf(compiler.Select(d => (d.Id, d.Line, d.Column))));
        if (!compiler.Any(d => d.IsError && d.Id.StartsWith("CS", StringComparison.Ordinal)))
        {
            Assert.That(editor, Is.EquivalentTo(compiler.Select(d => (d.Id, d.Line, d.Column))));
        }
    }
}
