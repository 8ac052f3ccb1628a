using Runbooks.Commands;
using Runbooks.Transport;

namespace Runbooks.Tests.Transport;

[Category("process")]
public class LocalTransportTests
{
    private readonly LocalTransport _local = new();

    [Test, CancelAfter(10_000)]
    public async Task I_get_exit_code_stdout_and_stderr_as_values(CancellationToken cancellationToken)
    {
        var result = await _local.RunAsync(Shell.Script("echo out; echo err >&2; exit 4"), cancellationToken);

        Assert.That((result.ExitCode, result.StandardOutput, result.StandardError), Is.EqualTo((4, "out\n", "err\n")));
    }

    [Test, CancelAfter(10_000)]
    public async Task I_can_feed_stdin_including_a_secret(CancellationToken cancellationToken)
    {
        var result = await _local.RunAsync(new Command("cat", []).WithStdin(Secret.Of("top-secret-value")), cancellationToken);

        Assert.That(result.StandardOutput, Is.EqualTo("top-secret-value"));
    }

    [Test, CancelAfter(10_000)]
    public async Task A_command_past_its_timeout_is_killed_and_reported(CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        var ex = await Assert.ThrowsAsync<TransportException>(() => _local.RunAsync(new Command("sleep", ["30"]).WithTimeout(TimeSpan.FromMilliseconds(300)), cancellationToken));

        Assert.That(ex!.Message, Does.Contain("timed out after 0.3 s").And.Contain("sleep 30"));
        Assert.That(DateTime.UtcNow - started, Is.LessThan(TimeSpan.FromSeconds(10)));
    }

    [Test, CancelAfter(10_000)]
    public async Task A_missing_program_is_a_transport_error_naming_it(CancellationToken cancellationToken)
    {
        var ex = await Assert.ThrowsAsync<TransportException>(() => _local.RunAsync(new Command("no-such-tool-xyz", []), cancellationToken));

        Assert.That(ex!.Message, Does.Contain("no-such-tool-xyz"));
    }

    [Test, CancelAfter(10_000)]
    public async Task A_non_zero_exit_throws_only_when_checked(CancellationToken cancellationToken)
    {
        var ex = await Assert.ThrowsAsync<CommandFailedException>(() => _local.RunCheckedAsync(Shell.Script("echo 'no space left' >&2; exit 1"), cancellationToken));

        Assert.That(ex!.Message, Does.StartWith("on local:").And.Contain("exited 1").And.Contain("no space left"));
    }
}
