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
    public static async Task<NetLinkState?> LinkAsync(HostContext host, string name, CancellationToken cancellationToken)
    {
        var result = await host.ReadAsync(Link(name), cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            if (result.StandardError.Contains("does not exist", StringComparison.Ordinal))
            {
                return null;
            }

            throw new CommandFailedException(host.Name, Link(name), result);
        }

        return NetParser.Links(result.StandardOutput).FirstOrDefault();
    }

    public static async Task<IReadOnlyList<NetAddressState>> AddressesAsync(HostContext host, string name, CancellationToken cancellationToken)
    {
        var result = await host.ReadAsync(Addresses(name), cancellationToken).ConfigureAwait(false);
        return result.ExitCode != 0 ? [] : NetParser.Addresses(result.StandardOutput);
    }

    public static async Task<IReadOnlyList<NetRouteState>> RoutesToAsync(HostContext host, string destination, CancellationToken cancellationToken)
    {
        var result = await host.ReadAsync(RoutesTo(destination), cancellationToken).ConfigureAwait(false);
        return NetParser.Routes(result.StandardOutput);
    }
}
