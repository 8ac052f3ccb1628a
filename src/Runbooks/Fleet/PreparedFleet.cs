using Runbooks.Engine;
using Runbooks.Scripting;
using Runbooks.Transport;

namespace Runbooks.Fleet;

/// <summary>
/// A constellation made ready to plan or run: every selected machine with the targets of all its roles in one
/// checked graph (named <c>role/target</c>) and its transport. Everything checkable is checked here, before any
/// host is touched, and reported at once: unknown roles, machines and tags, machines without an address, role
/// runbooks that do not compile or whose graph is broken, and resources two roles on one machine want two ways.
/// </summary>
public sealed class PreparedFleet : IAsyncDisposable
{
    private PreparedFleet(Constellation constellation, IReadOnlyList<FleetMachine> machines)
    {
        Constellation = constellation;
        Machines = machines;
    }

    public Constellation Constellation { get; }

    /// <summary>The selected machines, in the order the constellation declares them.</summary>
    public IReadOnlyList<FleetMachine> Machines { get; }

    /// <summary>
    /// Prepares the machines <paramref name="selectors"/> pick (<c>--on</c>). <paramref name="addresses"/> are the
    /// <c>--host</c>/<c>--inventory</c> entries, which give or override machine addresses; <paramref name="loadRunbook"/>
    /// compiles a role's runbook (once per file).
    /// </summary>
    public static async Task<PreparedFleet> PrepareAsync(
        Constellation constellation,
        IReadOnlyList<string> selectors,
        IReadOnlyList<(string Name, string Address, string Origin)> addresses,
        Func<string, LoadedRunbook> loadRunbook)
    {
        var problems = new List<string>();
        var selected = constellation.Select(selectors);
        var uris = Addresses(constellation, addresses, problems);
        var view = new ConstellationView(
            constellation.Path,
            [.. constellation.Machines.Select(m => new ConstellationMachine(m.Name, uris.GetValueOrDefault(m.Name, ""), NetworkAddress(uris.GetValueOrDefault(m.Name, "")), m.TagList, m.Placements))],
            constellation.Variables);
        var roles = constellation.Roles.ToDictionary(r => r.Name, StringComparer.Ordinal);
        var runbooks = new Dictionary<string, LoadedRunbook>(StringComparer.Ordinal);
        var machines = new List<FleetMachine>();
        foreach (var machine in selected)
        {
            var placed = new List<PlacedRole>();
            foreach (var placement in machine.Placements)
            {
                try
                {
                    placed.Add(await PlaceAsync(roles[placement.Role], placement, machine, constellation, view, runbooks, loadRunbook).ConfigureAwait(false));
                }
                catch (RunbookException ex)
                {
                    problems.Add($"machine '{machine.Name}', role '{placement.Role}' ({placement.DeclaredAt ?? constellation.Path}):{Environment.NewLine}  {ex.Message.Replace("\n", "\n  ", StringComparison.Ordinal)}");
                }
                catch (Exception ex) when (ex is ArgumentException or IOException)
                {
                    problems.Add($"machine '{machine.Name}', role '{placement.Role}' ({placement.DeclaredAt ?? constellation.Path}): {ex.Message}");
                }
            }

            problems.AddRange(Conflicts(machine.Name, placed));
            if (!uris.TryGetValue(machine.Name, out var uri) || placed.Count != machine.Placements.Count)
            {
                continue;
            }

            try
            {
                var targets = placed.SelectMany(p => p.Targets).ToList();
                machines.Add(new FleetMachine(machine.Name, uri, machine.TagList, placed, new TargetGraph(targets), [.. targets.Select(t => t.Name)]));
            }
            catch (RunbookException ex)
            {
                problems.Add($"machine '{machine.Name}': {ex.Message}");
            }
        }

        if (problems.Count > 0)
        {
            throw new InvalidRunbookException(problems);
        }

        // Transports last: a URI that does not parse is reported with the rest, and none is opened until a run.
        foreach (var machine in machines)
        {
            try
            {
                machine.Transport = TransportUri.Create(machine.Uri);
            }
            catch (Exception ex) when (ex is RunbookException or ArgumentException)
            {
                problems.Add($"machine '{machine.Name}' at {machine.Uri}: {ex.Message}");
            }
        }

        if (problems.Count > 0)
        {
            await DisposeAllAsync(machines).ConfigureAwait(false);
            throw new InvalidRunbookException(problems);
        }

        return new PreparedFleet(constellation, machines);
    }

    public ValueTask DisposeAsync() => DisposeAllAsync(Machines);

    private static async ValueTask DisposeAllAsync(IEnumerable<FleetMachine> machines)
    {
        foreach (var machine in machines)
        {
            if (machine.Transport is { } transport)
            {
                await transport.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Declared addresses, overridden by <c>--inventory</c> then <c>--host</c>; a <c>--host</c> naming no machine is an error.</summary>
    private static Dictionary<string, string> Addresses(Constellation constellation, IReadOnlyList<(string Name, string Address, string Origin)> given, List<string> problems)
    {
        var uris = constellation.Machines.Where(m => m.Address is not null).ToDictionary(m => m.Name, m => m.Address!, StringComparer.Ordinal);
        foreach (var (name, address, origin) in given)
        {
            if (constellation.Machines.All(m => m.Name != name))
            {
                // An inventory file may list the whole estate; a --host naming no machine is a typo.
                if (origin != "--host")
                {
                    continue;
                }

                problems.Add($"{origin}: no machine '{name}' in {constellation.Path} (machines: {string.Join(", ", constellation.Machines.Select(m => m.Name))})");
                continue;
            }

            uris[name] = address;
        }

        problems.AddRange(constellation.Machines.Where(m => !uris.ContainsKey(m.Name))
            .Select(m => $"{m.DeclaredAt ?? constellation.Path}: machine '{m.Name}' has no address; give one in Machine(\"{m.Name}\", \"ssh://root@host\"), --host {m.Name}=URI or --inventory"));
        return uris;
    }

    /// <summary>The network address inside a transport URI, for roles that connect to another machine.</summary>
    internal static string NetworkAddress(string uri) =>
        uri.StartsWith("ssh://", StringComparison.Ordinal) ? SshEndpoint.Parse(uri).Host
        : uri.StartsWith("netns:", StringComparison.Ordinal) ? uri["netns:".Length..].Split('?')[0]
        : uri == "local" ? "localhost"
        : uri;

    private static async Task<PlacedRole> PlaceAsync(
        RoleDefinition role,
        Placement placement,
        MachineDeclaration machine,
        Constellation constellation,
        ConstellationView view,
        Dictionary<string, LoadedRunbook> runbooks,
        Func<string, LoadedRunbook> loadRunbook)
    {
        if (!runbooks.TryGetValue(role.RunbookPath, out var runbook))
        {
            runbook = loadRunbook(role.RunbookPath);
            runbooks[role.RunbookPath] = runbook;
        }

        // The runbook's body runs once per placement, so each sees its own parameters; it only defines targets.
        var globals = new RunbookGlobals([])
        {
            Role = new RoleContext(role.Name, machine.Name, [placement.Parameters, machine.Variables, constellation.Variables]),
            Constellation = view,
        };
        await runbook.DefineAsync(globals).ConfigureAwait(false);
        var graph = new TargetGraph(globals.Targets);
        var order = graph.Order(role.Targets, skipDependencies: false);
        var elsewhere = order.Where(t => t.Host != Inventory.DefaultHost && t.Host != machine.Name).ToList();
        if (elsewhere.Count > 0)
        {
            throw new InvalidRunbookException(elsewhere.Select(t =>
                $"{t.DefinedAt ?? role.RunbookPath}: target '{t.Name}' runs .On(\"{t.Host}\"), but in a constellation a role's targets run on the machine it is placed on ({machine.Name}); drop the .On or make that part its own role"));
        }

        var inRole = order.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var renamed = order.Select(t => Rename(t, role.Name, machine.Name, inRole)).ToList();
        return new PlacedRole(role.Name, role.RunbookPath, placement.Parameters, renamed) { RunbookSha256 = runbook.Source.TextHash };
    }

    private static Target Rename(Target target, string role, string machine, HashSet<string> inRole)
    {
        var copy = new Target($"{role}/{target.Name}", target.Description, target.Dependencies.Where(inRole.Contains).Select(d => $"{role}/{d}"), target.Steps)
        {
            DefinedAt = target.DefinedAt,
        }.On(machine);
        foreach (var check in target.Requirements)
        {
            copy.Requires(check);
        }

        foreach (var check in target.Guarantees)
        {
            copy.Ensures(check);
        }

        return copy;
    }

    /// <summary>
    /// Resources two roles on one machine claim two ways (or an exclusive one both claim), from what each step
    /// declares it owns. A role is not checked against itself: its own steps are its author's to order.
    /// </summary>
    internal static IEnumerable<string> Conflicts(string machine, IReadOnlyList<PlacedRole> roles)
    {
        var claims = roles.SelectMany(r => r.Targets.SelectMany(t => t.Steps.Select((s, i) => (Role: r.Role, Target: t, Index: i, Step: s)))
            .SelectMany(x => x.Step.Claims.Select(c => (x.Role, x.Target, x.Index, x.Step, Claim: c))))
            .ToList();
        foreach (var resource in claims.GroupBy(c => (c.Claim.Kind, c.Claim.Key)))
        {
            var byRole = resource.GroupBy(c => c.Role, StringComparer.Ordinal).Select(g => g.First()).ToList();
            for (var i = 0; i < byRole.Count; i++)
            {
                for (var j = i + 1; j < byRole.Count; j++)
                {
                    var (a, b) = (byRole[i], byRole[j]);
                    if (a.Claim.Exclusive || b.Claim.Exclusive || a.Claim.Value != b.Claim.Value)
                    {
                        var why = a.Claim.Exclusive || b.Claim.Exclusive ? "both own" : "want different things of";
                        yield return $"machine '{machine}': roles '{a.Role}' and '{b.Role}' {why} {resource.Key.Kind} {resource.Key.Key}"
                            + $"{Environment.NewLine}  {a.Role}: {a.Claim.Value} (target '{a.Target.Name}' step {a.Index + 1}: {a.Step.Description}{At(a.Target)})"
                            + $"{Environment.NewLine}  {b.Role}: {b.Claim.Value} (target '{b.Target.Name}' step {b.Index + 1}: {b.Step.Description}{At(b.Target)})";
                    }
                }
            }
        }
    }

    private static string At(Target target) => target.DefinedAt is null ? "" : $", {target.DefinedAt}";
}

/// <summary>A role placed on a machine: its parameters and its targets, renamed <c>role/target</c> and bound to the machine.</summary>
public sealed record PlacedRole(string Role, string RunbookPath, IReadOnlyDictionary<string, string> Parameters, IReadOnlyList<Target> Targets)
{
    /// <summary>The SHA-256 of the role's runbook file, for a saved fleet plan.</summary>
    public string RunbookSha256 { get; init; } = "";
}

/// <summary>A selected machine, ready to plan or run.</summary>
public sealed class FleetMachine
{
    internal FleetMachine(string name, string uri, IReadOnlyList<string> tags, IReadOnlyList<PlacedRole> roles, TargetGraph graph, IReadOnlyList<string> targets)
    {
        Name = name;
        Uri = uri;
        Tags = tags;
        Roles = roles;
        Graph = graph;
        TargetNames = targets;
    }

    public string Name { get; }

    public string Uri { get; }

    public IReadOnlyList<string> Tags { get; }

    public IReadOnlyList<PlacedRole> Roles { get; }

    /// <summary>Every role's targets on this machine, one graph.</summary>
    public TargetGraph Graph { get; }

    public IReadOnlyList<string> TargetNames { get; }

    /// <summary>Made once every check passed; opened by the first command.</summary>
    public ITransport? Transport { get; internal set; }
}
