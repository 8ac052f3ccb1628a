using System.Collections.Immutable;
using System.Text.Json;

namespace Runbooks.Dsl;

/// <summary>A link as <c>ip -j link</c> reports it.</summary>
public sealed record NetLinkState(string Name, int Mtu, bool Up, string OperState);

/// <summary>An address on a link, as <c>ip -j addr</c> reports it: <c>192.168.0.2/32</c>.</summary>
public sealed record NetAddressState(string Device, string Cidr, bool IsIpv6, string Scope);

/// <summary>A route as <c>ip -j route</c> reports it, destination always with its prefix (<c>192.168.0.1/32</c>, <c>default</c>).</summary>
public sealed record NetRouteState(string Destination, string? Gateway, string? Device, string? Protocol)
{
    public string Render() => $"{Destination}{(Gateway is null ? "" : $" via {Gateway}")}{(Device is null ? "" : $" dev {Device}")}";
}

/// <summary>Parsers for iproute2's JSON output (<c>ip -j</c>).</summary>
public static class NetParser
{
    /// <example><c>NetParser.Links(result.StandardOutput)</c></example>
    public static ImmutableArray<NetLinkState> Links(string json) =>
        [.. Array(json).Select(l => new NetLinkState(
            l.GetProperty("ifname").GetString()!,
            l.TryGetProperty("mtu", out var mtu) ? mtu.GetInt32() : 0,
            l.TryGetProperty("flags", out var flags) && flags.EnumerateArray().Any(f => f.GetString() == "UP"),
            l.TryGetProperty("operstate", out var state) ? state.GetString() ?? "" : ""))];

    /// <example><c>NetParser.Addresses(result.StandardOutput)</c></example>
    public static ImmutableArray<NetAddressState> Addresses(string json) =>
        [.. Array(json).SelectMany(l => l.TryGetProperty("addr_info", out var info)
            ? info.EnumerateArray().Where(a => a.TryGetProperty("local", out _)).Select(a => new NetAddressState(
                l.GetProperty("ifname").GetString()!,
                $"{a.GetProperty("local").GetString()}/{a.GetProperty("prefixlen").GetInt32()}",
                a.GetProperty("family").GetString() == "inet6",
                a.TryGetProperty("scope", out var scope) ? scope.GetString() ?? "" : ""))
            : [])];

    /// <example><c>NetParser.Routes(result.StandardOutput)</c></example>
    public static ImmutableArray<NetRouteState> Routes(string json) =>
        [.. Array(json).Select(r => new NetRouteState(
            WithPrefix(r.GetProperty("dst").GetString()!),
            r.TryGetProperty("gateway", out var gw) ? gw.GetString() : null,
            r.TryGetProperty("dev", out var dev) ? dev.GetString() : null,
            r.TryGetProperty("protocol", out var proto) ? proto.GetString() : null))];

    /// <summary><c>ip -j route</c> prints host routes without a prefix ("192.168.0.1"); give them /32 or /128.</summary>
    private static string WithPrefix(string destination) =>
        destination == "default" || destination.Contains('/', StringComparison.Ordinal) ? destination
        : destination.Contains(':', StringComparison.Ordinal) ? destination + "/128" : destination + "/32";

    private static IEnumerable<JsonElement> Array(string json)
    {
        // `ip -j … show to exact X` prints nothing at all (not "[]") on some iproute2 versions when nothing matches.
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }

        using var document = JsonDocument.Parse(json);
        return [.. document.RootElement.EnumerateArray().Select(e => e.Clone())];
    }
}
