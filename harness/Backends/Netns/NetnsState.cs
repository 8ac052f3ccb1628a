using System.Text.Json;

namespace Runbooks.Harness.Backends.Netns;

/// <summary>One simulated host: its namespaces, addresses and the daemons the backend started in it.</summary>
internal sealed record NetnsHostState(
    string Name,
    string Netns,
    string MountFile,
    string Root,
    string SixPn,
    string Ipv4,
    Dictionary<string, int> Daemons)
{
    /// <summary>Mount points that did not exist on this machine and were created for a private path; removed at destroy.</summary>
    public List<string> CreatedMountPoints { get; init; } = [];
}

/// <summary>What a later process needs to attach to, or tear down, a netns environment.</summary>
internal sealed record NetnsState(string RunId, string Prefix, string RunDirectory, string WireGuard, List<NetnsHostState> Hosts)
{
    public const string FileName = "netns-state.json";

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public static string PathIn(string workDirectory) => System.IO.Path.Combine(workDirectory, FileName);

    public void Save(string workDirectory) => System.IO.File.WriteAllText(PathIn(workDirectory), JsonSerializer.Serialize(this, Options));

    public static NetnsState? Load(string workDirectory)
    {
        var path = PathIn(workDirectory);
        return System.IO.File.Exists(path) ? JsonSerializer.Deserialize<NetnsState>(System.IO.File.ReadAllText(path)) : null;
    }
}
