using System.Diagnostics;
using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness.Backends.Netns;
using Runbooks.Harness.Lifecycle;
using Runbooks.Transport;

namespace Runbooks.Harness.Backends.Runit;

/// <summary>
/// One simulated host, <c>local</c>, supervised by runit: a network namespace (loopback only) plus a mount
/// namespace whose <c>/etc/sv</c>, <c>/etc/service</c> and <c>/var/log</c> (and whatever the scenario declares
/// with <c>Services().Private(…)</c>) are private scratch directories, with
/// <c>runsvdir -P /etc/service</c> running inside. runsvdir does not need to be PID 1, so a real supervisor from the
/// Debian package runs in a second instead of a VM boot. Built from the netns backend's pieces; its state file
/// and teardown are the netns ones, preceded by killing the supervision tree so nothing is respawned mid-teardown.
/// </summary>
public sealed class RunitBackend(IReadOnlyList<string>? privatePaths = null) : IBackend
{
    public const string HostName = "local";

    /// <summary>The directories every services host has to itself: runit's and the logs.</summary>
    public static readonly IReadOnlyList<string> AlwaysPrivate = ["/etc/sv", "/etc/service", "/var/log"];

    // Fresh mount namespace: each private path replaced by this run's own scratch directory (argv: SCRATCH PATH pairs).
    private const string MountScript = "set -e; while [ $# -gt 0 ]; do mount --bind \"$1\" \"$2\"; shift 2; done";


    // Mountpoints this run had to create on the machine (the path did not exist there), removed at destroy.
    private const string CreatedMountpointsFile = "runit-mountpoints.txt";

    // '&' under sh so that $! is runsvdir itself (nsenter execs it): it is killed by that PID at destroy.
    private const string BackgroundScript = "\"$@\" >/dev/null 2>&1 </dev/null & echo $!";

    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(15);

    public string Name => "runit";

    public async Task<IHarnessEnvironment> CreateAsync(HarnessOptions options, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var local = new LocalTransport();
        foreach (var tool in new[] { "runsvdir", "sv", "svlogd" })
        {
            if ((await local.RunAsync(new Command("sh", ["-c", "command -v \"$1\"", "sh", tool]).WithTimeout(Quick), cancellationToken)).ExitCode != 0)
            {
                throw new RunbookException($"runit backend: '{tool}' is not installed; `apt-get install runit` (harness/prerequisites.sh does)");
            }
        }

        var prefix = NetnsBackend.Prefix(options.RunId);
        var runDirectory = $"{NetnsTransport.MountDirectory}/{prefix}";
        Directory.CreateDirectory(runDirectory);
        Directory.CreateDirectory(options.WorkDirectory);
        var root = Path.Combine(Path.GetFullPath(options.WorkDirectory), "hosts", HostName);
        var paths = AlwaysPrivate.Concat(privatePaths ?? []).ToList();
        var mounts = new List<string>();
        for (var index = 0; index < paths.Count; index++)
        {
            var scratch = Path.Combine(root, "private", index.ToString(CultureInfo.InvariantCulture));
            Directory.CreateDirectory(scratch);
            mounts.AddRange([scratch, paths[index]]);
        }

        var created = CreateMountpoints(paths.Skip(AlwaysPrivate.Count), $"{prefix}-{HostName}", options.WorkDirectory);

        var host = new NetnsHostState(HostName, $"{prefix}-{HostName}", $"{runDirectory}/{HostName}.mnt", root, "", "127.0.0.1", []);
        var state = new NetnsState(options.RunId, prefix, runDirectory, "none", [host]);
        state.Save(options.WorkDirectory);
        var environment = new RunitEnvironment(new NetnsEnvironment(state, options), state, created);
        try
        {
            await NetnsBackend.Run(local, new Command("ip", ["netns", "add", host.Netns]), cancellationToken);
            await System.IO.File.WriteAllTextAsync(host.MountFile, "", cancellationToken);
            await NetnsBackend.Run(local, new Command("unshare", [$"--mount={host.MountFile}", "--propagation", "private", "sh", "-c", MountScript, "runbook-sh", .. mounts]),
                cancellationToken);
            var inside = new NetnsTransport(host.Name, host.Netns, host.MountFile);
            await NetnsBackend.Run(inside, new Command("ip", ["link", "set", "lo", "up"]), cancellationToken);

            var wrapped = inside.Wrap(new Command("runsvdir", ["-P", "/etc/service"]));
            var launch = Shell.Script(BackgroundScript, [wrapped.Program, .. wrapped.Arguments]).WithEnvironment("PATH", wrapped.Environment["PATH"]).WithTimeout(Quick);
            host.Daemons["runsvdir"] = int.Parse((await local.RunCheckedAsync(launch, cancellationToken)).StandardOutput.Trim(), CultureInfo.InvariantCulture);
            state.Save(options.WorkDirectory);
            environment.Facts["supervisor"] = "runsvdir (runit) in a network+mount namespace";
            environment.Facts["private"] = string.Join(" ", paths);
            environment.Facts["create"] = $"{clock.Elapsed.TotalSeconds:0.00} s";
            return environment;
        }
        catch
        {
            await FailedCreate.TearDownAsync(environment, "runit");
            throw;
        }
    }

    public Task<IHarnessEnvironment> AttachAsync(HarnessOptions options, CancellationToken cancellationToken)
    {
        var state = NetnsState.Load(options.WorkDirectory)
                    ?? throw new RunbookException($"no runit environment recorded in {NetnsState.PathIn(options.WorkDirectory)}; run `runbook harness up` first");
        if (!System.IO.File.Exists($"/var/run/netns/{state.Hosts[0].Netns}"))
        {
            throw new RunbookException($"the runit environment {state.Prefix} is gone; `runbook harness down` clears the record");
        }

        return Task.FromResult<IHarnessEnvironment>(new RunitEnvironment(new NetnsEnvironment(state, options), state, ReadCreatedMountpoints(options.WorkDirectory)));
    }

    /// <summary>
    /// Makes a mountpoint for each path missing on the machine and records it (the path, and the topmost directory
    /// created for it) so that destroy, in this process or a later <c>harness down</c>, removes exactly those.
    /// </summary>
    private static List<CreatedMountpoint> CreateMountpoints(IEnumerable<string> paths, string run, string workDirectory)
    {
        var created = new List<CreatedMountpoint>();
        foreach (var path in paths)
        {
            if (System.IO.File.Exists(path))
            {
                throw new RunbookException($"runit backend: Private(\"{path}\"): {path} is a file on this machine; only a directory can be private");
            }

            if (SharedMountpoints.Claim(path, run))
            {
                created.Add(new CreatedMountpoint(path, run));
            }
        }

        System.IO.File.WriteAllLines(Path.Combine(workDirectory, CreatedMountpointsFile), created.Select(c => $"{c.Path}\t{c.Run}"));
        return created;
    }

    private static List<CreatedMountpoint> ReadCreatedMountpoints(string workDirectory)
    {
        var file = Path.Combine(workDirectory, CreatedMountpointsFile);
        return System.IO.File.Exists(file)
            ? [.. System.IO.File.ReadAllLines(file).Select(l => l.Split('\t')).Where(f => f.Length == 2).Select(f => new CreatedMountpoint(f[0], f[1]))]
            : [];
    }
}

/// <summary>A mount point this run claimed (see <see cref="SharedMountpoints"/>): released at destroy.</summary>
internal sealed record CreatedMountpoint(string Path, string Run);

/// <summary>The netns environment, with the supervision tree killed first at destroy and the mountpoints it made removed last.</summary>
internal sealed class RunitEnvironment(NetnsEnvironment inner, NetnsState state, IReadOnlyList<CreatedMountpoint> mountpoints) : IHarnessEnvironment
{
    private static readonly string[] Supervisors = ["runsvdir", "runsv"];

    public Inventory Inventory => inner.Inventory;

    public string HowToReach => inner.HowToReach + "\nservices: sv status /etc/service/* (inside the namespace)";

    public Dictionary<string, string> Facts => inner.Facts;

    IReadOnlyDictionary<string, string> IHarnessEnvironment.Facts => inner.Facts;

    public async Task<IReadOnlyList<string>> DestroyAsync(CancellationToken cancellationToken)
    {
        // runsv restarts a service the moment it dies: kill the supervisors first, then whatever they ran, and
        // look again until the namespace is empty (a process started between the look and the kill is caught next round).
        var local = new LocalTransport();
        foreach (var host in state.Hosts)
        {
            for (var round = 0; round < 10 && System.IO.File.Exists($"/var/run/netns/{host.Netns}"); round++)
            {
                var listed = await local.RunAsync(new Command("ip", ["netns", "pids", host.Netns]).WithTimeout(TimeSpan.FromSeconds(10)), cancellationToken);
                var pids = listed.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture))
                    .Where(IsAlive).ToList();
                if (pids.Count == 0)
                {
                    break;
                }

                foreach (var pid in pids.OrderBy(p => Supervisors.Contains(Comm(p)) ? 0 : 1))
                {
                    Signal(pid);
                }

                await Task.Delay(50, cancellationToken);
            }
        }

        var leaks = (await inner.DestroyAsync(cancellationToken)).ToList();
        foreach (var mountpoint in mountpoints)
        {
            leaks.AddRange(SharedMountpoints.Release(mountpoint.Path, mountpoint.Run));
        }

        return leaks;
    }

    private static string Comm(int pid)
    {
        try
        {
            return System.IO.File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static bool IsAlive(int pid)
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

    private static void Signal(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
        }
        catch (ArgumentException)
        {
        }
        catch (InvalidOperationException)
        {
        }
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
