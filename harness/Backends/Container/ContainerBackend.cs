using System.Diagnostics;
using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness.Backends.Netns;
using Runbooks.Harness.Lifecycle;
using Runbooks.Scenarios;
using Runbooks.Transport;

namespace Runbooks.Harness.Backends.Container;

/// <summary>
/// The hosts a scenario's <see cref="ContainersDeclaration"/> names: one container each, from one image, on a network
/// of this run (<c>PREFIX-net</c>, containers <c>PREFIX-HOST</c>, all labelled with the run), reached with
/// <see cref="ContainerTransport"/>. Each runs <c>sleep infinity</c> (or its declared main process) under the engine's
/// init, so orphans of a break are reaped. A container's <c>/proc/sys/net</c> is writable — its own network namespace's
/// parameters, as a netns host has — while the rest of <c>/proc/sys</c>, the machine's kernel, stays read-only.
/// </summary>
public sealed class ContainerBackend : IBackend
{
    /// <summary>Builds (once, cached) and names the default Debian image; shipped beside the tool.</summary>
    public static string ImageScript { get; } = Path.Combine(AppContext.BaseDirectory, "debian-image.sh");

    // Bound over itself and remounted writable inside the container's mount namespace: only the network part of
    // /proc/sys is per container; kernel.*, vm.* and fs.* are the machine's own and stay read-only.
    private const string NetSysctlsWritable = "mount --bind /proc/sys/net /proc/sys/net && mount -o remount,bind,rw /proc/sys/net";

    // Appends "ADDRESS NAME" lines (argv pairs) to the container's /etc/hosts, so hosts find each other by name.
    private const string HostsScript = "while [ $# -gt 1 ]; do printf '%s\\t%s\\n' \"$1\" \"$2\" >> /etc/hosts; shift 2; done";

    private static readonly TimeSpan ImageBuild = TimeSpan.FromMinutes(20);
    private static readonly TimeSpan ImagePull = TimeSpan.FromMinutes(2);

    private readonly ContainersDeclaration? _declaration;

    /// <param name="declaration">The hosts to create; null only to attach to (or destroy) hosts an earlier process created.</param>
    internal ContainerBackend(ContainersDeclaration? declaration = null) => _declaration = declaration;

    public string Name => "containers";

    public async Task<IHarnessEnvironment> CreateAsync(HarnessOptions options, CancellationToken cancellationToken)
    {
        var declaration = _declaration ?? throw new InvalidOperationException("a containers backend without a declaration can only attach");
        var clock = Stopwatch.StartNew();
        var local = new LocalTransport();
        var engine = ContainerEngine.Find(local);
        var image = await ImageAsync(engine, declaration.Image, cancellationToken);
        var imageTime = clock.Elapsed;

        var prefix = NetnsBackend.Prefix(options.RunId);
        Directory.CreateDirectory(options.WorkDirectory);
        var state = new ContainerState(options.RunId, engine.Program, image, $"{prefix}-net", []);
        var environment = new ContainerEnvironment(state, engine, options.WorkDirectory);
        try
        {
            state.Save(options.WorkDirectory);
            Arg[] subnet = declaration.Subnet is { } s ? ["--subnet", s, "--gateway", ContainersDeclaration.Gateway(s)] : [];
            await engine.RunAsync(["network", "create", .. subnet, "--label", Label(options.RunId), state.Network], cancellationToken);
            state.NetworkCreated = true;
            state.Save(options.WorkDirectory);

            foreach (var host in declaration.Hosts)
            {
                var container = $"{prefix}-{host.Name}";
                state.Containers.Add(new ContainerHostState(host.Name, container));
                state.Save(options.WorkDirectory);
                Arg[] address = host.FixedAddress is { } a ? ["--ip", a] : [];
                var tmpfs = host.SmallFilesystems.SelectMany(f => new Arg[] { "--tmpfs", $"{f.Key}:rw,size={f.Value}m,mode=0755" });
                string[] main = host.MainProcess.Count > 0 ? [.. host.MainProcess] : ["sleep", "infinity"];
                var run = await engine.TryAsync(["run", "--detach", "--name", container, "--hostname", host.Name, "--network", state.Network, .. address,
                    .. engine.RunFlags(), .. tmpfs, "--label", Label(options.RunId), image, .. main.Select(Arg.FromString)], cancellationToken);
                if (run.ExitCode != 0)
                {
                    throw new RunbookException($"containers backend: host '{host.Name}' could not be started from {image}: {Tail(run.StandardError)}{await LogsAsync(engine, container, cancellationToken)}");
                }

                var pid = await RunningPidAsync(engine, host.Name, container, main, cancellationToken);
                await local.RunCheckedAsync(new Command("nsenter", ["--target", pid.ToString(CultureInfo.InvariantCulture), "--mount", "--", "sh", "-c", NetSysctlsWritable])
                    .WithTimeout(TimeSpan.FromSeconds(15)), cancellationToken);
            }

            var addresses = new List<string>();
            foreach (var host in state.Containers)
            {
                var inspected = await engine.RunAsync(["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", host.Container], cancellationToken);
                host.Address = inspected.StandardOutput.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
                addresses.AddRange([host.Address, host.Name]);
            }

            foreach (var host in state.Containers)
            {
                await using var transport = new ContainerTransport(host.Name, host.Container, engine.Program);
                await transport.RunCheckedAsync(new Command("sh", ["-c", HostsScript, "runbook-sh", .. addresses.Select(Arg.FromString)]), cancellationToken);
            }

            // A main process that dies a moment after it started (a supervisor with a bad argument) is caught here too.
            foreach (var (host, declared) in state.Containers.Zip(declaration.Hosts))
            {
                await RunningPidAsync(engine, host.Name, host.Container, declared.MainProcess.Count > 0 ? [.. declared.MainProcess] : ["sleep", "infinity"], cancellationToken);
            }

            state.Save(options.WorkDirectory);
            environment = new ContainerEnvironment(state, engine, options.WorkDirectory);
            environment.Facts["engine"] = await engine.VersionAsync(cancellationToken);
            environment.Facts["image"] = declaration.Image is null ? $"{image} (the harness's Debian image)" : image;
            environment.Facts["image ready"] = $"{imageTime.TotalSeconds:0.00} s";
            environment.Facts["hosts"] = string.Join(" ", state.Containers.Select(h => $"{h.Name}={h.Address}"));
            environment.Facts["create"] = $"{clock.Elapsed.TotalSeconds:0.00} s";
            return environment;
        }
        catch
        {
            await FailedCreate.TearDownAsync(environment, "containers");
            throw;
        }
    }

    public Task<IHarnessEnvironment> AttachAsync(HarnessOptions options, CancellationToken cancellationToken)
    {
        var state = ContainerState.Load(options.WorkDirectory)
                    ?? throw new RunbookException($"no containers environment recorded in {ContainerState.PathIn(options.WorkDirectory)}; run `runbook harness up` first");
        return Task.FromResult<IHarnessEnvironment>(new ContainerEnvironment(state, new ContainerEngine(state.Engine, new LocalTransport()), options.WorkDirectory));
    }

    /// <summary>The label every object of a run carries, so destroy (and a leak check) finds exactly those.</summary>
    internal static string Label(string runId) => $"runbooks.run={runId}";

    /// <summary>
    /// The image to run: the scenario's, present in the engine's store or pulled; else the harness's Debian image,
    /// built once with debootstrap and cached (<see cref="ImageScript"/>).
    /// </summary>
    private static async Task<string> ImageAsync(ContainerEngine engine, string? declared, CancellationToken cancellationToken)
    {
        if (declared is null)
        {
            var built = await new LocalTransport().RunAsync(new Command("bash", [ImageScript, engine.Program]).WithTimeout(ImageBuild), cancellationToken);
            return built.ExitCode == 0
                ? built.StandardOutput.Trim()
                : throw new RunbookException($"containers backend: the default Debian image could not be built: {Tail(built.StandardError)}");
        }

        if ((await engine.TryAsync(["image", "inspect", declared], cancellationToken)).ExitCode == 0)
        {
            return declared;
        }

        var pulled = await new LocalTransport().RunAsync(new Command(engine.Program, ["pull", declared]).WithTimeout(ImagePull), cancellationToken);
        return pulled.ExitCode == 0
            ? declared
            : throw new RunbookException($"containers backend: image '{declared}' is not in {engine.Program}'s store and could not be pulled ({Tail(pulled.StandardError)}); " +
                                         $"load it first (`{engine.Program} load -i IMAGE.tar` or `{engine.Program} import ROOTFS.tar {declared}`), or leave out the image for the harness's Debian one");
    }

    /// <summary>The PID of a container's main process while it runs; an error with its output when it has already exited.</summary>
    private static async Task<int> RunningPidAsync(ContainerEngine engine, string host, string container, IReadOnlyList<string> main, CancellationToken cancellationToken)
    {
        var state = await engine.RunAsync(["inspect", "--format", "{{.State.Running}} {{.State.Pid}} {{.State.ExitCode}}", container], cancellationToken);
        var fields = state.StandardOutput.Trim().Split(' ');
        if (fields is ["true", var pid, _] && int.TryParse(pid, CultureInfo.InvariantCulture, out var value) && value > 0)
        {
            return value;
        }

        throw new RunbookException($"containers backend: host '{host}' ({container}) exited at once (exit code {fields.ElementAtOrDefault(2) ?? "?"}) instead of running " +
                                   $"`{string.Join(' ', main)}`{await LogsAsync(engine, container, cancellationToken)}; a host's main process must keep running (it is `sleep infinity` unless .Runs(…) says otherwise)");
    }

    private static async Task<string> LogsAsync(ContainerEngine engine, string container, CancellationToken cancellationToken)
    {
        var logs = await engine.TryAsync(["logs", "--tail", "10", container], cancellationToken);
        var text = (logs.StandardOutput + logs.StandardError).Trim();
        return logs.ExitCode == 0 && text.Length > 0 ? $"; its output: {Tail(text)}" : "";
    }

    private static string Tail(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.StartsWith("failed to connect to syslog", StringComparison.Ordinal)).ToList();
        return lines.Count == 0 ? "(no output)" : string.Join(" / ", lines.TakeLast(3));
    }
}
