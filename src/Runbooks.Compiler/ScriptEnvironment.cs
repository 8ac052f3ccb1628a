using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;
using Runbooks.Scripting;

namespace Runbooks.Compiler;

/// <summary>
/// What a script of a given kind is compiled against: references, imports, language version and how
/// <c>#load</c>/<c>#r</c> resolve. Defined once for <c>runbook check</c> and for <c>runbook lsp</c>, so the
/// editor and the command line never disagree about a script.
/// </summary>
public static class ScriptEnvironment
{
    /// <summary>Namespaces every runbook sees without a <c>using</c>. Not System.IO: its File would hide the DSL's.</summary>
    public static readonly ImmutableArray<string> RunbookImports =
    [
        "System", "System.Collections.Generic", "System.Linq", "System.Threading", "System.Threading.Tasks",
        "Runbooks.Commands", "Runbooks.Dsl", "Runbooks.Engine",
    ];

    public const LanguageVersion Language = LanguageVersion.Latest;

    /// <summary>Parse options of a script file; documentation comments are parsed so an editor can show them.</summary>
    public static CSharpParseOptions ParseOptions { get; } = new(Language, DocumentationMode.Parse, SourceCodeKind.Script);

    private static readonly ConcurrentDictionary<Type, ImmutableArray<string>> PathsByGlobals = new();

    /// <summary>The runbook imports plus the kind's own.</summary>
    public static ImmutableArray<string> Imports(ScriptKind kind) => RunbookImports.AddRange(kind.Imports);

    /// <summary>
    /// The DSL, the globals' assembly and the framework assemblies a runbook is likely to touch, as full
    /// paths; the rest resolve through <c>#r</c>. The editor adds each assembly's XML docs on top.
    /// </summary>
    public static ImmutableArray<string> ReferencePaths(ScriptKind kind) =>
        PathsByGlobals.GetOrAdd(kind.Globals, static globals =>
        {
            var anchors = new[]
            {
                typeof(RunbookGlobals).Assembly, globals.Assembly, typeof(object).Assembly, typeof(Enumerable).Assembly, typeof(List<>).Assembly,
                typeof(ImmutableArray).Assembly, typeof(System.Text.RegularExpressions.Regex).Assembly, typeof(System.Net.Http.HttpClient).Assembly,
                typeof(System.Text.Json.JsonSerializer).Assembly, typeof(Console).Assembly, typeof(System.Diagnostics.Process).Assembly,
            };
            var runtimeDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
            var facades = new[] { "System.Runtime.dll", "netstandard.dll", "System.Collections.dll", "System.Linq.dll", "System.Threading.Tasks.dll", "System.Threading.dll" }
                .Select(f => Path.Combine(runtimeDirectory, f))
                .Where(System.IO.File.Exists);
            return [.. anchors.Select(a => a.Location).Concat(facades).Distinct(StringComparer.Ordinal)];
        });

    /// <summary><see cref="ReferencePaths"/> as the compiler's references.</summary>
    public static IEnumerable<MetadataReference> References(ScriptKind kind) => ReferencePaths(kind).Select(p => MetadataReference.CreateFromFile(p));

    /// <summary><c>#load "x.csx"</c> resolves relative to the script's folder.</summary>
    public static SourceReferenceResolver SourceResolver(string scriptPath)
    {
        var directory = Path.GetDirectoryName(scriptPath)!;
        return new SourceFileResolver([directory], directory);
    }

    /// <summary>
    /// <c>#r "x.dll"</c> resolves relative to the script's folder; <c>#r "nuget: Runbooks, x.y.z"</c> (the line that makes
    /// the script fetch the DSL under <c>dotnet script</c>) resolves to this tool's own DSL assembly, whatever the version.
    /// </summary>
    public static MetadataReferenceResolver MetadataResolver(string scriptPath) =>
        new OwnPackageResolver(ScriptMetadataResolver.Default.WithBaseDirectory(Path.GetDirectoryName(scriptPath)!));

    /// <summary>The package id a runbook names to get the DSL under <c>dotnet script</c>.</summary>
    public const string PackageId = "Runbooks";

    /// <summary>The package id of a <c>#r "nuget: ID, VERSION"</c> reference, or null when it is not one.</summary>
    public static string? NuGetPackage(string reference) =>
        reference.StartsWith("nuget:", StringComparison.OrdinalIgnoreCase)
            ? reference["nuget:".Length..].Split([',', '/'], 2)[0].Trim()
            : null;

    private sealed class OwnPackageResolver(ScriptMetadataResolver files) : MetadataReferenceResolver
    {
        public override bool ResolveMissingAssemblies => files.ResolveMissingAssemblies;

        public override ImmutableArray<PortableExecutableReference> ResolveReference(string reference, string? baseFilePath, MetadataReferenceProperties properties) =>
            NuGetPackage(reference) is { } package
                // Another package is not fetched: nothing resolves, and the compiler's CS0006 names the line.
                ? string.Equals(package, PackageId, StringComparison.OrdinalIgnoreCase)
                    ? [MetadataReference.CreateFromFile(typeof(RunbookGlobals).Assembly.Location, properties)]
                    : []
                : files.ResolveReference(reference, baseFilePath, properties);

        public override PortableExecutableReference? ResolveMissingAssembly(MetadataReference definition, AssemblyIdentity referenceIdentity) =>
            files.ResolveMissingAssembly(definition, referenceIdentity);

        public override bool Equals(object? other) => other is OwnPackageResolver resolver && resolver.Files.Equals(files);

        public override int GetHashCode() => files.GetHashCode();

        private ScriptMetadataResolver Files => files;
    }

    /// <summary>The scripting options <see cref="RunbookCompiler"/> compiles with.</summary>
    public static ScriptOptions ScriptOptions(string scriptPath, ScriptKind kind) =>
        Microsoft.CodeAnalysis.Scripting.ScriptOptions.Default
            .WithFilePath(scriptPath)
            .WithFileEncoding(System.Text.Encoding.UTF8)
            .WithLanguageVersion(Language)
            .WithReferences(References(kind))
            .WithImports(Imports(kind))
            .WithSourceResolver(SourceResolver(scriptPath))
            .WithMetadataResolver(MetadataResolver(scriptPath))
            .WithEmitDebugInformation(true)
            .WithOptimizationLevel(OptimizationLevel.Debug)
            .WithAllowUnsafe(false);

    /// <summary>
    /// The same options as a compilation of a workspace project (an editor's view of the script):
    /// what Roslyn scripting builds from <see cref="ScriptOptions(string, ScriptKind)"/>.
    /// </summary>
    public static CSharpCompilationOptions CompilationOptions(string scriptPath, ScriptKind kind) =>
        new(
            OutputKind.DynamicallyLinkedLibrary,
            usings: Imports(kind),
            optimizationLevel: OptimizationLevel.Debug,
            allowUnsafe: false,
            sourceReferenceResolver: SourceResolver(scriptPath),
            metadataReferenceResolver: MetadataResolver(scriptPath),
            assemblyIdentityComparer: DesktopAssemblyIdentityComparer.Default);
}
