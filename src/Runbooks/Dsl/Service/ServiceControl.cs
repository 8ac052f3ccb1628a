using System.Diagnostics;
using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;

namespace Runbooks.Dsl.Nouns.Service;

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
/// The commands each supervisor takes, and the waits between them. Stops go through the supervisor first so it
/// does not restart what we stop (runit <c>sv down</c> sends TERM and marks the service down); KILL comes only
/// after the grace period, as the talus notes do by hand for a master daemon that ignores a polite stop.
/// </summary>
internal static class ServiceControl
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
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
        $"on host {host.Name}: no service '{name}' (no systemd unit, no runit directory in /etc/service, /service or /var/service, " +
        $"no /etc/init.d/{name}); check the name, or install the service first";

    public static string StopNote(ServiceDefinition definition, SupervisorLocation where, int? pid)
    {
        var kill = Kill(where, pid);
        return kill is null
            ? $"{definition.Name}: `{Down(where).Render()}`; the init script's stop decides (no PID to escalate to KILL)"
            : $"{definition.Name}: waits up to {Seconds(definition.StopGrace)} for it to exit after `{Down(where).Render()}` (TERM), then `{kill.Render()}` (KILL)";
    }

    public static string StartNote(ServiceDefinition definition, SupervisorLocation where) =>
        $"{definition.Name}: after `{Up(where).Render()}` waits up to {Seconds(definition.StartDeadline)} for " +
        (definition.Health is null ? "its supervisor to report it running" : $"'{definition.Health.Description}'");

    /// <summary>TERM through the supervisor, wait the grace period, then KILL; fails if it outlives the KILL.</summary>
    public static async Task StopAsync(HostContext host, ServiceDefinition definition, CancellationToken ct)
    {
        var state = await ObserveAsync(host, definition, ct).ConfigureAwait(false);
        await host.ApplyAsync(Down(state.Where), ct).ConfigureAwait(false);
        if (await WaitStoppedAsync(host, definition, definition.StopGrace, ct).ConfigureAwait(false) is not { } running)
        {
            return;
        }

        var kill = Kill(running.Where, running.Facts.MainPid)
                   ?? throw new RunbookException($"on host {host.Name}: {definition.Name} is still running {Seconds(definition.StopGrace)} after " +
                                                 $"`{Down(running.Where).Render()}` and its init script gives no PID to kill; stop it by hand");
        await host.ApplyAsync(kill, ct).ConfigureAwait(false);
        if (await WaitStoppedAsync(host, definition, AfterKill, ct).ConfigureAwait(false) is { } survivor)
        {
            throw new RunbookException($"on host {host.Name}: {definition.Name} survived `{kill.Render()}` for {Seconds(AfterKill)} ({survivor.Describe()}); " +
                                       "a process stuck in the kernel (state D) cannot be killed: look at /proc/PID/stack");
        }
    }

    /// <summary>
    /// Starts through the supervisor and waits for health; fails naming the service and quoting its last output.
    /// A runit directory no runsv has opened yet is waited for first (within the same deadline): <c>sv up</c> fails on it.
    /// </summary>
    public static async Task StartAsync(HostContext host, ServiceDefinition definition, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        Command? up = null;
        while (true)
        {
            host.InvalidateFacts();
            var state = await ObserveAsync(host, definition, ct).ConfigureAwait(false);
            if (up is null && state.Facts.Supervised)
            {
                up = Up(state.Where);
                await host.ApplyAsync(up, ct).ConfigureAwait(false);
                continue;
            }

            if (up is not null && state.Ok)
            {
                return;
            }

            if (clock.Elapsed > definition.StartDeadline)
            {
                if (up is null)
                {
                    throw new RunbookException(
                        $"on host {host.Name}: no runsv picked up {state.Where.Location} within {Seconds(definition.StartDeadline)}, so {definition.Name} could not be started; " +
                        "is runsvdir running and watching that service directory?");
                }

                var output = await ServiceReads.LastOutputAsync(host, state.Where, definition.LogFile, ct).ConfigureAwait(false);
                throw new RunbookException(
                    $"on host {host.Name}: {definition.Name} did not come back within {Seconds(definition.StartDeadline)} after `{up.Render()}` " +
                    $"({state.Describe()}); the services after it were not started. Its last output:\n{output}");
            }

            await Task.Delay(Poll, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Null once stopped; else the last state seen when the time ran out.</summary>
    private static async Task<ServiceState?> WaitStoppedAsync(HostContext host, ServiceDefinition definition, TimeSpan wait, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            host.InvalidateFacts();
            var state = await ObserveAsync(host, definition, ct, withHealth: false).ConfigureAwait(false);
            if (!state.Facts.Running)
            {
                return null;
            }

            if (clock.Elapsed > wait)
            {
                return state;
            }

            await Task.Delay(Poll, ct).ConfigureAwait(false);
        }
    }

    public static string Seconds(TimeSpan time) => $"{time.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s";
}
