using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Runbooks.Commands;

namespace Runbooks.Dsl;

/// <summary>A <c>[Peer]</c> of a wg-quick config, with every key resolved.</summary>
public sealed record WgPeerConfig(string PublicKey, ImmutableArray<string> AllowedIps, string? Endpoint = null, int? PersistentKeepalive = null);

/// <summary>
/// A wg-quick config file (<c>/etc/wireguard/IF.conf</c>). The private key is either inline (a
/// <see cref="Secret"/>) or, as this project writes it, kept in its own mode-600 file and loaded by
/// <c>PostUp = wg set %i private-key FILE</c> so the config itself holds no secret.
/// </summary>
public sealed record WgConfig(
    ImmutableArray<string> Addresses,
    int? ListenPort,
    int? Mtu,
    Secret? PrivateKey,
    string? PrivateKeyFile,
    ImmutableArray<WgPeerConfig> Peers)
{
    /// <summary>The file text, in the key order wg-quick documents.</summary>
    public string Render()
    {
        var text = new StringBuilder();
        text.Append("# Written by runbooks; the live interface is kept in step with this file.\n");
        text.Append("[Interface]\n");
        if (PrivateKey is not null)
        {
            text.Append("PrivateKey = ").Append(PrivateKey.Reveal()).Append('\n');
        }

        if (!Addresses.IsEmpty)
        {
            text.Append("Address = ").Append(string.Join(", ", Addresses)).Append('\n');
        }

        if (ListenPort is { } port)
        {
            text.Append("ListenPort = ").Append(port.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        if (Mtu is { } mtu)
        {
            text.Append("MTU = ").Append(mtu.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        if (PrivateKeyFile is not null)
        {
            text.Append("PostUp = wg set %i private-key ").Append(PrivateKeyFile).Append('\n');
        }

        foreach (var peer in Peers)
        {
            text.Append("\n[Peer]\nPublicKey = ").Append(peer.PublicKey).Append('\n');
            text.Append("AllowedIPs = ").Append(string.Join(", ", peer.AllowedIps)).Append('\n');
            if (peer.Endpoint is not null)
            {
                text.Append("Endpoint = ").Append(peer.Endpoint).Append('\n');
            }

            if (peer.PersistentKeepalive is { } keepalive)
            {
                text.Append("PersistentKeepalive = ").Append(keepalive.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        return text.ToString();
    }

    /// <summary>Parses a wg-quick config; keys it does not model (DNS, Table, PreUp …) are ignored.</summary>
    /// <example><c>WgConfig.Parse(System.IO.File.ReadAllText("wg0.conf"))</c></example>
    public static WgConfig Parse(string text)
    {
        var addresses = ImmutableArray.CreateBuilder<string>();
        var peers = ImmutableArray.CreateBuilder<WgPeerConfig>();
        int? listenPort = null, mtu = null;
        Secret? privateKey = null;
        string? privateKeyFile = null;
        WgPeerConfig? peer = null;
        string? section = null;
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = raw.Split('#')[0].Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                if (peer is not null)
                {
                    peers.Add(peer);
                    peer = null;
                }

                section = line[1..^1].Trim();
                if (section == "Peer")
                {
                    peer = new WgPeerConfig("", []);
                }
                else if (section != "Interface")
                {
                    throw new FormatException($"line {number}: unknown section [{section}]");
                }

                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0 || section is null)
            {
                throw new FormatException($"line {number}: expected 'Key = value' inside [Interface] or [Peer]");
            }

            var key = line[..equals].Trim().ToLowerInvariant();
            var value = line[(equals + 1)..].Trim();
            if (peer is null)
            {
                switch (key)
                {
                    case "address": addresses.AddRange(List(value)); break;
                    case "listenport": listenPort = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "mtu": mtu = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "privatekey": privateKey = Secret.Of(value); break;
                    case "postup" when value.StartsWith("wg set %i private-key ", StringComparison.Ordinal):
                        privateKeyFile = value["wg set %i private-key ".Length..].Trim();
                        break;
                }
            }
            else
            {
                peer = key switch
                {
                    "publickey" => peer with { PublicKey = value },
                    "allowedips" => peer with { AllowedIps = peer.AllowedIps.AddRange(List(value)) },
                    "endpoint" => peer with { Endpoint = value },
                    "persistentkeepalive" => peer with { PersistentKeepalive = value == "off" ? null : int.Parse(value, CultureInfo.InvariantCulture) },
                    _ => peer,
                };
            }
        }

        if (peer is not null)
        {
            peers.Add(peer);
        }

        return new WgConfig(addresses.ToImmutable(), listenPort, mtu, privateKey, privateKeyFile, peers.ToImmutable());
    }

    private static IEnumerable<string> List(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
