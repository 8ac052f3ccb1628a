using Runbooks.Scripting;

namespace Runbooks.Fleet;

/// <summary>Loads a <c>*.constellation.csx</c> file: compiled by the runbook compiler against <see cref="ConstellationGlobals"/>, then checked.</summary>
public static class ConstellationFile
{
    /// <summary>The file name ending that makes a script a constellation for <c>plan</c> and <c>run</c>.</summary>
    public const string Suffix = ".constellation.csx";

    public static ScriptKind Kind { get; } = new("constellation", typeof(ConstellationGlobals), ["Runbooks.Fleet"]);

    public static bool IsConstellation(string path) => path.EndsWith(Suffix, StringComparison.Ordinal);

    /// <summary>
    /// Runs the file's body (it only declares) and checks what can be checked without the roles' runbooks: a role
    /// placed that is not declared, a role's runbook that is not there, a file that defines targets.
    /// </summary>
    public static async Task<Constellation> LoadAsync(string path, Func<ScriptSource, CompiledRunbook> compile, CompileCache? cache)
    {
        var loaded = LoadedRunbook.Load(path, compile, cache, Kind);
        var globals = new ConstellationGlobals(loaded.Source.Path);
        await loaded.DefineAsync(globals).ConfigureAwait(false);
        var constellation = globals.Build(loaded.Source.TextHash);
        var problems = new List<string>();
        if (globals.Targets.Count > 0)
        {
            problems.Add($"{globals.Targets[0].DefinedAt ?? constellation.Path}: a constellation places roles on machines and defines no targets; move target '{globals.Targets[0].Name}' into a role's runbook");
        }

        if (constellation.Machines.Count == 0)
        {
            problems.Add($"{constellation.Path}: no machines; declare one with Machine(\"name\", \"ssh://root@host\").Runs(\"role\")");
        }

        var roles = constellation.Roles.ToDictionary(r => r.Name, StringComparer.Ordinal);
        foreach (var machine in constellation.Machines)
        {
            foreach (var placement in machine.Placements)
            {
                if (!roles.ContainsKey(placement.Role))
                {
                    problems.Add($"{placement.DeclaredAt ?? constellation.Path}: machine '{machine.Name}' runs role '{placement.Role}', which is not declared (roles: {(roles.Count == 0 ? "none" : string.Join(", ", roles.Keys))}); add Role(\"{placement.Role}\", \"path/to/runbook.csx\")");
                }
            }

            foreach (var twice in machine.Placements.GroupBy(p => p.Role).Where(g => g.Count() > 1))
            {
                problems.Add($"{twice.Last().DeclaredAt ?? constellation.Path}: machine '{machine.Name}' runs role '{twice.Key}' twice; one placement per role and machine");
            }
        }

        foreach (var role in constellation.Roles.Where(r => !System.IO.File.Exists(r.RunbookPath)))
        {
            problems.Add($"{role.DeclaredAt ?? constellation.Path}: role '{role.Name}': runbook {role.RunbookPath} does not exist");
        }

        return problems.Count > 0 ? throw new InvalidRunbookException(problems) : constellation;
    }
}
