namespace Runbooks.Scenarios;

/// <summary>
/// The one rule for a path a disposable host keeps private (a scratch directory bound over it in the host's mount
/// namespace): every backend that offers <c>.Private(…)</c> asks it, so they agree on what is allowed.
/// </summary>
public static class PrivatePath
{
    private static readonly string[] KernelFilesystems = ["/proc", "/sys", "/dev"];

    private static readonly string[] SystemDirectories = ["/etc", "/var", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/run", "/tmp", "/boot", "/root", "/home", "/opt", "/srv"];

    /// <summary>Returns the path without a trailing slash, or throws naming <paramref name="where"/> and why.</summary>
    /// <example><c>PrivatePath.Check("/etc/app", "Netns().Host(\"web\").Private", declared, NetnsDeclaration.DefaultPrivatePaths)</c></example>
    public static string Check(string? path, string where, IReadOnlyList<string> declared, IReadOnlyList<string> alwaysPrivate) =>
        Problem(path, declared, alwaysPrivate) is { } problem
            ? throw new InvalidRunbookException($"{where}(\"{path}\"): {problem}")
            : path!.TrimEnd('/');

    /// <summary>Why <paramref name="path"/> cannot be private to the host (null when it can), given the paths declared before it.</summary>
    public static string? Problem(string? path, IReadOnlyList<string> declared, IReadOnlyList<string> alwaysPrivate)
    {
        if (string.IsNullOrWhiteSpace(path) || path.IndexOfAny(['\0', '\n']) >= 0)
        {
            return "give an absolute directory path, e.g. /etc/app";
        }

        if (!path.StartsWith('/'))
        {
            return "not an absolute path; give the full path, e.g. /etc/app";
        }

        if (path.Split('/').Any(segment => segment is ".." or "."))
        {
            return "has a '.' or '..' segment; give the directory itself, e.g. /etc/app";
        }

        var trimmed = path.TrimEnd('/');
        if (trimmed.Length == 0)
        {
            return "is the whole filesystem; name the directory the scenario changes, e.g. /etc/app";
        }

        static bool Within(string inner, string outer) => inner == outer || inner.StartsWith(outer + "/", StringComparison.Ordinal);
        if (KernelFilesystems.FirstOrDefault(k => Within(trimmed, k)) is { } kernel)
        {
            return $"{kernel} is the kernel's own filesystem, shared with the machine; a scratch directory over it would break the host";
        }

        if (alwaysPrivate.FirstOrDefault(a => Within(trimmed, a)) is { } always)
        {
            return $"already private: every host of this backend has its own {always}";
        }

        if (SystemDirectories.Contains(trimmed))
        {
            return $"{trimmed} holds the host's own programs and configuration; an empty directory over it leaves nothing to run. Name the directory your incident breaks, e.g. {trimmed}/app";
        }

        if (alwaysPrivate.FirstOrDefault(a => Within(a, trimmed)) is { } inside)
        {
            return $"would hide {inside}, which the backend mounts itself; name a directory beside it, e.g. {trimmed}/app";
        }

        if (declared.FirstOrDefault(d => Within(trimmed, d) || Within(d, trimmed)) is { } other)
        {
            return other == trimmed ? "declared twice" : $"overlaps {other}, declared private already; declare one of the two";
        }

        return null;
    }
}
