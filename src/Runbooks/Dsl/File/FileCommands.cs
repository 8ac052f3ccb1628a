using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>The argv the File noun reads and writes with; plain coreutils, so it works locally and over SSH.</summary>
public static class FileCommands
{
    public static Command Stat(string path) => new Command("stat", ["-c", FileFactsParser.StatFormat, "--", path]).AsReadOnly();

    public static Command Read(string path) => HostContext.FileRead(path);

    /// <summary>What <c>stat</c> says the path is: kind, mode, owner, group, size; <see cref="FileFacts.Missing"/> when nothing is there.</summary>
    /// <example><c>var facts = await host.FactAsync(FileCommands.Facts("/etc/fstab"), ct);</c></example>
    public static Fact<FileFacts> Facts(string path) =>
        new(Stat(path), r => FileFactsParser.Parse(path, r.ExitCode, r.StandardOutput, r.StandardError), mustSucceed: false);

    /// <summary>Appends without rewriting: the rest of the file is never touched.</summary>
    public static Command Append(string path, string text) =>
        new Command("dd", ["of=" + path, "oflag=append", "conv=notrunc", "status=none"]).WithStdin(text);

    public static Command Chmod(string path, string mode) => new("chmod", [mode, "--", path]);

    /// <summary>In place, never by rename: whoever holds the file open keeps writing into the same, now empty, file.</summary>
    public static Command Truncate(string path) => new("truncate", ["-s", "0", "--", path]);

    public static Command Chown(string path, string owner, string? group) => new("chown", [group is null ? owner : $"{owner}:{group}", "--", path]);

    public static Command MakeDirectory(string path, string mode) => new("mkdir", ["-p", "-m", mode, "--", path]);

    /// <summary>A chmod that undo can put back to <paramref name="oldMode"/>.</summary>
    internal static RunCommand ChmodFrom(string path, string mode, string oldMode) => new(Chmod(path, mode))
    {
        Undo = Reversal.By($"{path} back to mode {oldMode}", new Command("stat", ["-c", "%a", "--", path]), Chmod(path, oldMode)),
    };

    /// <summary>An append that undo takes back by cutting the file to its old length (or removing a file it created).</summary>
    internal static RunCommand AppendTo(string path, string text, string? oldText) => new(Append(path, text))
    {
        Undo = oldText is null
            ? Reversal.By($"remove {path} again (it did not exist)", WriteFile.HashRead(path), new Command("rm", ["-f", "--", path]))
            : Reversal.By($"{path} cut back to its {System.Text.Encoding.UTF8.GetByteCount(oldText)} bytes from before the append", WriteFile.HashRead(path),
                new Command("truncate", ["-s", System.Text.Encoding.UTF8.GetByteCount(oldText).ToString(System.Globalization.CultureInfo.InvariantCulture), "--", path])),
    };

    /// <summary>A new directory that undo removes again, only while it is empty.</summary>
    internal static RunCommand MakeNewDirectory(string path, string mode) => new(MakeDirectory(path, mode))
    {
        Undo = Reversal.By($"remove the directory {path} again (it did not exist; only while empty)", Shell.Script("if [ -d \"$1\" ]; then ls -A -- \"$1\" | wc -l; else echo absent; fi", path), new Command("rmdir", ["--", path])),
    };
}
