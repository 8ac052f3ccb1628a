using Runbooks.Harness.Lifecycle;

namespace Runbooks.Harness;

/// <summary>The scenarios and backends the harness knows, by name. Adding one is a line here.</summary>
public static class HarnessCatalog
{
    private static readonly List<Func<Scenario>> ScenarioFactories = [() => new Scenarios.Storage.StorageScenario(), () => new Scenarios.Connection.ConnectionScenario(), () => new Scenarios.Talus.TalusScenario()];
    private static readonly List<Func<IBackend>> BackendFactories = [() => new Backends.MicroVm.MicroVmBackend(), () => new Backends.Netns.NetnsBackend(), () => new Backends.Runit.RunitBackend()];

    public static IReadOnlyList<Scenario> Scenarios => [.. ScenarioFactories.Select(f => f())];

    public static Scenario Scenario(string name) =>
        Scenarios.FirstOrDefault(s => s.Name == name)
        ?? throw new InvalidRunbookException($"no harness scenario named '{name}' (known: {string.Join(", ", Scenarios.Select(s => s.Name))})");

    public static IBackend BackendFor(Scenario scenario) =>
        BackendFactories.Select(f => f()).FirstOrDefault(b => b.Name == scenario.Backend)
        ?? throw new InvalidRunbookException($"scenario '{scenario.Name}' needs backend '{scenario.Backend}', which is not available");
}
