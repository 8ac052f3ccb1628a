using System.Globalization;

namespace Runbooks.Dsl;

/// <summary>What <c>stat</c> says about a path. <see cref="Exists"/> is false when there is nothing there.</summary>
public sealed record FileFacts(string Path, bool Exists, string Kind, string Mode, string Owner, string Group, long Size)
{
    public static FileFacts Missing(string path) => new(path, false, "", "", "", "", 0);

    public bool IsRegularFile => Kind == "regular file" || Kind == "regular empty file";

    public bool IsDirectory => Kind == "directory";

    public override string ToString() =>
        Exists ? $"{Kind} {Mode} {Owner}:{Group} {Size.ToString(CultureInfo.InvariantCulture)} bytes" : "absent";
}

/// <summary>Parses the output of <see cref="FileCommands.Stat"/>.</summary>
public static class FileFactsParser
{
    /// <summary>The format handed to <c>stat -c</c>: fields separated by a character a path cannot hold in stat's output here.</summary>
    public const string StatFormat = "%F|%a|%U|%G|%s";

    public static FileFacts Parse(string path, int exitCode, string stdout, string stderr)
    {
        if (exitCode != 0)
        {
            if (stderr.Contains("No such file or directory", StringComparison.Ordinal))
            {
                return FileFacts.Missing(path);
            }

            throw new RunbookException($"cannot stat {path}: {stderr.Trim()}");
        }

        var fields = stdout.TrimEnd('\n').Split('|');
        if (fields.Length != 5 || !long.TryParse(fields[4], NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            throw new RunbookException($"unexpected stat output for {path}: '{stdout.Trim()}'");
        }

        return new FileFacts(path, true, fields[0], NormalizeMode(fields[1]), fields[2], fields[3], size);
    }

    /// <summary>Modes compare as four octal digits: <c>644</c> and <c>0644</c> are the same mode.</summary>
    public static string NormalizeMode(string mode)
    {
        if (mode.Length is < 3 or > 4 || mode.Any(c => c is < '0' or > '7'))
        {
            throw new ArgumentException($"'{mode}' is not an octal file mode such as 0644", nameof(mode));
        }

        return mode.PadLeft(4, '0');
    }
}
