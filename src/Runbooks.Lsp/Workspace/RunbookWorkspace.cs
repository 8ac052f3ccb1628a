using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Host.Mef;
using Microsoft.CodeAnalysis.Text;
using Runbooks.Compiler;
using Runbooks.Scripting;

namespace Runbooks.Lsp.Workspace;

/// <summary>
/// The open scripts as Roslyn sees them: one script project per open file, compiled against its kind's
/// globals with <see cref="ScriptEnvironment"/>'s references, imports and resolvers — what
/// <see cref="RunbookCompiler"/> compiles with. <c>#load</c>ed files are read from disk by the resolver.
/// </summary>
internal sealed class RunbookWorkspace : IDisposable
{
    private static readonly Lazy<MefHostServices> Host = new(() => MefHostServices.Create(
        MefHostServices.DefaultAssemblies
            .Concat([typeof(Microsoft.CodeAnalysis.Completion.CompletionService).Assembly, Assembly.Load("Microsoft.CodeAnalysis.CSharp.Features")])
            .Distinct()));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, ImmutableArray<MetadataReference>> ReferencesByGlobals = new();

    // Created on first use, not in the constructor: composing the host's MEF parts is most of a cold start, and the
    // server answers initialize while WarmAsync does it in the background.
    private readonly Lazy<AdhocWorkspace> _lazyWorkspace = new(() => new AdhocWorkspace(Host.Value));
    private readonly Func<string, ScriptKind> _kindOf;
    private readonly Dictionary<string, DocumentId> _open = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public RunbookWorkspace(Func<string, ScriptKind> kindOf) => _kindOf = kindOf;

    private AdhocWorkspace Roslyn => _lazyWorkspace.Value;

    private const string WarmUpUri = "file:///runbook-lsp-warm-up.csx";
    private const string WarmUpText = "Target(\"warm\", DependsOn(\"up\"), Lvm.Pv(\"/dev/loop1\").Evacuate());\nTarget(\"up\", Fs.Mount(\"/data\").Writable());\nLvm.";

    /// <summary>
    /// Does once, off the request loop, what the first diagnostics would otherwise pay for: composes the MEF host,
    /// reads the runbook references, and compiles and analyzes a small runbook through the diagnostics feature itself,
    /// so the compiler and analyzer paths are loaded and jitted before the editor's first didOpen needs them.
    /// </summary>
    public static async Task WarmDiagnosticsAsync(CancellationToken cancellationToken)
    {
        // The compiler's own paths (parse, bind, analyze) need no workspace: they warm on one core while the MEF
        // host composes on the other; measured, composing is a third of a cold start and compiling most of the rest.
        var compose = Task.Run(() => Host.Value, cancellationToken);
        var compile = Task.Run(
            async () =>
            {
                var path = Protocol.LspJson.PathOf(WarmUpUri);
                var compilation = Microsoft.CodeAnalysis.CSharp.CSharpCompilation.CreateScriptCompilation(
                    "warm-up",
                    Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(WarmUpText, ScriptEnvironment.ParseOptions, path, cancellationToken: cancellationToken),
                    References(ScriptKind.Runbook),
                    ScriptEnvironment.CompilationOptions(path, ScriptKind.Runbook),
                    globalsType: ScriptKind.Runbook.Globals);
                await Features.DiagnosticsFeature.DiagnoseAsync(compilation, cancellationToken).ConfigureAwait(false);
            },
            cancellationToken);
        await Task.WhenAll(compose, compile).ConfigureAwait(false);
        using var warm = new RunbookWorkspace(_ => ScriptKind.Runbook);
        await Features.DiagnosticsFeature.PublishAsync(WarmUpUri, warm.Open(WarmUpUri, WarmUpText), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The same for completion and hover; run after the first diagnostics, which it would otherwise slow down.</summary>
    public static async Task WarmEditingAsync(CancellationToken cancellationToken)
    {
        using var warm = new RunbookWorkspace(_ => ScriptKind.Runbook);
        var document = warm.Open(WarmUpUri, WarmUpText);
        await new Features.CompletionFeature(() => EditorSettings.None(TextWriter.Null)).CompleteAsync(document, WarmUpText.Length, null, cancellationToken).ConfigureAwait(false);
        await Features.HoverFeature.HoverAsync(document, WarmUpText.IndexOf("Evacuate", StringComparison.Ordinal), cancellationToken).ConfigureAwait(false);
    }

    public Document Open(string uri, string text)
    {
        lock (_gate)
        {
            Close(uri);
            var path = Protocol.LspJson.PathOf(uri);
            var kind = _kindOf(path);
            var name = Path.GetFileName(path);
            var project = ProjectInfo.Create(
                ProjectId.CreateNewId(name),
                VersionStamp.Create(),
                name,
                name,
                LanguageNames.CSharp,
                filePath: path,
                compilationOptions: ScriptEnvironment.CompilationOptions(path, kind),
                parseOptions: ScriptEnvironment.ParseOptions,
                metadataReferences: References(kind),
                isSubmission: true,
                hostObjectType: kind.Globals);
            var documentId = DocumentId.CreateNewId(project.Id, name);
            var document = DocumentInfo.Create(
                documentId,
                name,
                sourceCodeKind: SourceCodeKind.Script,
                loader: TextLoader.From(TextAndVersion.Create(SourceText.From(text), VersionStamp.Create(), path)),
                filePath: path);
            Roslyn.AddProject(project.WithDocuments([document]));
            _open[uri] = documentId;
            return Roslyn.CurrentSolution.GetDocument(documentId)!;
        }
    }

    /// <summary>Full-text sync: the editor sends the whole buffer on every change.</summary>
    public Document? Change(string uri, string text)
    {
        lock (_gate)
        {
            if (!_open.TryGetValue(uri, out var id))
            {
                return null;
            }

            var solution = Roslyn.CurrentSolution.WithDocumentText(id, SourceText.From(text), PreservationMode.PreserveIdentity);
            Roslyn.TryApplyChanges(solution);
            return Roslyn.CurrentSolution.GetDocument(id);
        }
    }

    public void Close(string uri)
    {
        lock (_gate)
        {
            if (_open.Remove(uri, out var id))
            {
                Roslyn.TryApplyChanges(Roslyn.CurrentSolution.RemoveProject(id.ProjectId));
            }
        }
    }

    /// <summary>The open document for a URI; null for a file the editor never opened (answered with an empty result).</summary>
    public Document? Find(string uri)
    {
        lock (_gate)
        {
            return _open.TryGetValue(uri, out var id) ? Roslyn.CurrentSolution.GetDocument(id) : null;
        }
    }

    public ImmutableArray<string> OpenUris
    {
        get
        {
            lock (_gate)
            {
                return [.. _open.Keys];
            }
        }
    }

    public void Dispose()
    {
        if (_lazyWorkspace.IsValueCreated)
        {
            _lazyWorkspace.Value.Dispose();
        }
    }

    /// <summary>The compiler's references, each with the XML docs beside its DLL: what hover and completion show.</summary>
    private static ImmutableArray<MetadataReference> References(ScriptKind kind) =>
        ReferencesByGlobals.GetOrAdd(kind.Globals, _ => [.. ScriptEnvironment.ReferencePaths(kind).Select(path =>
        {
            var xml = Path.ChangeExtension(path, ".xml");
            return (MetadataReference)MetadataReference.CreateFromFile(path, documentation: System.IO.File.Exists(xml) ? XmlDocumentationProvider.CreateFromFile(xml) : null);
        })]);
}
