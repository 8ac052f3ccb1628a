// Repairs the WireGuard link between "server" and "client" on the 6PN network, as in the network incident
// (README.md beside this file). Both hosts come from the inventory:
//   runbook run runbooks/connection/wireguard-link.csx --host server=ssh://root@server --host client=ssh://root@client
// Keys are never pasted: each side's private key stays in /etc/wireguard/wg0.key on its host, and each side's
// peer key is the public key derived from the other host's key file, read on that host.

const string KeyFile = "/etc/wireguard/wg0.key";
const string ServerSixPn = "fdaa:3:a396:a7b:88dc:68d5:bd36:2";
const string ClientSixPn = "fdaa:3:a396:a7b:175:7ae9:e030:2";

Target("server", "server end of the tunnel; firewall and ICMP as the tests need",
    Firewall.Rule(IpFamily.V6, "INPUT").WithProtocol("udp").Port(51820).Jump("DROP").Absent(),
    Firewall.Rule(IpFamily.V4, "INPUT").WithProtocol("tcp").Port(8080).Jump("DROP").Absent(),
    // internal services answer only through the tunnel: refuse the client on the 6PN network itself
    Firewall.Rule(IpFamily.V6, "INPUT").From(ClientSixPn).WithProtocol("tcp").Jump("REJECT", "--reject-with", "tcp-reset").Present(),
    Sysctl.Value("net.ipv4.icmp_echo_ignore_all", "0").Persisted())
    .Then(Wg.Interface("wg0").PrivateKeyFile(KeyFile).Address("192.168.0.1/32").ListenPort(51820).Mtu(1280)
        .Peer(Wg.Peer(WgPublicKey.DerivedOn("client", KeyFile)).AllowedIps("192.168.0.2/32"))
        .Steps())
    .On("server");

Target("client", "client end of the tunnel; the stale route goes; handshake within 5 s", DependsOn("server"),
    // the stale route that sent 192.168.0.0/24 to a gateway that does not exist
    Net.Route("192.168.0.0/24").Via("172.19.0.1").Absent(),
    Firewall.Rule(IpFamily.V6, "INPUT").WithProtocol("udp").Port(51820).Jump("DROP").Absent())
    .Then(Wg.Interface("wg0").PrivateKeyFile(KeyFile).Address("192.168.0.2/32").ListenPort(51820).Mtu(1280)
        .Peer(Wg.Peer(WgPublicKey.DerivedOn("server", KeyFile)).AllowedIps("192.168.0.1/32")
            .Endpoint($"[{ServerSixPn}]:51820").PersistentKeepalive(25))
        .Steps())
    .Then(Wg.Interface("wg0").Handshake(WgPublicKey.DerivedOn("server", KeyFile), TimeSpan.FromSeconds(5)))
    .On("client");

await RunAsync(Args);
