using Runbooks.Compiler;
using Runbooks.Engine;
using Runbooks.Scenarios;
using Runbooks.Scripting;

namespace Runbooks.Harness.Lifecycle;

/// <summary>
/// A scenario file, compiled and run: the backend and hosts, the break (a target graph), the specs, the
/// monitors and the runbook it proves. Everything checkable is checked here, before any host is created.
/// </summary>
public sealed class ScenarioDefinition
{
    internal ScenarioDefinition(string name, string path, BackendDeclaration backend, TargetGraph breakGraph, IReadOnlyList<Spec> specs,
        IReadOnlyList<ScenarioMonitor> monitors, string? runbook, double scale, IReadOnlyList<ScriptDiagnostic> warnings)
    {
        Name = name;
        Path = path;
        Backend = backend;
        Break = breakGraph;
        Specs = specs;
        Monitors = monitors;
        Runbook = runbook;
        Scale = scale;
        Warnings = warnings;
    }

    /// <summary>The file name without <c>.scenario.csx</c>: the name in reports and on the command line.</summary>
    public string Name { get; }

    /// <summary>Full path of the scenario file.</summary>
    public string Path { get; }

    public BackendDeclaration Backend { get; }

    /// <summary>The backend that creates (or re-attaches to) this scenario's hosts.</summary>
    public IBackend CreateBackend() => Backend.CreateBackend();

    /// <summary>The break targets: converge fresh hosts to the broken state.</summary>
    public TargetGraph Break { get; }

    public IReadOnlyList<Spec> Specs { get; }

    public IReadOnlyList<ScenarioMonitor> Monitors { get; }

    /// <summary>The runbook named by <c>Proves(…)</c>, full path; null when the scenario names none.</summary>
    public string? Runbook { get; }

    /// <summary>The size factor the scenario was defined with.</summary>
    public double Scale { get; }

    /// <summary>Compiler and analyzer warnings of the scenario file.</summary>
    public IReadOnlyList<ScriptDiagnostic> Warnings { get; }
}

/// <summary>Compiles and defines scenario files (<c>NAME.scenario.csx</c>).</summary>
public static class ScenarioFile
{
    /// <summary>How a scenario file's name ends.</summary>
    public const string Extension = ".scenario.csx";

    /// <summary>Scenario files compile against <see cref="ScenarioGlobals"/> and see <c>Runbooks.Scenarios</c>.</summary>
    public static readonly ScriptKind Kind = new("scenario", typeof(ScenarioGlobals), ["Runbooks.Scenarios"]);

    /// <summary>The scenario's name: its file name without <see cref="Extension"/>.</summary>
    public static string NameOf(string path)
    {
        var file = System.IO.Path.GetFileName(path);
        return file.EndsWith(Extension, StringComparison.Ordinal) ? file[..^Extension.Length] : System.IO.Path.GetFileNameWithoutExtension(file);
    }

    /// <summary>
    /// Compiles the file (diagnostics as <c>file(line,col)</c>; a compile error throws
    /// <see cref="CompilationFailedException"/>), runs its body with <paramref name="scale"/>, and checks the result:
    /// exactly one backend, at least one spec, every break target, spec and monitor bound to a declared host.
    /// All problems are reported at once as an <see cref="InvalidRunbookException"/>.
    /// </summary>
    public static async Task<ScenarioDefinition> LoadAsync(string path, double scale, CompileCache? cache)
    {
        if (!path.EndsWith(Extension, StringComparison.Ordinal))
        {
            throw new InvalidRunbookException($"{path}: a scenario file's name ends in {Extension} (e.g. web.scenario.csx)");
        }

        var loaded = LoadedRunbook.Load(path, source => RunbookCompiler.Compile(source, Kind), cache, Kind);
        var globals = new ScenarioGlobals(loaded.Source.Path, scale);
        await loaded.DefineAsync(globals).ConfigureAwait(false);

        var where = loaded.Source.Path;
        var problems = new List<string>();
        if (globals.Backend is null)
        {
            throw new InvalidRunbookException($"{where}: the scenario declares no hosts; start it with MicroVm(), Netns(), Services() or Containers()");
        }

        problems.AddRange(globals.Backend.Problems());
        var hosts = globals.Backend.HostNames;
        string Known() => string.Join(", ", hosts);
        problems.AddRange(globals.Targets.Where(t => !hosts.Contains(t.Host))
            .Select(t => $"break target '{t.Name}' is bound to host '{t.Host}', which the scenario does not declare (hosts: {Known()})"));
        problems.AddRange(globals.DeclaredSpecs.Where(s => !hosts.Contains(s.Host))
            .Select(s => $"spec '{s.Name}' is bound to host '{s.Host}', which the scenario does not declare (hosts: {Known()})"));
        problems.AddRange(globals.DeclaredMonitors.Where(m => !hosts.Contains(m.Host))
            .Select(m => $"a monitor watches host '{m.Host}', which the scenario does not declare (hosts: {Known()})"));
        problems.AddRange(globals.DeclaredMonitors.SelectMany(m => m.Problems(globals.Backend)));
        if (globals.DeclaredSpecs.Count == 0)
        {
            problems.Add("the scenario has no specs; add at least one Spec(…) that fails on the broken hosts and holds after the repair");
        }

        if (globals.Targets.Count == 0)
        {
            problems.Add("the scenario has no break targets; add Target(…) steps that converge the fresh hosts to the broken state");
        }

        TargetGraph? graph = null;
        try
        {
            graph = new TargetGraph(globals.Targets);
        }
        catch (InvalidRunbookException ex)
        {
            problems.AddRange(ex.Message.Split(Environment.NewLine));
        }

        if (problems.Count > 0)
        {
            throw new InvalidRunbookException(problems.Select(p => $"{where}: {p}"));
        }

        return new ScenarioDefinition(NameOf(where), where, globals.Backend, graph!, [.. globals.DeclaredSpecs.Select(s => s.ToSpec())],
            globals.DeclaredMonitors, globals.ProvenRunbook, scale, loaded.Compiled.Warnings);
    }
}
