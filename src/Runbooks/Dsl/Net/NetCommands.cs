using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>The read-only iproute2 commands the Net steps share, so one probe round runs each once.</summary>
internal static class NetRead
{
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(10);

    public static Command Link(string name) =>
        new Command("ip", ["-j", "link", "show", "dev", name]).AsReadOnly().WithTimeout(Quick).WithSuccessExitCodes(0, 1);

    public static Command Addresses(string name) =>
        new Command("ip", ["-j", "addr", "show", "dev", name]).AsReadOnly().WithTimeout(Quick).WithSuccessExitCodes(0, 1);

    public static Command RoutesTo(string destination) =>
        new Command("ip", [destination.Contains(':', StringComparison.Ordinal) ? "-6" : "-4", "-j", "route", "show", "to", "exact", destination]).AsReadOnly().WithTimeout(Quick);

    // Not /sys/class/net: a host entered with nsenter (netns:NAME) still sees the sysfs of the namespace that mounted it.
    private const string LinkStateScript = "ip -o link show dev \"$1\" | awk '{ for (i = 1; i <= NF; i++) if ($i == \"mtu\") print \"mtu\", $(i + 1); print ($3 ~ /[<,]UP[,>]/ ? \"up\" : \"down\") }'";

    /// <summary>A link's MTU and whether it is up, the state a link reversal compares.</summary>
    public static Command LinkState(string name) => Shell.Script(LinkStateScript, name).AsReadOnly().WithTimeout(Quick);

    /// <summary>A link's global addresses, sorted (lifetimes left out: they count down), the state an address reversal compares.</summary>
    public static Command GlobalAddresses(string name) =>
        Shell.Script("ip -o addr show dev \"$1\" | awk '$0 !~ / scope link / {print $4}' | sort", name).AsReadOnly().WithTimeout(Quick);

    /// <summary>The link, or null when the device does not exist (ip exits 1 with "does not exist").</summary>
    public static Fact<NetLinkState?> LinkFact(string name) =>
        new(Link(name), r => r.ExitCode != 0 ? null : NetParser.Links(r.StandardOutput).FirstOrDefault())
        {
            AnswersWhen = r => r.ExitCode == 0 || r.StandardError.Contains("does not exist", StringComparison.Ordinal),
        };

    /// <summary>The link's addresses; none when it does not exist.</summary>
    public static Fact<IReadOnlyList<NetAddressState>> AddressesFact(string name) =>
        new(Addresses(name), r => r.ExitCode != 0 ? [] : NetParser.Addresses(r.StandardOutput));

    /// <summary>The routes to exactly <paramref name="destination"/>.</summary>
    public static Fact<IReadOnlyList<NetRouteState>> RoutesToFact(string destination) => new(RoutesTo(destination), r => NetParser.Routes(r.StandardOutput));

    public static Task<NetLinkState?> LinkAsync(HostContext host, string name, CancellationToken cancellationToken) => host.FactAsync(LinkFact(name), cancellationToken);

    public static Task<IReadOnlyList<NetAddressState>> AddressesAsync(HostContext host, string name, CancellationToken cancellationToken) =>
        host.FactAsync(AddressesFact(name), cancellationToken);

    public static Task<IReadOnlyList<NetRouteState>> RoutesToAsync(HostContext host, string destination, CancellationToken cancellationToken) =>
        host.FactAsync(RoutesToFact(destination), cancellationToken);
}
