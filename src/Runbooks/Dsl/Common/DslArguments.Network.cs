using System.Net;
using System.Text.RegularExpressions;

namespace Runbooks.Dsl;

/// <summary>The network nouns' part of the one argument validator (interfaces, addresses, ports, keys, chains).</summary>
internal static partial class DslArguments
{
    [GeneratedRegex("^[A-Za-z0-9_.=+-]{1,15}$")]
    private static partial Regex InterfaceNamePattern();

    [GeneratedRegex("^[a-z0-9_]+(\\.[a-z0-9_*-]+)+$")]
    private static partial Regex SysctlKeyPattern();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,28}$")]
    private static partial Regex ChainPattern();

    public static string InterfaceName(string name, string parameter = "name")
    {
        if (name is null || !InterfaceNamePattern().IsMatch(name) || name is "." or "..")
        {
            throw new ArgumentException($"interface name '{name}' is not valid: 1-15 characters of letters, digits, '_', '.', '=', '+', '-'", parameter);
        }

        return name;
    }

    /// <summary>A CIDR in canonical text (<c>192.168.0.1/32</c>); a bare address gets the host prefix.</summary>
    public static string Cidr(string cidr, string parameter = "cidr")
    {
        if (string.IsNullOrWhiteSpace(cidr))
        {
            throw new ArgumentException("a CIDR is required, e.g. 192.168.0.1/32", parameter);
        }

        if (cidr.Contains('/', StringComparison.Ordinal))
        {
            if (!IPNetwork.TryParse(cidr, out _) && !TryHostCidr(cidr, out _))
            {
                throw new ArgumentException($"'{cidr}' is not a valid CIDR (expected e.g. 192.168.0.1/32 or fdaa:3::2/128)", parameter);
            }

            var slash = cidr.IndexOf('/', StringComparison.Ordinal);
            return $"{IPAddress.Parse(cidr[..slash])}/{int.Parse(cidr[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture)}";
        }

        if (!IPAddress.TryParse(cidr, out var address))
        {
            throw new ArgumentException($"'{cidr}' is not a valid address or CIDR", parameter);
        }

        return $"{address}/{(address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128 : 32)}";
    }

    /// <summary>An interface address may have host bits set (192.168.0.1/24), which IPNetwork refuses.</summary>
    private static bool TryHostCidr(string cidr, out string canonical)
    {
        canonical = "";
        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        if (!IPAddress.TryParse(cidr[..slash], out var address) ||
            !int.TryParse(cidr[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var prefix))
        {
            return false;
        }

        var max = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128 : 32;
        if (prefix > max)
        {
            return false;
        }

        canonical = $"{address}/{prefix}";
        return true;
    }

    public static string Address(string address, string parameter = "address")
    {
        if (!IPAddress.TryParse(address, out var parsed) || address.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{address}' is not an IP address", parameter);
        }

        return parsed.ToString();
    }

    public static int Port(int port, string parameter = "port")
    {
        if (port is < 1 or > 65535)
        {
            throw new ArgumentException($"port {port} is out of range 1-65535", parameter);
        }

        return port;
    }

    public static int Mtu(int mtu, string parameter = "mtu")
    {
        if (mtu is < 576 or > 65535)
        {
            throw new ArgumentException($"MTU {mtu} is out of range 576-65535", parameter);
        }

        return mtu;
    }

    public static string SysctlKey(string key)
    {
        if (key is null || !SysctlKeyPattern().IsMatch(key))
        {
            throw new ArgumentException($"sysctl key '{key}' is not valid (expected dotted lower-case, e.g. net.ipv4.ip_forward)", nameof(key));
        }

        return key;
    }

    public static string Chain(string chain)
    {
        if (chain is null || !ChainPattern().IsMatch(chain))
        {
            throw new ArgumentException($"chain name '{chain}' is not valid", nameof(chain));
        }

        return chain;
    }
}
