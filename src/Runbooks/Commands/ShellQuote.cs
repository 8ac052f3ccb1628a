namespace Runbooks.Commands;

/// <summary>POSIX single-quote quoting, for showing argv to people and for the explicit shell command type.</summary>
public static class ShellQuote
{
    public static string Quote(string value)
    {
        if (value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,+@%[]".Contains(c)))
        {
            return value;
        }

        return "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }
}
