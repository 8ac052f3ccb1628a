namespace Runbooks.Commands;

/// <summary>What a process did: a value, never an exception by itself.</summary>
public sealed record CommandResult(int ExitCode, string StandardOutput, string StandardError, DateTimeOffset Started, DateTimeOffset Ended)
{
    public TimeSpan Duration => Ended - Started;

    /// <summary>The last lines of stderr, redacted: what an error message or a journal record shows.</summary>
    public string StderrTail(int lines = 10) => Tail(StandardError, lines);

    public string StdoutTail(int lines = 10) => Tail(StandardOutput, lines);

    private static string Tail(string text, int lines)
    {
        var all = text.TrimEnd().Split('\n');
        return SecretRedactor.Redact(string.Join('\n', all.Skip(Math.Max(0, all.Length - lines))));
    }
}
