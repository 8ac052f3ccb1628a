using Runbooks.Engine;
using Runbooks.Harness.Lifecycle;
using Runbooks.Scripting;

namespace Runbooks.Scenarios;

/// <summary>
/// What a scenario file (<c>NAME.scenario.csx</c>) sees as its globals: everything a runbook sees
/// (<c>Target</c>, <c>Exec</c>, <c>DependsOn</c>, the DSL, <see cref="RunbookGlobals.Scale"/>), plus the hosts to create,
/// the specs that define the end state, the monitors that watch a service during converge, and the runbook it proves.
/// Its targets are the break: they converge fresh hosts to the broken state, on the same engine as a runbook.
/// </summary>
/// <example><c>Netns().Host("web"); Target("fill-log", Exec(…).Until(…)).On("web"); Spec("port-open", Probe.Tcp("127.0.0.1", 8080)).On("web");</c></example>
public partial class ScenarioGlobals : RunbookGlobals
{
    private readonly List<ScenarioSpec> _specs = [];
    private readonly List<ScenarioMonitor> _monitors = [];

    /// <param name="path">Full path of the scenario file; files beside it are found from here.</param>
    /// <param name="scale">The size factor of this harness run.</param>
    public ScenarioGlobals(string path, double scale)
        : base([])
    {
        ScenarioPath = path;
        Scale = scale;
    }

    /// <summary>Full path of this scenario file.</summary>
    public string ScenarioPath { get; }

    /// <summary>The folder holding this scenario file: files it installs live beside it.</summary>
    public string Here => System.IO.Path.GetDirectoryName(ScenarioPath)!;

    internal BackendDeclaration? Backend { get; private set; }

    internal string? ProvenRunbook { get; private set; }

    internal IReadOnlyList<ScenarioSpec> DeclaredSpecs => _specs;

    internal IReadOnlyList<ScenarioMonitor> DeclaredMonitors => _monitors;

    /// <summary>
    /// Names the runbook this scenario proves, relative to the scenario file, so that
    /// <c>runbook harness run x.scenario.csx</c> needs no second argument.
    /// </summary>
    /// <example><c>Proves("web-repair.csx");</c></example>
    public void Proves(string runbook)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runbook);
        var full = System.IO.Path.GetFullPath(System.IO.Path.Combine(Here, runbook));
        if (!System.IO.File.Exists(full))
        {
            throw new InvalidRunbookException($"Proves(\"{runbook}\"): {full} does not exist; name the runbook relative to {Here}");
        }

        ProvenRunbook = full;
    }

    /// <summary>
    /// The text of a file kept beside the scenario (a service's program, a config to install), so that what the
    /// break installs is a file you can read and lint, not a string literal.
    /// </summary>
    /// <example><c>File.Content("/usr/local/bin/server", FileBeside("files/server.py"), mode: "755")</c></example>
    public string FileBeside(string relativePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(relativePath);
        var full = System.IO.Path.GetFullPath(System.IO.Path.Combine(Here, relativePath));
        if (!full.StartsWith(Here + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new InvalidRunbookException($"FileBeside(\"{relativePath}\"): {full} is outside the scenario's folder {Here}");
        }

        return System.IO.File.Exists(full)
            ? System.IO.File.ReadAllText(full)
            : throw new InvalidRunbookException($"FileBeside(\"{relativePath}\"): {full} does not exist");
    }

    /// <summary>
    /// A shell script kept beside the scenario (reviewed like code, linted with shellcheck), run as <c>sh -c</c> with the
    /// values as <c>$1</c>, <c>$2</c>…, never spliced into its text. For break steps no DSL noun covers.
    /// </summary>
    /// <example><c>Exec("fill the log", ScriptBeside("files/fill-log.sh", "/var/log/app/app.log", "64")).Until(…)</c></example>
    public Runbooks.Commands.Command ScriptBeside(string relativePath, params Runbooks.Commands.Arg[] values) =>
        Runbooks.Commands.Shell.Script(FileBeside(relativePath), values);

    /// <summary>
    /// A named check of the end state. It must hold after converge; unless marked <see cref="ScenarioSpec.NotBroken"/>,
    /// it must also FAIL right after the break (verify-broken), or it proves nothing and the run fails naming it. Bound to <c>local</c> unless <c>.On(host)</c>.
    /// </summary>
    /// <example><c>Spec("http-200", Probe.HttpGet("http://127.0.0.1:8080/", 200)).On("web");</c></example>
    public ScenarioSpec Spec(string name, Check check)
    {
        var spec = new ScenarioSpec(name, check);
        if (_specs.Any(s => s.Name == name))
        {
            throw new InvalidRunbookException($"spec '{name}' is defined twice; spec names are the JUnit test names and must be unique");
        }

        _specs.Add(spec);
        return spec;
    }

    /// <summary>A spec whose check is a step's postcondition (it holds when the step would be satisfied).</summary>
    /// <example><c>Spec("data-writable", Fs.Mount("/data").Writable());</c></example>
    public ScenarioSpec Spec(string name, Step step) => Spec(name, Check.From(step));

    /// <summary>Watches a service while the runbook converges; its figures go in the report.</summary>
    /// <example><c>Monitor(Monitors.Http("local", 8000, "/").Every(TimeSpan.FromMilliseconds(100)));</c></example>
    public void Monitor(ScenarioMonitor monitor)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        _monitors.Add(monitor);
    }

    /// <summary>Called by each backend declaration: a scenario runs on exactly one backend.</summary>
    private protected T Declare<T>(T backend)
        where T : BackendDeclaration
    {
        if (Backend is not null)
        {
            throw new InvalidRunbookException($"the scenario already declared the {Backend.Name} backend; a scenario runs on exactly one (MicroVm, Netns, Services or Containers)");
        }

        Backend = backend;
        return backend;
    }
}

/// <summary>One spec of a scenario, refined fluently.</summary>
public sealed class ScenarioSpec
{
    internal ScenarioSpec(string name, Check check)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(check);
        Name = name;
        Check = check;
    }

    /// <summary>Short and stable: the JUnit test name.</summary>
    public string Name { get; }

    public Check Check { get; }

    /// <summary>The host the check runs on.</summary>
    public string Host { get; private set; } = Inventory.DefaultHost;

    /// <summary>True unless <see cref="NotBroken"/>: the check must fail on the broken hosts.</summary>
    public bool BrokenByIncident { get; private set; } = true;

    /// <summary>Runs the check on a named host of the scenario.</summary>
    /// <example><c>Spec("ping", Probe.Ping("192.168.0.1")).On("client")</c></example>
    public ScenarioSpec On(string host)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        Host = host;
        return this;
    }

    /// <summary>
    /// The incident does not break this (e.g. no object is corrupted): it is not required to fail after the break (the
    /// report shows what it found), and it must hold after the repair — a guard that the repair loses nothing.
    /// </summary>
    /// <example><c>Spec("objects-intact", checksumsMatch).NotBroken()</c></example>
    public ScenarioSpec NotBroken()
    {
        BrokenByIncident = false;
        return this;
    }

    /// <summary>False after <see cref="NotPolled"/>: a drill leaves the spec out.</summary>
    public bool Polled { get; private set; } = true;

    /// <summary>
    /// A spec that changes the hosts to find out, such as a load test that fills and grows a volume: <c>harness run</c>
    /// checks it once after converge, and a drill, which checks the specs again and again, leaves it out.
    /// </summary>
    /// <example><c>Spec("data-grows", fillAndGrow).NotPolled()</c></example>
    public ScenarioSpec NotPolled()
    {
        Polled = false;
        return this;
    }

    internal Spec ToSpec() => new(Name, Host, Check, BrokenByIncident) { Polled = Polled };
}

/// <summary>The backend a scenario's hosts run on; declared by <c>MicroVm()</c>, <c>Netns()</c>, <c>Services()</c> or <c>Containers()</c>.</summary>
public abstract class BackendDeclaration
{
    /// <summary>"microvm", "netns", "services" or "containers": shown in the report and in <c>harness list</c>.</summary>
    public abstract string Name { get; }

    /// <summary>The host names specs and break targets may be bound to.</summary>
    public abstract IReadOnlyList<string> HostNames { get; }

    /// <summary>Problems with the declaration itself (no hosts, a link to an unknown host), all at once.</summary>
    internal virtual IEnumerable<string> Problems() => [];

    /// <summary>Why the harness machine could not reach a TCP port of a host (for a monitor); null when it can.</summary>
    internal virtual string? ReachProblem(string host, int port) =>
        $"a monitor polls host '{host}' port {port} from the harness machine, which the {Name} backend does not support yet";

    /// <summary>The backend that creates these hosts.</summary>
    internal abstract IBackend CreateBackend();
}

/// <summary>Watches a service during converge. Made by a monitor factory such as <c>Monitors.Http(…)</c>.</summary>
public abstract class ScenarioMonitor
{
    /// <summary>The host the watched service runs on.</summary>
    public abstract string Host { get; }

    /// <summary>Problems to report before anything boots, e.g. a port the backend does not forward.</summary>
    internal virtual IEnumerable<string> Problems(BackendDeclaration backend) => [];

    /// <summary>Creates the running monitor for live hosts.</summary>
    internal abstract IConvergeMonitor Create(IHarnessEnvironment environment, HarnessOptions options);
}
