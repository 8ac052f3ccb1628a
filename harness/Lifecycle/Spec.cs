using Runbooks.Engine;

namespace Runbooks.Harness.Lifecycle;

/// <summary>One assertion about the end state, on one host.</summary>
/// <param name="Name">Short and stable: used as the JUnit test name.</param>
/// <param name="Host">Inventory host the check runs on.</param>
/// <param name="Check">The read-only condition.</param>
/// <param name="BrokenByIncident">True when the incident broke this; it must then fail on the broken hosts (verify-broken).</param>
public sealed record Spec(string Name, string Host, Check Check, bool BrokenByIncident = true)
{
    /// <summary>False for a spec that changes the hosts to find out (a load test): a drill does not poll it.</summary>
    public bool Polled { get; init; } = true;
}

/// <summary>Watches a service while the runbook converges and reports what it saw.</summary>
public interface IConvergeMonitor : IAsyncDisposable
{
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Stops and returns figures for the report, e.g. "requests": "812", "failed": "0", "longest outage": "0.31 s".</summary>
    Task<IReadOnlyDictionary<string, string>> StopAsync();

    /// <summary>Every request so far, in the order sent: what a drill draws as availability over time. Empty for a monitor that keeps only totals.</summary>
    IReadOnlyList<MonitorSample> Samples => [];
}

/// <summary>One request of a monitor: when it was sent (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>) and whether it succeeded.</summary>
public readonly record struct MonitorSample(long Timestamp, bool Ok);
