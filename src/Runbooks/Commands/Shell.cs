namespace Runbooks.Commands;

/// <summary>
/// The one way to run a pipeline: a constant script for <c>sh -c</c> whose values arrive as positional
/// parameters (<c>$1</c>, <c>$2</c> …), so no value is ever parsed by the shell. Analyzer RB002 rejects a
/// script built by interpolation or concatenation.
/// </summary>
/// <example><c>Shell.Script("df -B1 \"$1\" | tail -n 1", "/data")</c></example>
public static class Shell
{
    public static Command Script(string script, params Arg[] values)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(script);
        return new Command("sh", ["-c", script, "runbook-sh", .. values]);
    }
}
