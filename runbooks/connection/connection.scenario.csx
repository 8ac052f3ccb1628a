// The network incident (README.md beside this file): two hosts on
// a 6PN IPv6 link whose WireGuard tunnel is broken in several places at once. Proved by wireguard-link.csx.
//   runbook harness run runbooks/connection/connection.scenario.csx
//
// Broken as the notes describe: Address and AllowedIPs on different subnets, no Endpoint and MTU 1800 on the
// client, a stale 192.168.0.0/24 route via a gateway that is not there, ip6tables DROP of udp/51820 on both
// hosts, ICMP echo ignored and tcp/8080 dropped on the server, and the TCP service on [::]:9000 open to anyone
// on the 6PN network. Each private key is made by `wg genkey` on its own host and never leaves it.

const string KeyFile = "/etc/wireguard/wg0.key";
const string ServerSixPn = "fdaa:3:a396:a7b:88dc:68d5:bd36:2";
const string ClientSixPn = "fdaa:3:a396:a7b:175:7ae9:e030:2";
const string ServerTunnel = "192.168.0.1";

// Two hosts on the 6PN network (eth0 on both), each with a WireGuard wg0 and its own /etc/wireguard.
var net = Netns().WireGuard();
net.Host("server").Private("/srv/www", "/opt/internal");
net.Host("client");
net.Link("server", "client", $"{ServerSixPn}/64,172.19.0.2/24", $"{ClientSixPn}/64,172.19.0.74/24");
Proves("wireguard-link.csx");

// The server's services: a web page on 0.0.0.0:8080 and the internal TCP service on [::]:9000.
Target("server-services", "web on 8080 and the internal service on 9000 answer on the server",
    File.Content("/srv/www/index.html", "<p>server</p>\n"),
    File.Content("/opt/internal/service.py", FileBeside("files/internal-service.py")),
    Exec("start the web and internal services", ScriptBeside("files/start-services.sh", "/srv/www", "/opt/internal/service.py"))
        .Until(Probe.Tcp("127.0.0.1", 9000, TcpOutcome.Connected)))
    .On("server");

foreach (var host in new[] { "server", "client" })
{
    Target($"{host}-key", $"{host} has its own WireGuard private key",
        Exec("wg genkey into the key file", Shell.Script("umask 077 && wg genkey > \"$1\"", KeyFile)).Until(File.Exists(KeyFile)))
        .On(host);
}

// Valid keys, but the addresses do not agree with the peers' AllowedIPs.
Target("server-broken", "server: wg0 on 10.0.0.1/24; ICMP ignored; tcp/8080 and WireGuard's port dropped", DependsOn("server-key", "client-key", "server-services"),
    Wg.Interface("wg0").PrivateKeyFile(KeyFile).ListenPort(51820)
        .Peer(Wg.Peer(WgPublicKey.DerivedOn("client", KeyFile)).AllowedIps("10.0.0.2/32")).Configured(),
    Net.Addresses("wg0", "10.0.0.1/24"),
    Net.Link("wg0").Mtu(1280).Up(),
    Sysctl.Value("net.ipv4.icmp_echo_ignore_all", "1"),
    Firewall.Rule(IpFamily.V4, "INPUT").WithProtocol("tcp").Port(8080).Jump("DROP").Present(),
    Firewall.Rule(IpFamily.V6, "INPUT").WithProtocol("udp").Port(51820).Jump("DROP").Present())
    .On("server");

Target("client-broken", "client: wg0 on 172.16.0.2/32, MTU 1800, no endpoint; a stale route; WireGuard's port dropped", DependsOn("server-key", "client-key"),
    Wg.Interface("wg0").PrivateKeyFile(KeyFile).ListenPort(51820)
        .Peer(Wg.Peer(WgPublicKey.DerivedOn("server", KeyFile)).AllowedIps("10.0.0.1/32")).Configured(),
    Net.Addresses("wg0", "172.16.0.2/32"),
    Net.Link("wg0").Mtu(1800).Up(),
    Net.Route("10.0.0.1/32").Dev("wg0").Present(),
    Net.Route("192.168.0.0/24").Via("172.19.0.1").Dev("eth0").Present(),
    Firewall.Rule(IpFamily.V6, "INPUT").WithProtocol("udp").Port(51820).Jump("DROP").Present())
    .On("client");

// The incident's test-connection.sh, run from the client. The first is the one the notes say did not always
// fail when it should: it targets the server's 6PN address itself, so the open service fails it when broken.
Spec("tcp-6pn-refused", Probe.Tcp(ServerSixPn, 9000, TcpOutcome.Refused)).On("client");
Spec("tcp-tunnel-connects", Probe.Tcp(ServerTunnel, 9000, TcpOutcome.Connected)).On("client");
Spec("ping-tunnel", Probe.Ping(ServerTunnel)).On("client");
Spec("http-tunnel-200", Probe.HttpGet($"http://{ServerTunnel}:8080/", 200)).On("client");
Spec("wg-handshake-5s", Wg.Interface("wg0").HandshakeWithin(TimeSpan.FromSeconds(5))).On("client");
Spec("wg-mtu-agree", Net.SameMtu("wg0", "server")).On("client");
