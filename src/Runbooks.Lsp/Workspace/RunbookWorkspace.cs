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

    private readonly AdhocWorkspace _workspace = new(Host.Value);
    private readonly Func<string, ScriptKind> _kindOf;
    private readonly Dictionary<string, DocumentId> _open = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public RunbookWorkspace(Func<string, ScriptKind> kindOf) => _kindOf = kindOf;

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
            _workspace.AddProject(project.WithDocuments([document]));
            _open[uri] = documentId;
            return _workspace.CurrentSolution.GetDocument(documentId)!;
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

            var solution = _workspace.CurrentSolution.WithDocumentText(id, SourceText.From(text), PreservationMode.PreserveIdentity);
            _workspace.TryApplyChanges(solution);
            return _workspace.CurrentSolution.GetDocument(id);
        }
    }

    public void Close(string uri)
    {
        lock (_gate)
        {
            if (_open.Remove(uri, out var id))
            {
                _workspace.TryApplyChanges(_workspace.CurrentSolution.RemoveProject(id.ProjectId));
            }
        }
    }

    /// <summary>The open document for a URI; null for a file the editor never opened (answered with an empty result).</summary>
    public Document? Find(string uri)
    {
        lock (_gate)
        {
            return _open.TryGetValue(uri, out var id) ? _workspace.CurrentSolution.GetDocument(id) : null;
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

    public void Dispose() => _workspace.Dispose();

    /// <summary>The compiler's references, each with the XML docs beside its DLL: what hover and completion show.</summary>
    private static ImmutableArray<MetadataReference> References(ScriptKind kind) =>
        ReferencesByGlobals.GetOrAdd(kind.Globals, _ => [.. ScriptEnvironment.ReferencePaths(kind).Select(path =>
        {
            var xml = Path.ChangeExtension(path, ".xml");
            return (MetadataReference)MetadataReference.CreateFromFile(path, documentation: System.IO.File.Exists(xml) ? XmlDocumentationProvider.CreateFromFile(xml) : null);
        })]);
}
