namespace Runbooks;

/// <summary>
/// The root of every error the tool reports on purpose. Its message is printed alone, without a stack
/// trace: it says what failed, where, and what to do next. Exit code 1.
/// </summary>
public class RunbookException : Exception
{
    public RunbookException(string message)
        : base(Commands.SecretRedactor.Redact(message))
    {
    }

    public RunbookException(string message, Exception inner)
        : base(Commands.SecretRedactor.Redact(message), inner)
    {
    }

    public RunbookException()
    {
    }
}

/// <summary>
/// The runbook or its invocation is wrong (compile error, unknown target, dependency cycle, bad inventory):
/// found before anything runs. Exit code 2.
/// </summary>
public sealed class InvalidRunbookException : RunbookException
{
    public InvalidRunbookException(string message)
        : base(message)
    {
    }

    public InvalidRunbookException(IEnumerable<string> problems)
        : base(string.Join(Environment.NewLine, problems))
    {
    }

    public InvalidRunbookException()
    {
    }

    public InvalidRunbookException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
