using Runbooks.Engine;

namespace Runbooks.Dsl.Nouns.Service;

/// <summary>The service runs and is healthy. Started when down; restarted (TERM, grace, KILL, start) when running but unhealthy.</summary>
public sealed class ServiceRunningStep(ServiceDefinition definition) : Step
{
    public override string Description => $"service {definition.Name} runs" + (definition.Health is null ? "" : $" and '{definition.Health.Description}'");

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var state = await ServiceControl.ObserveAsync(host, definition, cancellationToken).ConfigureAwait(false);
        if (!state.Exists)
        {
            return StepProbe.Blocked(state.Describe(), ServiceControl.Missing(host, definition.Name));
        }

        if (state.Ok)
        {
            return StepProbe.Satisfied(state.Describe());
        }

        if (state.Facts.Running)
        {
            return StepProbe.Change(state.Describe(), ServiceControl.Down(state.Where), ServiceControl.Up(state.Where)) with
            {
                Notes = [ServiceControl.StopNote(definition, state.Where, state.Facts.MainPid), ServiceControl.StartNote(definition, state.Where)],
            };
        }

        return StepProbe.Change(state.Describe(), ServiceControl.Up(state.Where)) with { Notes = [ServiceControl.StartNote(definition, state.Where)] };
    }

    public override async Task ApplyAsync(HostContext host, StepProbe probe, CancellationToken cancellationToken)
    {
        if (probe.Commands.Count > 1)
        {
            await ServiceControl.StopAsync(host, definition, cancellationToken).ConfigureAwait(false);
        }

        await ServiceControl.StartAsync(host, definition, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>The service is stopped: TERM through its supervisor, SIGKILL after the grace period.</summary>
public sealed class ServiceStoppedStep(ServiceDefinition definition) : Step
{
    public override string Description => $"service {definition.Name} is stopped";

    public override string? Destroys => $"the running {definition.Name} process (killed if it outlives {ServiceControl.Seconds(definition.StopGrace)} after TERM)";

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var state = await ServiceControl.ObserveAsync(host, definition, cancellationToken, withHealth: false).ConfigureAwait(false);
        if (!state.Exists)
        {
            return StepProbe.Blocked(state.Describe(), ServiceControl.Missing(host, definition.Name));
        }

        return state.Facts.Running
            ? StepProbe.Change(state.Describe(), ServiceControl.Down(state.Where)) with { Notes = [ServiceControl.StopNote(definition, state.Where, state.Facts.MainPid)] }
            : StepProbe.Satisfied(state.Describe());
    }

    public override Task ApplyAsync(HostContext host, StepProbe probe, CancellationToken cancellationToken) =>
        ServiceControl.StopAsync(host, definition, cancellationToken);
}

/// <summary>
/// Stops and starts a service once. Its postcondition is a healthy service whose main process started after this
/// step first looked, so a second run restarts again: a restart is an action, not a state.
/// </summary>
public sealed class ServiceRestartStep(ServiceDefinition definition) : Step
{
    private long? _before;

    public override string Description => $"service {definition.Name} restarted and healthy";

    public override string? Destroys => $"the running {definition.Name} process";

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var state = await ServiceControl.ObserveAsync(host, definition, cancellationToken).ConfigureAwait(false);
        if (!state.Exists)
        {
            return StepProbe.Blocked(state.Describe(), ServiceControl.Missing(host, definition.Name));
        }

        if (_before is { } before)
        {
            return state.Ok && state.StartTicks > before ? StepProbe.Satisfied(state.Describe()) : StepProbe.Change(state.Describe(), ServiceControl.Up(state.Where));
        }

        _before = state.StartTicks ?? 0;
        return StepProbe.Change(state.Describe(), ServiceControl.Down(state.Where), ServiceControl.Up(state.Where)) with
        {
            Notes = [ServiceControl.StopNote(definition, state.Where, state.Facts.MainPid), ServiceControl.StartNote(definition, state.Where)],
        };
    }

    public override async Task ApplyAsync(HostContext host, StepProbe probe, CancellationToken cancellationToken)
    {
        await ServiceControl.StopAsync(host, definition, cancellationToken).ConfigureAwait(false);
        await ServiceControl.StartAsync(host, definition, cancellationToken).ConfigureAwait(false);
    }
}
