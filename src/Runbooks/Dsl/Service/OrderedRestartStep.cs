using Runbooks.Engine;

namespace Runbooks.Dsl;

/// <summary>
/// A set of services that depend on each other, brought back in order. Satisfied when every service runs, is
/// healthy, and started no earlier than the services it depends on (a dependant that outlived a restart of its
/// dependency holds stale connections: the talus web after a db restart). Otherwise, from the first service in
/// dependency order that is not so: stop it and everything after it in reverse order (TERM, grace, KILL), then
/// start them in order, each start only after the one before is healthy. A service that does not come back stops
/// the sequence; the error names it and quotes its last output.
/// </summary>
public sealed class OrderedRestartStep : Step
{
    private readonly IReadOnlyList<ServiceDefinition> _order;

    internal OrderedRestartStep(IReadOnlyList<ServiceDefinition> order) => _order = order;

    /// <summary>The start order: dependencies first, otherwise as declared.</summary>
    public IReadOnlyList<string> Order => [.. _order.Select(s => s.Name)];

    public override string Description => $"services {string.Join(" → ", Order)} run, healthy, each started after what it depends on";

    public override string? Destroys => "the running processes of the services restarted (each killed if it outlives its grace period after TERM)";

    public override async Task<StepProbe> ProbeAsync(HostContext host, CancellationToken cancellationToken)
    {
        var states = new List<ServiceState>();
        foreach (var service in _order)
        {
            states.Add(await ServiceControl.ObserveAsync(host, service, cancellationToken).ConfigureAwait(false));
        }

        var observed = string.Join("; ", states.Select(s => s.Describe()));
        var missing = states.Where(s => !s.Exists).Select(s => ServiceControl.Missing(host, s.Definition.Name)).ToArray();
        if (missing.Length > 0)
        {
            return StepProbe.Blocked(observed, missing);
        }

        var first = FirstToRestart(states);
        if (first is null)
        {
            return StepProbe.Satisfied(observed);
        }

        var affected = states.Skip(first.Value.Index).ToList();
        var stops = affected.AsEnumerable().Reverse().ToList();
        // Each start waits for health before the next, so a service that does not come back stops the sequence.
        var actions = stops.Select(s => ServiceControl.Stop(s.Definition, s.Where, s.Facts.MainPid))
            .Concat(affected.SelectMany(s => ServiceControl.Start(s.Definition, s.Where)));
        return StepProbe.Act(observed, actions) with
        {
            Notes =
            [
                $"restarts from {affected[0].Definition.Name}: {first.Value.Reason}",
                .. stops.Where(s => !s.Facts.Running).Select(s => $"{s.Definition.Name}: already stopped; `{ServiceControl.Down(s.Where).Render()}` keeps its supervisor from starting it early"),
            ],
        };
    }

    /// <summary>The first service, in start order, that is down, unhealthy, or older than one of its dependencies.</summary>
    internal static (int Index, string Reason)? FirstToRestart(IReadOnlyList<ServiceState> states)
    {
        var byName = states.ToDictionary(s => s.Definition.Name, StringComparer.Ordinal);
        for (var index = 0; index < states.Count; index++)
        {
            var state = states[index];
            if (!state.Facts.Running)
            {
                return (index, $"{state.Definition.Name} is not running ({state.Facts.State})");
            }

            if (state.Health is { Holds: false } health)
            {
                return (index, $"{state.Definition.Name} is not healthy ({health.Observed})");
            }

            foreach (var dependency in state.Definition.Dependencies.Select(d => byName[d]))
            {
                if (state.StartTicks is { } mine && dependency.StartTicks is { } theirs && mine < theirs)
                {
                    return (index, $"{state.Definition.Name} started before {dependency.Definition.Name}, which it depends on");
                }
            }
        }

        return null;
    }
}
