namespace Runbooks.Dsl;

/// <summary>Checks every path a runbook names before anything runs: absolute, normal, no traversal, no control characters.</summary>
public static class PathRules
{
    public static string Absolute(string path, string paramName = "path")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path, paramName);
        if (!path.StartsWith('/'))
        {
            throw new ArgumentException($"path '{path}' must be absolute (start with /)", paramName);
        }

        if (path.Split('/').Any(segment => segment is ".." or "."))
        {
            throw new ArgumentException($"path '{path}' must not contain '.' or '..' segments", paramName);
        }

        if (path.Any(char.IsControl) || path.Contains('|', StringComparison.Ordinal))
        {
            throw new ArgumentException($"path '{path}' contains a control character or '|'", paramName);
        }

        return path.Length > 1 ? path.TrimEnd('/') : path;
    }

    public static string Parent(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }
}
