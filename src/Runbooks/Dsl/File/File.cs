using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>Files and directories on the host. Every method returns a step; nothing runs until the engine probes it.</summary>
public static class File
{
    /// <summary>A regular file with exactly this content and mode, written atomically.</summary>
    /// <example><c>File.Content("/etc/motd", "maintenance at 02:00\n", mode: "0644")</c></example>
    public static Step Content(string path, string content, string mode = "0644") =>
        new FileContentStep(DslArguments.AbsolutePath(path), content, FileFactsParser.NormalizeMode(mode));

    /// <summary>A file holding a secret (a key): the plan, console and journal show <c>***</c>.</summary>
    /// <example><c>File.Content("/etc/wireguard/wg0.key", Secret.FromEnvironment("WG_KEY"), mode: "0600")</c></example>
    public static Step Content(string path, Secret content, string mode = "0600") =>
        new FileContentStep(DslArguments.AbsolutePath(path), content, FileFactsParser.NormalizeMode(mode));

    /// <summary>A line present in a text file; appended when missing. <c>.Replacing(pattern)</c> puts it where the matching line was.</summary>
    /// <example><c>File.Line("/etc/fstab", "/dev/vg0/data0 /data ext4 defaults 0 2")</c></example>
    public static FileLineStep Line(string path, string line, bool create = false)
    {
        if (line.Contains('\n', StringComparison.Ordinal))
        {
            throw new ArgumentException("a line must not contain a newline; use one File.Line per line", nameof(line));
        }

        return new FileLineStep(DslArguments.AbsolutePath(path), line, create);
    }

    /// <summary>A directory present with this mode (parents created as needed).</summary>
    /// <example><c>File.Directory("/var/lib/runbooks", mode: "0750")</c></example>
    public static Step Directory(string path, string mode = "0755") =>
        new DirectoryStep(DslArguments.AbsolutePath(path), FileFactsParser.NormalizeMode(mode));

    /// <summary>An existing file or directory with this mode.</summary>
    /// <example><c>File.Mode("/etc/wireguard/wg0.conf", "0600")</c></example>
    public static Step Mode(string path, string mode) => new FileModeStep(DslArguments.AbsolutePath(path), FileFactsParser.NormalizeMode(mode));

    /// <summary>No line of the file matches the regular expression (matching lines are removed, the rest kept); an absent file has none.</summary>
    /// <example><c>File.LinesAbsent("/etc/sysctl.conf", @"^\s*net\.core\.somaxconn\s*=")</c></example>
    public static Step LinesAbsent(string path, string pattern) =>
        new FileLinesAbsentStep(DslArguments.AbsolutePath(path), DslArguments.LinePattern(pattern));

    /// <summary>
    /// The file is no larger than <paramref name="atMost"/> (default: empty): truncated to zero in place when larger —
    /// in place, so a process that holds it open (a log) writes on into the freed file. Destructive: the plan says so.
    /// </summary>
    /// <example><c>File.Truncated("/var/log/app/access.log", atMost: "1M")</c></example>
    public static Step Truncated(string path, string? atMost = null) =>
        new FileTruncatedStep(DslArguments.AbsolutePath(path), atMost is null ? 0 : Bytes.Parse(atMost));

    /// <summary>An existing file or directory owned by this user (and group, when given).</summary>
    /// <example><c>File.Owner("/var/log/app/access.log", "app", "adm")</c></example>
    public static Step Owner(string path, string owner, string? group = null) =>
        new FileOwnerStep(DslArguments.AbsolutePath(path), DslArguments.Account(owner, nameof(owner)), group is null ? null : DslArguments.Account(group, nameof(group)));

    /// <summary>A check that a file is smaller than a size; an absent file is (0 bytes).</summary>
    /// <example><c>Spec("log-small", File.SizeBelow("/var/log/app/access.log", "10M")).On("web")</c></example>
    public static Check SizeBelow(string path, string size)
    {
        path = DslArguments.AbsolutePath(path);
        var limit = Bytes.Parse(size);
        return new Check($"{path} is smaller than {Bytes.Show(limit)}", async (host, ct) =>
        {
            var facts = await FileProbe.StatAsync(host, path, ct).ConfigureAwait(false);
            return new CheckResult(facts.Size < limit, facts.ToString());
        });
    }

    /// <summary>A check that a path exists.</summary>
    /// <example><c>Target("x").Requires(File.Exists("/media/disk0.img"))</c></example>
    public static Check Exists(string path)
    {
        path = DslArguments.AbsolutePath(path);
        return new Check($"{path} exists", async (host, ct) =>
        {
            var facts = await FileProbe.StatAsync(host, path, ct).ConfigureAwait(false);
            return new CheckResult(facts.Exists, facts.ToString());
        });
    }
}
