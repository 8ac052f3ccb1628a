using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Runbooks.Scripting;

/// <summary>
/// A runbook script with every file it <c>#load</c>s and every assembly it <c>#r</c>s, read without
/// Roslyn so that a cached start never loads the compiler. The key hashes all of it plus the tool itself.
/// </summary>
public sealed partial class ScriptSource
{
    private ScriptSource(string path, string text, IReadOnlyList<string> loadedFiles, IReadOnlyList<string> references, string key)
    {
        Path = path;
        Text = text;
        LoadedFiles = loadedFiles;
        References = references;
        Key = key;
    }

    /// <summary>Full path of the runbook.</summary>
    public string Path { get; }

    public string Text { get; }

    /// <summary>Every file reached through <c>#load</c>, transitively, as full paths.</summary>
    public IReadOnlyList<string> LoadedFiles { get; }

    /// <summary>Assemblies named by <c>#r "path.dll"</c>, as full paths.</summary>
    public IReadOnlyList<string> References { get; }

    /// <summary>SHA-256 over the script, loaded files, referenced assemblies and the tool's own assemblies.</summary>
    public string Key { get; }

    /// <summary>The SHA-256 of the runbook file alone, all 64 hex digits, for the journal and a saved plan.</summary>
    public string TextHash => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Text)));

    public static ScriptSource Read(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!System.IO.File.Exists(full))
        {
            throw new InvalidRunbookException($"runbook {path} does not exist");
        }

        var text = System.IO.File.ReadAllText(full);
        var loaded = new List<string>();
        var references = new List<string>();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(ToolIdentity.Value));
        Scan(full, text, loaded, references, hash, [full]);
        foreach (var reference in references)
        {
            var info = new FileInfo(reference);
            hash.AppendData(Encoding.UTF8.GetBytes($"#r {reference} {(info.Exists ? info.Length : -1)} {(info.Exists ? info.LastWriteTimeUtc.Ticks : 0)}\n"));
        }

        return new ScriptSource(full, text, loaded, references, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    private static void Scan(string path, string text, List<string> loaded, List<string> references, IncrementalHash hash, HashSet<string> seen)
    {
        hash.AppendData(Encoding.UTF8.GetBytes($"file {path}\n"));
        hash.AppendData(Encoding.UTF8.GetBytes(text));
        var directory = System.IO.Path.GetDirectoryName(path)!;
        foreach (Match match in Directive().Matches(text))
        {
            var target = match.Groups["path"].Value;
            if (target.StartsWith("nuget:", StringComparison.OrdinalIgnoreCase))
            {
                // Resolved (and reported) by the compiler; nothing on disk to hash.
                hash.AppendData(Encoding.UTF8.GetBytes(target));
                continue;
            }

            var full = System.IO.Path.GetFullPath(System.IO.Path.Combine(directory, target));
            if (match.Groups["kind"].Value == "r")
            {
                references.Add(full);
            }
            else if (seen.Add(full) && System.IO.File.Exists(full))
            {
                loaded.Add(full);
                Scan(full, System.IO.File.ReadAllText(full), loaded, references, hash, seen);
            }
        }
    }

    [GeneratedRegex("""^\s*#(?<kind>load|r)\s+"(?<path>[^"]+)"\s*$""", RegexOptions.Multiline)]
    private static partial Regex Directive();
}

/// <summary>The identity of the tool build: a change to the DSL or compiler invalidates every cached runbook.</summary>
internal static class ToolIdentity
{
    public static readonly string Value = string.Join(
        ";",
        new[] { typeof(ScriptSource).Assembly }.Concat(AppDomain.CurrentDomain.GetAssemblies().Where(a => a.GetName().Name?.StartsWith("Runbooks", StringComparison.Ordinal) == true))
            .Distinct()
            .OrderBy(a => a.GetName().Name, StringComparer.Ordinal)
            .Select(a => $"{a.GetName().Name}:{a.ManifestModule.ModuleVersionId}:{a.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion}"));
}
