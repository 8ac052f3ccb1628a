namespace Runbooks.Scripting;

/// <summary>
/// Compiled runbooks by content hash, so an unchanged runbook starts without Roslyn. One folder per key
/// (<c>runbook.dll</c> + <c>runbook.json</c>), written to a temporary name and renamed, so a crash or two
/// runs at once never leave half an entry. Default <c>$XDG_CACHE_HOME/runbooks</c> or <c>~/.cache/runbooks</c>;
/// <c>RUNBOOK_CACHE_DIR</c> overrides.
/// </summary>
public sealed class CompileCache(string directory)
{
    public string Directory { get; } = directory;

    public static CompileCache Default()
    {
        var explicitDirectory = Environment.GetEnvironmentVariable("RUNBOOK_CACHE_DIR");
        if (!string.IsNullOrEmpty(explicitDirectory))
        {
            return new CompileCache(explicitDirectory);
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : xdg;
        return new CompileCache(Path.Combine(root, "runbooks", "compiled"));
    }

    public CompiledRunbook? TryLoad(ScriptSource source, ScriptKind? kind = null)
    {
        var entry = Path.Combine(Directory, source.Key + (kind ?? ScriptKind.Runbook).CacheKeySuffix);
        try
        {
            var assembly = System.IO.File.ReadAllBytes(Path.Combine(entry, "runbook.dll"));
            return CompiledRunbook.LoadFromCache(assembly, System.IO.File.ReadAllText(Path.Combine(entry, "runbook.json")));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidDataException)
        {
            // A missing or damaged entry is a miss: compile again and overwrite it.
            return null;
        }
    }

    public void Store(ScriptSource source, CompiledRunbook runbook, ScriptKind? kind = null)
    {
        var entry = Path.Combine(Directory, source.Key + (kind ?? ScriptKind.Runbook).CacheKeySuffix);
        var staging = entry + "." + Environment.ProcessId + ".tmp";
        try
        {
            System.IO.Directory.CreateDirectory(staging);
            System.IO.File.WriteAllBytes(Path.Combine(staging, "runbook.dll"), runbook.Assembly);
            System.IO.File.WriteAllText(Path.Combine(staging, "runbook.json"), runbook.MetadataJson());
            if (System.IO.Directory.Exists(entry))
            {
                System.IO.Directory.Delete(entry, recursive: true);
            }

            System.IO.Directory.Move(staging, entry);
        }
        catch (IOException)
        {
            // Another process stored the same key first, or the disk is full: the cache is an optimisation only.
            TryDelete(staging);
        }
        catch (UnauthorizedAccessException)
        {
            TryDelete(staging);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (System.IO.Directory.Exists(path))
            {
                System.IO.Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }
}
