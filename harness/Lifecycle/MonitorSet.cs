namespace Runbooks.Harness.Lifecycle;

/// <summary>A scenario's monitors, running together over one stretch of time (a converge, a drill round).</summary>
internal sealed class MonitorSet : IAsyncDisposable
{
    private readonly List<(string Host, IConvergeMonitor Monitor)> _monitors;

    private MonitorSet(List<(string Host, IConvergeMonitor Monitor)> monitors) => _monitors = monitors;

    public static async Task<MonitorSet> StartAsync(ScenarioDefinition scenario, IHarnessEnvironment environment, HarnessOptions options, CancellationToken cancellationToken)
    {
        var set = new MonitorSet([.. scenario.Monitors.Select(m => (m.Host, m.Create(environment, options)))]);
        foreach (var (_, monitor) in set._monitors)
        {
            await monitor.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        return set;
    }

    /// <summary>Stops every monitor and returns their figures; one monitor's keep their plain names, several are told apart by host.</summary>
    public async Task<IReadOnlyDictionary<string, string>> StopAsync()
    {
        var figures = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (host, monitor) in _monitors)
        {
            var prefix = _monitors.Count > 1 ? $"{host} " : "";
            foreach (var (key, value) in await monitor.StopAsync().ConfigureAwait(false))
            {
                figures[prefix + key] = value;
            }
        }

        return figures;
    }

    /// <summary>Every monitor's requests together, in the order sent.</summary>
    public IReadOnlyList<MonitorSample> Samples => [.. _monitors.SelectMany(m => m.Monitor.Samples).OrderBy(s => s.Timestamp)];

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, monitor) in _monitors)
        {
            await monitor.DisposeAsync().ConfigureAwait(false);
        }
    }
}
