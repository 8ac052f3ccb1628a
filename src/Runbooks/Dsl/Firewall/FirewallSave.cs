using System.Collections.Immutable;

namespace Runbooks.Dsl;

/// <summary>A chain and its policy (built-in chains) as <c>iptables-save</c> reports it.</summary>
public sealed record FirewallChain(string Table, string Name, string? Policy);

/// <summary>Everything one <c>iptables-save</c>/<c>ip6tables-save</c> printed: chains and rules in order.</summary>
public sealed record FirewallState(IpFamily Family, ImmutableArray<FirewallChain> Chains, ImmutableArray<FirewallRule> Rules)
{
    public IEnumerable<FirewallRule> RulesIn(string table, string chain) => Rules.Where(r => r.Table == table && r.Chain == chain);

    public FirewallChain? Chain(string table, string name) => Chains.FirstOrDefault(c => c.Table == table && c.Name == name);
}

/// <summary>Parses <c>iptables-save</c> and <c>ip6tables-save</c>.</summary>
public static class FirewallParser
{
    /// <example><c>FirewallParser.Parse(IpFamily.V6, result.StandardOutput)</c></example>
    public static FirewallState Parse(IpFamily family, string save)
    {
        var chains = ImmutableArray.CreateBuilder<FirewallChain>();
        var rules = ImmutableArray.CreateBuilder<FirewallRule>();
        string? table = null;
        foreach (var raw in save.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#' || line == "COMMIT")
            {
                continue;
            }

            switch (line[0])
            {
                case '*':
                    table = line[1..];
                    break;
                case ':':
                    var parts = line[1..].Split(' ');
                    chains.Add(new FirewallChain(table ?? throw new FormatException($"chain before any table: {line}"), parts[0], parts.Length > 1 && parts[1] != "-" ? parts[1] : null));
                    break;
                case '-':
                    rules.Add(FirewallRule.ParseSaveLine(family, table ?? throw new FormatException($"rule before any table: {line}"), line));
                    break;
                default:
                    throw new FormatException($"unexpected line in {(family == IpFamily.V6 ? "ip6tables" : "iptables")}-save output: {line}");
            }
        }

        return new FirewallState(family, chains.ToImmutable(), rules.ToImmutable());
    }
}
