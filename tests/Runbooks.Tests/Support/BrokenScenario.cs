using Runbooks.Harness;
using Runbooks.Harness.Lifecycle;
using Runbooks.Transport;

namespace Runbooks.Tests.Support;

/// <summary>
/// A shipped netns scenario created and broken as its incident was, for tests that drive the CLI against it: the
/// <c>--host NAME=netns:…</c> arguments, the runbook, a scratch directory; disposing destroys the hosts (asserting
/// nothing leaked) and restores the lock path.
/// </summary>
internal sealed class BrokenScenario : IAsyncDisposable
{
    private readonly string? _previousLock;

    private BrokenScenario(ScenarioDefinition scenario, IHarnessEnvironment environment, string work, string? previousLock)
    {
        Scenario = scenario;
        Environment = environment;
        Work = work;
        _previousLock = previousLock;
        Hosts = [.. environment.Inventory.Names.SelectMany(h => new[] { "--host", $"{h}=netns:{((NetnsTransport)environment.Inventory.Context(h).Transport).Netns}" })];
    }

    public ScenarioDefinition Scenario { get; }

    public IHarnessEnvironment Environment { get; }

    public string Work { get; }

    /// <summary>The <c>--host</c> arguments naming every host of the scenario.</summary>
    public string[] Hosts { get; }

    public string Runbook => Scenario.Runbook!;

    /// <summary>Creates and breaks <paramref name="name"/>; <paramref name="runId"/> must be unique on the machine (it names the namespaces).</summary>
    public static async Task<BrokenScenario> CreateAsync(string name, string runId, CancellationToken cancellationToken)
    {
        if (System.Environment.UserName != "root")
        {
            Assert.Ignore($"SCENARIO {name} NOT RUN: network namespaces need root; CI runs as root");
        }

        var scenario = await HarnessCatalog.LoadAsync(name, 0.1);
        // Each simulated host has its own /run/lock; the test process's private lock path would be one for all hosts.
        var previousLock = System.Environment.GetEnvironmentVariable("RUNBOOK_LOCK");
        System.Environment.SetEnvironmentVariable("RUNBOOK_LOCK", Runbooks.Engine.HostLocking.DefaultPath);
        var work = Directory.CreateTempSubdirectory($"rb-{runId}-").FullName;
        var environment = await scenario.CreateBackend().CreateAsync(new HarnessOptions(runId, Path.Combine(work, "hosts")), cancellationToken);
        var broken = new BrokenScenario(scenario, environment, work, previousLock);
        var (broke, detail) = await HarnessRunner.BreakAsync(scenario, environment, Path.Combine(work, "break.jsonl"), cancellationToken);
        if (!broke)
        {
            await broken.DisposeAsync();
            Assert.Fail($"breaking {name} failed: {detail}");
        }

        return broken;
    }

    public async ValueTask DisposeAsync()
    {
        System.Environment.SetEnvironmentVariable("RUNBOOK_LOCK", _previousLock);
        var leaks = await Environment.DestroyAsync(CancellationToken.None);
        await Environment.DisposeAsync();
        Directory.Delete(Work, recursive: true);
        Assert.That(leaks, Is.Empty);
    }
}
