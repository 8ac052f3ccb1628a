using System.Text.RegularExpressions;

namespace Runbooks.Harness.Authoring;

/// <summary>What <see cref="IncidentScaffold.Write"/> wrote.</summary>
/// <param name="Directory">The incident folder, full path.</param>
/// <param name="Name">The incident's name: the folder's name.</param>
/// <param name="Backend">The backend its scenario declares: netns, services or microvm.</param>
/// <param name="Files">The files written, relative to <paramref name="Directory"/>, in the order written.</param>
public sealed record ScaffoldResult(string Directory, string Name, string Backend, IReadOnlyList<string> Files);

/// <summary>
/// Writes a new incident folder for <c>runbook init</c>: a runbook, a scenario proving it (backend, a minimal break,
/// one spec that fails when broken and holds after the repair), a README, editor settings and a CI workflow.
/// It lives in the harness, not the CLI, because the templates are scenario files of this library's own API and
/// the tests that prove them green drive the harness directly.
/// The templates are files (<c>Templates/BACKEND/…</c>, <c>Templates/common/…</c>, embedded in this assembly) so they
/// read as the scripts they become; <c>{{NAME}}</c> and friends are replaced, and a path segment starting with
/// <c>_</c> becomes a dot-folder or dotfile (<c>_github</c> → <c>.github</c>) so the build does not treat them as hidden.
/// </summary>
public static partial class IncidentScaffold
{
    /// <summary>The backends a scaffold can be written for; the first is the default (seconds, no VM).</summary>
    public static readonly IReadOnlyList<string> Backends = ["netns", "services", "microvm"];

    private const string ResourcePrefix = "Templates/";
    private const string AboutTemplate = "about.md";

    /// <summary>Lowercase letters and digits in dash-separated words: the name becomes file, target, service and artifact names.</summary>
    [GeneratedRegex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"\{\{[A-Z_]+\}\}")]
    private static partial Regex Placeholder();

    /// <summary>The problem with an incident name, or null when it is allowed.</summary>
    public static string? NameProblem(string name) =>
        name.Length is 0 or > 40 || !NamePattern().IsMatch(name)
            ? $"'{name}' cannot name an incident: use 1 to 40 lowercase letters, digits and single dashes, starting with a letter (e.g. web-down)"
            : null;

    /// <summary>
    /// Writes the incident folder <paramref name="directory"/>, named after it. Refuses (nothing written) a bad name, an
    /// unknown backend, or a folder that exists and is not empty unless <paramref name="force"/>, which overwrites the
    /// scaffold's own files and leaves any others alone.
    /// </summary>
    /// <param name="toolVersion">The version of the tool the CI workflow installs (a <c>+commit</c> suffix is dropped).</param>
    public static ScaffoldResult Write(string directory, string backend, bool force, string toolVersion)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        var name = Path.GetFileName(full);
        var problems = new List<string>();
        if (NameProblem(name) is { } bad)
        {
            problems.Add($"{full}: the folder's name is the incident's name, and {bad}");
        }

        if (!Backends.Contains(backend))
        {
            problems.Add($"unknown backend '{backend}': choose one of {string.Join(", ", Backends)}");
        }

        if (System.IO.File.Exists(full))
        {
            problems.Add($"{full} is a file; give a folder to create");
        }
        else if (!force && System.IO.Directory.Exists(full) && System.IO.Directory.EnumerateFileSystemEntries(full).FirstOrDefault() is { } existing)
        {
            problems.Add($"{full} is not empty (it holds {Path.GetFileName(existing)}); give a new or empty folder, or --force to overwrite the scaffold's files there");
        }

        if (problems.Count > 0)
        {
            throw new InvalidRunbookException(problems);
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["NAME"] = name,
            ["BACKEND"] = backend,
            ["TOOL_VERSION"] = toolVersion.Split('+')[0],
        };
        values["ABOUT"] = Fill(Template($"{backend}/{AboutTemplate}"), values).TrimEnd();

        var written = new List<string>();
        foreach (var (resource, relative) in Files(backend, name))
        {
            var target = Path.Combine(full, relative);
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            System.IO.File.WriteAllText(target, Fill(Template(resource), values));
            written.Add(relative);
        }

        return new ScaffoldResult(full, name, backend, written);
    }

    /// <summary>The templates of a backend (plus the common ones) and where each lands in the incident folder.</summary>
    private static IEnumerable<(string Resource, string Relative)> Files(string backend, string name)
    {
        var names = typeof(IncidentScaffold).Assembly.GetManifestResourceNames()
            .Where(r => r.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .Select(r => r[ResourcePrefix.Length..])
            .Order(StringComparer.Ordinal)
            .ToList();
        foreach (var resource in names.Where(r => r.StartsWith($"{backend}/", StringComparison.Ordinal) && r != $"{backend}/{AboutTemplate}"))
        {
            var relative = resource[(backend.Length + 1)..];
            yield return (resource, relative.StartsWith("incident.", StringComparison.Ordinal) ? name + relative["incident".Length..] : relative);
        }

        foreach (var resource in names.Where(r => r.StartsWith("common/", StringComparison.Ordinal)))
        {
            yield return (resource, string.Join('/', resource["common/".Length..].Split('/').Select(s => s.StartsWith('_') ? "." + s[1..] : s)));
        }
    }

    private static string Template(string resource)
    {
        using var stream = typeof(IncidentScaffold).Assembly.GetManifestResourceStream(ResourcePrefix + resource)
            ?? throw new InvalidOperationException($"the scaffold template {resource} is not embedded in {typeof(IncidentScaffold).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static string Fill(string template, IReadOnlyDictionary<string, string> values)
    {
        var text = values.Aggregate(template, (t, v) => t.Replace("{{" + v.Key + "}}", v.Value, StringComparison.Ordinal));

        // A placeholder nobody fills is a bug in the templates, not the user's problem: fail loudly here.
        return Placeholder().Match(text) is { Success: true } left
            ? throw new InvalidOperationException($"the scaffold templates use {left.Value}, which {nameof(IncidentScaffold)} does not fill")
            : text;
    }
}
