using System.Diagnostics;
using Runbooks.Commands;
using Runbooks.Tests.Support;
using Runbooks.Transport;

namespace Runbooks.Tests.Transport;

/// <summary>
/// Against a real sshd started here on a loopback port with an ephemeral host key and user key.
/// sshd runs commands through root's login shell, so root's ~/.bashrc (pyenv on these machines) is
/// part of every command's time; the timeouts below leave room for it.
/// </summary>
[Category("process")]
[NonParallelizable]
public class SshTransportTests
{
    private LoopbackSshd? _sshd;

    private LoopbackSshd Sshd => _sshd!;

    private string UserKey => Sshd.UserKey;

    private string Uri => Sshd.Uri;

    [OneTimeSetUp]
    public async Task StartSshd()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        _sshd = await LoopbackSshd.StartAsync(cts.Token);
    }

    [OneTimeTearDown]
    public void StopSshd() => _sshd?.Dispose();

    [Test]
    [CancelAfter(60_000)]
    public async Task Exit_code_stdout_and_stderr_round_trip_over_a_kept_connection(CancellationToken ct)
    {
        await using var ssh = SshTransport.FromUri(Uri, UserKey, Sshd.KnownHosts);

        var result = await ssh.RunAsync(Shell.Script("echo out \"$1\"; echo err >&2; exit 3", "it's a value"), ct);
        var watch = Stopwatch.StartNew();
        var second = await ssh.RunAsync(new Command("printf", ["%s|", "a b", "$HOME", "*"]), ct);
        TestContext.Out.WriteLine($"second command on the kept connection: {watch.Elapsed.TotalSeconds:0.00} s");

        Assert.That(result.ExitCode, Is.EqualTo(3));
        Assert.That(result.StandardOutput, Is.EqualTo("out it's a value\n"));
        Assert.That(result.StandardError, Does.Contain("err"));
        Assert.That(second.StandardOutput, Is.EqualTo("a b|$HOME|*|"), "arguments reach the program unexpanded");
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Stdin_and_environment_reach_the_remote_command_and_a_secret_stdin_is_not_rendered(CancellationToken ct)
    {
        await using var ssh = SshTransport.FromUri(Uri, UserKey, Sshd.KnownHosts);
        var command = Shell.Script("cat; printf ' %s' \"$GREETING\"")
            .WithStdin(Secret.Of("private-key-material"))
            .WithEnvironment("GREETING", "hello world");

        var result = await ssh.RunAsync(command, ct);

        Assert.That(result.StandardOutput, Is.EqualTo("private-key-material hello world"));
        Assert.That(SshTransport.RemoteCommandText(command, "c0ffee.1"), Does.Not.Contain("private-key-material"));
        Assert.That(SshTransport.RemoteCommandText(command, "c0ffee.1"), Does.StartWith("RUNBOOKS_COMMAND=c0ffee.1.$$ GREETING='hello world' exec sh -c"));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task The_marker_reaches_the_program_and_a_name_the_shell_cannot_assign_goes_through_env(CancellationToken ct)
    {
        await using var ssh = SshTransport.FromUri(Uri, UserKey, Sshd.KnownHosts);
        var plain = await ssh.RunAsync(new Command("sh", ["-c", "tr '\\0' '\\n' < /proc/$$/environ; echo \"pid=$$\""]).WithEnvironment("LANG", "C"), ct);
        var odd = new Command("env", []).WithEnvironment("odd-name", "x y");

        var oddResult = await ssh.RunAsync(odd, ct);

        var pid = plain.StandardOutput.Split('\n').Single(l => l.StartsWith("pid=", StringComparison.Ordinal))[4..];
        Assert.That(plain.StandardOutput, Does.Match($@"(?m)^RUNBOOKS_COMMAND=\S+\.\d+\.{pid}$").And.Contain("LANG=C\n"), "assignments in front of exec reach the program itself, and the marker ends in its pid (the reaper's test of in flight)");
        Assert.That(SshTransport.RemoteCommandText(odd, "c0ffee.2"), Does.StartWith("exec env RUNBOOKS_COMMAND=c0ffee.2.$$ 'odd-name=x y' env"));
        Assert.That(oddResult.StandardOutput, Does.Contain("odd-name=x y\n").And.Contain("RUNBOOKS_COMMAND="));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task An_unknown_host_key_is_refused_with_its_fingerprint_and_how_to_accept_it(CancellationToken ct)
    {
        var empty = Path.Combine(Sshd.Directory, "empty_known_hosts");
        await System.IO.File.WriteAllTextAsync(empty, "", ct);
        await using var ssh = SshTransport.FromUri(Uri, UserKey, empty);

        var ex = await Assert.ThrowsAsync<TransportException>(() => ssh.RunAsync(new Command("true", []), ct));

        Assert.That(ex!.Message, Does.Contain("is unknown").And.Contain("SHA256:").And.Contain($"appending this line to {empty}: [127.0.0.1]:{Sshd.Port} ssh-ed25519 AAAA"));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_changed_host_key_is_refused(CancellationToken ct)
    {
        var other = (await System.IO.File.ReadAllTextAsync(Path.Combine(Sshd.Directory, "otherkey.pub"), ct)).Split(' ');
        var changed = Path.Combine(Sshd.Directory, "changed_known_hosts");
        await System.IO.File.WriteAllTextAsync(changed, $"[127.0.0.1]:{Sshd.Port} {other[0]} {other[1]}\n", ct);
        await using var ssh = SshTransport.FromUri(Uri, UserKey, changed);

        var ex = await Assert.ThrowsAsync<TransportException>(() => ssh.RunAsync(new Command("true", []), ct));

        Assert.That(ex!.Message, Does.Contain("CHANGED").And.Contain("ssh-keygen -R"));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_command_past_its_timeout_ends_with_a_transport_error(CancellationToken ct)
    {
        await using var ssh = SshTransport.FromUri(Uri, UserKey, Sshd.KnownHosts);
        await ssh.RunAsync(new Command("true", []), ct);
        var watch = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<TransportException>(() => ssh.RunAsync(new Command("sleep", ["30"]).WithTimeout(TimeSpan.FromSeconds(2)), ct));

        Assert.That(ex!.Message, Does.Contain("timed out after 2 s"));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)));
        var after = await ssh.RunAsync(new Command("echo", ["still usable"]), ct);
        Assert.That(after.StandardOutput, Is.EqualTo("still usable\n"), "the kept connection survives a timed-out channel");
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_wrong_user_key_is_refused_naming_the_key(CancellationToken ct)
    {
        await using var ssh = SshTransport.FromUri(Uri, Path.Combine(Sshd.Directory, "otherkey"), Sshd.KnownHosts);

        var ex = await Assert.ThrowsAsync<TransportException>(() => ssh.RunAsync(new Command("true", []), ct));

        Assert.That(ex!.Message, Does.Contain("otherkey").And.Contain("authorized_keys"));
    }
}
