namespace Runbooks.Harness.Lifecycle;

/// <summary>One lifecycle phase: create, break, verify-broken, converge, verify, idempotence, destroy.</summary>
public sealed record PhaseResult(string Name, bool Passed, TimeSpan Duration, string Detail);

/// <summary>A spec's result right after the break and after converge.</summary>
public sealed record SpecResult(string Name, string Host, bool BrokenByIncident, bool? HeldWhenBroken, string ObservedWhenBroken, bool? HeldAfter, string ObservedAfter)
{
    /// <summary>The incident broke it, so it must fail on the broken hosts; the rest need not.</summary>
    public bool BrokenPhaseOk => !BrokenByIncident || HeldWhenBroken == false;

    public bool AfterOk => HeldAfter == true;
}

/// <summary>
/// One approved stage of the converge: how long its plan, the re-read of the plan's facts right before the run, and
/// the run took, and the run compared with the plan.
/// </summary>
public sealed record ConvergeStage(Runbooks.Journal.PlanConformance Run, TimeSpan Planned, TimeSpan Reread, TimeSpan Ran)
{
    public bool Equal => Run.Equal;

    public override string ToString() =>
        $"{Run} — planned in {Seconds(Planned)} s, facts re-read in {Seconds(Reread)} s, run in {Seconds(Ran)} s";

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Everything a harness run found, for the Markdown report and JUnit XML.</summary>
public sealed class HarnessReport
{
    public required string Scenario { get; init; }

    public required string Runbook { get; init; }

    public required string Backend { get; init; }

    public required string RunId { get; init; }

    public required double Scale { get; init; }

    public List<PhaseResult> Phases { get; } = [];

    public List<SpecResult> Specs { get; } = [];

    public Dictionary<string, string> Facts { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Monitor { get; } = new(StringComparer.Ordinal);

    public List<string> ConvergeTargets { get; } = [];

    /// <summary>The converge's approved stages, each run compared with its saved plan.</summary>
    public List<ConvergeStage> ConvergeStages { get; } = [];

    public List<string> Leaks { get; } = [];

    public string? HowToReach { get; set; }

    public string? ConvergeJournal { get; set; }

    public bool Passed => Phases.Count > 0 && Phases.All(p => p.Passed) && Leaks.Count == 0;

    public TimeSpan Total => Phases.Aggregate(TimeSpan.Zero, (sum, p) => sum + p.Duration);
}
