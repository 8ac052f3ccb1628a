using System.Globalization;
using System.Text;
using Runbooks.Commands;

namespace Runbooks.Engine;

/// <summary>
/// Several independent reads run by one shell, each answering exactly as it would alone: its stdout, stderr and
/// exit code. Over SSH every command is a channel, a login shell and an exec (0.15–0.2 s on an emulated host before
/// the tool itself starts); a batch pays for one. The reads' values reach the shell as positional parameters, never
/// as script text: the script is built from the reads' shapes only (how many words, which environment names).
/// </summary>
/// <remarks>Each read is a frame keyed by its index (<see cref="ReadFrames"/>).</remarks>
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

        var values = new List<Arg> { ReadFrames.Boundary(reads) };
        var script = new StringBuilder("b=$1\n");
        for (var i = 0; i < reads.Count; i++)
        {
            var read = reads[i];
            var words = new StringBuilder();
            foreach (var (name, value) in read.Environment.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                values.Add(value);
                words.Append(CultureInfo.InvariantCulture, $"{name}={ReadFrames.Positional(values.Count)} ");
            }

            foreach (var word in (IEnumerable<Arg>)[read.Program, .. read.Arguments])
            {
                values.Add(word);
                words.Append(ReadFrames.Positional(values.Count)).Append(' ');
            }

            script.Append(ReadFrames.Around(i.ToString(CultureInfo.InvariantCulture), words.ToString().TrimEnd()));
        }

        script.Append(ReadFrames.End);
        // Their sum, but at most twice the longest single one: a read ahead that hangs (LVM on a dying disk) must not hold
        // a step that needs none of it for the sum of thirty timeouts; a batch that runs out of time leaves each read to be
        // made alone under its own timeout, and healthy reads that each took half their time still fit.
        var longest = reads.Max(r => r.Timeout);
        var timeout = TimeSpan.FromTicks(Math.Min(reads.Sum(r => r.Timeout.Ticks), 2 * longest.Ticks));
        return new CombinedRead(Shell.Script(script.ToString(), [.. values]).WithTimeout(timeout), reads, batch => Split(reads, batch));
    }

    /// <summary>Each read's answer as it would have been alone; nothing when the output does not fit the framing.</summary>
    public static IEnumerable<(Command Part, CommandResult Answer)>? Split(IReadOnlyList<Command> reads, CommandResult batch) =>
        ReadFrames.Split(ReadFrames.Boundary(reads), batch) is { } frames
            && frames.Count == reads.Count
            && frames.Select((f, i) => f.Key == i.ToString(CultureInfo.InvariantCulture)).All(same => same)
            ? frames.Select((f, i) => (reads[i], f.Answer))
            : null;
}
