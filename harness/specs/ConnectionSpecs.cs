using Runbooks.Dsl;
using Runbooks.Engine;
using Runbooks.Harness.Backends.Netns;
using Runbooks.Harness.Lifecycle;

namespace Runbooks.Harness.Specs;

/// <summary>
/// The incident's <c>test-connection.sh</c>, as specs run from the client. The first is the one the notes
/// say did not always fail when it should: it targets the server's 6PN address itself, so the open
/// service fails it on the broken hosts.
/// </summary>
public static class ConnectionSpecs
{
    public const string ServerTunnelAddress = "192.168.0.1";

    public static IReadOnlyList<Spec> All() =>
    [
        new("tcp-6pn-refused", "client", Probe.Tcp(NetnsBackend.ServerSixPn, NetnsBackend.TcpPort, TcpOutcome.Refused)),
        new("tcp-tunnel-connects", "client", Probe.Tcp(ServerTunnelAddress, NetnsBackend.TcpPort, TcpOutcome.Connected)),
        new("ping-tunnel", "client", Probe.Ping(ServerTunnelAddress)),
        new("http-tunnel-200", "client", Probe.HttpGet($"http://{ServerTunnelAddress}:{NetnsBackend.HttpPort}/", 200)),
        new("wg-handshake-5s", "client", Wg.Interface("wg0").HandshakeWithin(TimeSpan.FromSeconds(5))),
        new("wg-mtu-agree", "client", MtusAgree("wg0", "server")),
    ];

    /// <summary>The tunnel's MTU is the same on this host and on <paramref name="peerHost"/>.</summary>
    public static Check MtusAgree(string link, string peerHost) =>
        new($"{link} MTU equals {peerHost}'s", async (host, ct) =>
        {
            var mine = await Net.ReadLinkAsync(host, link, ct);
            var theirs = await Net.ReadLinkAsync(host.Host(peerHost), link, ct);
            return new CheckResult(mine is not null && theirs is not null && mine.Mtu == theirs.Mtu,
                $"{host.Name} {link} mtu {mine?.Mtu.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(no link)"}, " +
                $"{peerHost} {link} mtu {theirs?.Mtu.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(no link)"}");
        });
}
