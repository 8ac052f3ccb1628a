using Runbooks.Commands;
using System.Text.Json;
using Runbooks.Engine;
using Runbooks.Harness.Lifecycle;
using Runbooks.Transport;

namespace Runbooks.Harness.Backends.Container;

/// <summary>One container host: its inventory name, the container's name, its address on the run's network.</summary>
internal sealed record ContainerHostState(string Name, string Container)
{
    public string Address { get; set; } = "";
}

/// <summary>What a later process needs to attach to, or tear down, a containers environment.</summary>
internal sealed record ContainerState(string RunId, string Engine, string Image, string Network, List<ContainerHostState> Containers)
{
    public const string FileName = "containers-state.json";

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public bool NetworkCreated { get; set; }

    public static string PathIn(string workDirectory) => System.IO.Path.Combine(workDirectory, FileName);

    public void Save(string workDirectory) => System.IO.File.WriteAllText(PathIn(workDirectory), JsonSerializer.Serialize(this, Options));

    public static ContainerState? Load(string workDirectory)
    {
        var path = PathIn(workDirectory);
        return System.IO.File.Exists(path) ? JsonSerializer.Deserialize<ContainerState>(System.IO.File.ReadAllText(path)) : null;
    }
}

/// <summary>
/// The live containers (the hosts the state names when it is made); destroying removes them and their network, then
/// looks for anything of the run left.
/// </summary>
internal sealed class ContainerEnvironment : IHarnessEnvironment
{
    private readonly ContainerState _state;
    private readonly ContainerEngine _engine;
    private readonly string _workDirectory;

    public ContainerEnvironment(ContainerState state, ContainerEngine engine, string workDirectory)
    {
        _state = state;
        _engine = engine;
        _workDirectory = workDirectory;
        Inventory = new Inventory();
        foreach (var host in state.Containers)
        {
            Inventory.Add(host.Name, new ContainerTransport(host.Name, host.Container, state.Engine));
        }
    }

    public Inventory Inventory { get; }

    public Dictionary<string, string> Facts { get; } = new(StringComparer.Ordinal);

    IReadOnlyDictionary<string, string> IHarnessEnvironment.Facts => Facts;

    public string HowToReach =>
        string.Join("\n", _state.Containers.Select(h => $"{h.Name}: {_state.Engine} exec -it {h.Container} bash")) +
        "\ninventory: " + string.Join(" ", _state.Containers.Select(h => $"--host {h.Name}=container:{h.Container}"));

    public async Task<IReadOnlyList<string>> DestroyAsync(CancellationToken cancellationToken)
    {
        var filter = $"label={ContainerBackend.Label(_state.RunId)}";
        var names = _state.Containers.Select(h => h.Container).ToList();
        if (names.Count > 0)
        {
            // No grace: the hosts are disposable, and sleep as PID 1's child would wait out a default 10 s stop.
            Arg[] now = _engine.IsPodman ? ["--time", "0"] : [];
            await _engine.TryAsync(["rm", "--force", .. now, .. names.Select(Arg.FromString)], cancellationToken);
        }

        if (_state.NetworkCreated)
        {
            await _engine.TryAsync(["network", "rm", _state.Network], cancellationToken);
        }

        var leaks = new List<string>();
        var left = await _engine.TryAsync(["ps", "--all", "--quiet", "--filter", filter], cancellationToken);
        leaks.AddRange(left.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(id => $"container {id.Trim()}"));
        if (_state.NetworkCreated && (await _engine.TryAsync(["network", "inspect", _state.Network], cancellationToken)).ExitCode == 0)
        {
            leaks.Add($"network {_state.Network}");
        }

        if (leaks.Count == 0)
        {
            System.IO.File.Delete(ContainerState.PathIn(_workDirectory));
        }

        return leaks;
    }

    /// <summary>Closes each host's kept exec session.</summary>
    public ValueTask DisposeAsync() => Inventory.DisposeAsync();
}
