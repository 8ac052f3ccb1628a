using System.Text;
using Runbooks.Commands;

namespace Runbooks.Engine;

/// <summary>
/// Several files read by one shell: a line per file, <c>0 BASE64</c> with its bytes or <c>1 BASE64</c> with
/// cat's error. Base64 keeps NULs (<c>/proc/PID/cmdline</c>) and newlines inside a file from being read as
/// the end of its answer.
/// </summary>
internal static class FileBatch
{
    private const string Script =
        "for f; do\n" +
        "  if b=$(base64 -w0 -- \"$f\" 2>/dev/null); then echo \"0 $b\"\n" +
        "  else echo \"1 $(cat -- \"$f\" 2>&1 >/dev/null | base64 -w0)\"; fi\n" +
        "done\n";

    public static Command Command(IReadOnlyList<string> paths) =>
        Shell.Script(Script, [.. paths.Select(p => (Arg)p)]).AsReadOnly();

    /// <summary>The paths a batch reads, or null when <paramref name="command"/> is not a batch.</summary>
    public static IReadOnlyList<string>? PathsOf(Command command) =>
        command is { Program: "sh" } && command.Arguments.Length >= 3 && command.Arguments[1].Reveal() == Script
            ? [.. command.Arguments.Skip(3).Select(a => a.Reveal())]
            : null;

    /// <summary>The batch's output for these per-file answers: what the script prints on a host that gave them.</summary>
    public static string Join(IEnumerable<CommandResult> files) =>
        string.Concat(files.Select(f => f.ExitCode == 0
            ? $"0 {Convert.ToBase64String(Encoding.UTF8.GetBytes(f.StandardOutput))}\n"
            : $"1 {Convert.ToBase64String(Encoding.UTF8.GetBytes(f.StandardError))}\n"));

    /// <summary>Each file's answer as <c>cat -- PATH</c> would have given it; nothing when the output does not fit.</summary>
    public static IEnumerable<(string Path, CommandResult Result)> Split(IReadOnlyList<string> paths, CommandResult batch)
    {
        var lines = batch.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length != paths.Count)
        {
            yield break;
        }

        for (var i = 0; i < paths.Count; i++)
        {
            var (status, data) = (lines[i][0], lines[i].Length > 2 ? lines[i][2..] : "");
            string text;
            try
            {
                text = Encoding.UTF8.GetString(Convert.FromBase64String(data));
            }
            catch (FormatException)
            {
                yield break;
            }

            yield return (paths[i], status == '0'
                ? new CommandResult(0, text, "", batch.Started, batch.Ended)
                : new CommandResult(1, "", text, batch.Started, batch.Ended));
        }
    }
}
