using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>iptables and ip6tables: rules present or absent, chain policies, whole-chain flushes.</summary>
public static partial class Firewall
{
    /// <summary>A rule in a chain (table <c>filter</c> unless given); build it, then <c>.Present()</c>/<c>.Absent()</c>.</summary>
    /// <example><c>Firewall.Rule(IpFamily.V4, "INPUT").WithProtocol("tcp").Port(8080).Jump("DROP").Absent()</c></example>
    public static FirewallRule Rule(IpFamily family, string chain, string table = "filter") => new(family, DslArguments.Chain(table), DslArguments.Chain(chain));

    /// <summary>A chain, to set its policy or flush it.</summary>
    /// <example><c>Firewall.Chain(IpFamily.V6, "INPUT").Policy("ACCEPT")</c></example>
    public static FirewallChainRef Chain(IpFamily family, string chain, string table = "filter") => new(family, DslArguments.Chain(table), DslArguments.Chain(chain));

    internal static string Tool(IpFamily family) => family == IpFamily.V6 ? "ip6tables" : "iptables";

    internal static Command Save(IpFamily family, string table) =>
        new Command(Tool(family) + "-save", ["-t", table]).AsReadOnly().WithTimeout(TimeSpan.FromSeconds(20)).WithFactView(WithoutClockAndCounters);

    /// <summary>
    /// The rules and policies only: iptables-save stamps each dump with the time ("# Generated … on …") and chain
    /// counters ("[12:3456]") move with every packet, so neither may make a saved plan look out of date.
    /// </summary>
    internal static string WithoutClockAndCounters(string save) =>
        string.Join('\n', save.Split('\n').Where(line => !line.StartsWith('#')).Select(line => line.StartsWith(':') ? Counters().Replace(line, "") : line));

    [System.Text.RegularExpressions.GeneratedRegex(@"\s*\[\d+:\d+\]\s*$")]
    private static partial System.Text.RegularExpressions.Regex Counters();

    /// <summary>
    /// One chain as <c>iptables -S</c> lists it (policy and rules, no counters): the state every firewall reversal
    /// compares, so undo refuses when anything in the chain changed since the run.
    /// </summary>
    internal static Command ChainListing(IpFamily family, string table, string chain) =>
        new Command(Tool(family), ["-t", table, "-S", chain]).AsReadOnly().WithTimeout(TimeSpan.FromSeconds(20));

    internal static RunCommand Reversible(Command command, string description, Command read, params Command[] inverse) =>
        new(command) { Undo = Reversal.By(description, read, inverse) };

    /// <summary>A table's chains, policies and rules, from <c>iptables-save -t TABLE</c>.</summary>
    internal static Fact<FirewallState> Table(IpFamily family, string table) => new(Save(family, table), r => FirewallParser.Parse(family, r.StandardOutput));

    internal static Task<FirewallState> ReadAsync(HostContext host, IpFamily family, string table, CancellationToken cancellationToken) =>
        host.FactAsync(Table(family, table), cancellationToken);
}

/// <summary>A chain of a table.</summary>
public sealed record FirewallChainRef(IpFamily Family, string Table, string Name)
{
    /// <summary>The built-in chain's policy (ACCEPT or DROP).</summary>
    /// <example><c>Firewall.Chain(IpFamily.V6, "INPUT").Policy("ACCEPT")</c></example>
    public Step Policy(string policy) =>
        new FirewallPolicyStep(this, policy is "ACCEPT" or "DROP" ? policy : throw new ArgumentException($"policy '{policy}' must be ACCEPT or DROP", nameof(policy)));

    /// <summary>Destructive: removes every rule of the chain; the plan lists each rule that goes.</summary>
    /// <example><c>Firewall.Chain(IpFamily.V6, "INPUT").Flush()</c></example>
    public Step Flush() => new FirewallFlushStep(this);
}

/// <summary>A rule present (appended or at a position) or absent.</summary>
public sealed class FirewallRuleStep : Step
{
    internal enum Want
    {
        Appended,
        AtPosition,
        Absent,
    }

    private readonly FirewallRule _rule;
    private readonly Want _want;
    private readonly int _position;

    internal FirewallRuleStep(FirewallRule rule, Want want, int position)
    {
        _rule = rule;
        _want = want;
        _position = position;
    }

    public override string Description => _want switch
    {
        Want.Absent => $"no rule `{_rule}`",
        Want.AtPosition => $"rule `{_rule}` at position {_position}",
        _ => $"rule `{_rule}` present",
    };

    public override string? Destroys => _want == Want.Absent ? $"every copy of `{_rule}`" : null;

    public override IEnumerable<ResourceClaim> Claims => [new("firewall-rule", $"`{_rule}`", _want == Want.Absent ? "absent" : "present")];
    public override bool CanCutOffController => true;

    public override IEnumerable<IFact> Reads => [Firewall.Table(_rule.Family, _rule.Table)];

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var state = await Firewall.ReadAsync(host, _rule.Family, _rule.Table, cancellationToken).ConfigureAwait(false);
        if (state.Chain(_rule.Table, _rule.Chain) is null)
        {
            return StepProbe.Blocked($"no chain {_rule.Chain} in table {_rule.Table}", $"chain {_rule.Chain} does not exist in {Firewall.Tool(_rule.Family)} table {_rule.Table}");
        }

        var chain = state.RulesIn(_rule.Table, _rule.Chain).ToList();
        var positions = chain.Select((r, i) => (r, i + 1)).Where(x => x.r.SameAs(_rule)).Select(x => x.Item2).ToList();
        var observed = chain.Count == 0 ? $"{_rule.Chain} has no rules" : $"{_rule.Chain}:\n  " + string.Join("\n  ", chain.Select(r => r.Render()));
        var tool = Firewall.Tool(_rule.Family);
        var listing = Firewall.ChainListing(_rule.Family, _rule.Table, _rule.Chain);
        Command Delete() => new(tool, ["-t", _rule.Table, "-D", _rule.Chain, .. _rule.Arguments().Select(Arg.FromString)]);
        Command Insert(int position) => new(tool, ["-t", _rule.Table, "-I", _rule.Chain, position.ToString(CultureInfo.InvariantCulture), .. _rule.Arguments().Select(Arg.FromString)]);

        // `-D` removes the first copy each time; undone newest first, copy k goes back where it was, less the k-1
        // earlier copies still missing at that moment.
        List<StepAction> Deletions() => [.. positions.Select((p, k) => (StepAction)Firewall.Reversible(Delete(), $"rule {_rule.Render()} back at position {p - k} of {_rule.Chain}", listing, Insert(p - k)))];
        StepAction Add(Command add) => Firewall.Reversible(add, $"rule {_rule.Render()} removed again", listing, Delete());
        switch (_want)
        {
            case Want.Absent:
                // The author meant "nothing here does this", not "no line spelled exactly so": a multiport or port-range rule
                // that still drops the port would otherwise leave the step satisfied while the port stays blocked.
                var alike = chain.Select((r, i) => (r, i + 1)).Where(x => x.r.AlsoDoes(_rule)).ToList();
                if (alike.Count > 0)
                {
                    return StepProbe.Blocked(observed, [.. alike.Select(x =>
                        $"rule {x.Item2} of {_rule.Chain}, `{x.r.Render()}`, also sends {_rule.Protocol ?? "this traffic"}{(_rule.DestinationPort is { } p ? $"/{p}" : "")} to {_rule.Target}; " +
                        "this step removes only the rule spelled exactly as asked: remove or narrow that rule with its own Firewall.Rule(…), then run again")]);
                }

                return positions.Count == 0
                    ? StepProbe.Satisfied(observed)
                    : StepProbe.Act(observed, Deletions()) with { Notes = [.. positions.Select(p => $"removes rule {p} of {_rule.Chain}: {_rule.Render()}")] };
            case Want.Appended:
                return positions.Count > 0
                    ? StepProbe.Satisfied(observed)
                    : StepProbe.Act(observed, Add(new Command(tool, ["-t", _rule.Table, "-A", _rule.Chain, .. _rule.Arguments().Select(Arg.FromString)])));
            default:
                if (positions.Contains(_position))
                {
                    return StepProbe.Satisfied(observed);
                }

                return StepProbe.Act(observed, [.. Deletions(), Add(Insert(_position))]);
        }
    }
}

/// <summary>A built-in chain's policy.</summary>
public sealed class FirewallPolicyStep : Step
{
    private readonly FirewallChainRef _chain;
    private readonly string _policy;

    internal FirewallPolicyStep(FirewallChainRef chain, string policy)
    {
        _chain = chain;
        _policy = policy;
    }

    public override string Description => $"{Firewall.Tool(_chain.Family)} {_chain.Table}/{_chain.Name} policy {_policy}";

    public override IEnumerable<IFact> Reads => [Firewall.Table(_chain.Family, _chain.Table)];

    public override bool CanCutOffController => true;

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var state = await Firewall.ReadAsync(host, _chain.Family, _chain.Table, cancellationToken).ConfigureAwait(false);
        var chain = state.Chain(_chain.Table, _chain.Name);
        if (chain?.Policy is null)
        {
            return StepProbe.Blocked($"no built-in chain {_chain.Name}", $"{_chain.Name} is not a built-in chain of table {_chain.Table}; only those have a policy");
        }

        return chain.Policy == _policy
            ? StepProbe.Satisfied($"policy {chain.Policy}")
            : StepProbe.Act($"policy {chain.Policy}", Firewall.Reversible(
                new Command(Firewall.Tool(_chain.Family), ["-t", _chain.Table, "-P", _chain.Name, _policy]),
                $"policy of {_chain.Name} back to {chain.Policy}",
                Firewall.ChainListing(_chain.Family, _chain.Table, _chain.Name),
                new Command(Firewall.Tool(_chain.Family), ["-t", _chain.Table, "-P", _chain.Name, chain.Policy])));
    }
}

/// <summary>Destructive: the chain emptied. The plan lists every rule it removes.</summary>
public sealed class FirewallFlushStep : Step
{
    private readonly FirewallChainRef _chain;

    internal FirewallFlushStep(FirewallChainRef chain) => _chain = chain;

    public override string Description => $"{Firewall.Tool(_chain.Family)} {_chain.Table}/{_chain.Name} has no rules";

    public override IEnumerable<IFact> Reads => [Firewall.Table(_chain.Family, _chain.Table)];

    public override string? Destroys => $"every rule of {Firewall.Tool(_chain.Family)} {_chain.Table}/{_chain.Name} (listed in the plan)";

    public override bool CanCutOffController => true;

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var state = await Firewall.ReadAsync(host, _chain.Family, _chain.Table, cancellationToken).ConfigureAwait(false);
        var rules = state.RulesIn(_chain.Table, _chain.Name).ToList();
        if (rules.Count == 0)
        {
            return StepProbe.Satisfied($"{_chain.Name} has no rules");
        }

        var tool = Firewall.Tool(_chain.Family);
        var flush = Firewall.Reversible(new Command(tool, ["-t", _chain.Table, "-F", _chain.Name]), $"the {rules.Count} rule(s) of {_chain.Name} appended back in order",
            Firewall.ChainListing(_chain.Family, _chain.Table, _chain.Name),
            [.. rules.Select(r => new Command(tool, ["-t", _chain.Table, "-A", _chain.Name, .. r.Arguments().Select(Arg.FromString)]))]);
        return StepProbe.Act($"{_chain.Name} has {rules.Count} rule(s)", flush) with
        {
            Notes = [.. rules.Select((r, i) => $"removes rule {i + 1}: {r.Render()}")],
        };
    }
}
