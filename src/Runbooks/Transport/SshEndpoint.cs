using System.Text.RegularExpressions;

namespace Runbooks.Transport;

/// <summary>Where an SSH host is: user, host name or address, port. Parsed from <c>ssh://user@host:port</c>.</summary>
/// <example><c>var endpoint = SshEndpoint.Parse("ssh://root@10.0.0.5:22");</c></example>
public sealed partial record SshEndpoint(string User, string Host, int Port)
{
    /// <summary>
    /// Parses <c>ssh://[user@]host[:port]</c>; user defaults to <c>root</c> (runbooks repair machines as root),
    /// port to 22. IPv6 addresses go in brackets: <c>ssh://root@[fd00::1]:22</c>.
    /// </summary>
    public static SshEndpoint Parse(string uri)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uri);
        var match = UriPattern().Match(uri);
        if (!match.Success)
        {
            throw new ArgumentException($"'{uri}' is not an SSH address; write it as ssh://user@host:port (e.g. ssh://root@10.0.0.5:22)", nameof(uri));
        }

        var user = match.Groups["user"].Success ? match.Groups["user"].Value : "root";
        var host = match.Groups["v6"].Success ? match.Groups["v6"].Value : match.Groups["host"].Value;
        var port = 22;
        if (match.Groups["port"].Success && (!int.TryParse(match.Groups["port"].Value, out port) || port is < 1 or > 65535))
        {
            throw new ArgumentException($"'{uri}' has port '{match.Groups["port"].Value}', which is not 1..65535", nameof(uri));
        }

        return new SshEndpoint(user, host, port);
    }

    /// <summary>The host as known_hosts writes it: <c>host</c> on port 22, <c>[host]:port</c> otherwise.</summary>
    public string KnownHostsName => Port == 22 ? Host : $"[{Host}]:{Port}";

    public override string ToString() => $"{User}@{(Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host)}:{Port}";

    [GeneratedRegex(@"^ssh://(?:(?<user>[A-Za-z_][A-Za-z0-9_.-]*)@)?(?:\[(?<v6>[0-9A-Fa-f:.]+)\]|(?<host>[A-Za-z0-9.-]+))(?::(?<port>[0-9]+))?/?$")]
    private static partial Regex UriPattern();
}
