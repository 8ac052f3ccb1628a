using System.Net.Sockets;
using System.Text;
using Renci.SshNet;
using Renci.SshNet.Common;
using Runbooks.Commands;

namespace Runbooks.Transport;

/// <summary>
/// Runs commands on a remote host over SSH: key authentication, the host key checked against a
/// known_hosts file (an unknown or changed key is refused, never trusted on first use), one kept
/// connection per host and a channel per command.
/// </summary>
/// <example><c>await using var ssh = new SshTransport(SshEndpoint.Parse("ssh://root@10.0.0.5"), "/root/.ssh/id_ed25519", "/root/.ssh/known_hosts");</c></example>
public sealed class SshTransport : ITransport, IFreshConnections
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(20);

    // Key exchange is CPU-bound: a fleet run opening 100 connections at once on two cores timed half of them out.
    // A few handshakes at a time finish as fast in total, and each one's timeout measures the host, not the queue.
    private static readonly SemaphoreSlim Handshakes = new(Math.Max(4, 2 * Environment.ProcessorCount));

    private readonly SshEndpoint _endpoint;
    private readonly string _privateKeyPath;
    private readonly string _knownHostsPath;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private SshClient? _client;

    public SshTransport(SshEndpoint endpoint, string privateKeyPath, string knownHostsPath)
    {
        _endpoint = endpoint;
        _privateKeyPath = privateKeyPath;
        _knownHostsPath = knownHostsPath;
    }

    /// <summary>From <c>ssh://user@host:port</c>, with the key and known_hosts of the user running the tool unless given.</summary>
    public static SshTransport FromUri(string uri, string? privateKeyPath = null, string? knownHostsPath = null)
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        privateKeyPath ??= new[] { "id_ed25519", "id_ecdsa", "id_rsa" }
            .Select(k => Path.Combine(home, ".ssh", k))
            .FirstOrDefault(System.IO.File.Exists) ?? Path.Combine(home, ".ssh", "id_ed25519");
        return new SshTransport(SshEndpoint.Parse(uri), privateKeyPath, knownHostsPath ?? Path.Combine(home, ".ssh", "known_hosts"));
    }

    public string Name => _endpoint.ToString();

    public ITransport OpenFresh() => new SshTransport(_endpoint, _privateKeyPath, _knownHostsPath);

    public void DropConnection() => DropClient();

    /// <summary>
    /// Runs the command in a session of its own on the host, watched: when the sshd process serving the connection
    /// is gone (the connection dropped; sshd sends no hangup to a command without a terminal) while the command still
    /// runs, its whole process group gets SIGTERM, then SIGKILL 2 s later. Without it a command cut off mid-run went
    /// on as an orphan, racing the re-run that repairs what it was doing. The wrapper's stdin is the command's.
    /// </summary>
    internal const string OrphanWatchdog =
        "sshd=$PPID wrapper=$$; exec 3<&0; setsid \"$@\" <&3 3<&- & child=$!; exec 3<&-\n" +
        // The wrapper's parent, not /proc/$sshd: a killed sshd can linger as a zombie where PID 1 does not reap.
        "( while read -r _ _ _ parent _ < /proc/$wrapper/stat && [ \"$parent\" = \"$sshd\" ] && [ -e /proc/$child ]; do sleep 1; done\n" +
        "  [ -e /proc/$child ] && kill -TERM -$child 2>/dev/null && sleep 2 && [ -e /proc/$child ] && kill -KILL -$child 2>/dev/null ) </dev/null >/dev/null 2>&1 &\n" +
        "watchdog=$!; wait $child; rc=$?; kill $watchdog 2>/dev/null; exit $rc";

    /// <summary>
    /// The text the remote shell runs: values quoted one by one, environment through <c>env</c>, all of it under the
    /// <see cref="OrphanWatchdog"/> (<c>exec</c> so that the wrapper's parent is the sshd process it watches).
    /// </summary>
    public static string RemoteCommandText(Command command)
    {
        var text = new StringBuilder("exec sh -c ").Append(ShellQuote.Quote(OrphanWatchdog)).Append(" runbooks-command ");
        if (!command.Environment.IsEmpty)
        {
            text.Append("env");
            foreach (var (name, value) in command.Environment.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                text.Append(' ').Append(ShellQuote.Quote($"{name}={value}"));
            }

            text.Append(' ');
        }

        text.Append(ShellQuote.Quote(command.Program));
        foreach (var arg in command.Arguments)
        {
            text.Append(' ').Append(ShellQuote.Quote(arg.Reveal()));
        }

        return text.ToString();
    }

    public async Task<CommandResult> RunAsync(Command command, CancellationToken cancellationToken)
    {
        var client = await ConnectedClientAsync(command, cancellationToken).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(command.Timeout);
        var started = DateTimeOffset.UtcNow;
        try
        {
            using var ssh = client.CreateCommand(RemoteCommandText(command), Encoding.UTF8);
            var execution = ssh.ExecuteAsync(timeout.Token);
            await FeedStdinAsync(ssh, command, timeout.Token).ConfigureAwait(false);
            await execution.ConfigureAwait(false);
            if (ssh.ExitStatus is not { } exit)
            {
                // A channel closed by a dying connection can end without an exit status rather than with an error.
                if (!client.IsConnected)
                {
                    DropClient();
                    throw ConnectionLost(command, "the channel closed without an exit status");
                }

                throw new TransportException(Name, command, $"the remote command ended without an exit status (signal {ssh.ExitSignal ?? "unknown"})");
            }

            return new CommandResult(exit, ssh.Result, ssh.Error, started, DateTimeOffset.UtcNow);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TransportException(Name, command, $"timed out after {command.Timeout.TotalSeconds:0.#} s; the remote process was sent SIGTERM (sshd may ignore signal requests: check it is gone); raise the step's timeout if the tool is just slow");
        }
        catch (Exception ex) when (ex is SshConnectionException or SocketException or ObjectDisposedException ||
                                   (ex is SshException && !client.IsConnected))
        {
            DropClient();
            throw ConnectionLost(command, ex.Message, ex);
        }
    }

    /// <summary>
    /// Writes the command's stdin, if any, then closes it: a remote tool that reads stdin would otherwise
    /// wait forever. A quick command (`true`) can end and close its channel before we get here; SSH.NET then
    /// refuses to open the input stream, and there is nothing left to feed or close.
    /// </summary>
    private static async Task FeedStdinAsync(SshCommand ssh, Command command, CancellationToken cancellationToken)
    {
        Stream input;
        try
        {
            input = ssh.CreateInputStream();
        }
        catch (InvalidOperationException)
        {
            return;
        }

        await using (input.ConfigureAwait(false))
        {
            if (command.Stdin is { } stdin)
            {
                var bytes = Encoding.UTF8.GetBytes(stdin.Reveal());
                await input.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The connection died with the command in flight: we cannot know whether the remote process finished,
    /// was killed with its session, or still runs. The next call reconnects, and a re-run is safe because
    /// every step probes the host before it changes anything.
    /// </summary>
    private TransportException ConnectionLost(Command command, string cause, Exception? inner = null) =>
        new(Name, command,
            $"the SSH connection to {_endpoint.Host}:{_endpoint.Port} was lost mid-command ({cause}); the command may or may not have completed on the host " +
            "(if it was still running, the host-side watchdog kills its process group within 3 s). " +
            "What to do: check the host is reachable (sshd up, network), then re-run: every step re-probes the host first, so finished work is skipped and unfinished work is redone",
            inner)
        { ConnectionLost = true };

    private async Task<SshClient> ConnectedClientAsync(Command command, CancellationToken cancellationToken)
    {
        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_client is { IsConnected: true } connected)
            {
                return connected;
            }

            DropClient();
            if (!System.IO.File.Exists(_privateKeyPath))
            {
                throw new TransportException(Name, command, $"private key {_privateKeyPath} does not exist; pass the key for {_endpoint.User} (ssh-keygen -t ed25519 creates one)");
            }

            var knownHosts = KnownHosts.Load(_knownHostsPath);
            PrivateKeyFile key;
            try
            {
                key = new PrivateKeyFile(_privateKeyPath);
            }
            catch (Exception ex) when (ex is SshException or InvalidOperationException or IOException)
            {
                throw new TransportException(Name, command, $"cannot read private key {_privateKeyPath}: {ex.Message} (encrypted keys are not supported; use an agent-free unencrypted deploy key)", ex);
            }

            var info = new ConnectionInfo(_endpoint.Host, _endpoint.Port, _endpoint.User, new PrivateKeyAuthenticationMethod(_endpoint.User, key))
            {
                Timeout = ConnectTimeout,
            };
            OfferOnlyKnownKeyTypes(info, knownHosts.KeyTypesFor(_endpoint.KnownHostsName));

            var client = new SshClient(info);
            string? refusal = null;
            client.HostKeyReceived += (_, e) =>
            {
                var verdict = knownHosts.Verify(_endpoint.KnownHostsName, e.HostKeyName, e.HostKey, e.FingerPrintSHA256);
                e.CanTrust = verdict.Accepted;
                refusal = verdict.Accepted ? null : verdict.Problem;
            };

            await Handshakes.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await client.ConnectAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SshException or SocketException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                client.Dispose();
                var problem = refusal ?? ex switch
                {
                    SshAuthenticationException => $"key authentication as {_endpoint.User} with {_privateKeyPath} was refused: {ex.Message}; add the public key to the host's authorized_keys",
                    SocketException => $"cannot connect to {_endpoint.Host}:{_endpoint.Port}: {ex.Message}; is sshd running and the port open?",
                    _ => $"cannot connect: {ex.Message}",
                };
                throw new TransportException(Name, command, problem, ex);
            }
            finally
            {
                Handshakes.Release();
            }

            _client = client;
            return client;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    // Offering only the key types recorded for the host makes the server present the key we can check,
    // as OpenSSH's client does; otherwise a host with both RSA and Ed25519 keys might present the other one.
    private static void OfferOnlyKnownKeyTypes(ConnectionInfo info, IReadOnlySet<string> knownTypes)
    {
        if (knownTypes.Count == 0)
        {
            return;
        }

        static string KeyTypeOf(string algorithm) => algorithm.StartsWith("rsa-sha2-", StringComparison.Ordinal) ? "ssh-rsa" : algorithm;
        foreach (var algorithm in info.HostKeyAlgorithms.Keys.ToList())
        {
            if (!knownTypes.Contains(KeyTypeOf(algorithm)))
            {
                info.HostKeyAlgorithms.Remove(algorithm);
            }
        }
    }

    private void DropClient()
    {
        var client = _client;
        _client = null;
        if (client is null)
        {
            return;
        }

        try
        {
            client.Disconnect();
        }
        catch (Exception ex) when (ex is SshException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Already gone; nothing to close.
        }

        client.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        DropClient();
        _connectLock.Dispose();
        return ValueTask.CompletedTask;
    }
}
