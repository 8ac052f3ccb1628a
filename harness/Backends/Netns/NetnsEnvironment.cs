using System.Diagnostics;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness.Lifecycle;
using Runbooks.Transport;

namespace Runbooks.Harness.Backends.Netns;

/// <summary>The live netns hosts; destroying them kills the daemons by PID, deletes the namespaces and reports leaks.</summary>
internal sealed class NetnsEnvironment : IHarnessEnvironment
{
    private readonly HarnessOptions _options;
    private NetnsState _state;

    public NetnsEnvironment(NetnsState state, HarnessOptions options)
    {
        _state = state;
        _options = options;
        Inventory = new Inventory();
        foreach (var host in state.Hosts)
        {
            Inventory.Add(host.Name, new NetnsTransport(host.Name, host.Netns, host.MountFile));
        }

        Facts["prefix"] = state.Prefix;
    }

    public Inventory Inventory { get; private set; }

    public Dictionary<string, string> Facts { get; } = new(StringComparer.Ordinal);

    IReadOnlyDictionary<string, string> IHarnessEnvironment.Facts => Facts;

    public string HowToReach =>
        string.Join("\n", _state.Hosts.Select(h => $"{h.Name}: nsenter --net=/var/run/netns/{h.Netns} --mount={h.MountFile} -- bash")) +
        "\ninventory: " + string.Join(" ", _state.Hosts.Select(h => $"--host {h.Name}=netns:{h.Netns}"));

    internal void Replace(NetnsState state) => _state = state;

    /// <summary>A transport to a host even while the environment is still being built.</summary>
    internal NetnsTransport Transport(string name)
    {
        var host = _state.Hosts.First(h => h.Name == name);
        if (!Inventory.Contains(name))
        {
            Inventory.Add(name, new NetnsTransport(host.Name, host.Netns, host.MountFile));
        }

        return new NetnsTransport(host.Name, host.Netns, host.MountFile);
    }

    public async Task<IReadOnlyList<string>> DestroyAsync(CancellationToken cancellationToken)
    {
        var local = new LocalTransport();
        var quick = TimeSpan.FromSeconds(10);
        var releaseLeaks = new List<string>();
        foreach (var host in _state.Hosts)
        {
            // Daemons the backend started, then anything a runbook started in the namespace (wireguard-go daemonized by Wg).
            var pids = new List<int>();
            if (System.IO.File.Exists($"/var/run/netns/{host.Netns}"))
            {
                var inside = await local.RunAsync(new Command("ip", ["netns", "pids", host.Netns]).WithTimeout(quick), cancellationToken);
                pids.AddRange(inside.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse));
            }

            foreach (var pid in host.Daemons.Where(d => IsDaemon(d.Value, d.Key)).Select(d => d.Value).Concat(pids.Except(host.Daemons.Values)).Distinct())
            {
                Kill(pid);
            }

            await local.RunAsync(new Command("umount", [host.MountFile]).WithTimeout(quick), cancellationToken);
            await local.RunAsync(new Command("ip", ["netns", "del", host.Netns]).WithTimeout(quick), cancellationToken);

            // Mount points made for private paths the machine did not have: the last run holding one removes it.
            foreach (var created in host.CreatedMountPoints.AsEnumerable().Reverse())
            {
                releaseLeaks.AddRange(SharedMountpoints.Release(created, host.Netns));
            }
        }

        try
        {
            Directory.Delete(_state.RunDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }

        foreach (var host in _state.Hosts)
        {
            try
            {
                Directory.Delete(host.Root, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
        }

        var leaks = await FindLeaksAsync(local, cancellationToken);
        leaks.AddRange(releaseLeaks);
        if (leaks.Count == 0)
        {
            System.IO.File.Delete(NetnsState.PathIn(_options.WorkDirectory));
        }

        return leaks;
    }

    /// <summary>The PID still runs the daemon we started (after a re-attach a PID may have been reused by anything else).</summary>
    private static bool IsDaemon(int pid, string daemon)
    {
        try
        {
            var cmdline = System.IO.File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
            var status = System.IO.File.ReadAllText($"/proc/{pid}/status");
            return !status.Contains("State:\tZ", StringComparison.Ordinal) &&
                   cmdline.Contains(daemon, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static void Kill(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
        }
        catch (ArgumentException)
        {
            return; // already gone
        }
        catch (InvalidOperationException)
        {
            return;
        }

        // Process.WaitForExit cannot wait on a process that is not our child (these were re-parented when
        // their launching shell exited): watch /proc until it is gone or a zombie.
        var clock = Stopwatch.StartNew();
        while (IsRunning(pid) && clock.Elapsed < TimeSpan.FromSeconds(3))
        {
            Thread.Sleep(10);
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            return !System.IO.File.ReadAllText($"/proc/{pid}/status").Contains("State:\tZ", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private async Task<List<string>> FindLeaksAsync(LocalTransport local, CancellationToken cancellationToken)
    {
        var leaks = new List<string>();
        var prefix = _state.Prefix;
        var netns = await local.RunAsync(new Command("ip", ["netns", "list"]).WithTimeout(TimeSpan.FromSeconds(10)), cancellationToken);
        leaks.AddRange(netns.StandardOutput.Split('\n').Where(l => l.StartsWith(prefix + "-", StringComparison.Ordinal)).Select(l => $"network namespace {l.Split(' ')[0]}"));
        var links = await local.RunAsync(new Command("ip", ["-o", "link", "show"]).WithTimeout(TimeSpan.FromSeconds(10)), cancellationToken);
        leaks.AddRange(links.StandardOutput.Split('\n').Select(l => l.Split(':', 3)).Where(p => p.Length > 2 && p[1].Trim().Split('@')[0].StartsWith(prefix, StringComparison.Ordinal))
            .Select(p => $"link {p[1].Trim()}"));
        foreach (var host in _state.Hosts)
        {
            foreach (var (daemon, pid) in host.Daemons)
            {
                if (IsDaemon(pid, daemon))
                {
                    leaks.Add($"process {pid} ({daemon} on {host.Name})");
                }
            }
        }

        var mounts = await System.IO.File.ReadAllTextAsync("/proc/self/mountinfo", cancellationToken);
        leaks.AddRange(mounts.Split('\n').Where(l => l.Contains(_state.RunDirectory, StringComparison.Ordinal)).Select(l => $"mount {l.Split(' ')[4]}"));
        return leaks;
    }

    public ValueTask DisposeAsync() => Inventory.DisposeAsync();
}
