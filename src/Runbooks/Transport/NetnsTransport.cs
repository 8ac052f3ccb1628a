using Runbooks.Commands;

namespace Runbooks.Transport;

/// <summary>
/// Runs commands inside a named network namespace plus a persistent mount namespace (a simulated host of the
/// netns harness): <c>nsenter --net=/var/run/netns/NAME --mount=MNTFILE -- program args…</c>, with the
/// timeout, cancellation and stdin handling of <see cref="LocalTransport"/>.
/// </summary>
/// <example><c>new NetnsTransport("server", "rb1a2b-server", "/run/runbooks-netns/rb1a2b/server.mnt")</c></example>
public sealed class NetnsTransport : ITransport
{
    // A fresh host's root PATH. The runner's own PATH may start with shims (pyenv's python3 costs ≈0.7 s a
    // call on these machines), which a real host reached over SSH would not have.
    private const string HostPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private readonly ITransport _local;

    public NetnsTransport(string name, string netns, string mountNamespaceFile, ITransport? local = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(netns);
        ArgumentException.ThrowIfNullOrWhiteSpace(mountNamespaceFile);
        Name = name;
        Netns = netns;
        MountNamespaceFile = mountNamespaceFile;
        _local = local ?? new LocalTransport();
    }

    public string Name { get; }

    /// <summary>Where the netns harness binds each host's mount namespace: <c>/run/runbooks-netns/PREFIX/HOST.mnt</c> for netns <c>PREFIX-HOST</c>.</summary>
    public const string MountDirectory = "/run/runbooks-netns";

    /// <summary>
    /// From an inventory address: <c>netns:PREFIX-HOST</c> (the harness's layout) or
    /// <c>netns:NAME?mount=/path/to/mnt</c>.
    /// </summary>
    /// <example><c>NetnsTransport.FromAddress("netns:rb1a2b3c-server")</c></example>
    public static NetnsTransport FromAddress(string address)
    {
        var rest = address.StartsWith("netns:", StringComparison.Ordinal) ? address["netns:".Length..] : address;
        var query = rest.IndexOf("?mount=", StringComparison.Ordinal);
        var netns = query >= 0 ? rest[..query] : rest;
        var dash = netns.IndexOf('-', StringComparison.Ordinal);
        if (netns.Length == 0 || netns.Contains('/', StringComparison.Ordinal) || (query < 0 && dash <= 0))
        {
            throw new InvalidRunbookException($"host address '{address}': expected netns:PREFIX-HOST or netns:NAME?mount=/path/to/mount-namespace-file");
        }

        var mount = query >= 0 ? rest[(query + "?mount=".Length)..] : $"{MountDirectory}/{netns[..dash]}/{netns[(dash + 1)..]}.mnt";
        return new NetnsTransport(netns, netns, mount);
    }

    /// <summary>The network namespace name under <c>/var/run/netns</c>.</summary>
    public string Netns { get; }

    /// <summary>The file the mount namespace is bound to.</summary>
    public string MountNamespaceFile { get; }

    /// <summary>The command as it is really run on this machine.</summary>
    public Command Wrap(Command command)
    {
        var wrapped = new Command("nsenter", [$"--net=/var/run/netns/{Netns}", $"--mount={MountNamespaceFile}", "--", command.Program, .. command.Arguments])
        {
            Stdin = command.Stdin,
            Environment = command.Environment.ContainsKey("PATH") ? command.Environment : command.Environment.SetItem("PATH", HostPath),
            Timeout = command.Timeout,
            ReadOnly = command.ReadOnly,
            SuccessExitCodes = command.SuccessExitCodes,
        };
        return wrapped;
    }

    public async Task<CommandResult> RunAsync(Command command, CancellationToken cancellationToken)
    {
        try
        {
            return await _local.RunAsync(Wrap(command), cancellationToken).ConfigureAwait(false);
        }
        catch (TransportException ex)
        {
            // Name the simulated host and the command the step asked for, not the nsenter wrapper.
            var problem = ex.Message[(ex.Message.IndexOf("`: ", StringComparison.Ordinal) is var i and >= 0 ? i + 3 : 0)..];
            throw new TransportException(Name, command, problem, ex);
        }
    }

    public ValueTask DisposeAsync() => _local.DisposeAsync();
}
