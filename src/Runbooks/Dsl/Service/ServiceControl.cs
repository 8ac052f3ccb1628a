using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>A service's supervisor state, its health, and when its main process started.</summary>
internal sealed record ServiceState(ServiceDefinition Definition, SupervisorLocation Where, ServiceFacts Facts, CheckResult? Health, long? StartTicks)
{
    public bool Exists => Where.Supervisor != Supervisor.None;

    public bool Ok => Facts.Running && (Health?.Holds ?? true);

    public string Describe() =>
        !Exists ? $"{Definition.Name}: no such service" :
        Facts.Describe() + (Health is null ? "" : Health.Holds ? ", healthy" : $", not healthy ({Health.Observed})");
}

/// <summary>
/// The commands each supervisor takes, and the actions that wait between them. Stops go through the supervisor first so it
/// does not restart what we stop (runit <c>sv down</c> sends TERM and marks the service down); KILL comes only
/// after the grace period, as the talus notes do by hand for a master daemon that ignores a polite stop.
/// </summary>
internal static class ServiceControl
{
    private static readonly TimeSpan LookEvery = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan AfterKill = TimeSpan.FromSeconds(5);

    public static Command Up(SupervisorLocation where) => where.Supervisor switch
    {
        Supervisor.Runit => new Command("sv", ["up", where.Location]),
        Supervisor.Systemd => new Command("systemctl", ["start", "--", where.Location]),
        Supervisor.SysV => new Command(where.Location, ["start"]),
        _ => throw new InvalidOperationException("no supervisor"),
    };

    public static Command Down(SupervisorLocation where) => where.Supervisor switch
    {
        Supervisor.Runit => new Command("sv", ["down", where.Location]),
        // --no-block: systemd would otherwise wait out its own TimeoutStopSec; the grace here is the runbook's.
        Supervisor.Systemd => new Command("systemctl", ["stop", "--no-block", "--", where.Location]),
        Supervisor.SysV => new Command(where.Location, ["stop"]),
        _ => throw new InvalidOperationException("no supervisor"),
    };

    /// <summary>The escalation; null for an init script, which knows no PID to kill.</summary>
    public static Command? Kill(SupervisorLocation where, int? pid) => where.Supervisor switch
    {
        Supervisor.Runit => new Command("sv", ["kill", where.Location]),
        Supervisor.Systemd => new Command("systemctl", ["kill", "--signal=SIGKILL", "--", where.Location]),
        Supervisor.SysV when pid is { } p => new Command("kill", ["-KILL", p.ToString(CultureInfo.InvariantCulture)]),
        _ => null,
    };

    public static async Task<ServiceState> ObserveAsync(HostContext host, ServiceDefinition definition, CancellationToken ct, bool withHealth = true)
    {
        var where = await ServiceReads.LocateAsync(host, definition.Name, ct).ConfigureAwait(false);
        var facts = await ServiceReads.ReadAsync(host, definition.Name, ct).ConfigureAwait(false);
        if (facts.Supervisor == Supervisor.None)
        {
            return new ServiceState(definition, where with { Supervisor = Supervisor.None }, facts, null, null);
        }

        CheckResult? health = null;
        if (withHealth && facts.Running && definition.Health is not null)
        {
            health = await definition.Health.EvaluateAsync(host, ct).ConfigureAwait(false);
        }

        var ticks = await ServiceReads.StartTicksAsync(host, facts, ct).ConfigureAwait(false);
        return new ServiceState(definition, where, facts, health, ticks);
    }

    public static string Missing(HostContext host, string name) =>
        host.Reason($"no service '{name}' (no systemd unit, no runit directory in /etc/service, /service or /var/service, ") +
        $"no /etc/init.d/{name}); check the name, or install the service first";

    /// <summary>
    /// The stop as an action: TERM through the supervisor, the grace period, then KILL; fails if it outlives the
    /// KILL, or lingers under an init script that gives no PID to kill.
    /// </summary>
    public static StepAction Stop(ServiceDefinition definition, SupervisorLocation where, int? pid) =>
        new SignalAndWait(Down(where), Stopped(definition), definition.StopGrace, Kill(where, pid))
        {
            AfterKill = AfterKill,
            Interval = LookEvery,
        };

    /// <summary>
    /// The start as actions: (runit) wait until a runsv has opened the service directory — <c>sv up</c> fails on one
    /// just linked into the service directory —, up through the supervisor, then wait for it to run and be healthy.
    /// </summary>
    public static IEnumerable<StepAction> Start(ServiceDefinition definition, SupervisorLocation where) =>
    [
        .. where.Supervisor == Supervisor.Runit ? new StepAction[] { new WaitUntil(Supervised(definition), definition.StartDeadline, LookEvery)
        {
            Failure = last => $"no runsv picked up {where.Location} within {Seconds(definition.StartDeadline)}, so {definition.Name} could not be started ({last.Observed})",
            WhenItFails = "is runsvdir running and watching that service directory?",
        } } : [],
        new RunCommand(Up(where)),
        new WaitUntil(RunsHealthy(definition), definition.StartDeadline, LookEvery)
        {
            Failure = last => $"{definition.Name} did not come back within {Seconds(definition.StartDeadline)} after `{Up(where).Render()}` ({last.Observed})",
            WhenItFails = "the services after it were not started. Its last output:",
            Diagnose = async (host, ct) => await ServiceReads.LastOutputAsync(host, where, definition.LogFile, ct).ConfigureAwait(false),
        },
    ];

    private static Check Supervised(ServiceDefinition definition) => new($"a runsv supervises {definition.Name}", async (host, ct) =>
    {
        var state = await ObserveAsync(host, definition, ct, withHealth: false).ConfigureAwait(false);
        return new CheckResult(state.Facts.Supervised, state.Describe());
    });

    private static Check Stopped(ServiceDefinition definition) => new($"{definition.Name} has stopped", async (host, ct) =>
    {
        var state = await ObserveAsync(host, definition, ct, withHealth: false).ConfigureAwait(false);
        return new CheckResult(!state.Facts.Running, state.Describe());
    });

    private static Check RunsHealthy(ServiceDefinition definition) =>
        new($"{definition.Name} runs{(definition.Health is null ? "" : $" and '{definition.Health.Description}'")}", async (host, ct) =>
        {
            var state = await ObserveAsync(host, definition, ct).ConfigureAwait(false);
            return new CheckResult(state.Ok, state.Describe());
        });

    public static string Seconds(TimeSpan time) => $"{time.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s";
}
