using Runbooks.Harness.Lifecycle;

namespace Runbooks.Harness.Drill;

/// <summary>
/// One round of a drill. Times are from the drill's start (<c>FaultAt</c>) or from the moment the fault was in
/// place (<c>DetectedAfter</c>: the first spec seen failing, or with a watch the probe its journal shows seeing the
/// drift; <c>RecoveredAfter</c>: the end of the converge, or of the watch pass, after which every spec held again).
/// A null <c>RecoveredAfter</c> is a failed recovery: the round ended at its timeout. <c>Converges</c> counts the
/// converges run, or with a watch its passes that ended during the round.
/// </summary>
public sealed record DrillRound(
    int Number,
    IReadOnlyList<string> Faults,
    int ChangedSteps,
    TimeSpan FaultAt,
    TimeSpan FaultTook,
    TimeSpan? DetectedAfter,
    string? DetectedBy,
    TimeSpan? RecoveredAfter,
    int Converges,
    string Detail)
{
    public bool Recovered => RecoveredAfter is not null;

    /// <summary>What the scenario's monitors saw during the round (requests, failures, longest outage); empty without monitors.</summary>
    public IReadOnlyDictionary<string, string> Availability { get; init; } = new Dictionary<string, string>();

    /// <summary>The monitors' requests during the round, each at its time from the drill's start; empty without monitors.</summary>
    public IReadOnlyList<AvailabilitySample> Samples { get; init; } = [];

    /// <summary>Percent of the round's monitor requests that succeeded; null without monitors.</summary>
    public double? AvailabilityPercent => Samples.Count == 0 ? null : 100.0 * Samples.Count(s => s.Ok) / Samples.Count;
}

/// <summary>One monitor request, at its time from the drill's start.</summary>
public readonly record struct AvailabilitySample(TimeSpan At, bool Ok);

/// <summary>A whole drill: how the hosts were brought up healthy, and every round's fault and recovery.</summary>
public sealed class DrillReport
{
    public required string Scenario { get; init; }

    public required string Runbook { get; init; }

    public required string Backend { get; init; }

    public required ulong Seed { get; init; }

    public required int RoundsRequested { get; init; }

    public required TimeSpan Every { get; init; }

    public required TimeSpan RoundTimeout { get; init; }

    /// <summary>The interval of the <c>runbook watch</c> that repaired the hosts; null when a converge ran per round.</summary>
    public TimeSpan? WatchEvery { get; init; }

    /// <summary>Break targets that change nothing on the healthy hosts, so a round cannot re-apply them.</summary>
    public List<string> NotDrilled { get; } = [];

    /// <summary>Break targets that change the healthy hosts: what a round chooses its faults from.</summary>
    public List<string> Candidates { get; } = [];

    /// <summary>compile, create, break, converge, healthy, destroy.</summary>
    public List<PhaseResult> Setup { get; } = [];

    public List<DrillRound> Rounds { get; } = [];

    public bool Passed => Setup.All(p => p.Passed) && Rounds.Count == RoundsRequested && Rounds.All(r => r.Recovered);

    /// <summary>Nearest-rank percentile of the recovered rounds' times to recover; null when none recovered.</summary>
    public TimeSpan? Mttr(double percentile) => Percentile(Rounds.Where(r => r.Recovered).Select(r => r.RecoveredAfter!.Value), percentile);

    public TimeSpan? TimeToDetect(double percentile) => Percentile(Rounds.Where(r => r.DetectedAfter is not null).Select(r => r.DetectedAfter!.Value), percentile);

    internal static TimeSpan? Percentile(IEnumerable<TimeSpan> values, double percentile)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0)
        {
            return null;
        }

        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
