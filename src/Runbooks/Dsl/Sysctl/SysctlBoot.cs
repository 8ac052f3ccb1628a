using System.Text.RegularExpressions;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>One line of a sysctl configuration file that sets a key: where it is and what it says.</summary>
/// <param name="File">The file, as the boot reads it (a link's target when the line is to be rewritten).</param>
/// <param name="Line">The line's number, from 1.</param>
/// <param name="Value">The value, spaces normalized as <c>sysctl -n</c> prints it.</param>
/// <param name="Exact">False for a glob line (<c>net.ipv4.conf.*.rp_filter</c>) that sets other keys too.</param>
public sealed record SysctlSetting(string File, int Line, string Value, bool Exact = true)
{
    public override string ToString() => $"{File}:{Line}";
}

/// <summary>
/// The files a boot reads for kernel parameters, in the order it applies them, as <c>sysctl --system</c> (procps)
/// and systemd-sysctl do: every <c>*.conf</c> under the directories below sorted by file name alone, whichever
/// directory it is in; of two files with the same name only the one in the earlier directory counts (a file in
/// <c>/etc/sysctl.d</c> masks a package's); <c>/etc/sysctl.conf</c> last. A later file's assignment wins.
/// </summary>
public static partial class SysctlBoot
{
    /// <summary>Highest priority first: a name found here masks the same name in the directories after it.</summary>
    public static readonly IReadOnlyList<string> Directories = ["/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"];

    /// <summary>Read after every directory's files, by procps (systemd reads it through Debian's <c>99-sysctl.conf</c> link).</summary>
    public const string MainFile = "/etc/sysctl.conf";

    /// <summary>
    /// Lists the <c>*.conf</c> files of every directory, each with the target of a symlink (Debian's
    /// <c>99-sysctl.conf → ../sysctl.conf</c>); a missing directory is not an error (exit 1, the rest listed).
    /// </summary>
    public static Command List { get; } =
        new Command("find", [.. Directories.Select(d => (Arg)d), "-mindepth", "1", "-maxdepth", "1", "-name", "*.conf", "-printf", "%p\t%l\n"])
            .AsReadOnly().WithSuccessExitCodes(0, 1).WithTimeout(TimeSpan.FromSeconds(10));

    /// <summary>The files a boot applies, in order (the main file last), and where each symlink among them points, as one fact read with <see cref="List"/>.</summary>
    /// <example><c>var (files, links) = await host.FactAsync(SysctlBoot.Listing, ct);</c></example>
    public static Fact<(IReadOnlyList<string> Files, IReadOnlyDictionary<string, string> Links)> Listing { get; } =
        new(List, r => (Order(r.StandardOutput, mainFileExists: true), Links(r.StandardOutput)), mustSucceed: false);

    /// <summary>The files a boot applies, in order, from <see cref="List"/>'s output (the main file last, when present).</summary>
    /// <example><c>SysctlBoot.Order(listing, mainFileExists: true)</c></example>
    public static IReadOnlyList<string> Order(string listing, bool mainFileExists)
    {
        var byName = new Dictionary<string, string>(StringComparer.Ordinal);
        var found = listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')[0].Trim()).ToList();
        foreach (var directory in Directories)
        {
            foreach (var path in found.Where(p => DslArguments.Parent(p) == directory))
            {
                byName.TryAdd(Path.GetFileName(path), path);
            }
        }

        IEnumerable<string> order = byName.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value);
        return [.. order, .. mainFileExists ? new[] { MainFile } : []];
    }

    /// <summary>The file each listed symlink points to, as an absolute path: where a rewrite of its line must go.</summary>
    /// <example><c>SysctlBoot.Links("/etc/sysctl.d/99-sysctl.conf\t../sysctl.conf\n") // → /etc/sysctl.conf</c></example>
    public static IReadOnlyDictionary<string, string> Links(string listing)
    {
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var fields in listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).Where(f => f.Length == 2 && f[1].Length > 0))
        {
            links[fields[0]] = Path.GetFullPath(fields[1], DslArguments.Parent(fields[0]));
        }

        return links;
    }

    /// <summary>Every assignment of <paramref name="key"/> in one file's text, in order (a glob key such as <c>net.ipv4.conf.*.rp_filter</c> counts).</summary>
    /// <example><c>SysctlBoot.Settings("/etc/sysctl.conf", text, "net.core.somaxconn").LastOrDefault()</c></example>
    public static IEnumerable<SysctlSetting> Settings(string file, string text, string key)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            // A leading '-' only says "ignore a failure to set it"; the assignment still happens.
            var name = Dotted(line[..equals].Trim().TrimStart('-'));
            if (name == key || (name.Contains('*', StringComparison.Ordinal) && Glob(name).IsMatch(key)))
            {
                yield return new SysctlSetting(file, i + 1, Sysctl.Normalize(line[(equals + 1)..]), name == key);
            }
        }
    }

    // Both '/' and '.' separate a key's parts; when '/' comes first, the dots are part of a name (a VLAN interface).
    private static string Dotted(string name)
    {
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        return slash >= 0 && (dot < 0 || slash < dot)
            ? string.Concat(name.Select(c => c switch { '/' => '.', '.' => '/', _ => c }))
            : name;
    }

    private static Regex Glob(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace(@"\*", "[^.]*", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
}
