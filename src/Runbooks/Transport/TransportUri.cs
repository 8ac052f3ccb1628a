namespace Runbooks.Transport;

/// <summary>
/// Turns an inventory address into a transport: <c>local</c>, <c>ssh://user@host:port</c>, <c>netns:NAME</c>, <c>container:NAME</c>.
/// Schemes register themselves here so the engine does not change when a transport is added.
/// </summary>
public static class TransportUri
{
    private static readonly Dictionary<string, Func<string, ITransport>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        ["local"] = _ => new LocalTransport(),

        // Key and known_hosts default to the invoking user's; RUNBOOK_SSH_KEY / RUNBOOK_KNOWN_HOSTS override.
        ["ssh"] = address => SshTransport.FromUri(
            address,
            Environment.GetEnvironmentVariable("RUNBOOK_SSH_KEY") is { Length: > 0 } key ? key : null,
            Environment.GetEnvironmentVariable("RUNBOOK_KNOWN_HOSTS") is { Length: > 0 } knownHosts ? knownHosts : null),

        ["netns"] = NetnsTransport.FromAddress,

        // A running container, entered with `podman exec` (or `docker exec` where podman is not installed).
        ["container"] = ContainerTransport.FromAddress,
    };

    public static void Register(string scheme, Func<string, ITransport> factory)
    {
        lock (Factories)
        {
            Factories[scheme] = factory;
        }
    }

    public static ITransport Create(string address)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        var scheme = address.Contains("://", StringComparison.Ordinal) ? address[..address.IndexOf("://", StringComparison.Ordinal)]
            : address.Contains(':', StringComparison.Ordinal) ? address[..address.IndexOf(':', StringComparison.Ordinal)]
            : address;
        Func<string, ITransport>? factory;
        lock (Factories)
        {
            Factories.TryGetValue(scheme, out factory);
        }

        return factory is null
            ? throw new InvalidRunbookException($"unknown host address '{address}': use local, ssh://user@host:port, netns:NAME or container:NAME")
            : factory(address);
    }
}
