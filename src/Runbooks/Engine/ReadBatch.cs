using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Runbooks.Commands;

namespace Runbooks.Engine;

/// <summary>
/// Several independent reads run by one shell, each answering exactly as it would alone: its stdout, stderr and
/// exit code. Over SSH every command is a channel, a login shell and an exec (0.15–0.2 s on an emulated host before
/// the tool itself starts); a batch pays for one. The reads' values reach the shell as positional parameters, never
/// as script text: the script is built from the reads' shapes only (how many words, which environment names).
/// </summary>
/// <remarks>
/// Framing: on stdout each read is <c>B i\n</c> + its stdout + <c>\nB i EXIT\n</c>; on stderr <c>B i\n</c> + its
/// stderr + <c>\n</c>, then <c>B end\n</c>, where B (<c>$1</c>) is a hash of the reads: output that happened to
/// contain it would have to contain a SHA-256 of the very commands that print it.
/// </remarks>
internal static class ReadBatch
{
    /// <summary>Whether a read can go into a batch: no stdin (the batch's stdin is the shell's) and environment names the shell can assign.</summary>
    public static bool Fits(Command read) => read.Stdin is null && read.Environment.Keys.All(ShellQuote.IsAssignableName);

    /// <summary>The reads as one, each read's answer filed under the read itself.</summary>
    public static CombinedRead Of(IReadOnlyList<Command> reads)
    {
        if (reads.Count == 0 || !reads.All(Fits))
        {
            throw new ArgumentException("a batch takes one or more reads without stdin", nameof(reads));
        }

        var boundary = Boundary(reads);
        var script = new StringBuilder();
        var values = new List<Arg> { boundary };
        for (var i = 0; i < reads.Count; i++)
        {
            var read = reads[i];
            script.Append(CultureInfo.InvariantCulture, $"printf '%s {i}\\n' \"$1\"; printf '%s {i}\\n' \"$1\" >&2; ");
            foreach (var (name, value) in read.Environment.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                values.Add(value);
                script.Append(CultureInfo.InvariantCulture, $"{name}={Positional(values.Count)} ");
            }

            foreach (var word in (IEnumerable<Arg>)[read.Program, .. read.Arguments])
            {
                values.Add(word);
                script.Append(Positional(values.Count)).Append(' ');
            }

            script.Append(CultureInfo.InvariantCulture, $"</dev/null; printf '\\n%s {i} %s\\n' \"$1\" \"$?\"; printf '\\n' >&2\n");
        }

        script.Append("printf '%s end\\n' \"$1\" >&2\n");
        var timeout = TimeSpan.FromTicks(reads.Sum(r => r.Timeout.Ticks));
        return new CombinedRead(Shell.Script(script.ToString(), [.. values]).WithTimeout(timeout), reads, batch => Split(reads, batch));
    }

    /// <summary>Each read's answer as it would have been alone; nothing when the output does not fit the framing.</summary>
    public static IEnumerable<(Command Part, CommandResult Answer)>? Split(IReadOnlyList<Command> reads, CommandResult batch)
    {
        var boundary = Boundary(reads);
        var answers = new List<(Command, CommandResult)>();
        int outAt = 0, errAt = 0;
        var (stdout, stderr) = (batch.StandardOutput, batch.StandardError);
        for (var i = 0; i < reads.Count; i++)
        {
            var open = $"{boundary} {i}\n";
            var errOpen = stderr.IndexOf(open, errAt, StringComparison.Ordinal);
            if (string.CompareOrdinal(stdout, outAt, open, 0, open.Length) != 0 || errOpen < 0)
            {
                return null;
            }

            var close = $"\n{boundary} {i} ";
            var outEnd = stdout.IndexOf(close, outAt + open.Length, StringComparison.Ordinal);
            var exitEnd = outEnd < 0 ? -1 : stdout.IndexOf('\n', outEnd + close.Length);
            var next = i + 1 < reads.Count ? $"\n{boundary} {i + 1}\n" : $"\n{boundary} end\n";
            var errEnd = stderr.IndexOf(next, errOpen + open.Length, StringComparison.Ordinal);
            if (exitEnd < 0 || errEnd < 0 || !int.TryParse(stdout.AsSpan(outEnd + close.Length, exitEnd - outEnd - close.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var exit))
            {
                return null;
            }

            answers.Add((reads[i], new CommandResult(exit, stdout[(outAt + open.Length)..outEnd], stderr[(errOpen + open.Length)..errEnd], batch.Started, batch.Ended)));
            outAt = exitEnd + 1;
            errAt = errEnd + 1;
        }

        return answers;
    }

    private static string Positional(int index) => index < 10 ? $"\"${index}\"" : $"\"${{{index}}}\"";

    private static string Boundary(IReadOnlyList<Command> reads) =>
        "runbooks-read-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\0", reads.Select(r => string.Join("\u0001", [r.Program, .. r.Arguments.Select(a => a.Reveal()), .. r.Environment.Select(e => e.Key + "=" + e.Value)]))))))[..32];

}
