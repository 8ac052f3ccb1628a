using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
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
    private SshCommand? _watchdog;
    private string _connection = "";
    private long _commands;

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
    /// Ends the process groups of the commands whose <c>RUNBOOKS_COMMAND</c> marker matches the extended regex in
    /// <c>$1</c>: SIGTERM, then SIGKILL to any group still there 2 s later; prints each group and how it ended. The
    /// marker is in the environment of every process a command started, so a child that made a group of its own
    /// goes too. Without this a command cut off mid-run (or past its timeout) went on as an orphan, racing the
    /// re-run that repairs what it was doing. Only commands still in flight: the marker ends in the pid of the
    /// command's own process, and a marked process whose command already ended (a daemon a finished command
    /// started with <c>setsid</c>) is left alone.
    /// </summary>
    internal const string Reaper =
        "reap() {\n" +
        "  groups=\n" +
        "  for p in $(grep -lszE \"^RUNBOOKS_COMMAND=($1)\\.[0-9]+\\$\" /proc/[0-9]*/environ | sed 's,^/proc/\\([0-9]*\\)/environ$,\\1,'); do\n" +
        // In flight only while the command's own process (the marker's last field) lives with the same marker.
        "    m=$(grep -zE '^RUNBOOKS_COMMAND=' /proc/$p/environ 2>/dev/null | tr -d '\\000'); [ -n \"$m\" ] || continue\n" +
        "    grep -qzxF \"$m\" /proc/${m##*.}/environ 2>/dev/null || continue\n" +
        // The fields after the command name (which may hold spaces): state, ppid, process group.
        "    read -r s < /proc/$p/stat 2>/dev/null || continue; s=${s##*) }; set -- $s\n" +
        "    [ \"$3\" -gt 1 ] && case \" $groups \" in *\" $3 \"*) ;; *) groups=\"$groups $3\" ;; esac\n" +
        "  done\n" +
        "  [ -n \"$groups\" ] || { echo 'no process left'; return 0; }\n" +
        "  for g in $groups; do kill -TERM -$g 2>/dev/null; done\n" +
        "  i=0; while [ $i -lt 20 ]; do alive=; for g in $groups; do kill -0 -$g 2>/dev/null && alive=1; done\n" +
        "    [ -z \"$alive\" ] && { echo \"process group(s)$groups ended on SIGTERM\"; return 0; }; sleep 0.1; i=$((i + 1)); done\n" +
        "  for g in $groups; do kill -KILL -$g 2>/dev/null; done; echo \"process group(s)$groups needed SIGKILL\"\n" +
        "}\n";

    /// <summary>
    /// One per connection, started with it: waits for the sshd process serving the connection to go (sshd sends no
    /// hangup to a command without a terminal, so a dropped connection leaves its commands running), then reaps every
    /// command of the connection. One watchdog per connection rather than one per command: a command then costs no
    /// process beyond its own (measured: the per-command watchdog was half the cost of a trivial command).
    /// <c>$1</c> is the connection's marker; "watching" on stdout says it is in place.
    /// </summary>
    internal const string ConnectionWatchdog =
        Reaper +
        "me=$$ sshd=$PPID id=$1; echo watching\n" +
        // Its own parent, not /proc/$sshd: a killed sshd can linger as a zombie where PID 1 does not reap.
        "while read -r s < /proc/$me/stat; s=${s##*) }; set -- $s; [ \"$2\" = \"$sshd\" ]; do sleep 1; done\n" +
        "reap \"$id\\.[0-9]+\"";

    /// <summary>
    /// The text the remote shell runs: values quoted one by one, the command's marker (the connection's and its own
    /// number, which <see cref="Reaper"/> finds it by) and its environment as assignments in front of <c>exec</c>,
    /// which exports them to the program. <c>exec</c>: sshd made the shell a session and process group leader, so the
    /// command leads its own group. Not <c>exec env NAME=VALUE</c>: that is one more program started per command,
    /// 0.05 s under emulation (measured 0.29 against 0.23 s for <c>losetup -J -l</c>); <c>env</c> is kept only for a
    /// name the shell cannot assign.
    /// </summary>
    internal static string RemoteCommandText(Command command, string marker)
    {
        var environment = command.Environment.OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
        var viaEnv = environment.Any(e => !ShellQuote.IsAssignableName(e.Key));
        // $$ unquoted: the remote shell's pid, which exec hands to the command, ends the marker (see Reaper).
        var text = new StringBuilder(viaEnv ? "exec env " : "").Append(MarkerVariable).Append('=').Append(ShellQuote.Quote(marker)).Append(".$$");
        foreach (var (name, value) in environment)
        {
            // NAME='value': a quoted value keeps it an assignment; env takes the whole word quoted.
            text.Append(' ').Append(viaEnv ? ShellQuote.Quote($"{name}={value}") : $"{name}={ShellQuote.Quote(value)}");
        }

        text.Append(viaEnv ? " " : " exec ").Append(ShellQuote.Quote(command.Program));
        foreach (var arg in command.Arguments)
        {
            text.Append(' ').Append(ShellQuote.Quote(arg.Reveal()));
        }

        return text.ToString();
    }


    /// <summary>What starts the <see cref="ConnectionWatchdog"/> of the connection marked <paramref name="connection"/>.</summary>
    internal static string WatchdogCommandText(string connection) => $"exec sh -c {ShellQuote.Quote(ConnectionWatchdog)} runbooks-watchdog {ShellQuote.Quote(connection)}";

    private const string MarkerVariable = "RUNBOOKS_COMMAND";

    public async Task<CommandResult> RunAsync(Command command, CancellationToken cancellationToken)
    {
        var (client, connection) = await ConnectedClientAsync(command, cancellationToken).ConfigureAwait(false);
        var marker = $"{connection}.{Interlocked.Increment(ref _commands)}";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(command.Timeout);
        var started = DateTimeOffset.UtcNow;
        try
        {
            using var ssh = client.CreateCommand(RemoteCommandText(command, marker), Encoding.UTF8);
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
            if (!client.IsConnected)
            {
                DropClient();
                throw ConnectionLost(command, $"the connection went while the command ran past its {command.Timeout.TotalSeconds:0.#} s timeout");
            }

            var ended = await ReapAsync(client, Regex.Escape(marker), cancellationToken).ConfigureAwait(false);
            throw new TransportException(Name, command, $"timed out after {command.Timeout.TotalSeconds:0.#} s with the connection up; on the host {ended}; raise the step's timeout if the tool is just slow")
            {
                TimedOut = true,
            };
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

    /// <summary>Ends the process groups of the commands matching <paramref name="markers"/> over a channel of its own; says how they ended.</summary>
    private static async Task<string> ReapAsync(SshClient client, string markers, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(15));
        try
        {
            using var reap = client.CreateCommand($"exec sh -c {ShellQuote.Quote(Reaper + "reap \"$1\"")} runbooks-reap {ShellQuote.Quote(markers)}", Encoding.UTF8);
            await reap.ExecuteAsync(limit.Token).ConfigureAwait(false);
            return reap.ExitStatus == 0 ? reap.Result.Trim() : $"killing its process group failed (exit {reap.ExitStatus}: {reap.Error.Trim()}); check it is gone";
        }
        catch (Exception ex) when (ex is SshException or SocketException or ObjectDisposedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return $"killing its process group failed ({ex.Message}); check it is gone";
        }
    }

    private async Task<(SshClient Client, string Connection)> ConnectedClientAsync(Command command, CancellationToken cancellationToken)
    {
        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_client is { IsConnected: true } connected)
            {
                return (connected, _connection);
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

            var connection = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
            _watchdog = await StartWatchdogAsync(client, connection, command, cancellationToken).ConfigureAwait(false);
            _client = client;
            _connection = connection;
            return (client, connection);
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

    /// <summary>Starts the connection's <see cref="ConnectionWatchdog"/> and waits until it says it watches, so no command runs unwatched.</summary>
    private async Task<SshCommand> StartWatchdogAsync(SshClient client, string connection, Command command, CancellationToken cancellationToken)
    {
        var watchdog = client.CreateCommand(WatchdogCommandText(connection), Encoding.UTF8);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(ConnectTimeout);
        try
        {
            // It runs as long as the connection does; its end is observed so that nothing is left unobserved.
            _ = watchdog.ExecuteAsync(CancellationToken.None).ContinueWith(t => t.Exception, TaskScheduler.Default);
            using var output = new StreamReader(watchdog.OutputStream, Encoding.UTF8, leaveOpen: true);
            var line = await output.ReadLineAsync(limit.Token).ConfigureAwait(false);
            if (line != "watching")
            {
                throw new TransportException(Name, command, $"the orphan watchdog did not start on the host (it said '{line}'{(watchdog.Error is { Length: > 0 } error ? $", stderr: {error.Trim()}" : "")}); it needs a POSIX sh, /proc and grep");
            }

            return watchdog;
        }
        catch (Exception ex)
        {
            watchdog.Dispose();
            client.Dispose();
            if (ex is TransportException || cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new TransportException(Name, command, $"the orphan watchdog did not start on the host: {ex.Message}", ex);
        }
    }

    private void DropClient()
    {
        var client = _client;
        var watchdog = _watchdog;
        _client = null;
        _watchdog = null;
        if (client is null)
        {
            watchdog?.Dispose();
            return;
        }

        // The connection first, then the watchdog's channel: closed on its own while its script still runs, the channel
        // waited out SSH.NET's channel-close timeout (1 s at every disconnect); with the session gone the watchdog sees
        // its sshd go, reaps what is left and ends.
        try
        {
            client.Disconnect();
        }
        catch (Exception ex) when (ex is SshException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Already gone; nothing to close.
        }

        try
        {
            watchdog?.Dispose();
        }
        catch (Exception ex) when (ex is SshException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Its channel went with the connection.
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
