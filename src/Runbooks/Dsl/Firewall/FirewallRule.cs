using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Text;

namespace Runbooks.Dsl;

/// <summary>Which tool: <c>iptables</c> (IPv4) or <c>ip6tables</c> (IPv6).</summary>
public enum IpFamily
{
    V4,
    V6,
}

/// <summary>
/// One iptables/ip6tables rule as a typed record. Written the way <c>iptables-save</c> prints rules, so a rule
/// from the DSL and a rule read from the host compare equal when the kernel would treat them the same
/// (<c>-s 10.1.2.3</c> is saved as <c>-s 10.1.2.3/32</c>, <c>-p udp --dport 1</c> as <c>-p udp -m udp --dport 1</c>).
/// </summary>
public sealed record FirewallRule(
    IpFamily Family,
    string Table,
    string Chain,
    string? Protocol = null,
    string? Source = null,
    string? Destination = null,
    string? InInterface = null,
    string? OutInterface = null,
    int? DestinationPort = null,
    string? Target = null,
    ImmutableArray<string> OtherMatches = default,
    ImmutableArray<string> TargetOptions = default)
{
    private ImmutableArray<string> Others => OtherMatches.IsDefault ? [] : OtherMatches;

    private ImmutableArray<string> TargetArgs => TargetOptions.IsDefault ? [] : TargetOptions;

    /// <example><c>.Protocol("udp")</c></example>
    public FirewallRule WithProtocol(string protocol) =>
        this with { Protocol = protocol is "tcp" or "udp" or "icmp" or "ipv6-icmp" or "all" ? protocol : throw new ArgumentException($"protocol '{protocol}' is not one of tcp, udp, icmp, ipv6-icmp, all", nameof(protocol)) };

    /// <example><c>.From("fdaa:3::3")</c></example>
    public FirewallRule From(string cidr) => this with { Source = FamilyCidr(cidr, nameof(cidr)) };

    /// <example><c>.To("192.168.0.1")</c></example>
    public FirewallRule To(string cidr) => this with { Destination = FamilyCidr(cidr, nameof(cidr)) };

    /// <example><c>.In("eth0")</c></example>
    public FirewallRule In(string device) => this with { InInterface = DslArguments.InterfaceName(device, nameof(device)) };

    /// <example><c>.Out("eth0")</c></example>
    public FirewallRule Out(string device) => this with { OutInterface = DslArguments.InterfaceName(device, nameof(device)) };

    /// <summary>Destination port; needs <c>.WithProtocol("tcp"|"udp")</c> first.</summary>
    /// <example><c>.WithProtocol("udp").Port(51820)</c></example>
    public FirewallRule Port(int port) =>
        Protocol is "tcp" or "udp" ? this with { DestinationPort = DslArguments.Port(port) } : throw new ArgumentException($"a destination port needs protocol tcp or udp first (rule in {Chain})", nameof(port));

    /// <summary>What the rule does: ACCEPT, DROP, REJECT (with options such as <c>--reject-with tcp-reset</c>), or a chain.</summary>
    /// <example><c>.Jump("REJECT", "--reject-with", "tcp-reset")</c></example>
    public FirewallRule Jump(string target, params string[] options) =>
        this with { Target = DslArguments.Chain(target), TargetOptions = [.. options] };

    /// <summary>The rule present, appended at the end of its chain.</summary>
    /// <example><c>Firewall.Rule(IpFamily.V6, "INPUT").WithProtocol("tcp").From("fdaa:3::3").Jump("REJECT", "--reject-with", "tcp-reset").Present()</c></example>
    public Engine.Step Present() => new FirewallRuleStep(Checked(), FirewallRuleStep.Want.Appended, 0);

    /// <summary>The rule present at a 1-based position of its chain (<c>-I CHAIN N</c>).</summary>
    /// <example><c>rule.PresentAt(1)</c></example>
    public Engine.Step PresentAt(int position) =>
        new FirewallRuleStep(Checked(), FirewallRuleStep.Want.AtPosition, position >= 1 ? position : throw new ArgumentException($"position {position} must be 1 or more", nameof(position)));

    /// <summary>No such rule in its chain: deletes every copy, naming each in the plan.</summary>
    /// <example><c>Firewall.Rule(IpFamily.V6, "INPUT").WithProtocol("udp").Port(51820).Jump("DROP").Absent()</c></example>
    public Engine.Step Absent() => new FirewallRuleStep(Checked(), FirewallRuleStep.Want.Absent, 0);

    /// <summary>The rule's arguments after <c>-A CHAIN</c>, in iptables-save order.</summary>
    public IReadOnlyList<string> Arguments()
    {
        var args = new List<string>();
        void Add(string flag, string? value)
        {
            if (value is not null)
            {
                args.Add(flag);
                args.Add(value);
            }
        }

        Add("-s", Source);
        Add("-d", Destination);
        Add("-i", InInterface);
        Add("-o", OutInterface);
        Add("-p", Protocol);
        if (DestinationPort is { } port)
        {
            args.AddRange(["-m", Protocol!, "--dport", port.ToString(CultureInfo.InvariantCulture)]);
        }

        args.AddRange(Others);
        Add("-j", Target);
        args.AddRange(TargetArgs);
        return args;
    }

    /// <summary>The rule as <c>iptables-save</c> would print it.</summary>
    public string Render() => $"-A {Chain} " + string.Join(' ', Arguments().Select(a => a.Any(char.IsWhiteSpace) ? $"\"{a}\"" : a));

    public bool SameAs(FirewallRule other) =>
        Family == other.Family && Table == other.Table && Chain == other.Chain && Arguments().SequenceEqual(other.Arguments());

    /// <summary>
    /// True when this rule, read from the host, also sends traffic that <paramref name="wanted"/> describes to the same
    /// target without being spelled the same: a <c>-m multiport --dports 8080,8443</c> or a port range holding the
    /// wanted port, or no port match at all, with nothing narrower than the wanted rule's own matches. Such a rule
    /// keeps doing what the author asked to be absent.
    /// </summary>
    internal bool AlsoDoes(FirewallRule wanted)
    {
        if (SameAs(wanted) || Family != wanted.Family || Table != wanted.Table || Chain != wanted.Chain || Target != wanted.Target
            || (Protocol is not null && Protocol != "all" && Protocol != wanted.Protocol)
            || !Within(Source, wanted.Source) || !Within(Destination, wanted.Destination)
            || !Within(InInterface, wanted.InInterface) || !Within(OutInterface, wanted.OutInterface))
        {
            return false;
        }

        var others = Others.ToList();
        var ports = PortsMatched(others, out var rest);
        if (rest.Count > 0)
        {
            return false; // another match (state, comment-free conntrack, owner…) narrows it: not provably the same traffic
        }

        return wanted.DestinationPort is not { } port
            ? DestinationPort is null && ports is null
            : DestinationPort == port || (DestinationPort is null && (ports is null || ports(port)));
    }

    private static bool Within(string? mine, string? theirs) => mine is null || mine == theirs;

    /// <summary>The port test of a multiport or range match (<c>-m multiport --dports 8080,9000:9010</c>), and what other matches remain.</summary>
    private static Func<int, bool>? PortsMatched(List<string> tokens, out List<string> rest)
    {
        rest = [];
        Func<int, bool>? test = null;
        for (var i = 0; i < tokens.Count; i++)
        {
            if (tokens[i] == "-m" && i + 1 < tokens.Count && tokens[i + 1] is "multiport" or "tcp" or "udp")
            {
                i++;
                continue;
            }

            if (tokens[i] is "--dports" or "--dport" && i + 1 < tokens.Count)
            {
                var spans = tokens[i + 1].Split(',').Select(p => p.Split(':')).Select(p => (Low: int.Parse(p[0], CultureInfo.InvariantCulture), High: int.Parse(p[^1], CultureInfo.InvariantCulture))).ToList();
                test = port => spans.Any(s => port >= s.Low && port <= s.High);
                i++;
                continue;
            }

            rest.Add(tokens[i]);
        }

        return test;
    }

    public override string ToString() => $"{(Family == IpFamily.V6 ? "ip6tables" : "iptables")} -t {Table} {Render()}";

    private FirewallRule Checked() =>
        Target is null ? throw new ArgumentException($"rule in {Chain} has no target: finish it with .Jump(\"DROP\"|\"ACCEPT\"|\"REJECT\")") : this;

    private string FamilyCidr(string cidr, string parameter)
    {
        var canonical = DslArguments.Cidr(cidr, parameter);
        var isV6 = IPAddress.Parse(canonical.Split('/')[0]).AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        if (isV6 != (Family == IpFamily.V6))
        {
            throw new ArgumentException($"'{cidr}' is an IPv{(isV6 ? 6 : 4)} address in an {(Family == IpFamily.V6 ? "ip6tables" : "iptables")} rule", parameter);
        }

        return canonical;
    }

    internal static FirewallRule ParseSaveLine(IpFamily family, string table, string line)
    {
        var tokens = Tokenize(line);
        if (tokens.Count < 2 || tokens[0] != "-A")
        {
            throw new FormatException($"not a rule line: {line}");
        }

        var rule = new FirewallRule(family, table, tokens[1]);
        var others = ImmutableArray.CreateBuilder<string>();
        for (var i = 2; i < tokens.Count; i++)
        {
            var token = tokens[i];
            var next = i + 1 < tokens.Count ? tokens[i + 1] : null;
            switch (token)
            {
                case "-s": rule = rule with { Source = next }; i++; break;
                case "-d": rule = rule with { Destination = next }; i++; break;
                case "-i": rule = rule with { InInterface = next }; i++; break;
                case "-o": rule = rule with { OutInterface = next }; i++; break;
                case "-p": rule = rule with { Protocol = next }; i++; break;
                case "-m" when next == rule.Protocol && i + 3 < tokens.Count && tokens[i + 2] == "--dport" && !tokens[i + 3].Contains(':', StringComparison.Ordinal):
                    rule = rule with { DestinationPort = int.Parse(tokens[i + 3], CultureInfo.InvariantCulture) };
                    i += 3;
                    break;
                case "-j":
                    return rule with { Target = next, OtherMatches = others.ToImmutable(), TargetOptions = [.. tokens.Skip(i + 2)] };
                default:
                    others.Add(token);
                    break;
            }
        }

        return rule with { OtherMatches = others.ToImmutable(), TargetOptions = [] };
    }

    private static List<string> Tokenize(string line)
    {
        var tokens = new List<string>();
        var current = new StringBuilder();
        var quoted = false;
        var any = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '\\' && quoted && i + 1 < line.Length)
            {
                current.Append(line[++i]);
            }
            else if (c == '"')
            {
                quoted = !quoted;
                any = true;
            }
            else if (c == ' ' && !quoted)
            {
                if (any || current.Length > 0)
                {
                    tokens.Add(current.ToString());
                }

                current.Clear();
                any = false;
            }
            else
            {
                current.Append(c);
            }
        }

        if (any || current.Length > 0)
        {
            tokens.Add(current.ToString());
        }

        return tokens;
    }
}
