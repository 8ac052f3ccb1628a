using System.Text;
using CliWrap;
using CliWrap.Buffered;
using Runbooks.Commands;
using Command = Runbooks.Commands.Command;
using CommandResult = Runbooks.Commands.CommandResult;

namespace Runbooks.Transport;

/// <summary>Runs commands on this machine through CliWrap, with the command's timeout and the caller's cancellation.</summary>
public sealed class LocalTransport : ITransport
{
    public string Name => "local";

    public async Task<CommandResult> RunAsync(Command command, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(command.Timeout);
        var started = DateTimeOffset.UtcNow;
        var cli = Cli.Wrap(command.Program)
            .WithArguments(command.Arguments.Select(a => a.Reveal()))
            .WithEnvironmentVariables(command.Environment.ToDictionary(e => e.Key, e => (string?)e.Value))
            .WithValidation(CommandResultValidation.None);
        if (command.Stdin is { } stdin)
        {
            cli = cli.WithStandardInputPipe(PipeSource.FromString(stdin.Reveal(), Encoding.UTF8));
        }

        try
        {
            var result = await cli.ExecuteBufferedAsync(Encoding.UTF8, Encoding.UTF8, timeout.Token).ConfigureAwait(false);
            return new CommandResult(result.ExitCode, result.StandardOutput, result.StandardError, started, DateTimeOffset.UtcNow);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TransportException(Name, command, $"timed out after {command.Timeout.TotalSeconds:0.#} s and was killed; raise the step's timeout if the tool is just slow");
        }
        catch (CliWrap.Exceptions.CliWrapException ex)
        {
            throw new TransportException(Name, command, $"could not start: {ex.Message}", ex);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new TransportException(Name, command, $"could not start '{command.Program}': {ex.Message} (is it installed and on PATH?)", ex);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
