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

    /// <param name="name">The inventory host name, shown in messages.</param>
    /// <param name="netns">The network namespace under <c>/var/run/netns</c>.</param>
    /// <param name="local">Runs <c>nsenter</c> on this machine (a fake in tests).</param>
    /// <param name="mountNamespaceFile">The mount namespace to enter too; null keeps this machine's (a namespace from <c>ip netns add</c>).</param>
    public NetnsTransport(string name, string netns, string? mountNamespaceFile, ITransport? local = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(netns);
        Name = name;
        Netns = netns;
        MountNamespaceFile = mountNamespaceFile;
        _local = local ?? new LocalTransport();
    }

    public string Name { get; }

    /// <summary>Where the netns harness binds each host's mount namespace: <c>/run/runbooks-netns/PREFIX/HOST.mnt</c> for netns <c>PREFIX-HOST</c>.</summary>
    public const string MountDirectory = "/run/runbooks-netns";

    /// <summary>
    /// From an inventory address: <c>netns:NAME</c> — a namespace made with <c>ip netns add NAME</c>, entered with this
    /// machine's mount namespace, or a harness host (<c>PREFIX-HOST</c>) whose own mount namespace is found under
    /// <see cref="MountDirectory"/> — or <c>netns:NAME?mount=/path/to/mnt</c> to name the mount namespace.
    /// </summary>
    /// <example><c>NetnsTransport.FromAddress("netns:blue")</c></example>
    public static NetnsTransport FromAddress(string address)
    {
        var rest = address.StartsWith("netns:", StringComparison.Ordinal) ? address["netns:".Length..] : address;
        var query = rest.IndexOf("?mount=", StringComparison.Ordinal);
        var netns = query >= 0 ? rest[..query] : rest;
        if (netns.Length == 0 || netns.StartsWith('.') || !netns.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new InvalidRunbookException($"host address '{address}': expected netns:NAME (a namespace in /var/run/netns, as `ip netns add NAME` makes) or netns:NAME?mount=/path/to/mount-namespace-file");
        }

        var mount = query >= 0 ? rest[(query + "?mount=".Length)..] : HarnessMountFile(netns);
        return new NetnsTransport(netns, netns, mount);
    }

    /// <summary>The harness's own mount namespace for <c>PREFIX-HOST</c> when it exists; null for any other namespace.</summary>
    private static string? HarnessMountFile(string netns)
    {
        var dash = netns.IndexOf('-', StringComparison.Ordinal);
        var file = dash > 0 ? $"{MountDirectory}/{netns[..dash]}/{netns[(dash + 1)..]}.mnt" : null;
        return file is not null && System.IO.File.Exists(file) ? file : null;
    }

    /// <summary>The network namespace name under <c>/var/run/netns</c>.</summary>
    public string Netns { get; }

    /// <summary>The file the mount namespace is bound to; null when commands keep this machine's mount namespace.</summary>
    public string? MountNamespaceFile { get; }

    /// <summary>The command as it is really run on this machine.</summary>
    public Command Wrap(Command command)
    {
        Arg[] mount = MountNamespaceFile is null ? [] : [$"--mount={MountNamespaceFile}"];
        var wrapped = new Command("nsenter", [$"--net=/var/run/netns/{Netns}", .. mount, "--", command.Program, .. command.Arguments])
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
