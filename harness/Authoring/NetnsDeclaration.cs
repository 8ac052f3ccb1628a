using System.Net;
using System.Text.RegularExpressions;
using Runbooks.Harness.Backends.Netns;
using Runbooks.Harness.Lifecycle;

namespace Runbooks.Scenarios;

public partial class ScenarioGlobals
{
    /// <summary>
    /// Simulated hosts as network namespaces, each with its own mount namespace, joined by veth links. Seconds, no VM.
    /// Declare each host with <see cref="NetnsDeclaration.Host"/>, then the links between them.
    /// </summary>
    /// <example><c>var net = Netns(); net.Host("web").Private("/etc/app"); net.Host("client"); net.Link("web", "client", "10.9.0.1/24", "10.9.0.2/24");</c></example>
    public NetnsDeclaration Netns() => Declare(new NetnsDeclaration());
}

/// <summary>The network namespaces a scenario needs: hosts, the paths private to each, links and addresses, WireGuard.</summary>
public sealed partial class NetnsDeclaration : BackendDeclaration
{
    /// <summary>
    /// Private on every host without asking: WireGuard's config and sockets, the hosts file, every file a boot reads
    /// kernel parameters from (so <c>sysctl --system</c> on a host applies its own and nothing of this machine's), the
    /// runbook lock, and what undo keeps. <c>/lib/sysctl.d</c> is <c>/usr/lib/sysctl.d</c> on a merged-/usr Debian.
    /// </summary>
    public static readonly IReadOnlyList<string> DefaultPrivatePaths =
        ["/etc/wireguard", "/var/run/wireguard", "/etc/hosts", "/etc/sysctl.d", "/etc/sysctl.conf", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/run/lock", Runbooks.Engine.RunRequest.KeepRoot];

    private readonly List<NetnsHostDeclaration> _hosts = [];
    private readonly List<NetnsLinkDeclaration> _links = [];
    private readonly List<string> _problems = [];

    internal NetnsDeclaration()
    {
    }

    public override string Name => "netns";

    public override IReadOnlyList<string> HostNames => [.. _hosts.Select(h => h.Name)];

    internal IReadOnlyList<NetnsHostDeclaration> Hosts => _hosts;

    internal IReadOnlyList<NetnsLinkDeclaration> Links => _links;

    internal bool WantsWireGuard { get; private set; }

    /// <summary>
    /// Declares a host: a network namespace (loopback up) and a mount namespace. Names are short: lowercase letters,
    /// digits and dashes, at most 8 characters (they become part of kernel link names).
    /// </summary>
    /// <example><c>Netns().Host("server").Private("/etc/app", "/var/log/app")</c></example>
    public NetnsHostDeclaration Host(string name)
    {
        if (name is null || !HostName().IsMatch(name))
        {
            throw new InvalidRunbookException($"Netns().Host(\"{name}\"): a host name is 1-8 lowercase letters, digits or dashes, starting with a letter");
        }

        if (_hosts.Any(h => h.Name == name))
        {
            throw new InvalidRunbookException($"Netns().Host(\"{name}\") is declared twice");
        }

        var host = new NetnsHostDeclaration(name);
        _hosts.Add(host);
        return host;
    }

    /// <summary>
    /// A veth link between two declared hosts, named <paramref name="device"/> on both ends, with the addresses given
    /// for each end (IPv4 and/or IPv6 CIDRs, comma separated; IPv6 without duplicate address detection, so usable at once).
    /// </summary>
    /// <example><c>net.Link("server", "client", "fdaa::2/64,172.19.0.2/24", "fdaa::3/64,172.19.0.74/24")</c></example>
    public NetnsDeclaration Link(string from, string to, string fromAddresses = "", string toAddresses = "", string device = "eth0")
    {
        if (!InterfaceName().IsMatch(device ?? ""))
        {
            throw new InvalidRunbookException($"Netns().Link(…, device: \"{device}\"): an interface name is 1-15 letters, digits, '-', '_' or '.'");
        }

        if (from == to)
        {
            throw new InvalidRunbookException($"Netns().Link(\"{from}\", \"{to}\"): a link joins two different hosts");
        }

        _links.Add(new NetnsLinkDeclaration(from, to, device!, Addresses(fromAddresses, from), Addresses(toAddresses, to)));
        return this;
    }

    /// <summary>
    /// Gives every host a WireGuard interface <c>wg0</c> before the break: the kernel module's where it loads in a
    /// namespace, else wireguard-go per host (the report says which).
    /// </summary>
    /// <example><c>Netns().WireGuard()</c></example>
    public NetnsDeclaration WireGuard()
    {
        WantsWireGuard = true;
        return this;
    }

    internal override IEnumerable<string> Problems()
    {
        if (_hosts.Count == 0)
        {
            yield return "Netns() declares no hosts; add Netns().Host(\"name\")";
        }

        foreach (var problem in _problems)
        {
            yield return problem;
        }

        foreach (var link in _links)
        {
            foreach (var end in new[] { link.From, link.To }.Where(e => _hosts.All(h => h.Name != e)))
            {
                yield return $"Netns().Link(\"{link.From}\", \"{link.To}\") names host '{end}', which is not declared (hosts: {string.Join(", ", HostNames)})";
            }
        }

        foreach (var duplicate in _links.SelectMany(l => new[] { (l.From, l.Device), (l.To, l.Device) }).GroupBy(e => e).Where(g => g.Count() > 1))
        {
            yield return $"host '{duplicate.Key.Item1}' has two links named {duplicate.Key.Item2}; give one another device name";
        }
    }

    internal override IBackend CreateBackend() => new NetnsBackend(this);

    private List<string> Addresses(string list, string host)
    {
        var result = new List<string>();
        foreach (var cidr in (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = cidr.Split('/');
            if (parts.Length != 2 || !IPAddress.TryParse(parts[0], out var address) || !int.TryParse(parts[1], out var prefix)
                || prefix < 0 || prefix > (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128 : 32))
            {
                _problems.Add($"Netns().Link: '{cidr}' for host '{host}' is not an address with a prefix length, e.g. 10.9.0.1/24 or fdaa::2/64");
                continue;
            }

            result.Add(cidr);
        }

        return result;
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{0,7}$")]
    private static partial Regex HostName();

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,15}$")]
    private static partial Regex InterfaceName();
}

/// <summary>One simulated host of a <see cref="NetnsDeclaration"/>.</summary>
public sealed class NetnsHostDeclaration
{
    private readonly List<string> _private = [];
    private readonly Dictionary<string, int> _small = new(StringComparer.Ordinal);

    internal NetnsHostDeclaration(string name) => Name = name;

    /// <summary>Private paths that are small filesystems of their own (tmpfs), in MiB, so an incident can fill one.</summary>
    public IReadOnlyDictionary<string, int> SmallFilesystems => _small;

    public string Name { get; }

    /// <summary>Paths private to this host, beside <see cref="NetnsDeclaration.DefaultPrivatePaths"/>.</summary>
    public IReadOnlyList<string> PrivatePaths => _private;

    /// <summary>
    /// Directories private to this host: each is an empty scratch directory bind-mounted over the path inside the host's
    /// mount namespace (created if missing), so the break can write <c>/etc/app</c> without touching the machine's own.
    /// </summary>
    /// <example><c>net.Host("web").Private("/etc/app", "/var/log/app")</c></example>
    public NetnsHostDeclaration Private(params string[] paths)
    {
        foreach (var path in paths)
        {
            _private.Add(PrivatePath.Check(path, $"Netns().Host(\"{Name}\").Private", [.. _private, .. _small.Keys], NetnsDeclaration.DefaultPrivatePaths));
        }

        return this;
    }

    /// <summary>
    /// A private path that is a filesystem of its own of <paramref name="sizeMiB"/> MiB (a tmpfs in the host's mount
    /// namespace), so a break can fill it as a runaway log fills /var — without touching the machine's disks.
    /// </summary>
    /// <example><c>net.Host("web").SmallFilesystem("/var/log/app", sizeMiB: 32)</c></example>
    public NetnsHostDeclaration SmallFilesystem(string path, int sizeMiB)
    {
        path = PrivatePath.Check(path, $"Netns().Host(\"{Name}\").SmallFilesystem", [.. _private, .. _small.Keys], NetnsDeclaration.DefaultPrivatePaths);
        if (sizeMiB is < 1 or > 4096)
        {
            throw new InvalidRunbookException($"Netns().Host(\"{Name}\").SmallFilesystem(\"{path}\", {sizeMiB}): give 1 to 4096 MiB (it lives in RAM)");
        }

        _small[path] = sizeMiB;
        return this;
    }
}

internal sealed record NetnsLinkDeclaration(string From, string To, string Device, IReadOnlyList<string> FromAddresses, IReadOnlyList<string> ToAddresses);
