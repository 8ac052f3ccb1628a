using Runbooks.Commands;

namespace Runbooks;

/// <summary>A command exited with a code its tool does not call success.</summary>
public sealed class CommandFailedException : RunbookException
{
    /// <param name="host">Where it ran.</param>
    /// <param name="command">What ran.</param>
    /// <param name="result">How it ended.</param>
    /// <param name="detail">What a read after the failure found (<see cref="Engine.RunCommand.WhenItFailsRead"/>), indented under the error.</param>
    public CommandFailedException(string host, Command command, CommandResult result, string? detail = null)
        : base($"on {host}: `{command.Render()}` exited {result.ExitCode}" +
               (string.IsNullOrWhiteSpace(result.StandardError) ? "" : $"\n  stderr: {result.StderrTail(5).Replace("\n", "\n          ", StringComparison.Ordinal)}") +
               (detail is null ? "" : $"\n  {detail.TrimEnd().Replace("\n", "\n    ", StringComparison.Ordinal)}"))
    {
        Host = host;
        Command = command;
        Result = result;
    }

    public string Host { get; }

    public Command Command { get; }

    public CommandResult Result { get; }
}

/// <summary>The way to a host broke (process could not start, SSH dropped, timeout): not the command's own verdict.</summary>
public sealed class TransportException : RunbookException
{
    public TransportException(string host, Command command, string problem, Exception? inner = null)
        : base($"on {host}: `{command.Render()}`: {problem}", inner ?? new InvalidOperationException(problem))
    {
        Host = host;
        Command = command;
    }

    public string Host { get; }

    public Command Command { get; }

    /// <summary>The connection died with the command in flight (rather than the command failing to start or timing out).</summary>
    public bool ConnectionLost { get; init; }

    /// <summary>The command ran past its timeout and was ended on the host (rather than cut off by a lost connection).</summary>
    public bool TimedOut { get; init; }
}
