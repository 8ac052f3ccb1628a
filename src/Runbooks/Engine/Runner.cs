using System.Diagnostics;

namespace Runbooks.Engine;

/// <summary>
/// Runs a checked target graph: each target once, dependencies first (or concurrently when independent
/// and <see cref="RunRequest.Parallel"/>), each step probe → decide → apply → verify.
/// A failed target stops everything that depends on it; the rest go on.
/// </summary>
public sealed class Runner
{
    private readonly TargetGraph _graph;
    private readonly Inventory _inventory;
    private readonly IRunObserver _observer;

    public Runner(TargetGraph graph, Inventory inventory, IRunObserver observer)
    {
        _graph = graph;
        _inventory = inventory;
        _observer = observer;
    }

    public async Task<RunSummary> RunAsync(RunRequest request, CancellationToken cancellationToken)
    {
        var order = _graph.Order(request.Targets, request.SkipDependencies);
        var missingHosts = order.Where(t => !_inventory.Contains(t.Host))
            .Select(t => $"target '{t.Name}' runs on host '{t.Host}', which is not in the inventory (known: {string.Join(", ", _inventory.Names)}); add --host {t.Host}=URI")
            .ToList();
        if (missingHosts.Count > 0)
        {
            throw new InvalidRunbookException(missingHosts);
        }

        _inventory.Bind(_observer, request.Mode == RunMode.Plan, request.Mode == RunMode.Run ? request.KeepDirectory : null);
        var locked = new List<HostContext>();
        try
        {
            if (request is { Mode: RunMode.Run, Locking: { } locking })
            {
                // All hosts before the first step: a second operator is turned away before anything changed.
                var hosts = order.Select(t => t.Host).Distinct(StringComparer.Ordinal).Select(_inventory.Context);
                await HostLock.AcquireAllAsync(hosts, locking, locked, cancellationToken).ConfigureAwait(false);
            }

            return await RunOrderedAsync(request, order, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (var context in locked)
            {
                await HostLock.ReleaseAsync(context, request.Locking!).ConfigureAwait(false);
            }

            // The observer (a journal) may be disposed once the run ends; later checks must not write to it.
            _inventory.Bind(NullObserver.Instance, planOnly: false);
        }
    }

    private async Task<RunSummary> RunOrderedAsync(RunRequest request, IReadOnlyList<Target> order, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        _observer.RunStarted(request.Mode, order);
        if (request.Mode == RunMode.Plan)
        {
            // A plan changes nothing, so every step's declared reads hold for the whole plan: one round trip per host.
            await Task.WhenAll(order.GroupBy(t => t.Host, StringComparer.Ordinal).Select(host =>
                _inventory.Context(host.Key).PrefetchAsync(host.SelectMany(t => t.DeclaredReads), cancellationToken))).ConfigureAwait(false);
        }

        var inRun = order.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var readAhead = request.Parallel ? null : ReadAheadBySegment(order);
        var results = new Dictionary<string, Task<TargetResult>>(StringComparer.Ordinal);
        for (var index = 0; index < order.Count; index++)
        {
            var target = order[index];
            // Dependencies outside this run (--skip-dependencies) are not waited for.
            var dependencies = target.Dependencies.Where(inRun.Contains).Select(d => results[d]).ToList();
            var task = StartTargetAsync(request, target, dependencies, readAhead?[target.Name], cancellationToken);
            results[target.Name] = task;
            if (!request.Parallel)
            {
                await task.ConfigureAwait(false);
            }
        }

        var all = await Task.WhenAll(order.Select(t => results[t.Name])).ConfigureAwait(false);
        var summary = new RunSummary(request.Mode, all, clock.Elapsed)
        {
            HostAddresses = order.Select(t => t.Host).Distinct(StringComparer.Ordinal).ToDictionary(h => h, _inventory.Address, StringComparer.Ordinal),
        };
        _observer.RunEnded(summary);
        return summary;
    }

    // In order one target at a time, targets that run right after one another on the same host are read ahead as one
    // sequence. Not across another host's target: a wait there polls only that host, and what was read ahead here
    // before it could be minutes old by the time it is used. In parallel each target reads ahead within itself.
    private Dictionary<string, ReadAhead> ReadAheadBySegment(IReadOnlyList<Target> order)
    {
        var bySegment = new Dictionary<string, ReadAhead>(StringComparer.Ordinal);
        for (var start = 0; start < order.Count;)
        {
            var end = start + 1;
            while (end < order.Count && order[end].Host == order[start].Host)
            {
                end++;
            }

            var segment = order.Skip(start).Take(end - start).ToList();
            var ahead = new ReadAhead(_inventory.Context(order[start].Host), segment);
            segment.ForEach(t => bySegment[t.Name] = ahead);
            start = end;
        }

        return bySegment;
    }

    private async Task<TargetResult> StartTargetAsync(RunRequest request, Target target, List<Task<TargetResult>> dependencies, ReadAhead? readAhead, CancellationToken cancellationToken)
    {
        var finished = await Task.WhenAll(dependencies).ConfigureAwait(false);
        var failed = finished.FirstOrDefault(d => !d.Ok && d.Status != TargetStatus.Waiting);
        var waiting = finished.FirstOrDefault(d => d.Status == TargetStatus.Waiting);
        TargetResult result;
        if (failed is not null)
        {
            result = new TargetResult(target.Name, target.Host, TargetStatus.NotRun, TimeSpan.Zero, [], [], $"dependency '{failed.Name}' {(failed.Status == TargetStatus.NotRun ? "did not run" : "failed")}");
        }
        else if (cancellationToken.IsCancellationRequested)
        {
            result = new TargetResult(target.Name, target.Host, TargetStatus.NotRun, TimeSpan.Zero, [], [], "the run was cancelled");
        }
        else if (waiting is not null)
        {
            result = new TargetResult(target.Name, target.Host, TargetStatus.Waiting, TimeSpan.Zero, [], [], $"dependency '{waiting.Name}' waits for the next stage");
        }
        else
        {
            _observer.TargetStarted(target);
            var waitsFor = finished.Select(d => d.WaitsFor).FirstOrDefault(w => w is not null);
            result = await new TargetExecution(target, _inventory.Context(target.Host), _observer, request.Mode, request.Approved, request.ConfirmTimeout, waitsFor, readAhead).RunAsync(cancellationToken).ConfigureAwait(false);
        }

        _observer.TargetEnded(result);
        return result;
    }
}
