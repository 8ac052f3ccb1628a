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

    /// <summary>The files as one read, each file's answer filed under its <see cref="HostContext.FileRead"/>.</summary>
    public static CombinedRead Read(IReadOnlyList<string> paths) =>
        new(Shell.Script(Script, [.. paths.Select(p => (Arg)p)]), [.. paths.Select(HostContext.FileRead)], batch => Split(paths, batch));

    /// <summary>Each file's answer as <c>cat -- PATH</c> would have given it; nothing when the output does not fit.</summary>
    public static IEnumerable<(Command Part, CommandResult Answer)> Split(IReadOnlyList<string> paths, CommandResult batch)
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

            yield return (HostContext.FileRead(paths[i]), status == '0'
                ? new CommandResult(0, text, "", batch.Started, batch.Ended)
                : new CommandResult(1, "", text, batch.Started, batch.Ended));
        }
    }
}
