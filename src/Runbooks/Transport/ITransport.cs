using Runbooks.Commands;

namespace Runbooks.Transport;

/// <summary>
/// The only thing that starts processes. Returns the result whatever the exit code; callers decide
/// (see <see cref="TransportExtensions.RunCheckedAsync"/>). Throws <see cref="TransportException"/> when the
/// command could not be run at all or timed out.
/// </summary>
public interface ITransport : IAsyncDisposable
{
    /// <summary>How this host is named in messages and the journal, e.g. <c>local</c>, <c>root@10.0.0.5:22</c>.</summary>
    string Name { get; }

    Task<CommandResult> RunAsync(Command command, CancellationToken cancellationToken);
}

public static class TransportExtensions
{
    /// <summary>Runs and throws <see cref="CommandFailedException"/> when the exit code is not a success code.</summary>
    public static async Task<CommandResult> RunCheckedAsync(this ITransport transport, Command command, CancellationToken cancellationToken)
    {
        var result = await transport.RunAsync(command, cancellationToken).ConfigureAwait(false);
        if (!command.SuccessExitCodes.Contains(result.ExitCode))
        {
            throw new CommandFailedException(transport.Name, command, result);
        }

        return result;
    }
}

/// <summary>
/// A transport with connections the controller can lose (SSH): it can open another, independent one, which is how a
/// confirmed apply proves the host is still reachable after a change, and drop its own when it may be wedged.
/// </summary>
public interface IFreshConnections
{
    /// <summary>A new transport to the same host with its own connection; the caller disposes it.</summary>
    ITransport OpenFresh();

    /// <summary>Closes the kept connection; the next command connects again.</summary>
    void DropConnection();
}
