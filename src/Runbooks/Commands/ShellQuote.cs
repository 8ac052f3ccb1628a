namespace Runbooks.Commands;

/// <summary>POSIX single-quote quoting, for showing argv to people and for the explicit shell command type.</summary>
public static partial class ShellQuote
{
    public static string Quote(string value)
    {
        if (value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,+@%[]".Contains(c)))
        {
            return value;
        }

        return "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    /// <summary>Whether <c>NAME=value</c> in front of a command is an assignment the shell makes (not a word it runs).</summary>
    public static bool IsAssignableName(string name) => AssignableName().IsMatch(name);

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial System.Text.RegularExpressions.Regex AssignableName();
}
