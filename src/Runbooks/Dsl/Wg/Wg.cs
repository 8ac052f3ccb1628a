using Runbooks.Engine;
using System.Collections.Immutable;
using System.Globalization;
using System.Net;

namespace Runbooks.Dsl;

/// <summary>WireGuard: interfaces, peers, keys, the wg-quick config file and handshakes.</summary>
public static class Wg
{
    /// <summary>A WireGuard interface's desired state; chain its settings, then take <c>.Steps()</c>.</summary>
    /// <example><c>Wg.Interface("wg0").PrivateKeyFile("/etc/wireguard/wg0.key").Address("192.168.0.1/32").ListenPort(51820).Mtu(1280)</c></example>
    public static WgInterface Interface(string name) => new(DslArguments.InterfaceName(name), null, null, null, [], [], $"/etc/wireguard/{name}.conf");

    /// <summary>A peer, by its public key (a literal is validated now; a derived key is read at probe time).</summary>
    /// <example><c>Wg.Peer(WgPublicKey.DerivedOn("server", "/etc/wireguard/wg0.key")).AllowedIps("192.168.0.1/32")</c></example>
    public static WgPeer Peer(WgPublicKey publicKey) => new(publicKey ?? throw new ArgumentNullException(nameof(publicKey)), [], null, null);
}

/// <summary>A peer's desired settings.</summary>
public sealed record WgPeer(WgPublicKey PublicKey, ImmutableArray<string> AllowedIpList, string? EndpointAddress, int? Keepalive)
{
    /// <summary>The peer's allowed IPs (CIDRs); these also become routes via the interface.</summary>
    /// <example><c>.AllowedIps("192.168.0.1/32")</c></example>
    public WgPeer AllowedIps(params string[] cidrs) => this with { AllowedIpList = [.. cidrs.Select(c => DslArguments.Cidr(c, nameof(cidrs)))] };

    /// <summary>Where the peer listens: <c>[v6]:port</c>, <c>v4:port</c> or <c>host:port</c>.</summary>
    /// <example><c>.Endpoint("[fdaa:3::2]:51820")</c></example>
    public WgPeer Endpoint(string endpoint) => this with { EndpointAddress = ValidateEndpoint(endpoint) };

    /// <summary>Seconds between keepalives (also makes this side start the handshake at once).</summary>
    /// <example><c>.PersistentKeepalive(25)</c></example>
    public WgPeer PersistentKeepalive(int seconds) =>
        this with { Keepalive = seconds is >= 1 and <= 65535 ? seconds : throw new ArgumentException($"persistent keepalive {seconds} is out of range 1-65535 seconds", nameof(seconds)) };

    internal static string ValidateEndpoint(string endpoint)
    {
        var colon = endpoint?.LastIndexOf(':') ?? -1;
        if (endpoint is null || colon <= 0 || !int.TryParse(endpoint[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new ArgumentException($"endpoint '{endpoint}' is not host:port with a port 1-65535 (IPv6 as [addr]:port)", nameof(endpoint));
        }

        var host = endpoint[..colon];
        if (host.StartsWith('['))
        {
            if (!host.EndsWith(']') || !IPAddress.TryParse(host[1..^1], out var v6))
            {
                throw new ArgumentException($"endpoint '{endpoint}': '{host}' is not a bracketed IPv6 address", nameof(endpoint));
            }

            return $"[{v6}]:{port}";
        }

        if (host.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"endpoint '{endpoint}': write an IPv6 address in brackets, e.g. [fdaa:3::2]:51820", nameof(endpoint));
        }

        return IPAddress.TryParse(host, out var v4) ? $"{v4}:{port}" : $"{host}:{port}";
    }
}

/// <summary>A WireGuard interface's desired state. Its <see cref="Steps"/> bring a host there, wg-quick style.</summary>
public sealed record WgInterface(
    string Name,
    string? PrivateKeyPath,
    int? Port,
    int? MtuValue,
    ImmutableArray<string> AddressList,
    ImmutableArray<WgPeer> PeerList,
    string ConfigPath)
{
    /// <summary>The private key lives in this file on the host (mode 600); the runner never reads it.</summary>
    /// <example><c>.PrivateKeyFile("/etc/wireguard/wg0.key")</c></example>
    public WgInterface PrivateKeyFile(string path) => this with { PrivateKeyPath = DslArguments.AbsolutePath(path) };

    /// <example><c>.ListenPort(51820)</c></example>
    public WgInterface ListenPort(int port) => this with { Port = DslArguments.Port(port) };

    /// <example><c>.Mtu(1280)</c></example>
    public WgInterface Mtu(int mtu) => this with { MtuValue = DslArguments.Mtu(mtu) };

    /// <example><c>.Address("192.168.0.1/32")</c></example>
    public WgInterface Address(params string[] cidrs) => this with { AddressList = [.. cidrs.Select(c => DslArguments.Cidr(c, nameof(cidrs)))] };

    /// <example><c>.Peer(Wg.Peer(key).AllowedIps("192.168.0.2/32"))</c></example>
    public WgInterface Peer(WgPeer peer) => this with { PeerList = PeerList.Add(peer ?? throw new ArgumentNullException(nameof(peer))) };

    /// <summary>Where the wg-quick config is kept in step (default <c>/etc/wireguard/NAME.conf</c>).</summary>
    /// <example><c>.ConfigFile("/etc/wireguard/wg0.conf")</c></example>
    public WgInterface ConfigFile(string path) => this with { ConfigPath = DslArguments.AbsolutePath(path) };

    /// <summary>
    /// Every step, in the order wg-quick would apply them: the link exists, keys/port/peers set live, the
    /// addresses, MTU and up, a route per allowed IP, the config file written to match.
    /// </summary>
    /// <example><c>Target("tunnel", Wg.Interface("wg0")…Steps())</c></example>
    public Step[] Steps()
    {
        var steps = new List<Step> { Exists(), Configured() };
        if (!AddressList.IsEmpty)
        {
            steps.Add(Net.Addresses(Name, [.. AddressList]));
        }

        var link = Net.Link(Name).Up();
        steps.Add(MtuValue is { } mtu ? link.Mtu(mtu) : link);
        steps.AddRange(PeerList.SelectMany(p => p.AllowedIpList).Distinct().Select(ip => Net.Route(ip).Dev(Name).Present()));
        steps.Add(ConfigFileInStep());
        return [.. steps];
    }

    /// <summary>The link exists: <c>ip link add NAME type wireguard</c>, or wireguard-go where the kernel has no module.</summary>
    /// <example><c>Wg.Interface("wg0").Exists()</c></example>
    public Step Exists() => new WgLinkStep(Name);

    /// <summary>Private key, listen port and the listed peers set on the live interface with <c>wg set</c>; other peers are left alone.</summary>
    /// <example><c>Wg.Interface("wg0").Peer(…).Configured()</c></example>
    public Step Configured() => new WgConfigureStep(this);

    /// <summary>The wg-quick config file matches this description (mode 600, no private key inside).</summary>
    /// <example><c>Wg.Interface("wg0").ConfigFileInStep()</c></example>
    public Step ConfigFileInStep() => new WgConfigFileStep(this);

    /// <summary>Removes one peer from the live interface; names the peer it drops.</summary>
    /// <example><c>Wg.Interface("wg0").PeerAbsent("g9stvuZgnSYtvx+jbtpwfNEpmDf2NzrlZRHRvmBnk1s=")</c></example>
    public Step PeerAbsent(WgPublicKey publicKey) => new WgPeerAbsentStep(Name, publicKey);

    /// <summary>Waits for a handshake with the peer; on the deadline fails naming the peer, its endpoint and the (redacted) <c>wg show</c> dump.</summary>
    /// <example><c>Wg.Interface("wg0").Handshake(serverKey, TimeSpan.FromSeconds(5))</c></example>
    public Step Handshake(WgPublicKey peer, TimeSpan within) => new WgHandshakeStep(Name, peer, Deadline(within));

    /// <summary>A check: some peer (or the given one) completed a handshake within the deadline.</summary>
    /// <example><c>Wg.Interface("wg0").HandshakeWithin(TimeSpan.FromSeconds(5))</c></example>
    public Check HandshakeWithin(TimeSpan within, WgPublicKey? peer = null) => WgHandshakeStep.AsCheck(Name, peer, Deadline(within));

    private static TimeSpan Deadline(TimeSpan within) =>
        within > TimeSpan.Zero && within <= TimeSpan.FromMinutes(5) ? within : throw new ArgumentException($"handshake deadline {within} must be between 0 and 5 minutes", nameof(within));
}
