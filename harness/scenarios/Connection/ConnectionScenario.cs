using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness.Backends.Netns;
using Runbooks.Harness.Lifecycle;
using Runbooks.Harness.Specs;
using Runbooks.Transport;

namespace Runbooks.Harness.Scenarios.Connection;

/// <summary>
/// The network incident (incidents/fly-network-and-storage-notes.md, challenge 1): two hosts on a 6PN link
/// whose WireGuard tunnel is broken in several places at once.
/// </summary>
public sealed class ConnectionScenario
{
    public const string KeyFile = "/etc/wireguard/wg0.key";
    public const string ConfigFile = "/etc/wireguard/wg0.conf";

    // wg-quick's view of the broken config, written with the key read by the host's own shell from the key
    // file, so the private key exists only on that host (as it did in the incident's containers).
    private const string WriteBrokenConfig =
        "umask 077 && printf '[Interface]\\nPrivateKey = %s\\nAddress = %s\\nListenPort = 51820\\nMTU = %s\\n\\n[Peer]\\nPublicKey = %s\\nAllowedIPs = %s\\n' " +
        "\"$(cat \"$1\")\" \"$3\" \"$4\" \"$5\" \"$6\" > \"$2\"";

    public string Name => "connection";

    public string Backend => "netns";

    public async Task BreakAsync(Inventory inventory, HarnessOptions options, CancellationToken cancellationToken)
    {
        var server = Transport(inventory, "server");
        var client = Transport(inventory, "client");
        var publicKeys = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var host in new[] { server, client })
        {
            await host.RunCheckedAsync(Shell.Script("umask 077 && wg genkey > \"$1\"", KeyFile), cancellationToken);
            publicKeys[host.Name] = (await host.RunCheckedAsync(WgKeyCommand(), cancellationToken)).StandardOutput.Trim();
        }

        // Valid keys, but Address and AllowedIPs on different subnets; the client has no Endpoint and MTU 1800.
        await ApplyBrokenAsync(server, "10.0.0.1/24", "1280", publicKeys["client"], "10.0.0.2/32", cancellationToken);
        await ApplyBrokenAsync(client, "172.16.0.2/32", "1800", publicKeys["server"], "10.0.0.1/32", cancellationToken);
        await client.RunCheckedAsync(new Command("ip", ["route", "add", "10.0.0.1/32", "dev", "wg0"]), cancellationToken);

        // A stale route that sends the tunnel's subnet to a gateway that is not there.
        await client.RunCheckedAsync(new Command("ip", ["route", "add", "192.168.0.0/24", "via", "172.19.0.1", "dev", "eth0"]), cancellationToken);
        foreach (var host in new[] { server, client })
        {
            await host.RunCheckedAsync(new Command("ip6tables", ["-A", "INPUT", "-p", "udp", "--dport", "51820", "-j", "DROP"]), cancellationToken);
        }

        await server.RunCheckedAsync(new Command("sysctl", ["-qw", "net.ipv4.icmp_echo_ignore_all=1"]), cancellationToken);
        await server.RunCheckedAsync(new Command("iptables", ["-A", "INPUT", "-p", "tcp", "--dport", "8080", "-j", "DROP"]), cancellationToken);
        // The TCP service on [::]:9000 answers anyone on the 6PN network: the backend already left it so.
    }

    public IReadOnlyList<Spec> Specs(HarnessOptions options) => ConnectionSpecs.All();

    private static Command WgKeyCommand() => Dsl.WgKey.PublicKeyOfFile(KeyFile);

    private static async Task ApplyBrokenAsync(ITransport host, string address, string mtu, string peerKey, string allowed, CancellationToken cancellationToken)
    {
        await host.RunCheckedAsync(Shell.Script(WriteBrokenConfig, KeyFile, ConfigFile, address, mtu, peerKey, allowed), cancellationToken);
        await host.RunCheckedAsync(new Command("wg", ["set", "wg0", "private-key", KeyFile, "listen-port", "51820", "peer", peerKey, "allowed-ips", allowed]), cancellationToken);
        await host.RunCheckedAsync(new Command("ip", ["addr", "add", address, "dev", "wg0"]), cancellationToken);
        await host.RunCheckedAsync(new Command("ip", ["link", "set", "wg0", "mtu", mtu, "up"]), cancellationToken);
    }

    private static ITransport Transport(Inventory inventory, string name) => inventory.Context(name).Transport;
}
