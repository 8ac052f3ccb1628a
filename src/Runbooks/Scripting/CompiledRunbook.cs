using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json;

namespace Runbooks.Scripting;

/// <summary>
/// An emitted runbook assembly with what is needed to run it: the submission factory's name, the
/// <c>#r</c> assemblies it needs at run time, and the warnings found when it was compiled.
/// </summary>
public sealed class CompiledRunbook
{
    public CompiledRunbook(byte[] assembly, string entryType, string entryMethod, IReadOnlyList<string> references, IReadOnlyList<ScriptDiagnostic> warnings)
    {
        Assembly = assembly;
        EntryType = entryType;
        EntryMethod = entryMethod;
        References = references;
        Warnings = warnings;
    }

    private readonly Lock _loadGate = new();
    private Assembly? _loaded;

    public byte[] Assembly { get; }

    public string EntryType { get; }

    public string EntryMethod { get; }

    public IReadOnlyList<string> References { get; }

    public IReadOnlyList<ScriptDiagnostic> Warnings { get; }

    /// <summary>True when it came from the compile cache.</summary>
    public bool FromCache { get; init; }

    /// <summary>Runs the script body: defines targets and, when it calls <c>RunAsync</c>, hands them to the tool.</summary>
    public async Task ExecuteAsync(RunbookGlobals globals)
    {
        foreach (var reference in References)
        {
            LoadReference(reference);
        }

        var assembly = LoadOnce();
        var factory = assembly.GetType(EntryType, throwOnError: true)!.GetMethod(EntryMethod, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException($"entry point {EntryType}.{EntryMethod} not found in the compiled runbook");

        // A script submission's factory takes the submission array: slot 0 holds the globals object.
        var submissions = new object?[2];
        submissions[0] = globals;
        try
        {
            var task = (Task)factory.Invoke(null, [submissions])!;
            await task.ConfigureAwait(false);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
        }
    }

    // A constellation runs one role's runbook once per placement: its assembly is loaded once, its body run each time.
    private Assembly LoadOnce()
    {
        lock (_loadGate)
        {
            return _loaded ??= AssemblyLoadContext.Default.LoadFromStream(new MemoryStream(Assembly));
        }
    }

    private static void LoadReference(string path)
    {
        var name = AssemblyName.GetAssemblyName(path);
        if (AssemblyLoadContext.Default.Assemblies.All(a => a.GetName().Name != name.Name))
        {
            AssemblyLoadContext.Default.LoadFromAssemblyPath(path);
        }
    }

    internal string MetadataJson() => JsonSerializer.Serialize(new CacheMetadata(EntryType, EntryMethod, [.. References], [.. Warnings]), CacheJson.Default.CacheMetadata);

    internal static CompiledRunbook LoadFromCache(byte[] assembly, string metadataJson)
    {
        var metadata = JsonSerializer.Deserialize(metadataJson, CacheJson.Default.CacheMetadata)
            ?? throw new InvalidDataException("empty cache metadata");
        return new CompiledRunbook(assembly, metadata.EntryType, metadata.EntryMethod, metadata.References, metadata.Warnings) { FromCache = true };
    }

    internal sealed record CacheMetadata(string EntryType, string EntryMethod, List<string> References, List<ScriptDiagnostic> Warnings);
}

/// <summary>Source-generated, so a cached start spends no time building serializers by reflection.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(CompiledRunbook.CacheMetadata))]
internal sealed partial class CacheJson : System.Text.Json.Serialization.JsonSerializerContext;
