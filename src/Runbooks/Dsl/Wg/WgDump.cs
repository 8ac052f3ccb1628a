using System.Collections.Immutable;
using System.Globalization;
using Runbooks.Commands;

namespace Runbooks.Dsl;

/// <summary>A peer as the live interface reports it (<c>wg show IF dump</c>, one tab-separated line).</summary>
public sealed record WgPeerState(
    string PublicKey,
    string? Endpoint,
    ImmutableArray<string> AllowedIps,
    DateTimeOffset? LatestHandshake,
    long ReceivedBytes,
    long SentBytes,
    int? PersistentKeepalive);

/// <summary>The live interface: its keys (the private key as a <see cref="Secret"/>), listen port and peers.</summary>
public sealed record WgInterfaceState(Secret? PrivateKey, string? PublicKey, int? ListenPort, ImmutableArray<WgPeerState> Peers)
{
    public WgPeerState? Peer(string publicKey) => Peers.FirstOrDefault(p => p.PublicKey == publicKey);

    /// <summary>The dump for people: the private key line never shows the key.</summary>
    public string Render()
    {
        var lines = new List<string> { $"interface: public key {PublicKey ?? "(none)"}, private key {(PrivateKey is null ? "(none)" : Secret.Mask)}, listening port {ListenPort?.ToString(CultureInfo.InvariantCulture) ?? "(none)"}" };
        lines.AddRange(Peers.Select(p =>
            $"peer {p.PublicKey}: endpoint {p.Endpoint ?? "(none)"}, allowed ips {(p.AllowedIps.IsEmpty ? "(none)" : string.Join(",", p.AllowedIps))}, " +
            $"latest handshake {(p.LatestHandshake is { } h ? h.ToString("u", CultureInfo.InvariantCulture) : "never")}, received {p.ReceivedBytes} B, sent {p.SentBytes} B, " +
            $"keepalive {p.PersistentKeepalive?.ToString(CultureInfo.InvariantCulture) ?? "off"}"));
        return string.Join("\n", lines);
    }
}

/// <summary>Parses <c>wg show IF dump</c>.</summary>
public static class WgDumpParser
{
    /// <summary>
    /// First line: private-key, public-key, listen-port, fwmark. Then per peer: public-key, preshared-key,
    /// endpoint, allowed-ips, latest-handshake (unix seconds, 0 = never), rx, tx, persistent-keepalive.
    /// </summary>
    /// <example><c>WgDumpParser.Parse(result.StandardOutput)</c></example>
    public static WgInterfaceState Parse(string dump)
    {
        var lines = dump.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length == 0)
        {
            throw new FormatException("`wg show dump` printed nothing");
        }

        var head = lines[0].Split('\t');
        if (head.Length != 4)
        {
            throw new FormatException($"`wg show dump` interface line has {head.Length} fields, expected 4");
        }

        // wg prints the private key in the dump: wrap it at once so every later rendering masks it.
        var privateKey = head[0] is "(none)" or "" ? null : Secret.Of(head[0]);
        var peers = lines.Skip(1).Select(ParsePeer).ToImmutableArray();
        return new WgInterfaceState(privateKey, None(head[1]), None(head[2]) is { } port && port != "0" ? int.Parse(port, CultureInfo.InvariantCulture) : null, peers);
    }

    private static WgPeerState ParsePeer(string line)
    {
        var f = line.Split('\t');
        if (f.Length != 8)
        {
            throw new FormatException($"`wg show dump` peer line has {f.Length} fields, expected 8");
        }

        var handshake = long.Parse(f[4], CultureInfo.InvariantCulture);
        return new WgPeerState(
            f[0],
            None(f[2]),
            None(f[3]) is { } ips ? [.. ips.Split(',', StringSplitOptions.RemoveEmptyEntries)] : [],
            handshake == 0 ? null : DateTimeOffset.FromUnixTimeSeconds(handshake),
            long.Parse(f[5], CultureInfo.InvariantCulture),
            long.Parse(f[6], CultureInfo.InvariantCulture),
            f[7] is "off" or "0" ? null : int.Parse(f[7], CultureInfo.InvariantCulture));
    }

    private static string? None(string field) => field is "(none)" or "" ? null : field;
}
