using Runbooks.Dsl;
using Runbooks.Engine;
using Runbooks.Harness.Backends.Netns;

namespace Runbooks.Harness.Scenarios.Connection;

/// <summary>
/// The targets of <c>runbooks/connection/wireguard-link.csx</c>, built in C#: what the harness converges with until the
/// script compiler is wired in, and what the tests run through <see cref="Runner"/>. Keep the two in step.
/// </summary>
public static class WireguardLinkTargets
{
    public const string KeyFile = "/etc/wireguard/wg0.key";

    public static IReadOnlyList<Target> Build(string serverSixPn = NetnsBackend.ServerSixPn, string clientSixPn = NetnsBackend.ClientSixPn)
    {
        var server = new Target("server", "server end of the tunnel, firewall, ICMP", [],
        [
            Firewall.Rule(IpFamily.V6, "INPUT").WithProtocol("udp").Port(51820).Jump("DROP").Absent(),
            Firewall.Rule(IpFamily.V4, "INPUT").WithProtocol("tcp").Port(8080).Jump("DROP").Absent(),
            // The internal services answer only through the tunnel: refuse the client on the 6PN network.
            Firewall.Rule(IpFamily.V6, "INPUT").From(clientSixPn).WithProtocol("tcp").Jump("REJECT", "--reject-with", "tcp-reset").Present(),
            Sysctl.Value("net.ipv4.icmp_echo_ignore_all", "0").Persisted(),
            .. Wg.Interface("wg0").PrivateKeyFile(KeyFile).Address("192.168.0.1/32").ListenPort(51820).Mtu(1280)
                .Peer(Wg.Peer(WgPublicKey.DerivedOn("client", KeyFile)).AllowedIps("192.168.0.2/32"))
                .Steps(),
        ]);
        server.On("server");

        var client = new Target("client", "client end of the tunnel, routes, handshake", ["server"],
        [
            Net.Route("192.168.0.0/24").Via("172.19.0.1").Absent(),
            Firewall.Rule(IpFamily.V6, "INPUT").WithProtocol("udp").Port(51820).Jump("DROP").Absent(),
            .. Wg.Interface("wg0").PrivateKeyFile(KeyFile).Address("192.168.0.2/32").ListenPort(51820).Mtu(1280)
                .Peer(Wg.Peer(WgPublicKey.DerivedOn("server", KeyFile)).AllowedIps("192.168.0.1/32").Endpoint($"[{serverSixPn}]:51820").PersistentKeepalive(25))
                .Steps(),
            Wg.Interface("wg0").Handshake(WgPublicKey.DerivedOn("server", KeyFile), TimeSpan.FromSeconds(5)),
        ]);
        client.On("client");
        return [server, client];
    }
}
