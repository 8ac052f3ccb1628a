using Runbooks.Engine;

namespace Runbooks.Harness.Lifecycle;

/// <summary>
/// An incident reproduced: which backend it needs, how to break the fresh hosts the way the incident did,
/// and the specs that assert the repaired end state.
/// </summary>
public abstract class Scenario
{
    /// <summary>The name used on the command line: <c>storage</c>, <c>connection</c>.</summary>
    public abstract string Name { get; }

    /// <summary>The backend it runs on: <c>microvm</c> or <c>netns</c>.</summary>
    public abstract string Backend { get; }

    /// <summary>Breaks the hosts as the incident did. Runs commands through the inventory's transports.</summary>
    public abstract Task BreakAsync(Inventory inventory, HarnessOptions options, CancellationToken cancellationToken);

    /// <summary>The end state, checked after converge; specs marked <see cref="Spec.BrokenByIncident"/> must fail right after the break.</summary>
    public abstract IReadOnlyList<Spec> Specs(HarnessOptions options);

    /// <summary>Starts monitors that run during converge (e.g. polling the object service); null when there are none.</summary>
    public virtual IConvergeMonitor? Monitor(Inventory inventory, HarnessOptions options) => null;
}

/// <summary>One assertion about the end state, on one host.</summary>
/// <param name="Name">Short and stable: used as the JUnit test name.</param>
/// <param name="Host">Inventory host the check runs on.</param>
/// <param name="Check">The read-only condition.</param>
/// <param name="BrokenByIncident">True when the incident broke this; it must then fail on the broken hosts (verify-broken).</param>
public sealed record Spec(string Name, string Host, Check Check, bool BrokenByIncident = true);

/// <summary>Watches a service while the runbook converges and reports what it saw.</summary>
public interface IConvergeMonitor : IAsyncDisposable
{
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Stops and returns figures for the report, e.g. "requests": "812", "failed": "0", "longest outage": "0.31 s".</summary>
    Task<IReadOnlyDictionary<string, string>> StopAsync();
}
