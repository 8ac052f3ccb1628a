using Runbooks.Scripting;

namespace Runbooks.Fleet;

/// <summary>
/// What a <c>*.constellation.csx</c> file sees: roles (runbooks, or named sets of their targets), machines with
/// their tags and the roles placed on them, and variables. It defines no targets of its own; the roles' runbooks do.
/// </summary>
public sealed class ConstellationGlobals : RunbookGlobals
{
    private readonly List<RoleDefinition> _roles = [];
    private readonly List<MachineDeclaration> _machines = [];
    private readonly Dictionary<string, string> _variables = new(StringComparer.Ordinal);

    public ConstellationGlobals(string path)
        : base([])
    {
        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>The constellation file's full path.</summary>
    /// <example><c>Var("source", Path);</c></example>
    public string Path { get; }

    /// <summary>The folder holding the constellation file; role runbooks are found relative to it.</summary>
    /// <example><c>Role("web", System.IO.Path.Combine(Here, "roles/web.csx"));</c></example>
    public string Here => System.IO.Path.GetDirectoryName(Path)!;

    internal IReadOnlyList<RoleDefinition> Roles => _roles;

    internal IReadOnlyList<MachineDeclaration> Machines => _machines;

    internal IReadOnlyDictionary<string, string> Variables => _variables;

    /// <summary>
    /// Declares a role: a runbook (relative to this file), or the named targets of it (with their dependencies).
    /// Hides the runbook's <c>Role</c> property: a constellation plays no role itself.
    /// </summary>
    /// <example><c>Role("database", "roles/database.csx");</c></example>
    public new RoleDefinition Role(string name, string runbook, params string[] targets)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runbook);
        var line = ScriptLine.Caller();
        if (_roles.Any(r => r.Name == name))
        {
            throw new ArgumentException($"role '{name}' is declared twice", nameof(name));
        }

        var role = new RoleDefinition(ConstellationNames.Check(name, "role"), System.IO.Path.GetFullPath(runbook, Here), [.. targets], line);
        _roles.Add(role);
        return role;
    }

    /// <summary>
    /// Declares a machine by its canonical name, with the transport URI it is reached at (<c>ssh://root@10.0.0.2</c>,
    /// <c>netns:NAME</c>, <c>local</c>). Without one, <c>--host NAME=URI</c> or <c>--inventory</c> gives it; they
    /// also override the one given here.
    /// </summary>
    /// <example><c>Machine("server-a", "ssh://root@10.0.0.1").Tags("web").Runs("reverse-proxy").Runs("app-server");</c></example>
    public MachineDeclaration Machine(string name, string? address = null)
    {
        if (_machines.Any(m => m.Name == name))
        {
            throw new ArgumentException($"machine '{name}' is declared twice", nameof(name));
        }

        var machine = new MachineDeclaration(ConstellationNames.Check(name, "machine"), address, ScriptLine.Caller());
        _machines.Add(machine);
        return machine;
    }

    /// <summary>A variable every role sees (<c>Constellation.Var("domain")</c>, and under its own parameters <c>Role.Param("domain")</c>).</summary>
    /// <example><c>Var("domain", "example.tld");</c></example>
    public void Var(string name, string value) => _variables[ConstellationNames.Check(name, "variable")] = value ?? throw new ArgumentNullException(nameof(value));

    internal Constellation Build(string textHash) => new(Path, _roles, _machines, _variables) { TextHash = textHash };
}
