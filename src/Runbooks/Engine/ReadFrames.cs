using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Runbooks.Commands;

namespace Runbooks.Engine;

/// <summary>
/// How one shell tells several reads' answers apart: each read's stdout, stderr and exit code in a frame named by a
/// key, marked with a boundary that is a hash of the reads themselves (output that happened to contain it would have to
/// contain a SHA-256 of the very commands that print it). The script side writes the frames; <see cref="Split"/> reads
/// them back as each read would have answered alone.
/// </summary>
/// <remarks>
/// On stdout a frame is <c>B KEY\n</c> + its stdout + <c>\nB KEY EXIT\n</c>, and the last line is <c>B end\n</c>; on
/// stderr it is <c>B KEY\n</c> + its stderr + <c>\n</c>, then <c>B end\n</c>. The script keeps the boundary in <c>$b</c>.
/// </remarks>
internal static class ReadFrames
{
    /// <summary>A boundary for reads of these shapes (program, arguments, environment).</summary>
    public static string Boundary(IEnumerable<Command> reads) =>
        "runbooks-read-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\0", reads.Select(r => string.Join("\u0001", [r.Program, .. r.Arguments.Select(a => a.Reveal()), .. r.Environment.Select(e => e.Key + "=" + e.Value)]))))))[..32];

    /// <summary>
    /// The shell text that runs <paramref name="command"/> (shell words) in a frame named <paramref name="key"/> (a shell
    /// word: a literal without spaces or a quoted expansion), its stdin empty.
    /// </summary>
    public static string Around(string key, string command) =>
        $"printf '%s %s\\n' \"$b\" {key}; printf '%s %s\\n' \"$b\" {key} >&2; {command} </dev/null; printf '\\n%s %s %s\\n' \"$b\" {key} \"$?\"; printf '\\n' >&2\n";

    /// <summary>
    /// Like <see cref="Around"/>, and the read's stdout is also kept in the shell variable <paramref name="variable"/>
    /// (trailing newlines included) for the script's next reads to be chosen from.
    /// </summary>
    public static string Captured(string key, string variable, string command) =>
        $"printf '%s %s\\n' \"$b\" {key} >&2; {variable}=$({command} </dev/null; printf 'x%s' \"$?\"); code=${{{variable}##*x}}; {variable}=${{{variable}%x*}}\n"
        + $"printf '%s %s\\n' \"$b\" {key}; printf '%s' \"${variable}\"; printf '\\n%s %s %s\\n' \"$b\" {key} \"$code\"; printf '\\n' >&2\n";

    /// <summary>The shell word for positional parameter <paramref name="index"/>, quoted: <c>"$3"</c>, <c>"${12}"</c>.</summary>
    public static string Positional(int index) => index < 10 ? $"\"${index}\"" : $"\"${{{index}}}\"";

    /// <summary>The script's last line: the frames end here.</summary>
    public const string End = "printf '%s end\\n' \"$b\"; printf '%s end\\n' \"$b\" >&2\n";

    /// <summary>Each frame's key and answer, in order; null when the output does not fit the framing.</summary>
    public static IReadOnlyList<(string Key, CommandResult Answer)>? Split(string boundary, CommandResult batch)
    {
        var frames = new List<(string, CommandResult)>();
        var (stdout, stderr) = (batch.StandardOutput, batch.StandardError);
        int outAt = 0, errAt = 0;
        var mark = boundary + " ";
        while (true)
        {
            var lineEnd = stdout.IndexOf('\n', outAt);
            if (lineEnd < 0 || string.CompareOrdinal(stdout, outAt, mark, 0, mark.Length) != 0)
            {
                return null;
            }

            var key = stdout[(outAt + mark.Length)..lineEnd];
            var open = mark + key + "\n";
            // Searched, not expected at once: a login shell may write a warning to stderr before the script starts.
            errAt = stderr.IndexOf(open, errAt, StringComparison.Ordinal);
            if (errAt < 0)
            {
                return null;
            }

            if (key == "end")
            {
                return lineEnd + 1 == stdout.Length ? frames : null;
            }

            var close = "\n" + mark + key + " ";
            var outEnd = stdout.IndexOf(close, lineEnd + 1, StringComparison.Ordinal);
            var exitEnd = outEnd < 0 ? -1 : stdout.IndexOf('\n', outEnd + close.Length);
            // The stderr frame is "B KEY\n" + stderr + "\n": its text ends where the next frame's line begins.
            var errEnd = stderr.IndexOf("\n" + mark, errAt + open.Length, StringComparison.Ordinal);
            if (exitEnd < 0 || errEnd < 0
                || !int.TryParse(stdout.AsSpan(outEnd + close.Length, exitEnd - outEnd - close.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var exit))
            {
                return null;
            }

            frames.Add((key, new CommandResult(exit, stdout[(lineEnd + 1)..outEnd], stderr[(errAt + open.Length)..errEnd], batch.Started, batch.Ended)));
            outAt = exitEnd + 1;
            errAt = errEnd + 1;
        }
    }
}
