using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>The argv the File noun reads and writes with; plain coreutils, so it works locally and over SSH.</summary>
public static class FileCommands
{
    public static Command Stat(string path) => new Command("stat", ["-c", FileFactsParser.StatFormat, "--", path]).AsReadOnly();

    public static Command Read(string path) => HostContext.FileRead(path);

    /// <summary>Appends without rewriting: the rest of the file is never touched.</summary>
    public static Command Append(string path, string text) =>
        new Command("dd", ["of=" + path, "oflag=append", "conv=notrunc", "status=none"]).WithStdin(text);

    public static Command Chmod(string path, string mode) => new("chmod", [mode, "--", path]);

    /// <summary>In place, never by rename: whoever holds the file open keeps writing into the same, now empty, file.</summary>
    public static Command Truncate(string path) => new("truncate", ["-s", "0", "--", path]);

    public static Command Chown(string path, string owner, string? group) => new("chown", [group is null ? owner : $"{owner}:{group}", "--", path]);

    public static Command MakeDirectory(string path, string mode) => new("mkdir", ["-p", "-m", mode, "--", path]);
}
