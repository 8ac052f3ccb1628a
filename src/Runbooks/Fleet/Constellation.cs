namespace Runbooks.Fleet;

/// <summary>
/// Roles mapped to machines, independently of the hardware: which machines there are (canonical name → address),
/// what each is tagged with, which roles it plays with which parameters, and the variables roles share.
/// Built by a <c>*.constellation.csx</c> file; read-only once loaded.
/// </summary>
public sealed class Constellation
{
    internal Constellation(string path, IReadOnlyList<RoleDefinition> roles, IReadOnlyList<MachineDeclaration> machines, IReadOnlyDictionary<string, string> variables)
    {
        Path = path;
        Roles = roles;
        Machines = machines;
        Variables = variables;
    }

    /// <summary>Full path of the constellation file.</summary>
    public string Path { get; }

    /// <summary>A short content hash of the file, for the journal.</summary>
    public string TextHash { get; init; } = "";

    public IReadOnlyList<RoleDefinition> Roles { get; }

    public IReadOnlyList<MachineDeclaration> Machines { get; }

    /// <summary>Variables every role sees (<see cref="ConstellationView.Var"/>), under machine and placement parameters.</summary>
    public IReadOnlyDictionary<string, string> Variables { get; }

    /// <summary>
    /// The machines an <c>--on</c> selection names: <c>@tag</c> for every machine with the tag, or a machine's
    /// name; several joined with commas. No selection: every machine. An unknown tag or machine is an error
    /// naming the ones that exist.
    /// </summary>
    public IReadOnlyList<MachineDeclaration> Select(IReadOnlyList<string> selectors)
    {
        var words = selectors.SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (words.Count == 0)
        {
            return Machines;
        }

        var problems = new List<string>();
        var chosen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var word in words)
        {
            var matches = word.StartsWith('@')
                ? Machines.Where(m => m.TagList.Contains(word[1..], StringComparer.Ordinal)).ToList()
                : Machines.Where(m => m.Name == word).ToList();
            if (matches.Count == 0)
            {
                problems.Add(word.StartsWith('@')
                    ? $"--on {word}: no machine in {Path} has the tag '{word[1..]}' (tags: {Known(Machines.SelectMany(m => m.TagList).Select(t => "@" + t))})"
                    : $"--on {word}: no machine '{word}' in {Path} (machines: {Known(Machines.Select(m => m.Name))}; a tag is written @tag)");
            }

            chosen.UnionWith(matches.Select(m => m.Name));
        }

        return problems.Count > 0 ? throw new InvalidRunbookException(problems) : [.. Machines.Where(m => chosen.Contains(m.Name))];
    }

    private static string Known(IEnumerable<string> names) => names.Distinct(StringComparer.Ordinal).ToList() is { Count: > 0 } list ? string.Join(", ", list) : "none";
}

/// <summary>A role: a runbook, or a named set of its targets (none named: its <c>default</c> target, else all).</summary>
/// <param name="Name">How machines refer to it: <c>database</c>.</param>
/// <param name="RunbookPath">The runbook, as a full path.</param>
/// <param name="Targets">The targets that make up the role; empty for the runbook's default.</param>
/// <param name="DeclaredAt">The constellation line that declared it, <c>file(line,col)</c>.</param>
public sealed record RoleDefinition(string Name, string RunbookPath, IReadOnlyList<string> Targets, string? DeclaredAt);

/// <summary>A role on a machine with its parameters (<c>mode = primary</c>).</summary>
public sealed record Placement(string Role, IReadOnlyDictionary<string, string> Parameters, string? DeclaredAt);

/// <summary>A machine of a constellation, declared fluently: <c>Machine("server-b").Tags("db").Runs("database", ("mode", "primary"))</c>.</summary>
public sealed class MachineDeclaration
{
    private readonly List<string> _tags = [];
    private readonly List<Placement> _placements = [];
    private readonly Dictionary<string, string> _variables = new(StringComparer.Ordinal);

    internal MachineDeclaration(string name, string? address, string? declaredAt)
    {
        Name = name;
        Address = address;
        DeclaredAt = declaredAt;
    }

    /// <summary>The canonical name roles and <c>--on</c> use.</summary>
    /// <example><c>var a = Machine("server-a"); Var("edge", a.Name);</c></example>
    public string Name { get; }

    /// <summary>The transport URI given in the file (<c>ssh://root@10.0.0.2</c>), or null: <c>--host NAME=URI</c> or <c>--inventory</c> must give it.</summary>
    public string? Address { get; }

    public string? DeclaredAt { get; }

    public IReadOnlyList<string> TagList => _tags;

    public IReadOnlyList<Placement> Placements => _placements;

    /// <summary>Variables of this machine, seen by its roles under their own parameters.</summary>
    public IReadOnlyDictionary<string, string> Variables => _variables;

    /// <summary>Groups to select the machine with (<c>--on @lab</c>).</summary>
    /// <example><c>Machine("server-a").Tags("web", "lab")</c></example>
    public MachineDeclaration Tags(params string[] tags)
    {
        foreach (var tag in tags)
        {
            _tags.Add(ConstellationNames.Check(tag, "tag"));
        }

        return this;
    }

    /// <summary>Places a role on the machine, with its parameters for this machine.</summary>
    /// <example><c>Machine("server-b").Runs("database", ("mode", "primary"))</c></example>
    public MachineDeclaration Runs(string role, params (string Name, string Value)[] parameters)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in parameters)
        {
            if (!values.TryAdd(ConstellationNames.Check(name, "parameter"), value ?? throw new ArgumentNullException(nameof(parameters), $"parameter '{name}' of role '{role}' has no value")))
            {
                throw new ArgumentException($"parameter '{name}' is given twice for role '{role}' on {Name}", nameof(parameters));
            }
        }

        _placements.Add(new Placement(ConstellationNames.Check(role, "role"), values, Scripting.ScriptLine.Caller()));
        return this;
    }

    /// <summary>A variable of this machine, seen by every role on it.</summary>
    /// <example><c>Machine("server-a").Var("datacenter", "fra1")</c></example>
    public MachineDeclaration Var(string name, string value)
    {
        _variables[ConstellationNames.Check(name, "variable")] = value ?? throw new ArgumentNullException(nameof(value));
        return this;
    }

    public override string ToString() => Name;
}

internal static partial class ConstellationNames
{
    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    private static partial System.Text.RegularExpressions.Regex NamePattern();

    /// <summary>Machine, role, tag and parameter names: the inventory's rule, so a name is the same everywhere.</summary>
    public static string Check(string name, string what) =>
        name is not null && NamePattern().IsMatch(name) ? name : throw new ArgumentException($"{what} name '{name}' must be letters, digits, '.', '_' or '-'", what);
}
