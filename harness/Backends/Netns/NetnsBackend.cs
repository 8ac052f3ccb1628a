using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness.Lifecycle;
using Runbooks.Transport;

namespace Runbooks.Harness.Backends.Netns;

/// <summary>
/// Two simulated hosts, <c>server</c> and <c>client</c>: each a network namespace plus a persistent mount
/// namespace with private <c>/etc/wireguard</c>, <c>/var/run/wireguard</c>, <c>/etc/hosts</c> and
/// <c>/etc/sysctl.d</c>, joined by a veth pair (<c>eth0</c> on both sides) carrying the 6PN IPv6 network.
/// WireGuard comes from the kernel module when it loads in a namespace, else from wireguard-go started in the
/// foreground per host. The server runs an HTTP service on 0.0.0.0:8080 and a TCP service on [::]:9000.
/// </summary>
public sealed partial class NetnsBackend : IBackend
{
    public const string ServerSixPn = "fdaa:3:a396:a7b:88dc:68d5:bd36:2";
    public const string ClientSixPn = "fdaa:3:a396:a7b:175:7ae9:e030:2";
    public const int HttpPort = 8080;
    public const int TcpPort = 9000;

    // Every fresh namespace needs these before anything else; the values arrive as $1.. (no shell parsing).
    // A private /run/lock per host: each simulated host holds its own runbook host lock, as real machines do.
    private const string MountScript =
        "mkdir -p /var/run/wireguard /etc/wireguard && mount --bind \"$1\" /etc/wireguard && mount --bind \"$2\" /var/run/wireguard && " +
        "mount --bind \"$3\" /etc/hosts && mount --bind \"$4\" /etc/sysctl.d && mkdir -p /run/lock && mount --bind \"$5\" /run/lock";

    // '&' under sh so that $! is the daemon itself (nsenter execs it): it is killed by that PID at destroy.
    private const string BackgroundScript = "\"$@\" >/dev/null 2>&1 </dev/null & echo $!";

    private const string TcpServiceScript = """
        import socket
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", 9000))
        s.listen(16)
        while True:
            c, _ = s.accept()
            c.sendall(b"internal service\n")
            c.close()
        """;

    private static readonly string[] HostNames = ["server", "client"];
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(15);

    public string Name => "netns";

    public async Task<IHarnessEnvironment> CreateAsync(HarnessOptions options, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var local = new LocalTransport();
        var prefix = Prefix(options.RunId);
        var runDirectory = $"{NetnsTransport.MountDirectory}/{prefix}";
        Directory.CreateDirectory(runDirectory);
        Directory.CreateDirectory(options.WorkDirectory);
        var hosts = new List<NetnsHostState>();
        var state = new NetnsState(options.RunId, prefix, runDirectory, "pending", hosts);
        var environment = new NetnsEnvironment(state, options);
        try
        {
            var index = 0;
            foreach (var name in HostNames)
            {
                var root = Path.Combine(Path.GetFullPath(options.WorkDirectory), "hosts", name);
                foreach (var dir in new[] { "etc-wireguard", "run-wireguard", "sysctl.d", "www", "run-lock" })
                {
                    Directory.CreateDirectory(Path.Combine(root, dir));
                }

                System.IO.File.WriteAllText(Path.Combine(root, "hosts"),
                    $"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{ServerSixPn}\tserver\n{ClientSixPn}\tclient\n172.19.0.1\t5683930b32e68e\n");
                System.IO.File.WriteAllText(Path.Combine(root, "www", "index.html"), $"<p>{name}</p>\n");
                var host = new NetnsHostState(name, $"{prefix}-{name}", $"{runDirectory}/{name}.mnt", root,
                    name == "server" ? ServerSixPn : ClientSixPn, name == "server" ? "172.19.0.2" : "172.19.0.74", []);
                hosts.Add(host);
                state.Save(options.WorkDirectory);
                await Run(local, new Command("ip", ["netns", "add", host.Netns]), cancellationToken);
                await System.IO.File.WriteAllTextAsync(host.MountFile, "", cancellationToken);
                await Run(local, new Command("unshare", [$"--mount={host.MountFile}", "--propagation", "private", "sh", "-c", MountScript, "runbook-sh",
                    Path.Combine(root, "etc-wireguard"), Path.Combine(root, "run-wireguard"), Path.Combine(root, "hosts"), Path.Combine(root, "sysctl.d"), Path.Combine(root, "run-lock")]), cancellationToken);
                await Run(environment.Transport(name), new Command("ip", ["link", "set", "lo", "up"]), cancellationToken);
                index++;
            }

            // The 6PN link: created in the root namespace with prefixed names, moved, then called eth0 inside.
            var server = hosts[0];
            var client = hosts[1];
            await Run(local, new Command("ip", ["link", "add", $"{prefix}s", "type", "veth", "peer", "name", $"{prefix}c"]), cancellationToken);
            foreach (var (host, end) in new[] { (server, $"{prefix}s"), (client, $"{prefix}c") })
            {
                await Run(local, new Command("ip", ["link", "set", end, "netns", host.Netns]), cancellationToken);
                var on = environment.Transport(host.Name);
                await Run(on, new Command("ip", ["link", "set", end, "name", "eth0"]), cancellationToken);
                // nodad: duplicate address detection would hold the address "tentative" for a second or more.
                await Run(on, new Command("ip", ["addr", "add", $"{host.SixPn}/64", "dev", "eth0", "nodad"]), cancellationToken);
                await Run(on, new Command("ip", ["addr", "add", $"{host.Ipv4}/24", "dev", "eth0"]), cancellationToken);
                await Run(on, new Command("ip", ["link", "set", "eth0", "up"]), cancellationToken);
            }

            state = state with { WireGuard = await ProvideWireGuardAsync(environment, hosts, cancellationToken) };
            environment.Replace(state);
            state.Save(options.WorkDirectory);

            server.Daemons["http"] = await StartAsync(server, ["python3", "-m", "http.server", HttpPort.ToString(CultureInfo.InvariantCulture), "--bind", "0.0.0.0", "--directory", Path.Combine(server.Root, "www")], cancellationToken);
            server.Daemons["tcp"] = await StartAsync(server, ["python3", "-c", TcpServiceScript], cancellationToken);
            state.Save(options.WorkDirectory);
            await WaitForListenersAsync(environment.Transport("server"), [HttpPort, TcpPort], cancellationToken);
            environment.Facts["wireguard"] = state.WireGuard;
            environment.Facts["create"] = $"{clock.Elapsed.TotalSeconds:0.00} s";
            return environment;
        }
        catch
        {
            var leaks = await environment.DestroyAsync(CancellationToken.None);
            if (leaks.Count > 0)
            {
                Console.Error.WriteLine($"netns create failed and teardown left: {string.Join(", ", leaks)}");
            }

            throw;
        }
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
            await Run(environment.Transport(hosts[1].Name), new Command("ip", ["link", "add", "wg0", "type", "wireguard"]), cancellationToken);
            return "kernel module";
        }

        // This machine's kernel has no WireGuard module: wireguard-go gives each host a wg0. Its UAPI socket
        // lands in the host's private /var/run/wireguard, so the two daemons do not collide.
        foreach (var host in hosts)
        {
            host.Daemons["wireguard-go"] = await StartAsync(host,
                ["env", "WG_PROCESS_FOREGROUND=1", "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1", "wireguard-go", "wg0"], cancellationToken);
        }

        foreach (var host in hosts)
        {
            var socket = Path.Combine(host.Root, "run-wireguard", "wg0.sock");
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

    private static async Task WaitForListenersAsync(ITransport server, int[] ports, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var result = await server.RunCheckedAsync(new Command("ss", ["-Hltn"]).AsReadOnly().WithTimeout(Quick), cancellationToken);
            var missing = ports.Where(p => !result.StandardOutput.Contains($":{p} ", StringComparison.Ordinal)).ToList();
            if (missing.Count == 0)
            {
                return;
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new RunbookException($"netns host server: nothing listens on port(s) {string.Join(", ", missing)} 10 s after start; is python3 installed?");
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    internal static Task<CommandResult> Run(ITransport transport, Command command, CancellationToken cancellationToken) =>
        transport.RunCheckedAsync(command.WithTimeout(Quick), cancellationToken);

    [GeneratedRegex("[^a-z0-9]")]
    private static partial Regex NonAlnum();
}
