using Runbooks.Engine;

namespace Runbooks.Scripting;

/// <summary>
/// What a runbook script sees as its globals. A script reads like a Bullseye build script: define targets,
/// then <c>await RunAsync(Args);</c>. Defining a target runs nothing; the tool decides what
/// <c>RunAsync</c> does (check, list, plan or run) from its own command line.
/// </summary>
public class RunbookGlobals
{
    private readonly List<Target> _targets = [];
    private readonly Func<RunbookGlobals, IReadOnlyList<string>, Task>? _run;

    public RunbookGlobals(IReadOnlyList<string> args, Func<RunbookGlobals, IReadOnlyList<string>, Task>? run = null)
    {
        Args = [.. args];
        _run = run;
    }

    /// <summary>The environment variable that carries <see cref="Scale"/>; the harness sets it for the runbook it proves.</summary>
    public const string ScaleVariable = "RUNBOOK_SCALE";

    /// <summary>
    /// The size factor shared by a scenario and the runbook it proves: 1 on a real host (the incident's sizes),
    /// the harness's <c>--scale</c> (0.1 in CI) when it runs the runbook. Read from <c>RUNBOOK_SCALE</c>.
    /// </summary>
    /// <example><c>var dataMiB = (long)(4096 * Scale);</c></example>
    public double Scale { get; protected init; } = ReadScale();

    /// <summary>
    /// The role this runbook plays when a constellation places it on a machine: its name, the machine, and its
    /// parameters (placement, then machine, then constellation variables). Run alone, a runbook has no role:
    /// <c>Param(name, fallback)</c> gives the fallback and <c>Param(name)</c> says which parameter is missing.
    /// </summary>
    /// <example><c>var mode = Role.Param("mode", "primary");</c></example>
    public Fleet.RoleContext Role { get; init; } = Fleet.RoleContext.Alone;

    /// <summary>
    /// The constellation the role is placed in, read-only: its machines, their roles and variables, so a role
    /// finds another (static service discovery). Empty when the runbook runs alone.
    /// </summary>
    /// <example><c>var primary = Constellation.MachineWith("database", ("mode", "primary")).Address;</c></example>
    public Fleet.ConstellationView Constellation { get; init; } = Fleet.ConstellationView.Empty;

    /// <summary>The target names given on the command line.</summary>
    public IList<string> Args { get; }

    /// <summary>The targets defined so far, in definition order.</summary>
    public IReadOnlyList<Target> Targets => _targets;

    /// <summary>True once the script has called <see cref="RunAsync"/>.</summary>
    public bool RanTargets { get; private set; }

    /// <summary>Defines a target.</summary>
    /// <example><c>Target("motd", "banner present", File.Line("/etc/motd", "maintenance at 02:00"));</c></example>
    public Target Target(string name, params Step[] steps) => Add(new Target(name, "", [], steps));

    /// <summary>Defines a target with a description, shown by <c>--list-targets</c> and in the plan.</summary>
    /// <example><c>Target("data-writable", "/data is writable", Fs.Mount("/data").Writable());</c></example>
    public Target Target(string name, string description, params Step[] steps) => Add(new Target(name, description, [], steps));

    /// <summary>Defines a target that runs after the targets it depends on.</summary>
    /// <example><c>Target("rebuild-loop1", DependsOn("pv-sizes"), Lvm.Pv("/dev/loop1").RecreateIfOffsetAbove("vg0", maxDataOffset: "8M"));</c></example>
    public Target Target(string name, IEnumerable<string> dependsOn, params Step[] steps) => Add(new Target(name, "", dependsOn, steps));

    /// <summary>Defines a target with a description that runs after the targets it depends on.</summary>
    /// <example><c>Target("evacuate", "loop1 holds no extents", DependsOn("disk3"), Lvm.Pv("/dev/loop1").Evacuate());</c></example>
    public Target Target(string name, string description, IEnumerable<string> dependsOn, params Step[] steps) =>
        Add(new Target(name, description, dependsOn, steps));

    /// <summary>Names the targets a target depends on.</summary>
    /// <example><c>Target("grow", DependsOn("writable", "disk3"), …)</c></example>
    public static string[] DependsOn(params string[] names) => names;

    /// <summary>Raw commands as a step. Add <c>.Until(check)</c> so it is idempotent and verified (RB001).</summary>
    /// <example><c>Exec("reload nginx", new Command("nginx", ["-s", "reload"]))</c></example>
    public static CommandStep Exec(string description, params Runbooks.Commands.Command[] commands) => new(description, commands);

    /// <summary>
    /// An environment variable of the runbook process, or <paramref name="fallback"/> when it is not set. The journal
    /// records every variable read this way, with its value (<c>Secret.FromEnvironment</c> for one that is a secret).
    /// </summary>
    /// <example><c>var color = Env("DEPLOY_COLOR", "blue");</c></example>
    public static string? Env(string name, string? fallback = null) => Runbooks.Commands.EnvironmentReads.Read(name) ?? fallback;

    /// <summary>Hands the defined targets to the tool, which checks, lists, plans or runs them.</summary>
    public async Task RunAsync(IEnumerable<string>? args = null)
    {
        RanTargets = true;
        if (_run is not null)
        {
            await _run(this, [.. args ?? Args]).ConfigureAwait(false);
        }
    }

    private static double ReadScale()
    {
        var text = Runbooks.Commands.EnvironmentReads.Read(ScaleVariable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return 1;
        }

        return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var scale) && scale > 0 && scale <= 100
            ? scale
            : throw new InvalidRunbookException($"{ScaleVariable}='{text}' is not a size factor; give a number above 0 and at most 100, e.g. 0.1");
    }

    private Target Add(Target target)
    {
        // The script line that defined it, so a cycle or a missing dependency is reported where the author looks.
        if (ScriptLine.Caller() is { } line)
        {
            target.DefinedAt = line;
        }

        _targets.Add(target);
        return target;
    }
}
