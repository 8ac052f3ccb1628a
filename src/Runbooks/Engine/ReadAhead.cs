namespace Runbooks.Engine;

/// <summary>
/// The declared reads of targets that run one after another on one host, in the order a run looks at them (a target's
/// requires, its steps, its ensures, then the next target's), read ahead in one round trip per look. A probe reads its own step's facts and,
/// while nothing ends the host's round between two probes (no command applied, no poll), the next steps' too: one
/// step ahead, then two, four, up to <see cref="MostStepsAhead"/>. A no-op run of the storage runbook then needs a
/// few round trips instead of one per step. A step that applies ends the round and the window starts again from its
/// own reads, so a converge reads ahead at most the window a streak of satisfied steps had earned — what the streak
/// already saved. A verify reads its own step's facts with the next step's (nothing is applied in between); a plan
/// reads everything at once (<see cref="Runner"/>) and finds it all read here.
/// </summary>
internal sealed class ReadAhead
{
    internal const int MostStepsAhead = 32;

    private readonly HostContext _host;
    private readonly List<Group> _groups = [];
    private int _window;
    private object? _roundOfLastProbe;

    // Slot: -1 the target's requires, 0..n-1 its steps, n its ensures.
    private sealed record Group(Target Target, int Slot, IReadOnlyList<IFact> Reads)
    {
        public bool IsStep => Slot >= 0 && Slot < Target.Steps.Count;
    }

    /// <param name="host">Where the targets run.</param>
    /// <param name="targets">Targets that run on this host one right after another, in run order.</param>
    public ReadAhead(HostContext host, IEnumerable<Target> targets)
    {
        _host = host;
        foreach (var target in targets)
        {
            _groups.Add(new Group(target, -1, [.. target.Requirements.SelectMany(c => c.Reads)]));
            _groups.AddRange(target.Steps.Select((step, index) => new Group(target, index, [.. step.Reads])));
            _groups.Add(new Group(target, target.Steps.Count, [.. target.Guarantees.SelectMany(c => c.Reads)]));
        }
    }

    /// <summary>How many steps past its own the last probe read ahead (for tests and the reasoning above).</summary>
    internal int Window => _window;

    /// <summary>A target starts: its requires and its first step, and as far ahead as the last probe read if nothing ended the round since.</summary>
    public Task TargetStartingAsync(Target target, CancellationToken cancellationToken) =>
        ReadFromAsync(target, -1, ReferenceEquals(_host.Round, _roundOfLastProbe) ? Math.Max(1, _window) : 1, cancellationToken);

    /// <summary>A step is probed: its own reads, and the next steps' while the host's round has lasted since the last probe.</summary>
    public Task ProbingAsync(Target target, int step, CancellationToken cancellationToken)
    {
        var round = _host.Round;
        _window = ReferenceEquals(round, _roundOfLastProbe) ? Math.Min(Math.Max(1, _window * 2), MostStepsAhead) : 0;
        _roundOfLastProbe = round;
        return ReadFromAsync(target, step, _window, cancellationToken);
    }

    /// <summary>A step that applied is verified: its own reads and the next step's.</summary>
    public Task VerifyingAsync(Target target, int step, CancellationToken cancellationToken) =>
        ReadFromAsync(target, step, 1, cancellationToken);

    private Task ReadFromAsync(Target target, int slot, int stepsAhead, CancellationToken cancellationToken)
    {
        var start = _groups.FindIndex(g => ReferenceEquals(g.Target, target) && g.Slot == slot);
        if (start < 0)
        {
            return Task.CompletedTask;
        }

        var reads = new List<IFact>(_groups[start].Reads);
        for (var index = start + 1; index < _groups.Count && stepsAhead > 0; index++)
        {
            reads.AddRange(_groups[index].Reads);
            if (_groups[index].IsStep)
            {
                stepsAhead--;
            }
        }

        return _host.PrefetchAsync(reads, cancellationToken);
    }
}
