using Runbooks.Engine;
using Runbooks.Scripting;

namespace Runbooks;

/// <summary>
/// The runbook verbs without the tool's globals, for a script that also runs under <c>dotnet script</c>:
/// <c>using static Runbooks.Runbook;</c> brings <c>Target</c>, <c>DependsOn</c>, <c>Exec</c>, <c>Scale</c> and
/// <c>RunAsync</c>. Under <c>runbook</c> they act on the script's own globals (which the compiler prefers anyway);
/// under <c>dotnet script</c> they collect targets here, and <c>RunAsync(Args)</c> checks, plans or runs them
/// itself (<see cref="StandaloneRun"/>): <c>dotnet script disk.csx -- plan evacuate --host ssh://root@db1</c>.
/// </summary>
/// <example><c>using static Runbooks.Runbook;</c></example>
public static class Runbook
{
    private static readonly AsyncLocal<RunbookGlobals?> Ambient = new();
    private static readonly Lock Gate = new();
    private static RunbookGlobals? _standalone;

    /// <summary>The runbook being defined: the tool's globals while it runs a script, else this process's own.</summary>
    internal static RunbookGlobals Current
    {
        get
        {
            if (Ambient.Value is { } ambient)
            {
                return ambient;
            }

            lock (Gate)
            {
                return _standalone ??= new RunbookGlobals([], RunStandaloneAsync);
            }
        }
    }

    private static Task RunStandaloneAsync(RunbookGlobals globals, IReadOnlyList<string> args)
    {
        lock (Gate)
        {
            // Handed over: targets defined after this belong to the next script this process runs.
            _standalone = null;
        }

        return StandaloneRun.RunAsync(globals.Targets, args, Console.Out, Console.Error);
    }

    /// <summary>Makes <paramref name="globals"/> what the facade acts on for the script run in this async flow.</summary>
    internal static void Use(RunbookGlobals globals) => Ambient.Value = globals;

    /// <summary>The size factor shared by a scenario and the runbook it proves (see <see cref="RunbookGlobals.Scale"/>).</summary>
    /// <example><c>var dataMiB = (long)(4096 * Scale);</c></example>
    public static double Scale => Current.Scale;

    /// <summary>Defines a target.</summary>
    /// <example><c>Target("motd", File.Line("/etc/motd", "maintenance at 02:00"));</c></example>
    public static Target Target(string name, params Step[] steps) => Current.Target(name, steps);

    /// <summary>Defines a target with a description, shown by <c>--list-targets</c> and in the plan.</summary>
    /// <example><c>Target("data-writable", "/data is writable", Fs.Mount("/data").Writable());</c></example>
    public static Target Target(string name, string description, params Step[] steps) => Current.Target(name, description, steps);

    /// <summary>Defines a target that runs after the targets it depends on.</summary>
    /// <example><c>Target("evacuate", DependsOn("disk3"), Lvm.Pv("/dev/loop1").Evacuate());</c></example>
    public static Target Target(string name, IEnumerable<string> dependsOn, params Step[] steps) => Current.Target(name, dependsOn, steps);

    /// <summary>Defines a target with a description that runs after the targets it depends on.</summary>
    /// <example><c>Target("evacuate", "loop1 holds no extents", DependsOn("disk3"), Lvm.Pv("/dev/loop1").Evacuate());</c></example>
    public static Target Target(string name, string description, IEnumerable<string> dependsOn, params Step[] steps) => Current.Target(name, description, dependsOn, steps);

    /// <summary>Names the targets a target depends on.</summary>
    /// <example><c>Target("grow", DependsOn("writable", "disk3"), …)</c></example>
    public static string[] DependsOn(params string[] names) => RunbookGlobals.DependsOn(names);

    /// <summary>Raw commands as a step. Add <c>.Until(check)</c> so it is idempotent and verified (RB001).</summary>
    /// <example><c>Exec("reload nginx", new Command("nginx", ["-s", "reload"]))</c></example>
    public static CommandStep Exec(string description, params Runbooks.Commands.Command[] commands) => RunbookGlobals.Exec(description, commands);

    /// <summary>
    /// Hands the defined targets over: under <c>runbook</c> to the tool; under <c>dotnet script</c> to
    /// <see cref="StandaloneRun"/>, which reads <c>check|plan|run [TARGET…] [--host …] [--inventory FILE]</c> from <paramref name="args"/>.
    /// </summary>
    /// <example><c>await RunAsync(Args);</c></example>
    public static Task RunAsync(IEnumerable<string>? args = null) => Current.RunAsync(args);
}
