using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness.Lifecycle;
using Runbooks.Scenarios;
using Runbooks.Transport;

namespace Runbooks.Harness.Backends.Netns;

/// <summary>
/// The hosts a scenario's <see cref="NetnsDeclaration"/> names: each a network namespace plus a persistent mount
/// namespace in which <see cref="NetnsDeclaration.DefaultPrivatePaths"/> and the host's own private paths are scratch
/// directories of this run, joined by veth links carrying the declared addresses. With <c>WireGuard()</c>, every host
/// gets <c>wg0</c> from the kernel module when it loads in a namespace, else from wireguard-go started per host.
/// Processes a break starts inside a host are killed at destroy (everything <c>ip netns pids</c> lists).
/// </summary>
public sealed partial class NetnsBackend : IBackend
{
    // Binds "$1 over $2", "$3 over $4", …, or mounts a tmpfs where the source is "tmpfs:SIZE": the values arrive as
    // positional parameters, never parsed by a shell. Every mount point exists already (SharedMountpoints).
    private const string MountScript = """
        set -eu
        while [ "$#" -gt 1 ]; do
            case "$1" in
                tmpfs:*) mount -t tmpfs -o "size=${1#tmpfs:},mode=0755" tmpfs "$2" ;;
                *) mount --bind -- "$1" "$2" ;;
            esac
            shift 2
        done
        """;

    // '&' under sh so that $! is the daemon itself (nsenter execs it): it is killed by that PID at destroy.
    private const string BackgroundScript = "\"$@\" >/dev/null 2>&1 </dev/null & echo $!";

    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(15);

    private readonly NetnsDeclaration? _declaration;

    /// <param name="declaration">The hosts to create; null only to attach to (or destroy) hosts an earlier process created.</param>
    internal NetnsBackend(NetnsDeclaration? declaration = null) => _declaration = declaration;

    public string Name => "netns";

    public async Task<IHarnessEnvironment> CreateAsync(HarnessOptions options, CancellationToken cancellationToken)
    {
        var declaration = _declaration ?? throw new InvalidOperationException("a netns backend without a declaration can only attach");
        var clock = Stopwatch.StartNew();
        var local = new LocalTransport();
        foreach (var tool in new[] { "ip", "unshare", "nsenter" })
        {
            if ((await local.RunAsync(Shell.Script("command -v \"$1\"", tool).WithTimeout(Quick), cancellationToken)).ExitCode != 0)
            {
                throw new RunbookException($"netns backend: '{tool}' is not installed; `apt-get install iproute2 util-linux` (harness/prerequisites.sh does)");
            }
        }

        var prefix = Prefix(options.RunId);
        var runDirectory = $"{NetnsTransport.MountDirectory}/{prefix}";
        Directory.CreateDirectory(runDirectory);
        Directory.CreateDirectory(options.WorkDirectory);
        var hosts = new List<NetnsHostState>();
        var state = new NetnsState(options.RunId, prefix, runDirectory, "none", hosts);
        var environment = new NetnsEnvironment(state, options);
        try
        {
            var hostsFile = HostsFile(declaration);
            foreach (var declared in declaration.Hosts)
            {
                var root = Path.Combine(Path.GetFullPath(options.WorkDirectory), "hosts", declared.Name);
                var binds = new List<string>();
                foreach (var path in NetnsDeclaration.DefaultPrivatePaths.Concat(declared.PrivatePaths).Distinct(StringComparer.Ordinal))
                {
                    var scratch = ScratchFor(root, path);
                    if (path is "/etc/hosts" or "/etc/sysctl.conf" || System.IO.File.Exists(path))
                    {
                        // A file on this machine (the hosts file, a resolv.conf) gets a scratch file: the hosts file names every host.
                        Directory.CreateDirectory(Path.GetDirectoryName(scratch)!);
                        await System.IO.File.WriteAllTextAsync(scratch, path == "/etc/hosts" ? hostsFile : "", cancellationToken);
                    }
                    else
                    {
                        Directory.CreateDirectory(scratch);
                    }

                    binds.AddRange([scratch, path]);
                }

                binds.AddRange(declared.SmallFilesystems.SelectMany(f => new[] { $"tmpfs:{f.Value}m", f.Key }));

                var host = new NetnsHostState(declared.Name, $"{prefix}-{declared.Name}", $"{runDirectory}/{declared.Name}.mnt", root, "", "", []);
                hosts.Add(host);
                for (var i = 1; i < binds.Count; i += 2)
                {
                    if (SharedMountpoints.Claim(binds[i], host.Netns, file: System.IO.File.Exists(binds[i - 1])))
                    {
                        host.CreatedMountPoints.Add(binds[i]);
                    }
                }

                state.Save(options.WorkDirectory);
                await Run(local, new Command("ip", ["netns", "add", host.Netns]), cancellationToken);
                await System.IO.File.WriteAllTextAsync(host.MountFile, "", cancellationToken);
                await Run(local, new Command("unshare", [$"--mount={host.MountFile}", "--propagation", "private", "sh", "-c", MountScript, "runbook-sh", .. binds.Select(Arg.FromString)]), cancellationToken);
                await Run(environment.Transport(declared.Name), new Command("ip", ["link", "set", "lo", "up"]), cancellationToken);
            }

            // Each link: created in the root namespace with run-unique names, moved, then renamed inside.
            var index = 0;
            foreach (var link in declaration.Links)
            {
                var (a, b) = ($"{prefix}{index}a", $"{prefix}{index}b");
                index++;
                await Run(local, new Command("ip", ["link", "add", a, "type", "veth", "peer", "name", b]), cancellationToken);
                foreach (var (end, hostName, addresses) in new[] { (a, link.From, link.FromAddresses), (b, link.To, link.ToAddresses) })
                {
                    var host = hosts.First(h => h.Name == hostName);
                    await Run(local, new Command("ip", ["link", "set", end, "netns", host.Netns]), cancellationToken);
                    var on = environment.Transport(host.Name);
                    await Run(on, new Command("ip", ["link", "set", end, "name", link.Device]), cancellationToken);
                    foreach (var address in addresses)
                    {
                        // nodad: duplicate address detection would hold an IPv6 address "tentative" for a second or more.
                        await Run(on, new Command("ip", ["addr", "add", address, "dev", link.Device, .. address.Contains(':', StringComparison.Ordinal) ? new Arg[] { "nodad" } : []]), cancellationToken);
                    }

                    await Run(on, new Command("ip", ["link", "set", link.Device, "up"]), cancellationToken);
                }
            }

            if (declaration.WantsWireGuard)
            {
                state = state with { WireGuard = await ProvideWireGuardAsync(environment, hosts, cancellationToken) };
                environment.Replace(state);
                environment.Facts["wireguard"] = state.WireGuard;
            }

            state.Save(options.WorkDirectory);
            environment.Facts["hosts"] = string.Join(" ", hosts.Select(h => h.Name));
            environment.Facts["create"] = $"{clock.Elapsed.TotalSeconds:0.00} s";
            return environment;
        }
        catch
        {
            await FailedCreate.TearDownAsync(environment, "netns");
            throw;
        }
    }

    /// <summary>Where on this machine the scratch copy of a host's private path lives.</summary>
    internal static string ScratchFor(string hostRoot, string path) => Path.Combine(hostRoot, "private", path.TrimStart('/').Replace('/', '_'));

    /// <summary>localhost, then every host by the first address of its first link (IPv6 first, as the 6PN network).</summary>
    private static string HostsFile(NetnsDeclaration declaration)
    {
        var lines = new List<string> { "127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback" };
        foreach (var host in declaration.Hosts)
        {
            var addresses = declaration.Links.SelectMany(l => l.From == host.Name ? l.FromAddresses : l.To == host.Name ? l.ToAddresses : []).ToList();
            var first = addresses.FirstOrDefault(a => a.Contains(':', StringComparison.Ordinal)) ?? addresses.FirstOrDefault();
            if (first is not null)
            {
                lines.Add($"{first.Split('/')[0]}\t{host.Name}");
            }
        }

        return string.Join("\n", lines) + "\n";
    }

    public Task<IHarnessEnvironment> AttachAsync(HarnessOptions options, CancellationToken cancellationToken)
    {
        var state = NetnsState.Load(options.WorkDirectory)
                    ?? throw new RunbookException($"no netns environment recorded in {NetnsState.PathIn(options.WorkDirectory)}; run `runbook harness up` first");
        var missing = state.Hosts.Where(h => !System.IO.File.Exists($"/var/run/netns/{h.Netns}")).Select(h => h.Netns).ToList();
        if (missing.Count > 0)
        {
            throw new RunbookException($"the netns environment {state.Prefix} is gone (missing: {string.Join(", ", missing)}); `runbook harness down` clears the record");
        }

        return Task.FromResult<IHarnessEnvironment>(new NetnsEnvironment(state, options));
    }

    /// <summary>Short, per run, and valid inside a 15-character link name (<c>rb1a2b3cs</c>).</summary>
    internal static string Prefix(string runId)
    {
        var clean = NonAlnum().Replace(runId.ToLowerInvariant(), "");
        return "rb" + (clean.Length > 6 ? clean[^6..] : clean.PadLeft(6, '0'));
    }

    private static async Task<string> ProvideWireGuardAsync(NetnsEnvironment environment, List<NetnsHostState> hosts, CancellationToken cancellationToken)
    {
        var probe = await environment.Transport(hosts[0].Name).RunAsync(new Command("ip", ["link", "add", "wg0", "type", "wireguard"]).WithTimeout(Quick), cancellationToken);
        if (probe.ExitCode == 0)
        {
            foreach (var host in hosts.Skip(1))
            {
                await Run(environment.Transport(host.Name), new Command("ip", ["link", "add", "wg0", "type", "wireguard"]), cancellationToken);
            }

            return "kernel module";
        }

        // This machine's kernel has no WireGuard module: wireguard-go gives each host a wg0. Its UAPI socket
        // lands in the host's private /var/run/wireguard, so the daemons do not collide.
        foreach (var host in hosts)
        {
            host.Daemons["wireguard-go"] = await StartAsync(host,
                ["env", "WG_PROCESS_FOREGROUND=1", "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1", "wireguard-go", "wg0"], cancellationToken);
        }

        foreach (var host in hosts)
        {
            var socket = Path.Combine(ScratchFor(host.Root, "/var/run/wireguard"), "wg0.sock");
            var deadline = Stopwatch.StartNew();
            while (!System.IO.File.Exists(socket))
            {
                if (deadline.Elapsed > TimeSpan.FromSeconds(5))
                {
                    throw new RunbookException($"netns host {host.Name}: wireguard-go did not create {socket} within 5 s; run `wireguard-go -f wg0` by hand inside the namespace to see why");
                }

                await Task.Delay(25, cancellationToken);
            }
        }

        return "wireguard-go (no kernel module)";
    }

    private static async Task<int> StartAsync(NetnsHostState host, string[] argv, CancellationToken cancellationToken)
    {
        var transport = new NetnsTransport(host.Name, host.Netns, host.MountFile);
        var wrapped = transport.Wrap(new Command(argv[0], [.. argv.Skip(1).Select(Arg.FromString)]));
        var launch = Shell.Script(BackgroundScript, [wrapped.Program, .. wrapped.Arguments]).WithEnvironment("PATH", wrapped.Environment["PATH"]).WithTimeout(Quick);
        var result = await new LocalTransport().RunCheckedAsync(launch, cancellationToken);
        return int.Parse(result.StandardOutput.Trim(), CultureInfo.InvariantCulture);
    }

    internal static Task<CommandResult> Run(ITransport transport, Command command, CancellationToken cancellationToken) =>
        transport.RunCheckedAsync(command.WithTimeout(Quick), cancellationToken);

    [GeneratedRegex("[^a-z0-9]")]
    private static partial Regex NonAlnum();
}
