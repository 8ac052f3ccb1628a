using System.Text.RegularExpressions;

namespace Runbooks.Dsl;

/// <summary>
/// The one argument validator of the DSL, run when the runbook calls it, long before a host is touched, so a
/// typo in a device name is a compile-time-ish error instead of a command run against the wrong disk. Every
/// noun checks paths, devices and names here, by the same rules.
/// </summary>
internal static partial class DslArguments
{
    [GeneratedRegex(@"^/dev/[A-Za-z0-9][A-Za-z0-9._+-]*(/[A-Za-z0-9][A-Za-z0-9._+-]*)*$")]
    private static partial Regex DevicePattern();

    // LVM's own rule for VG and LV names, minus the leading '-' that would read as an option.
    [GeneratedRegex(@"^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$")]
    private static partial Regex LvmNamePattern();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9_-]{0,39}$")]
    private static partial Regex UnitNamePattern();

    // A user or group by name, useradd's rule: stat reports names, so a number could never compare equal.
    [GeneratedRegex(@"^[a-z_][a-z0-9_-]{0,31}\$?$")]
    private static partial Regex AccountPattern();

    public static string Account(string name, string parameter)
    {
        if (name is null || !AccountPattern().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a user or group name (lower-case letters, digits, '_', '-'; by name, not by number)", parameter);
        }

        return name;
    }

    /// <summary>A regular expression a line is matched against, compiled now so a typo fails before any host is touched.</summary>
    public static Regex LinePattern(string pattern, string parameter = "pattern")
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern, parameter);
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"pattern '{pattern}' is not a valid regular expression: {ex.Message}", parameter, ex);
        }
    }

    public static string Device(string device, string parameter)
    {
        if (device is null || !DevicePattern().IsMatch(device) || device.Contains("..", StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{device}' is not a device path like /dev/loop1 or /dev/vg0/data0", parameter);
        }

        return device;
    }

    /// <summary>
    /// Absolute and normal: no <c>.</c> or <c>..</c> segment (a path that climbs out of where it reads to be is
    /// how a runbook writes the wrong file), no control character; a trailing slash is dropped.
    /// </summary>
    public static string AbsolutePath(string path, string parameter = "path")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path, parameter);
        if (!path.StartsWith('/'))
        {
            throw new ArgumentException($"path '{path}' is not an absolute path (start it with /)", parameter);
        }

        if (path.Split('/').Any(segment => segment is ".." or "."))
        {
            throw new ArgumentException($"path '{path}' must not contain '.' or '..' segments", parameter);
        }

        if (path.Any(char.IsControl))
        {
            throw new ArgumentException($"path '{path}' contains a control character", parameter);
        }

        return path.Length > 1 ? path.TrimEnd('/') : path;
    }

    /// <summary>The directory a normal absolute path is in.</summary>
    public static string Parent(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }

    public static string LvmName(string name, string parameter)
    {
        if (name is null || !LvmNamePattern().IsMatch(name) || name is "." or "..")
        {
            throw new ArgumentException($"'{name}' is not a valid LVM name (letters, digits, + _ . -; not starting with -)", parameter);
        }

        return name;
    }

    public static string UnitName(string name, string parameter)
    {
        if (name is null || !UnitNamePattern().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' must be lower-case letters, digits, - or _ (at most 40)", parameter);
        }

        return name;
    }

    public static long PositiveSize(long bytes, string parameter)
    {
        // 1 PiB: far beyond any disk this tool repairs; a bigger number is a unit mistake.
        if (bytes <= 0 || bytes > (1L << 50))
        {
            throw new ArgumentException($"size {bytes} bytes must be > 0 and at most 1 PiB", parameter);
        }

        return bytes;
    }

    public static TimeSpan PositiveTime(TimeSpan time, string parameter)
    {
        if (time <= TimeSpan.Zero || time > TimeSpan.FromDays(1))
        {
            throw new ArgumentException($"duration {time} must be > 0 and at most a day", parameter);
        }

        return time;
    }
}
