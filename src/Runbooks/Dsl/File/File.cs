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

    /// <summary>A line present in a text file; appended when missing.</summary>
    /// <example><c>File.Line("/etc/fstab", "/dev/vg0/data0 /data ext4 defaults 0 2")</c></example>
    public static Step Line(string path, string line, bool create = false)
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
