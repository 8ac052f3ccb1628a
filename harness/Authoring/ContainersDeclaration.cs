using System.Net;
using System.Text.RegularExpressions;
using Runbooks.Harness.Backends.Container;
using Runbooks.Harness.Lifecycle;

namespace Runbooks.Scenarios;

public partial class ScenarioGlobals
{
    /// <summary>
    /// Simulated hosts as containers (podman; docker where podman is not installed) on one network of this run, each
    /// reached with <c>podman exec</c>. Without <paramref name="image"/>, the harness's Debian image, built with
    /// debootstrap from this machine's Debian mirror and cached. One host, <c>local</c>, unless hosts are declared.
    /// </summary>
    /// <example><c>var c = Containers(); c.Host("web").Address("10.20.0.1"); c.Host("client"); c.Network("10.20.0.0/24");</c></example>
    public ContainersDeclaration Containers(string? image = null) => Declare(new ContainersDeclaration(image));
}

/// <summary>The containers a scenario needs: the image, the hosts, the network they share.</summary>
public sealed partial class ContainersDeclaration : BackendDeclaration
{
    private readonly List<ContainerHostDeclaration> _hosts = [];
    private readonly List<string> _problems = [];

    internal ContainersDeclaration(string? image)
    {
        if (image is not null && !ImageName().IsMatch(image))
        {
            throw new InvalidRunbookException($"Containers(image: \"{image}\"): not an image reference (e.g. localhost/app:1.2 or registry.example/team/app@sha256:…)");
        }

        Image = image;
    }

    public override string Name => "containers";

    /// <summary>The image every host runs; null for the harness's Debian image.</summary>
    public string? Image { get; }

    /// <summary>The network's subnet when <see cref="Network"/> fixed it; null lets the engine choose a free one.</summary>
    public string? Subnet { get; private set; }

    public override IReadOnlyList<string> HostNames => _hosts.Count == 0 ? [Runbooks.Engine.Inventory.DefaultHost] : [.. _hosts.Select(h => h.Name)];

    /// <summary>The declared hosts, or the one implicit <c>local</c> host.</summary>
    internal IReadOnlyList<ContainerHostDeclaration> Hosts => _hosts.Count == 0 ? [new ContainerHostDeclaration(Runbooks.Engine.Inventory.DefaultHost)] : _hosts;

    /// <summary>
    /// Declares a host: one container, named after the run and the host, whose hostname is <paramref name="name"/>. Names
    /// are 1-8 lowercase letters, digits or dashes, starting with a letter, as for <c>Netns().Host</c>.
    /// </summary>
    /// <example><c>Containers().Host("web").SmallFilesystem("/var/log/app", 32)</c></example>
    public ContainerHostDeclaration Host(string name)
    {
        if (name is null || !HostName().IsMatch(name))
        {
            throw new InvalidRunbookException($"Containers().Host(\"{name}\"): a host name is 1-8 lowercase letters, digits or dashes, starting with a letter");
        }

        if (_hosts.Any(h => h.Name == name))
        {
            throw new InvalidRunbookException($"Containers().Host(\"{name}\") is declared twice");
        }

        var host = new ContainerHostDeclaration(name);
        _hosts.Add(host);
        return host;
    }

    /// <summary>
    /// Fixes the subnet of the hosts' network (IPv4), so hosts can have the addresses a runbook names; the engine's
    /// gateway takes the last address of it. Without it the engine picks a free subnet.
    /// </summary>
    /// <example><c>Containers().Network("10.20.0.0/24")</c></example>
    public ContainersDeclaration Network(string subnet)
    {
        if (!TryParseSubnet(subnet, out _, out var prefix) || prefix is < 8 or > 29)
        {
            throw new InvalidRunbookException($"Containers().Network(\"{subnet}\"): give an IPv4 subnet with a prefix of 8 to 29 bits, e.g. 10.20.0.0/24");
        }

        Subnet = subnet;
        return this;
    }

    internal override IEnumerable<string> Problems()
    {
        foreach (var problem in _problems)
        {
            yield return problem;
        }

        foreach (var host in _hosts.Where(h => h.FixedAddress is not null))
        {
            if (Subnet is null)
            {
                yield return $"Containers().Host(\"{host.Name}\").Address(\"{host.FixedAddress}\") needs the network's subnet: add Containers().Network(\"…/24\")";
            }
            else if (!InSubnet(host.FixedAddress!, Subnet) || host.FixedAddress == Gateway(Subnet))
            {
                yield return $"Containers().Host(\"{host.Name}\").Address(\"{host.FixedAddress}\") is not a host address of the network {Subnet} (its last address, {Gateway(Subnet)}, is the gateway)";
            }
        }

        foreach (var duplicate in _hosts.Where(h => h.FixedAddress is not null).GroupBy(h => h.FixedAddress).Where(g => g.Count() > 1))
        {
            yield return $"hosts {string.Join(" and ", duplicate.Select(h => $"'{h.Name}'"))} both have the address {duplicate.Key}";
        }
    }

    internal override IBackend CreateBackend() => new ContainerBackend(this);

    /// <summary>The gateway the engine is given: the subnet's last host address, so that the first ones are free for hosts.</summary>
    internal static string Gateway(string subnet)
    {
        TryParseSubnet(subnet, out var network, out var prefix);
        var last = network | (uint)((1L << (32 - prefix)) - 2);
        return new IPAddress(BitConverter.GetBytes(last).Reverse().ToArray()).ToString();
    }

    private static bool InSubnet(string address, string subnet)
    {
        TryParseSubnet(subnet, out var network, out var prefix);
        var mask = uint.MaxValue << (32 - prefix);
        var value = ToUInt(IPAddress.Parse(address));
        var host = value & ~mask;
        return (value & mask) == network && host != 0 && host != ~mask;
    }

    private static bool TryParseSubnet(string? subnet, out uint network, out int prefix)
    {
        network = 0;
        prefix = 0;
        var parts = (subnet ?? "").Split('/');
        if (parts.Length != 2 || !IPAddress.TryParse(parts[0], out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
            || !int.TryParse(parts[1], out prefix) || prefix is < 0 or > 32)
        {
            return false;
        }

        network = ToUInt(address) & (prefix == 0 ? 0 : uint.MaxValue << (32 - prefix));
        return true;
    }

    private static uint ToUInt(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        return (uint)(bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]);
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{0,7}$")]
    private static partial Regex HostName();

    // What `podman pull` and `docker pull` accept: [registry/]path[:tag][@digest], lowercase path.
    [GeneratedRegex("^[a-z0-9][a-z0-9._/:-]*(@sha256:[0-9a-f]{64})?$")]
    private static partial Regex ImageName();
}

/// <summary>One container host of a <see cref="ContainersDeclaration"/>.</summary>
public sealed class ContainerHostDeclaration
{
    private readonly Dictionary<string, int> _small = new(StringComparer.Ordinal);

    internal ContainerHostDeclaration(string name) => Name = name;

    public string Name { get; }

    /// <summary>The host's IPv4 address on the network; null lets the engine assign one.</summary>
    public string? FixedAddress { get; private set; }

    /// <summary>The container's main process; empty for <c>sleep infinity</c> under the engine's init.</summary>
    public IReadOnlyList<string> MainProcess { get; private set; } = [];

    /// <summary>Paths that are small filesystems of their own (tmpfs), in MiB.</summary>
    public IReadOnlyDictionary<string, int> SmallFilesystems => _small;

    /// <summary>The host's address on the network (needs <see cref="ContainersDeclaration.Network"/>).</summary>
    /// <example><c>Containers().Network("10.20.0.0/24").Host("web").Address("10.20.0.1")</c></example>
    public ContainerHostDeclaration Address(string address)
    {
        if (!IPAddress.TryParse(address, out var parsed) || parsed.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            throw new InvalidRunbookException($"Containers().Host(\"{Name}\").Address(\"{address}\"): give an IPv4 address, e.g. 10.20.0.1");
        }

        FixedAddress = parsed.ToString();
        return this;
    }

    /// <summary>
    /// The container's main process instead of <c>sleep infinity</c> (still under the engine's init, which reaps
    /// orphans): a supervisor such as runit's <c>runsvdir</c>. If it exits at once, create fails with its output.
    /// </summary>
    /// <example><c>Containers().Host("local").Runs("runsvdir", "-P", "/etc/service")</c></example>
    public ContainerHostDeclaration Runs(string program, params string[] arguments)
    {
        if (string.IsNullOrWhiteSpace(program) || program.Any(char.IsWhiteSpace))
        {
            throw new InvalidRunbookException($"Containers().Host(\"{Name}\").Runs(\"{program}\"): give the program alone and its arguments apart");
        }

        MainProcess = [program, .. arguments];
        return this;
    }

    /// <summary>
    /// A path that is a filesystem of its own of <paramref name="sizeMiB"/> MiB (a tmpfs mounted into the container), so a
    /// break can fill it as a runaway log fills /var.
    /// </summary>
    /// <example><c>Containers().Host("web").SmallFilesystem("/var/log/app", sizeMiB: 32)</c></example>
    public ContainerHostDeclaration SmallFilesystem(string path, int sizeMiB)
    {
        // The rule every backend's private paths follow; and no ':' or ',', which would end the engine's --tmpfs value.
        path = PrivatePath.Check(path, $"Containers().Host(\"{Name}\").SmallFilesystem", [.. _small.Keys], []);
        if (path.IndexOfAny([':', ',']) >= 0)
        {
            throw new InvalidRunbookException($"Containers().Host(\"{Name}\").SmallFilesystem(\"{path}\", …): a path with ':' or ',' cannot be given to the container engine's --tmpfs");
        }

        if (sizeMiB is < 1 or > 4096)
        {
            throw new InvalidRunbookException($"Containers().Host(\"{Name}\").SmallFilesystem(\"{path}\", {sizeMiB}): give 1 to 4096 MiB (it lives in RAM)");
        }

        _small[path] = sizeMiB;
        return this;
    }
}
