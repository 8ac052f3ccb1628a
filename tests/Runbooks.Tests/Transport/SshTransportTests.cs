using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Runbooks.Commands;
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
    private string _dir = "";
    private int _port;
    private Process? _sshd;
    private string _knownHosts = "";

    private string UserKey => Path.Combine(_dir, "id");

    private string Uri => $"ssh://root@127.0.0.1:{_port}";

    [OneTimeSetUp]
    public async Task StartSshd()
    {
        if (!System.IO.File.Exists("/usr/sbin/sshd"))
        {
            Assert.Ignore("PREREQUISITE MISSING: /usr/sbin/sshd (apt-get install openssh-server); the SSH transport is untested");
        }

        _dir = Directory.CreateTempSubdirectory("runbooks-ssh-").FullName;
        var local = new LocalTransport();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach (var name in new[] { "hostkey", "id", "otherkey" })
        {
            await local.RunCheckedAsync(new Command("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", Path.Combine(_dir, name)]), cts.Token);
        }

        System.IO.File.Copy(Path.Combine(_dir, "id.pub"), Path.Combine(_dir, "authorized_keys"));
        Directory.CreateDirectory("/run/sshd");
        _port = FreePort();
        _sshd = Process.Start(new ProcessStartInfo("/usr/sbin/sshd",
        [
            "-D", "-e", "-f", "/dev/null", "-p", _port.ToString(), "-o", "ListenAddress=127.0.0.1",
            "-h", Path.Combine(_dir, "hostkey"), "-o", $"AuthorizedKeysFile={Path.Combine(_dir, "authorized_keys")}",
            "-o", "UsePAM=no", "-o", "StrictModes=no", "-o", "PidFile=none", "-o", "PermitRootLogin=prohibit-password",
        ])
        { RedirectStandardError = true, RedirectStandardOutput = true })!;
        _sshd.BeginErrorReadLine();
        _sshd.BeginOutputReadLine();
        await WaitForPortAsync(_port, cts.Token);

        var hostKey = (await System.IO.File.ReadAllTextAsync(Path.Combine(_dir, "hostkey.pub"), cts.Token)).Split(' ');
        _knownHosts = Path.Combine(_dir, "known_hosts");
        await System.IO.File.WriteAllTextAsync(_knownHosts, $"[127.0.0.1]:{_port} {hostKey[0]} {hostKey[1]}\n", cts.Token);
    }

    [OneTimeTearDown]
    public void StopSshd()
    {
        if (_sshd is { HasExited: false })
        {
            _sshd.Kill();
            _sshd.WaitForExit(5000);
        }

        _sshd?.Dispose();
        if (_dir.Length > 0)
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Exit_code_stdout_and_stderr_round_trip_over_a_kept_connection(CancellationToken ct)
    {
        await using var ssh = SshTransport.FromUri(Uri, UserKey, _knownHosts);

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
        await using var ssh = SshTransport.FromUri(Uri, UserKey, _knownHosts);
        var command = Shell.Script("cat; printf ' %s' \"$GREETING\"")
            .WithStdin(Secret.Of("private-key-material"))
            .WithEnvironment("GREETING", "hello world");

        var result = await ssh.RunAsync(command, ct);

        Assert.That(result.StandardOutput, Is.EqualTo("private-key-material hello world"));
        Assert.That(SshTransport.RemoteCommandText(command), Does.Not.Contain("private-key-material"));
        Assert.That(SshTransport.RemoteCommandText(command), Does.StartWith("env 'GREETING=hello world' sh -c"));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task An_unknown_host_key_is_refused_with_its_fingerprint_and_how_to_accept_it(CancellationToken ct)
    {
        var empty = Path.Combine(_dir, "empty_known_hosts");
        await System.IO.File.WriteAllTextAsync(empty, "", ct);
        await using var ssh = SshTransport.FromUri(Uri, UserKey, empty);

        var ex = await Assert.ThrowsAsync<TransportException>(() => ssh.RunAsync(new Command("true", []), ct));

        Assert.That(ex!.Message, Does.Contain("is unknown").And.Contain("SHA256:").And.Contain($"appending this line to {empty}: [127.0.0.1]:{_port} ssh-ed25519 AAAA"));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_changed_host_key_is_refused(CancellationToken ct)
    {
        var other = (await System.IO.File.ReadAllTextAsync(Path.Combine(_dir, "otherkey.pub"), ct)).Split(' ');
        var changed = Path.Combine(_dir, "changed_known_hosts");
        await System.IO.File.WriteAllTextAsync(changed, $"[127.0.0.1]:{_port} {other[0]} {other[1]}\n", ct);
        await using var ssh = SshTransport.FromUri(Uri, UserKey, changed);

        var ex = await Assert.ThrowsAsync<TransportException>(() => ssh.RunAsync(new Command("true", []), ct));

        Assert.That(ex!.Message, Does.Contain("CHANGED").And.Contain("ssh-keygen -R"));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task A_command_past_its_timeout_ends_with_a_transport_error(CancellationToken ct)
    {
        await using var ssh = SshTransport.FromUri(Uri, UserKey, _knownHosts);
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
        await using var ssh = SshTransport.FromUri(Uri, Path.Combine(_dir, "otherkey"), _knownHosts);

        var ex = await Assert.ThrowsAsync<TransportException>(() => ssh.RunAsync(new Command("true", []), ct));

        Assert.That(ex!.Message, Does.Contain("otherkey").And.Contain("authorized_keys"));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitForPortAsync(int port, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, ct);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50, ct);
            }
        }
    }
}
