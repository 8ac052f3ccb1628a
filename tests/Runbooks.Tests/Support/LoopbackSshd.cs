using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Runbooks.Commands;
using Runbooks.Transport;

namespace Runbooks.Tests.Support;

/// <summary>
/// A throwaway sshd on a loopback port with an ephemeral host key and user key (plus a second, unauthorized
/// key named <c>otherkey</c>). It can cut the connections it serves, or die and come back on the same port,
/// so tests can break the way to a host mid-command. <see cref="StartInNamespaceAsync"/> puts one inside a
/// network namespace instead, as a fleet test's machine;
/// <see cref="StartAsync"/> with a namespace listens on that namespace's address, so a test can firewall it
/// without touching the machine's own network.
/// </summary>
internal sealed class LoopbackSshd : IDisposable
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _log = new();
    private Process? _listener;

    private LoopbackSshd(string directory, int port, string address = "127.0.0.1", string? netns = null, IReadOnlyList<string>? privateDirectories = null)
    {
        Directory = directory;
        Port = port;
        Address = address;
        Netns = netns;
        PrivateDirectories = privateDirectories ?? [];
    }

    public string Address { get; }

    /// <summary>The network namespace it listens in, or null for this machine's loopback.</summary>
    public string? Netns { get; }

    /// <summary>Directories that are an empty tmpfs for every session of a namespace sshd (its mount namespace is its own).</summary>
    public IReadOnlyList<string> PrivateDirectories { get; }

    /// <summary>What sshd logged (<c>-e</c>): "Accepted publickey …" once per connection a client made.</summary>
    public IReadOnlyList<string> Log => [.. _log];

    public string Directory { get; }

    public int Port { get; }

    public string UserKey => Path.Combine(Directory, "id");

    public string KnownHosts => Path.Combine(Directory, "known_hosts");

    public string Uri => $"ssh://root@{Address}:{Port}";

    /// <summary>
    /// Starts one, or calls <c>Assert.Ignore</c> loudly when the machine has no sshd. With <paramref name="netns"/>,
    /// inside that network namespace, listening on <paramref name="address"/> (reachable from here through a veth).
    /// </summary>
    public static async Task<LoopbackSshd> StartAsync(CancellationToken cancellationToken, string? netns = null, string address = "127.0.0.1")
    {
        var directory = await KeysAsync(cancellationToken);
        var sshd = new LoopbackSshd(directory, FreePort(), address, netns);
        await sshd.StartListenerAsync(cancellationToken);
        await sshd.TrustHostKeyAsync(cancellationToken);
        return sshd;
    }

    /// <summary>
    /// Starts one on port 22 of <paramref name="address"/> inside the network namespace <paramref name="netns"/>
    /// (which must reach that address), in a mount namespace of its own where each of
    /// <paramref name="privateDirectories"/> is an empty tmpfs and root's <c>.bashrc</c> is empty (its pyenv set-up
    /// costs seconds per command).
    /// </summary>
    public static async Task<LoopbackSshd> StartInNamespaceAsync(string netns, string address, IReadOnlyList<string> privateDirectories, CancellationToken cancellationToken)
    {
        var directory = await KeysAsync(cancellationToken);
        var sshd = new LoopbackSshd(directory, 22, address, netns, privateDirectories);
        await sshd.StartListenerAsync(cancellationToken);
        await sshd.TrustHostKeyAsync(cancellationToken);
        return sshd;
    }

    private static async Task<string> KeysAsync(CancellationToken cancellationToken)
    {
        if (!System.IO.File.Exists("/usr/sbin/sshd"))
        {
            Assert.Ignore("PREREQUISITE MISSING: /usr/sbin/sshd (apt-get install openssh-server); the SSH transport is untested");
        }

        var directory = System.IO.Directory.CreateTempSubdirectory("runbooks-ssh-").FullName;
        var local = new LocalTransport();
        foreach (var name in new[] { "hostkey", "id", "otherkey" })
        {
            await local.RunCheckedAsync(new Command("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", Path.Combine(directory, name)]), cancellationToken);
        }

        System.IO.File.Copy(Path.Combine(directory, "id.pub"), Path.Combine(directory, "authorized_keys"));
        System.IO.Directory.CreateDirectory("/run/sshd");
        return directory;
    }

    private async Task TrustHostKeyAsync(CancellationToken cancellationToken)
    {
        var hostKey = (await System.IO.File.ReadAllTextAsync(Path.Combine(Directory, "hostkey.pub"), cancellationToken)).Split(' ');
        var name = Port == 22 ? Address : $"[{Address}]:{Port}";
        await System.IO.File.WriteAllTextAsync(KnownHosts, $"{name} {hostKey[0]} {hostKey[1]}\n", cancellationToken);
    }

    /// <summary>
    /// SIGKILLs every sshd process serving a connection (OpenSSH forks one or two per connection under the
    /// listener), so each client sees its TCP connection reset; the listener keeps accepting new ones.
    /// Returns how many processes were killed.
    /// </summary>
    public int DropSessions()
    {
        var killed = 0;
        foreach (var pid in SessionProcesses())
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
                killed++;
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }

        return killed;
    }

    /// <summary>The whole sshd dies (listener and sessions), then a new one listens on the same port with the same keys.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        var sessions = SessionProcesses();
        StopListener();
        foreach (var pid in sessions)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
            }
            catch (ArgumentException)
            {
            }
        }

        await StartListenerAsync(cancellationToken);
    }

    public void Dispose()
    {
        DropSessions();
        StopListener();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private async Task StartListenerAsync(CancellationToken cancellationToken)
    {
        string[] sshd =
        [
            "/usr/sbin/sshd", "-D", "-e", "-f", "/dev/null", "-p", Port.ToString(), "-o", $"ListenAddress={Address}",
            "-h", Path.Combine(Directory, "hostkey"), "-o", $"AuthorizedKeysFile={Path.Combine(Directory, "authorized_keys")}",
            "-o", "UsePAM=no", "-o", "StrictModes=no", "-o", "PidFile=none", "-o", "PermitRootLogin=prohibit-password",
        ];

        // In a namespace: ip netns exec, unshare and sh each exec the next, so the process started is sshd itself.
        string[] argv = Netns is null ? sshd :
        [
            "ip", "netns", "exec", Netns, "unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
            "set -e; mount --bind /dev/null /root/.bashrc 2>/dev/null || true; for d in \"$@\"; do [ \"$d\" = -- ] && break; mount -t tmpfs -o mode=0755 tmpfs \"$d\"; shift; done; shift; exec \"$@\"",
            "sh", .. PrivateDirectories, "--", .. sshd,
        ];
        var start = new ProcessStartInfo(argv[0], argv[1..]) { RedirectStandardError = true, RedirectStandardOutput = true };
        _listener = Process.Start(start)!;
        _listener.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _log.Enqueue(e.Data);
            }
        };
        _listener.BeginErrorReadLine();
        _listener.BeginOutputReadLine();
        await WaitForPortAsync(IPAddress.Parse(Address), Port, cancellationToken);
    }

    private void StopListener()
    {
        if (_listener is { HasExited: false })
        {
            _listener.Kill();
            _listener.WaitForExit(5000);
        }

        _listener?.Dispose();
        _listener = null;
    }

    /// <summary>True while a process of this name runs below the listener (a command a session started).</summary>
    public bool IsRunning(string processName) => ProcessesBelowListener(processName).Count > 0;

    /// <summary>The sshd processes below the listener: the per-connection monitor and its unprivileged child.</summary>
    private List<int> SessionProcesses() => ProcessesBelowListener("sshd");

    private List<int> ProcessesBelowListener(string processName)
    {
        if (_listener is null)
        {
            return [];
        }

        var parents = new Dictionary<int, (int Parent, string Name)>();
        foreach (var dir in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var status = System.IO.File.ReadAllLines(Path.Combine(dir, "status"));
                var name = status.First(l => l.StartsWith("Name:", StringComparison.Ordinal))[5..].Trim();
                var parent = int.Parse(status.First(l => l.StartsWith("PPid:", StringComparison.Ordinal))[5..].Trim());
                parents[pid] = (parent, name);
            }
            catch (IOException)
            {
                // The process ended while we read it.
            }
        }

        bool Below(int pid)
        {
            for (var depth = 0; depth < 8 && parents.TryGetValue(pid, out var entry); depth++)
            {
                if (entry.Parent == _listener.Id)
                {
                    return true;
                }

                pid = entry.Parent;
            }

            return false;
        }

        return parents.Where(p => p.Value.Name == processName && Below(p.Key)).Select(p => p.Key).ToList();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task WaitForPortAsync(IPAddress address, int port, CancellationToken ct)
    {
        while (true)
        {
            if (_listener is { HasExited: true })
            {
                throw new InvalidOperationException($"sshd for {address}:{port} exited {_listener.ExitCode}: {string.Join(" | ", _log)}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(address, port, ct);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50, ct);
            }
        }
    }
}
