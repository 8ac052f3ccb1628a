using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>The service runs and is healthy. Started when down; restarted (TERM, grace, KILL, start) when running but unhealthy.</summary>
public sealed class ServiceRunningStep(ServiceDefinition definition) : Step
{
    public override string Description => $"service {definition.Name} runs" + (definition.Health is null ? "" : $" and '{definition.Health.Description}'");

    public override IEnumerable<IFact> Reads => [ServiceReads.Location(definition.Name)];

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
            return StepProbe.Act(state.Describe(), [ServiceControl.Stop(definition, state.Where, state.Facts.MainPid), .. ServiceControl.Start(definition, state.Where)]) with
            {
                Notes = [$"{definition.Name} runs but is not healthy: restarted"],
            };
        }

        return StepProbe.Act(state.Describe(), ServiceControl.Start(definition, state.Where));
    }
}

/// <summary>The service is stopped: TERM through its supervisor, SIGKILL after the grace period.</summary>
public sealed class ServiceStoppedStep(ServiceDefinition definition) : Step
{
    public override string Description => $"service {definition.Name} is stopped";

    public override IEnumerable<IFact> Reads => [ServiceReads.Location(definition.Name)];

    public override string? Destroys => $"the running {definition.Name} process (killed if it outlives {ServiceControl.Seconds(definition.StopGrace)} after TERM)";

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var state = await ServiceControl.ObserveAsync(host, definition, cancellationToken, withHealth: false).ConfigureAwait(false);
        if (!state.Exists)
        {
            return StepProbe.Blocked(state.Describe(), ServiceControl.Missing(host, definition.Name));
        }

        return state.Facts.Running
            ? StepProbe.Act(state.Describe(), ServiceControl.Stop(definition, state.Where, state.Facts.MainPid))
            : StepProbe.Satisfied(state.Describe());
    }
}

/// <summary>
/// Stops and starts a service once. Its postcondition is a healthy service whose main process started after this
/// step first looked, so a second run restarts again: a restart is an action, not a state.
/// </summary>
public sealed class ServiceRestartStep(ServiceDefinition definition) : Step
{
    private long? _before;

    public override string Description => $"service {definition.Name} restarted and healthy";

    public override IEnumerable<IFact> Reads => [ServiceReads.Location(definition.Name)];

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
            return state.Ok && state.StartTicks > before ? StepProbe.Satisfied(state.Describe()) : StepProbe.Act(state.Describe(), ServiceControl.Start(definition, state.Where));
        }

        _before = state.StartTicks ?? 0;
        return StepProbe.Act(state.Describe(), [ServiceControl.Stop(definition, state.Where, state.Facts.MainPid), .. ServiceControl.Start(definition, state.Where)]);
    }
}

/// <summary>
/// A restart on change (a handler, in Ansible's words): the restart of <see cref="ServiceRestartStep"/>, wrapped in a
/// branch on "did a trigger target change something in this run", and satisfied without a look at the service's health
/// when none did.
/// </summary>
public sealed class ServiceRestartOnChangeStep(ServiceDefinition definition, IReadOnlyList<string> triggers) : Step, IChangeTriggered
{
    // Per run: the restart remembers when it first looked, and its verify must use that same look.
    private object? _run;
    private ServiceRestartStep _restart = new(definition);
    private bool _restarting;

    public IReadOnlyList<string> Triggers => triggers;

    private string Names => string.Join(" or ", triggers.Select(t => $"target '{t}'"));

    public override string Description => $"service {definition.Name} restarted when {Names} changed something in this run";

    public override IEnumerable<IFact> Reads => [ServiceReads.Location(definition.Name)];

    public override string? Destroys => $"the running {definition.Name} process, only when {Names} changed something";

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        if (!ReferenceEquals(_run, host.Run))
        {
            (_run, _restart, _restarting) = (host.Run, new ServiceRestartStep(definition), false);
        }

        if (_restarting)
        {
            return await _restart.ProbeAsync(host, cancellationToken).ConfigureAwait(false);
        }

        var changes = Changes(host);
        if (changes.Count == 0)
        {
            var state = await ServiceControl.ObserveAsync(host, definition, cancellationToken, withHealth: false).ConfigureAwait(false);
            return StepProbe.Satisfied($"{state.Describe()}; {Names} {(host.PlanOnly ? "will change" : "changed")} nothing in this run: not restarted");
        }

        var restart = await _restart.ProbeAsync(host, cancellationToken).ConfigureAwait(false);
        if (restart.Decision != StepDecision.WillChange)
        {
            return restart;
        }

        _restarting = true;
        var changed = new Check($"{Names} changed something in this run", (h, _) =>
        {
            var now = Changes(h);
            return Task.FromResult(new CheckResult(now.Count > 0, now.Count > 0 ? string.Join("; ", now) : "nothing changed"));
        });
        return restart with
        {
            Actions = [new Branch(changed, restart.Actions, [])],
            Notes = [.. restart.Notes, $"restarts because {string.Join("; ", changes)} changed something"],
        };
    }

    private List<string> Changes(HostContext host) => [.. triggers.SelectMany(t => host.ChangesOf(t).Select(step => $"target '{t}' {step}"))];
}
