using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Host.Mef;
using Microsoft.CodeAnalysis.Text;
using Runbooks.Compiler;
using Runbooks.Scripting;

namespace Runbooks.Lsp.Workspace;

/// <summary>
/// The open scripts. Their text is kept here from the first <c>didOpen</c>; Roslyn's workspace (one script project per
/// open file, compiled against its kind's globals with <see cref="ScriptEnvironment"/>'s references, imports and
/// resolvers — what <see cref="RunbookCompiler"/> compiles with) is composed only when something needs it, so the
/// first diagnostics can come from a plain compilation of the text while it is not there yet.
/// <c>#load</c>ed files are read from disk by the resolver.
/// </summary>
internal sealed class RunbookWorkspace : IDisposable
{
    private static readonly Lazy<MefHostServices> Host = new(() => MefHostServices.Create(
        MefHostServices.DefaultAssemblies
            .Concat([typeof(Microsoft.CodeAnalysis.Completion.CompletionService).Assembly, Assembly.Load("Microsoft.CodeAnalysis.CSharp.Features")])
            .Distinct()));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, ImmutableArray<MetadataReference>> ReferencesByGlobals = new();

    // Composing the host's MEF parts and creating the workspace is a third of a cold start and the first diagnostics
    // do not need it: it is created by the warm-up once they are out, or by the first request that needs it.
    private readonly Lazy<AdhocWorkspace> _roslyn = new(() => new AdhocWorkspace(Host.Value));
    private readonly Func<string, ScriptKind> _kindOf;
    private readonly Dictionary<string, OpenScript> _open = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public RunbookWorkspace(Func<string, ScriptKind> kindOf) => _kindOf = kindOf;

    /// <summary>What the editor can observe of the warm-up and of what each request had to create (<c>runbook/status</c>).</summary>
    public ServerStatus Status { get; } = new();

    /// <summary>Whether Roslyn's workspace exists yet; until it does, diagnostics compile the text on their own.</summary>
    public bool IsComposed => _roslyn.IsValueCreated;

    internal const string WarmUpUri = "file:///runbook-lsp-warm-up.csx";
    internal const string WarmUpText = "Target(\"warm\", DependsOn(\"up\"), Lvm.Pv(\"/dev/loop1\").Evacuate());\nTarget(\"up\", Fs.Mount(\"/data\").Writable());\nLvm.";

    /// <summary>
    /// Compiles and analyzes a small runbook the way the first diagnostics will, without a workspace, so that the compiler
    /// and analyzer paths are loaded and jitted before the editor's first <c>didOpen</c>. Cancelled when one arrives:
    /// compiling the real file warms the same paths, and what was jitted so far stays jitted.
    /// </summary>
    public static Task WarmCompilerAsync(CancellationToken cancellationToken) =>
        Features.DiagnosticsFeature.PublishAsync(new ScriptSnapshot(WarmUpUri, Protocol.LspJson.PathOf(WarmUpUri), ScriptKind.Runbook, WarmUpText, null), KnownHosts.LocalOnly, cancellationToken);

    /// <summary>
    /// Composes the host and this workspace and runs completion and hover once in it (on a script of its own, removed
    /// after), so the editor's first completion finds the completion service and its providers already made.
    /// </summary>
    public async Task WarmEditingAsync(Features.CompletionFeature completion, CancellationToken cancellationToken)
    {
        Compose(ServerStatus.WarmUp);
        Open(WarmUpUri, WarmUpText);
        try
        {
            var document = Find(WarmUpUri, ServerStatus.WarmUp)!;
            await completion.CompleteAsync(document, WarmUpText.Length, null, ServerStatus.WarmUp, cancellationToken).ConfigureAwait(false);
            await Features.HoverFeature.HoverAsync(document, WarmUpText.IndexOf("Evacuate", StringComparison.Ordinal), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Close(WarmUpUri);
        }
    }

    /// <summary>Records the text; in the workspace too once it exists.</summary>
    public ScriptSnapshot Open(string uri, string text)
    {
        lock (_gate)
        {
            Close(uri);
            var path = Protocol.LspJson.PathOf(uri);
            var script = new OpenScript(path, _kindOf(path), text, null);
            _open[uri] = script;
            return Snapshot(uri, IsComposed ? AddProject(uri, script) : script);
        }
    }

    /// <summary>Full-text sync: the editor sends the whole buffer on every change.</summary>
    public ScriptSnapshot? Change(string uri, string text)
    {
        lock (_gate)
        {
            if (!_open.TryGetValue(uri, out var script))
            {
                return null;
            }

            script = script with { Text = text };
            if (script.Document is { } id)
            {
                Roslyn.TryApplyChanges(Roslyn.CurrentSolution.WithDocumentText(id, SourceText.From(text), PreservationMode.PreserveIdentity));
            }
            else if (IsComposed)
            {
                script = AddProject(uri, script);
            }

            _open[uri] = script;
            return Snapshot(uri, script);
        }
    }

    public void Close(string uri)
    {
        lock (_gate)
        {
            if (_open.Remove(uri, out var script) && script.Document is { } id)
            {
                Roslyn.TryApplyChanges(Roslyn.CurrentSolution.RemoveProject(id.ProjectId));
            }
        }
    }

    /// <summary>
    /// The open document for a URI, composing the workspace first if nothing has yet (<paramref name="requester"/> is
    /// recorded as having paid for it); null for a file the editor never opened (answered with an empty result).
    /// </summary>
    public Document? Find(string uri, string requester)
    {
        lock (_gate)
        {
            if (!_open.ContainsKey(uri))
            {
                return null;
            }
        }

        Compose(requester);
        lock (_gate)
        {
            if (!_open.TryGetValue(uri, out var script))
            {
                return null;
            }

            script = script.Document is null ? AddProject(uri, script) : script;
            return Roslyn.CurrentSolution.GetDocument(script.Document);
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
        if (_roslyn.IsValueCreated)
        {
            _roslyn.Value.Dispose();
        }
    }

    /// <summary>The compiler's references, each with the XML docs beside its DLL: what hover and completion show.</summary>
    internal static ImmutableArray<MetadataReference> References(ScriptKind kind) =>
        ReferencesByGlobals.GetOrAdd(kind.Globals, _ => [.. ScriptEnvironment.ReferencePaths(kind).Select(path =>
        {
            var xml = Path.ChangeExtension(path, ".xml");
            return (MetadataReference)MetadataReference.CreateFromFile(path, documentation: System.IO.File.Exists(xml) ? XmlDocumentationProvider.CreateFromFile(xml) : null);
        })]);

    /// <summary>The compilation a workspace project of this script makes, built directly: the same options, references and globals.</summary>
    internal static CSharpCompilation PlainCompilation(string path, ScriptKind kind, SyntaxTree tree) =>
        CSharpCompilation.CreateScriptCompilation(
            Path.GetFileName(path),
            tree,
            References(kind),
            ScriptEnvironment.CompilationOptions(path, kind),
            globalsType: kind.Globals);

    private AdhocWorkspace Roslyn => _roslyn.Value;

    private void Compose(string requester)
    {
        if (!_roslyn.IsValueCreated)
        {
            Status.Composing(requester);
            _ = _roslyn.Value;
        }
    }

    private OpenScript AddProject(string uri, OpenScript script)
    {
        var name = Path.GetFileName(script.Path);
        var project = ProjectInfo.Create(
            ProjectId.CreateNewId(name),
            VersionStamp.Create(),
            name,
            name,
            LanguageNames.CSharp,
            filePath: script.Path,
            compilationOptions: ScriptEnvironment.CompilationOptions(script.Path, script.Kind),
            parseOptions: ScriptEnvironment.ParseOptions,
            metadataReferences: References(script.Kind),
            isSubmission: true,
            hostObjectType: script.Kind.Globals);
        var documentId = DocumentId.CreateNewId(project.Id, name);
        var document = DocumentInfo.Create(
            documentId,
            name,
            sourceCodeKind: SourceCodeKind.Script,
            loader: TextLoader.From(TextAndVersion.Create(SourceText.From(script.Text), VersionStamp.Create(), script.Path)),
            filePath: script.Path);
        Roslyn.AddProject(project.WithDocuments([document]));
        var added = script with { Document = documentId };
        _open[uri] = added;
        return added;
    }

    private ScriptSnapshot Snapshot(string uri, OpenScript script) =>
        new(uri, script.Path, script.Kind, script.Text, script.Document is { } id ? Roslyn.CurrentSolution.GetDocument(id) : null);

    private sealed record OpenScript(string Path, ScriptKind Kind, string Text, DocumentId? Document);
}

/// <summary>
/// One version of an open script, as an edit left it: its workspace document once Roslyn's workspace exists, else only
/// its text, which <see cref="CompileAsync"/> compiles directly with the options the workspace would use.
/// </summary>
internal sealed record ScriptSnapshot(string Uri, string Path, ScriptKind Kind, string Text, Document? Document)
{
    public async Task<(SyntaxTree Tree, Compilation Compilation)> CompileAsync(CancellationToken cancellationToken)
    {
        if (Document is { } document)
        {
            return ((await document.GetSyntaxTreeAsync(cancellationToken).ConfigureAwait(false))!, (await document.Project.GetCompilationAsync(cancellationToken).ConfigureAwait(false))!);
        }

        var tree = CSharpSyntaxTree.ParseText(SourceText.From(Text), ScriptEnvironment.ParseOptions, Path, cancellationToken);
        return (tree, RunbookWorkspace.PlainCompilation(Path, Kind, tree));
    }
}
