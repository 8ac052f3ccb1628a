using System.Reflection;

namespace Runbooks.Scripting;

/// <summary>
/// What kind of script a file is: the globals object it is compiled against and the namespaces it sees
/// without a <c>using</c>. A runbook and a harness scenario are compiled by the same compiler, analyzers and
/// cache; only this differs, so a cached entry is keyed by it too.
/// </summary>
/// <param name="Name">Shown in diagnostics and used in the cache key: <c>runbook</c>, <c>scenario</c>.</param>
/// <param name="Globals">The type whose members the script calls unqualified (<see cref="RunbookGlobals"/> or a subclass).</param>
/// <param name="Imports">Namespaces imported on top of the runbook's own.</param>
public sealed record ScriptKind(string Name, Type Globals, IReadOnlyList<string> Imports)
{
    /// <summary>A runbook: <see cref="RunbookGlobals"/>, the DSL namespaces only.</summary>
    public static ScriptKind Runbook { get; } = new("runbook", typeof(RunbookGlobals), []);

    /// <summary>
    /// Part of the compile cache key: the kind and the exact build of the assembly holding its globals. The version is
    /// hashed with SHA-256, not <c>string.GetHashCode</c>, which is randomised per process and made every scenario a
    /// cache miss in the next process.
    /// </summary>
    internal string CacheKeySuffix =>
        Globals == typeof(RunbookGlobals) ? "" : $"-{Name}-{StableHash(Globals.Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "")}{Globals.Assembly.ManifestModule.ModuleVersionId.ToString("N")[..12]}";

    private static string StableHash(string text) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..8];
}
