namespace Runbooks.Fleet;

/// <summary>
/// What a role sees of the constellation it is placed in: every machine with its address, tags and roles, and
/// the shared variables — for static service discovery ("the address of the database in mode primary").
/// </summary>
public sealed class ConstellationView
{
    private readonly IReadOnlyDictionary<string, string> _variables;

    internal ConstellationView(string? path, IReadOnlyList<ConstellationMachine> machines, IReadOnlyDictionary<string, string> variables)
    {
        Path = path;
        Machines = machines;
        _variables = variables;
    }

    /// <summary>No constellation: the runbook runs alone.</summary>
    public static ConstellationView Empty { get; } = new(null, [], new Dictionary<string, string>());

    /// <summary>The constellation file, or null when the runbook runs alone.</summary>
    /// <example><c>var inFleet = Constellation.Path is not null;</c></example>
    public string? Path { get; }

    /// <summary>Every machine of the constellation (not only the selected ones), in declaration order.</summary>
    /// <example><c>var peers = Constellation.Machines.Where(m => m.Tags.Contains("db")).Select(m => m.Address);</c></example>
    public IReadOnlyList<ConstellationMachine> Machines { get; }

    /// <summary>A constellation variable; a missing one is an error naming the variables there are.</summary>
    /// <example><c>var domain = Constellation.Var("domain");</c></example>
    public string Var(string name) =>
        _variables.TryGetValue(name, out var value) ? value
        : throw new InvalidRunbookException(Path is null
            ? $"Constellation.Var(\"{name}\"): this runbook runs alone, not in a constellation; run it through its *.constellation.csx"
            : $"Constellation.Var(\"{name}\"): {Path} has no variable '{name}' (variables: {(_variables.Count == 0 ? "none" : string.Join(", ", _variables.Keys))})");

    /// <summary>
    /// The one machine playing <paramref name="role"/> with the given parameters; none or several is an error
    /// naming the placements there are, found before anything runs.
    /// </summary>
    /// <example><c>Constellation.MachineWith("database", ("mode", "primary")).Address</c></example>
    public ConstellationMachine MachineWith(string role, params (string Name, string Value)[] where)
    {
        var matches = Machines.Where(m => m.Roles.Any(r => r.Role == role && where.All(w => r.Parameters.TryGetValue(w.Name, out var v) && v == w.Value))).ToList();
        if (matches.Count == 1)
        {
            return matches[0];
        }

        var wanted = $"role '{role}'{(where.Length == 0 ? "" : " with " + string.Join(", ", where.Select(w => $"{w.Name} = {w.Value}")))}";
        var placed = Machines.SelectMany(m => m.Roles.Where(r => r.Role == role).Select(r => $"{m.Name}{(r.Parameters.Count == 0 ? "" : " (" + string.Join(", ", r.Parameters.Select(p => $"{p.Key} = {p.Value}")) + ")")}")).ToList();
        throw new InvalidRunbookException(Path is null
            ? $"Constellation.MachineWith({wanted}): this runbook runs alone, not in a constellation; run it through its *.constellation.csx"
            : $"Constellation.MachineWith: {(matches.Count == 0 ? "no machine" : $"{matches.Count} machines ({string.Join(", ", matches.Select(m => m.Name))})")} in {Path} play{(matches.Count == 0 ? "s" : "")} {wanted}; expected exactly one (placements of '{role}': {(placed.Count == 0 ? "none" : string.Join("; ", placed))})");
    }
}

/// <summary>A machine as roles see it.</summary>
/// <example><c>var primary = Constellation.MachineWith("database", ("mode", "primary")); var url = $"postgres://{primary.Address}:5432";</c></example>
/// <param name="Name">Its canonical name.</param>
/// <param name="Uri">The transport URI it is reached at: <c>ssh://root@10.0.0.2:22</c>.</param>
/// <param name="Address">The network address in that URI (<c>10.0.0.2</c>); the namespace's name for <c>netns:</c>, <c>localhost</c> for <c>local</c>.</param>
/// <param name="Tags">Its groups.</param>
/// <param name="Roles">The roles placed on it, with their parameters.</param>
public sealed record ConstellationMachine(string Name, string Uri, string Address, IReadOnlyList<string> Tags, IReadOnlyList<Placement> Roles);

/// <summary>The role a runbook plays on a machine, and its parameters.</summary>
public sealed class RoleContext
{
    private readonly IReadOnlyList<IReadOnlyDictionary<string, string>> _scopes;

    internal RoleContext(string? name, string? machine, IReadOnlyList<IReadOnlyDictionary<string, string>> scopes)
    {
        Name = name;
        Machine = machine;
        _scopes = scopes;
    }

    /// <summary>A runbook run alone: no role, no parameters.</summary>
    public static RoleContext Alone { get; } = new(null, null, []);

    /// <summary>The role's name, or null when the runbook runs alone.</summary>
    /// <example><c>File.Content("/etc/motd", $"role {Role.Name}\n")</c></example>
    public string? Name { get; }

    /// <summary>The machine the role is placed on, or null when the runbook runs alone.</summary>
    /// <example><c>File.Content("/srv/www/index.html", $"served by {Role.Machine ?? "this host"}\n")</c></example>
    public string? Machine { get; }

    /// <summary>A parameter: the placement's, else the machine's variable, else the constellation's. Missing is an error.</summary>
    /// <example><c>var mode = Role.Param("mode");</c></example>
    public string Param(string name) =>
        Find(name) ?? throw new InvalidRunbookException(Name is null
            ? $"Role.Param(\"{name}\"): this runbook runs alone, so nothing gives '{name}'; run it through a constellation or use Role.Param(\"{name}\", fallback)"
            : $"Role.Param(\"{name}\"): role '{Name}' on {Machine} has no parameter '{name}' (give it in the constellation: .Runs(\"{Name}\", (\"{name}\", \"…\")))");

    /// <summary>A parameter, or <paramref name="fallback"/> when nothing gives it (always, when the runbook runs alone).</summary>
    /// <example><c>var port = int.Parse(Role.Param("port", "8080"));</c></example>
    public string Param(string name, string fallback) => Find(name) ?? fallback;

    private string? Find(string name) => _scopes.Select(s => s.TryGetValue(name, out var value) ? value : null).FirstOrDefault(v => v is not null);
}
