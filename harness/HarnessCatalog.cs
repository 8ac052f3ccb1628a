using Runbooks.Harness.Lifecycle;
using Runbooks.Scripting;

namespace Runbooks.Harness;

/// <summary>
/// Finds scenario files: a path to a <c>*.scenario.csx</c>, or the name of one the tool ships
/// (<c>storage</c>, <c>connection</c>, <c>talus</c>, …: <c>runbooks/NAME/NAME.scenario.csx</c> beside the tool).
/// </summary>
public static class HarnessCatalog
{
    /// <summary>Where the shipped incidents live: the <c>runbooks/</c> folder copied beside the tool's assemblies.</summary>
    public static string ShippedDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "runbooks");

    /// <summary>
    /// The script that installs the packages the backends drive (qemu, iproute2, iptables, runit, …), shipped beside the
    /// tool so that CI installs what the installed version needs: <c>runbook harness prerequisites | sudo bash</c>.
    /// </summary>
    public static string PrerequisitesScript { get; } = Path.Combine(AppContext.BaseDirectory, "prerequisites.sh");

    /// <summary>The shipped scenario files, by name.</summary>
    public static IReadOnlyList<string> ShippedScenarios =>
        Directory.Exists(ShippedDirectory)
            ? [.. Directory.EnumerateFiles(ShippedDirectory, "*" + ScenarioFile.Extension, SearchOption.AllDirectories).Order(StringComparer.Ordinal)]
            : [];

    /// <summary>
    /// The scenario file for <paramref name="nameOrPath"/>: an existing file as given, else a shipped scenario of that name.
    /// </summary>
    public static string Resolve(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        if (nameOrPath.EndsWith(".csx", StringComparison.Ordinal) || nameOrPath.Contains('/', StringComparison.Ordinal))
        {
            var full = Path.GetFullPath(nameOrPath);
            return File.Exists(full) ? full : throw new InvalidRunbookException($"scenario file {nameOrPath} does not exist");
        }

        return ShippedScenarios.FirstOrDefault(p => ScenarioFile.NameOf(p) == nameOrPath)
            ?? throw new InvalidRunbookException($"no scenario named '{nameOrPath}' (shipped: {string.Join(", ", ShippedScenarios.Select(ScenarioFile.NameOf))}); give a path to a {ScenarioFile.Extension} file");
    }

    /// <summary>Resolves, compiles and defines a scenario (see <see cref="ScenarioFile.LoadAsync"/>).</summary>
    public static Task<ScenarioDefinition> LoadAsync(string nameOrPath, double scale = 0.1, CompileCache? cache = null) =>
        ScenarioFile.LoadAsync(Resolve(nameOrPath), scale, cache);
}
