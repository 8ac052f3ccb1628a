using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>Links, addresses and routes, from <c>ip -j</c>.</summary>
public static class Net
{
    /// <summary>A route to <paramref name="destination"/> (a CIDR); finish with <c>.Present()</c> or <c>.Absent()</c>.</summary>
    /// <example><c>Net.Route("192.168.0.0/24").Absent()</c></example>
    public static NetRoute Route(string destination) => new(DslArguments.Cidr(destination, nameof(destination)), null, null);

    /// <summary>A link's desired state; chain <c>.Mtu(…)</c> and <c>.Up()</c>. Itself a step.</summary>
    /// <example><c>Net.Link("wg0").Mtu(1280).Up()</c></example>
    public static NetLinkStep Link(string name) => new(DslArguments.InterfaceName(name), null, false);

    /// <summary>Reads a link's MTU and state (null when it does not exist), for checks.</summary>
    /// <example><c>var wg0 = await Net.ReadLinkAsync(host, "wg0", ct);</c></example>
    public static Task<NetLinkState?> ReadLinkAsync(HostContext host, string name, CancellationToken cancellationToken) =>
        NetRead.LinkAsync(host, DslArguments.InterfaceName(name), cancellationToken);

    /// <summary>A check: the link has the same MTU on this host and on <paramref name="peerHost"/> (a tunnel's two ends must agree).</summary>
    /// <example><c>Net.SameMtu("wg0", "server")</c></example>
    public static Check SameMtu(string link, string peerHost)
    {
        link = DslArguments.InterfaceName(link);
        ArgumentException.ThrowIfNullOrWhiteSpace(peerHost);
        return new($"{link} MTU equals {peerHost}'s", async (host, ct) =>
        {
            var mine = await NetRead.LinkAsync(host, link, ct).ConfigureAwait(false);
            var theirs = await NetRead.LinkAsync(host.Host(peerHost), link, ct).ConfigureAwait(false);
            return new CheckResult(mine is not null && theirs is not null && mine.Mtu == theirs.Mtu,
                $"{host.Name} {link} mtu {mine?.Mtu.ToString(CultureInfo.InvariantCulture) ?? "(no link)"}, " +
                $"{peerHost} {link} mtu {theirs?.Mtu.ToString(CultureInfo.InvariantCulture) ?? "(no link)"}");
        });
    }

    /// <summary>Exactly these addresses on the link: missing ones are added, any other global address is removed.</summary>
    /// <example><c>Net.Addresses("wg0", "192.168.0.1/32")</c></example>
    public static NetAddressesStep Addresses(string device, params string[] cidrs)
    {
        if (cidrs is null || cidrs.Length == 0)
        {
            throw new ArgumentException("give at least one address, e.g. 192.168.0.1/32", nameof(cidrs));
        }

        return new(DslArguments.InterfaceName(device, nameof(device)), [.. cidrs.Select(c => DslArguments.Cidr(c, nameof(cidrs)))]);
    }
}

/// <summary>A route being described: destination, optional gateway and device.</summary>
public sealed record NetRoute(string Destination, string? Gateway, string? Device)
{
    /// <example><c>Net.Route("10.0.0.0/8").Via("172.19.0.1").Present()</c></example>
    public NetRoute Via(string gateway) => this with { Gateway = DslArguments.Address(gateway, nameof(gateway)) };

    /// <example><c>Net.Route("192.168.0.1/32").Dev("wg0").Present()</c></example>
    public NetRoute Dev(string device) => this with { Device = DslArguments.InterfaceName(device, nameof(device)) };

    /// <summary>The route exists with this gateway/device (<c>ip route replace</c>).</summary>
    /// <example><c>Net.Route("192.168.0.1/32").Dev("wg0").Present()</c></example>
    public Step Present()
    {
        if (Gateway is null && Device is null)
        {
            throw new ArgumentException($"route {Destination}: give .Via(gateway) or .Dev(device) before .Present()");
        }

        return new NetRouteStep(this, true);
    }

    /// <summary>No route to exactly this destination (matching the gateway/device when given); names the routes it deletes.</summary>
    /// <example><c>Net.Route("192.168.0.0/24").Absent()</c></example>
    public Step Absent() => new NetRouteStep(this, false);
}

/// <summary>Ensures a route present or absent.</summary>
public sealed class NetRouteStep : Step
{
    private readonly NetRoute _route;
    private readonly bool _present;

    internal NetRouteStep(NetRoute route, bool present)
    {
        _route = route;
        _present = present;
    }

    public override string Description => $"route {Describe()} {(_present ? "present" : "absent")}";

    public override string? Destroys => _present ? null : $"route(s) to {Describe()}";

    private string Describe() => new NetRouteState(_route.Destination, _route.Gateway, _route.Device, null).Render();

    public override IEnumerable<IFact> Reads => [NetRead.RoutesToFact(_route.Destination)];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var routes = await NetRead.RoutesToAsync(host, _route.Destination, cancellationToken).ConfigureAwait(false);
        var matching = routes.Where(Matches).ToList();
        var observed = routes.Count == 0 ? $"no route to {_route.Destination}" : string.Join("; ", routes.Select(r => r.Render()));
        var read = NetRead.RoutesTo(_route.Destination);
        if (_present)
        {
            // replace swaps out a route to the same destination: undo puts that one back, or deletes ours.
            var undo = routes.Count == 0
                ? Reversal.By($"route {Describe()} removed again", read, new Command("ip", ["route", "del", _route.Destination, .. Where()]))
                : Reversal.By($"route {routes[0].Render()} back (gateway and device; other attributes are not kept)", read, Route("replace", routes[0]));
            return matching.Count > 0
                ? StepProbe.Satisfied(observed)
                : StepProbe.Act(observed, new RunCommand(new Command("ip", ["route", "replace", _route.Destination, .. Where()])) { Undo = undo });
        }

        return matching.Count == 0
            ? StepProbe.Satisfied(observed)
            : StepProbe.Act(observed, matching.Select(r => new RunCommand(Route("del", r))
            {
                Undo = Reversal.By($"route {r.Render()} added back (gateway and device; other attributes are not kept)", read, Route("add", r)),
            }));
    }

    public override bool CanCutOffController => true;

    private static Command Route(string verb, NetRouteState r) => new("ip",
        ["route", verb, r.Destination, .. r.Gateway is null ? Array.Empty<Arg>() : ["via", r.Gateway], .. r.Device is null ? Array.Empty<Arg>() : ["dev", r.Device]]);

    private bool Matches(NetRouteState route) =>
        (_route.Gateway is null || route.Gateway == _route.Gateway) && (_route.Device is null || route.Device == _route.Device);

    private IEnumerable<Arg> Where()
    {
        if (_route.Gateway is not null)
        {
            yield return "via";
            yield return _route.Gateway;
        }

        if (_route.Device is not null)
        {
            yield return "dev";
            yield return _route.Device;
        }
    }
}

/// <summary>A link's MTU and state. Chain <see cref="Mtu"/> and <see cref="Up"/>.</summary>
public sealed class NetLinkStep : Step
{
    internal NetLinkStep(string name, int? mtu, bool up)
    {
        Name = name;
        DesiredMtu = mtu;
        DesiredUp = up;
    }

    public string Name { get; }

    public int? DesiredMtu { get; }

    public bool DesiredUp { get; }

    /// <example><c>Net.Link("wg0").Mtu(1280)</c></example>
    public NetLinkStep Mtu(int mtu) => new(Name, DslArguments.Mtu(mtu), DesiredUp);

    /// <example><c>Net.Link("wg0").Up()</c></example>
    public NetLinkStep Up() => new(Name, DesiredMtu, true);

    public override string Description =>
        $"link {Name}{(DesiredMtu is { } m ? $" mtu {m}" : "")}{(DesiredUp ? " up" : "")}";

    public override IEnumerable<IFact> Reads => [NetRead.LinkFact(Name)];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var link = await NetRead.LinkAsync(host, Name, cancellationToken).ConfigureAwait(false);
        if (link is null)
        {
            return StepProbe.Blocked($"no link {Name}", $"link {Name} does not exist; create it first (e.g. Wg.Interface(\"{Name}\"))");
        }

        var observed = $"{Name} mtu {link.Mtu} {(link.Up ? "up" : "down")}";
        var args = new List<Arg>();
        if (DesiredMtu is { } mtu && link.Mtu != mtu)
        {
            args.AddRange(["mtu", mtu.ToString(CultureInfo.InvariantCulture)]);
        }

        if (DesiredUp && !link.Up)
        {
            args.Add("up");
        }

        Arg[] back = [.. args.Count > 0 && args[0].Reveal() == "mtu" ? new Arg[] { "mtu", link.Mtu.ToString(CultureInfo.InvariantCulture) } : [], .. DesiredUp && !link.Up ? new Arg[] { "down" } : []];
        return args.Count == 0 ? StepProbe.Satisfied(observed) : StepProbe.Act(observed, new RunCommand(new Command("ip", ["link", "set", "dev", Name, .. args]))
        {
            Undo = Reversal.By($"link {Name} back to {observed[(Name.Length + 1)..]}", NetRead.LinkState(Name), new Command("ip", ["link", "set", "dev", Name, .. back])),
        });
    }

    public override bool CanCutOffController => true;
}

/// <summary>Exactly the given addresses on a link (link-local addresses are left alone).</summary>
public sealed class NetAddressesStep : Step
{
    private readonly string _device;
    private readonly IReadOnlyList<string> _cidrs;

    internal NetAddressesStep(string device, IReadOnlyList<string> cidrs)
    {
        _device = device;
        _cidrs = cidrs;
    }

    public override string Description => $"addresses on {_device} exactly {string.Join(", ", _cidrs)}";

    public override string? Destroys => $"any other global address on {_device}";

    public override IEnumerable<IFact> Reads => [NetRead.LinkFact(_device), NetRead.AddressesFact(_device)];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        if (await NetRead.LinkAsync(host, _device, cancellationToken).ConfigureAwait(false) is null)
        {
            return StepProbe.Blocked($"no link {_device}", $"link {_device} does not exist");
        }

        var current = (await NetRead.AddressesAsync(host, _device, cancellationToken).ConfigureAwait(false))
            .Where(a => a.Scope != "link").ToList();
        var observed = current.Count == 0 ? $"no address on {_device}" : string.Join(", ", current.Select(a => a.Cidr));
        var read = NetRead.GlobalAddresses(_device);
        Command Addr(string verb, string cidr) => new("ip", ["addr", verb, cidr, "dev", _device]);
        // New addresses first: when the last IPv4 address leaves a link the kernel flushes every route through it, which
        // would take routes no step asked about (and that undo could not know to put back).
        var actions = _cidrs.Where(c => current.All(a => a.Cidr != c))
            .Select(c => new RunCommand(Addr("add", c)) { Undo = Reversal.By($"address {c} off {_device} again", read, Addr("del", c)) })
            .Concat(current.Where(a => !_cidrs.Contains(a.Cidr)).Select(a => new RunCommand(Addr("del", a.Cidr)) { Undo = Reversal.By($"address {a.Cidr} back on {_device}", read, Addr("add", a.Cidr)) }))
            .ToList();
        return actions.Count == 0 ? StepProbe.Satisfied(observed) : StepProbe.Act(observed, actions);
    }

    public override bool CanCutOffController => true;
}
