using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness.Lifecycle;
using Runbooks.Transport;

namespace Runbooks.Harness.Backends.MicroVm;

/// <summary>
/// A disposable Debian microVM under qemu: the host root read-only over 9p with a tmpfs overlay, sshd
/// with ephemeral keys, real loop devices and device-mapper. qemu outlives the process that started it
/// (<c>harness up</c>, then <c>exec</c>/<c>down</c>); its state is saved in the work directory.
/// </summary>
public sealed class MicroVmBackend : IBackend
{
    private static readonly TimeSpan SshReadyTimeout = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan KvmProbeTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan SystemdSettleTimeout = TimeSpan.FromSeconds(240);

    /// <summary>Guest RAM when the scenario does not say: enough for the system and a few hundred MiB of tmpfs.</summary>
    public const int DefaultMemoryMiB = 1024;

    private readonly ITransport _local;
    private readonly string? _hostMedia;
    private readonly int _memoryMiB;
    private string? _bootRetry;
    private readonly IReadOnlyList<int> _guestPorts;
    private readonly bool _systemd;

    /// <param name="local">Runs qemu, ssh-keygen and the kernel lookup on this machine.</param>
    /// <param name="hostMedia">
    /// A host directory shared read-write over 9p and mounted at <c>/media</c> in the guest, so that disk images
    /// kept there outlive the VM: kill qemu, boot a new VM on the same directory, and the disks are where the
    /// power cut left them. Null (the default) keeps <c>/media</c> an ordinary guest directory.
    /// </param>
    /// <param name="memoryMiB">Guest RAM; the guest's tmpfs scratch space (disk images, say) comes out of it.</param>
    /// <param name="guestPorts">Guest TCP ports forwarded to free ports on 127.0.0.1 (see <see cref="MicroVmState.HostPortFor"/>).</param>
    /// <param name="systemd">The guest runs systemd as PID 1 (see <see cref="GuestScripts.Stage2"/>) rather than sshd under a shell.</param>
    public MicroVmBackend(ITransport? local = null, string? hostMedia = null, int memoryMiB = DefaultMemoryMiB, IReadOnlyList<int>? guestPorts = null, bool systemd = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(memoryMiB, 256);
        _local = local ?? new LocalTransport();
        _hostMedia = hostMedia is null ? null : Path.GetFullPath(hostMedia);
        _memoryMiB = memoryMiB;
        _guestPorts = guestPorts ?? [];
        _systemd = systemd;
    }

    public string Name => "microvm";

    public async Task<IHarnessEnvironment> CreateAsync(HarnessOptions options, CancellationToken cancellationToken)
    {
        var work = Path.GetFullPath(options.WorkDirectory);
        Directory.CreateDirectory(work);
        if (System.IO.File.Exists(MicroVmState.PathIn(work)))
        {
            throw new RunbookException($"{work} already holds a microVM ({MicroVmState.FileName}); destroy it first (`runbook harness down`) or use another work directory");
        }

        RequireTools(_systemd);
        if (_hostMedia is not null && !Directory.Exists(_hostMedia))
        {
            throw new RunbookException($"the host media directory {_hostMedia} does not exist; create it first (it is shared into the guest as /media)");
        }

        var kernel = await KernelLocator.LocateAsync(_local, cancellationToken).ConfigureAwait(false);
        var initrd = Path.Combine(work, "initrd.gz");
        await System.IO.File.WriteAllBytesAsync(initrd, await Initramfs.BuildAsync(kernel, _local, work, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

        var userKey = Path.Combine(work, "id");
        var hostKey = Path.Combine(work, "hostkey");
        foreach (var key in new[] { userKey, hostKey })
        {
            await NewKeyAsync(_local, key, $"runbooks-{options.RunId}", cancellationToken).ConfigureAwait(false);
        }

        var stage2 = Path.Combine(work, "stage2.sh");
        await System.IO.File.WriteAllTextAsync(stage2, GuestScripts.Stage2(kernel, userKey + ".pub", hostKey, hostMedia: _hostMedia is not null, systemd: _systemd), cancellationToken).ConfigureAwait(false);

        var accelerator = await ChooseAcceleratorAsync(kernel, initrd, cancellationToken).ConfigureAwait(false);
        var sshPort = FreePort();
        var forwarded = _guestPorts.Distinct().ToDictionary(p => p, _ => FreePort());
        var knownHosts = Path.Combine(work, "known_hosts");
        var hostPub = (await System.IO.File.ReadAllTextAsync(hostKey + ".pub", cancellationToken).ConfigureAwait(false)).Split(' ');
        await System.IO.File.WriteAllTextAsync(knownHosts, $"[127.0.0.1]:{sshPort} {hostPub[0]} {hostPub[1]}\n", cancellationToken).ConfigureAwait(false);

        var console = Path.Combine(work, "console.log");
        var pidFile = Path.Combine(work, "qemu.pid");
        var memory = _memoryMiB;
        var hostfwd = string.Concat(forwarded.Select(f => $",hostfwd=tcp:127.0.0.1:{f.Value}-:{f.Key}"));
        var qemu = new Command("qemu-system-x86_64",
        [
            .. AcceleratorArguments(accelerator),
            "-m", memory.ToString(CultureInfo.InvariantCulture), "-smp", "2",
            "-display", "none", "-monitor", "none", "-no-reboot", "-daemonize", "-pidfile", pidFile,
            "-chardev", $"file,id=console,path={console}", "-serial", "chardev:console",
            "-kernel", kernel.Vmlinuz, "-initrd", initrd,
            "-append", $"console=ttyS0 panic=-1 quiet runbooks.stage2={stage2}",
            "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
            .. HostMediaArguments(_hostMedia),
            "-netdev", $"user,id=n0,hostfwd=tcp:127.0.0.1:{sshPort}-:22{hostfwd}", "-device", "virtio-net-pci,netdev=n0",
        ]) { Timeout = TimeSpan.FromSeconds(60) };

        var clock = Stopwatch.StartNew();
        int pid;
        SshTransport ssh;
        double bootSeconds;
        string init;
        for (var attempt = 1; ; attempt++)
        {
            var started = await _local.RunAsync(qemu, cancellationToken).ConfigureAwait(false);
            if (started.ExitCode != 0)
            {
                throw new RunbookException($"qemu did not start (exit {started.ExitCode}): {started.StderrTail(5)}\n  command: {qemu.Render()}");
            }

            pid = int.Parse((await System.IO.File.ReadAllTextAsync(pidFile, cancellationToken).ConfigureAwait(false)).Trim(), CultureInfo.InvariantCulture);
            ssh = new SshTransport(new SshEndpoint("root", "127.0.0.1", sshPort), userKey, knownHosts);
            try
            {
                await WaitForSshAsync(ssh, pid, console, work, cancellationToken).ConfigureAwait(false);
                bootSeconds = Math.Round(clock.Elapsed.TotalSeconds, 2);
                init = _systemd ? await WaitForSystemdAsync(ssh, pid, console, cancellationToken).ConfigureAwait(false) : MicroVmState.ShellInit;
                break;
            }
            catch (Exception ex) when (attempt == 1 && ex is RunbookException && TransientPanic(console) is { } panic)
            {
                // Under TCG on a loaded machine the guest kernel has panicked in early boot, in code that has nothing to do
                // with the scenario ("Fatal exception in interrupt" in get_random_u32). Booting the same image again is
                // the honest retry; the report says it happened. A panic that names a cause (no root, no init) is not retried.
                await ssh.DisposeAsync().ConfigureAwait(false);
                KillQemu(pid);
                System.IO.File.Move(console, Path.Combine(work, "console-panic-1.log"), overwrite: true);
                _bootRetry = $"boot retried once: the guest kernel panicked ({panic}); console-panic-1.log";
                Console.Error.WriteLine($"microVM: {_bootRetry}");
            }
            catch
            {
                await ssh.DisposeAsync().ConfigureAwait(false);
                if (!options.Verbose)
                {
                    KillQemu(pid);
                }

                throw;
            }
        }


        var state = new MicroVmState(pid, sshPort, forwarded, userKey, knownHosts, console, accelerator, kernel.Release, kernel.Source, memory, bootSeconds, init);
        state.Save(work);
        return new MicroVmEnvironment(work, state, ssh) { BootNote = _bootRetry };
    }

    public Task<IHarnessEnvironment> AttachAsync(HarnessOptions options, CancellationToken cancellationToken)
    {
        var work = Path.GetFullPath(options.WorkDirectory);
        var state = MicroVmState.Load(work);
        if (!IsQemu(state.QemuPid))
        {
            throw new RunbookException($"the microVM of {work} is gone (qemu pid {state.QemuPid} is not running); see {state.ConsoleLogPath}, then `runbook harness down` to clean up and `up` again");
        }

        var ssh = new SshTransport(new SshEndpoint("root", "127.0.0.1", state.SshPort), state.PrivateKeyPath, state.KnownHostsPath);
        return Task.FromResult<IHarnessEnvironment>(new MicroVmEnvironment(work, state, ssh));
    }

    private static void RequireTools(bool systemd)
    {
        (string Path, string Package)[] tools =
        [
            ("/usr/bin/qemu-system-x86_64", "qemu-system-x86"), ("/usr/sbin/sshd", "openssh-server"),
            ("/usr/bin/ssh-keygen", "openssh-client"), ("/bin/busybox", "busybox-static"), ("/usr/sbin/lvm", "lvm2"),
            .. systemd ? [("/lib/systemd/systemd", "systemd")] : Array.Empty<(string, string)>(),
        ];
        var missing = tools
            .Where(t => !System.IO.File.Exists(t.Path))
            .ToList();
        if (missing.Count > 0)
        {
            throw new RunbookException($"the microVM backend needs {string.Join(", ", missing.Select(m => m.Path))}; install: apt-get install -y {string.Join(' ', missing.Select(m => m.Package).Distinct())}");
        }
    }

    private static IEnumerable<Arg> HostMediaArguments(string? directory) =>
        directory is null ? [] : ["-virtfs", $"local,path={directory},mount_tag={GuestScripts.HostMediaTag},security_model=none,multidevs=remap"];

    private static IEnumerable<Arg> AcceleratorArguments(string accelerator) =>
        accelerator == "kvm" ? ["-accel", "kvm", "-cpu", "host"] : ["-accel", "tcg,thread=multi"];

    /// <summary>
    /// KVM only when a short boot proves it works on this machine (a KVM guest hung on machines of this
    /// kind): the probe boots the initramfs to its first line and powers off. The verdict is cached per
    /// kernel. <c>RUNBOOKS_ACCEL=tcg|kvm</c> overrides.
    /// </summary>
    private async Task<string> ChooseAcceleratorAsync(GuestKernel kernel, string initrd, CancellationToken cancellationToken)
    {
        var forced = Environment.GetEnvironmentVariable("RUNBOOKS_ACCEL");
        if (forced is "tcg" or "kvm")
        {
            return forced;
        }

        if (!System.IO.File.Exists("/dev/kvm"))
        {
            return "tcg";
        }

        var cache = Path.Combine(KernelLocator.CacheDirectory, $"accel-{kernel.Release}");
        if (System.IO.File.Exists(cache))
        {
            return (await System.IO.File.ReadAllTextAsync(cache, cancellationToken).ConfigureAwait(false)).Trim() == "kvm" ? "kvm" : "tcg";
        }

        var probe = new Command("qemu-system-x86_64",
        [
            "-accel", "kvm", "-cpu", "host", "-m", "256", "-display", "none", "-monitor", "none", "-no-reboot",
            "-serial", "stdio", "-kernel", kernel.Vmlinuz, "-initrd", initrd,
            "-append", "console=ttyS0 panic=-1 quiet runbooks.probe=1",
        ]) { Timeout = KvmProbeTimeout };
        string verdict;
        try
        {
            var result = await _local.RunAsync(probe, cancellationToken).ConfigureAwait(false);
            verdict = result.StandardOutput.Contains(GuestScripts.ProbeMarker, StringComparison.Ordinal) ? "kvm" : "tcg";
        }
        catch (TransportException)
        {
            verdict = "tcg";
        }

        Directory.CreateDirectory(KernelLocator.CacheDirectory);
        await System.IO.File.WriteAllTextAsync(cache, verdict + "\n", cancellationToken).ConfigureAwait(false);
        return verdict;
    }

    /// <summary>
    /// A fresh ed25519 key pair at <paramref name="path"/>. Keys are made anew for every VM; a pair left by an
    /// <c>up</c> that failed before saving its state would make ssh-keygen ask whether to overwrite it — and,
    /// with no terminal to answer, exit 1 — so it is removed first.
    /// </summary>
    internal static async Task NewKeyAsync(ITransport local, string path, string comment, CancellationToken cancellationToken)
    {
        System.IO.File.Delete(path);
        System.IO.File.Delete(path + ".pub");
        await local.RunCheckedAsync(new Command("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path]), cancellationToken).ConfigureAwait(false);
    }

    private static async Task WaitForSshAsync(SshTransport ssh, int pid, string console, string work, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        // A connection made before the guest listens can hang in qemu's user network until its timeout, so
        // the first attempt waits for stage 2 to say it is starting sshd (a file read, cheap to poll) and
        // every attempt gets a short timeout: an unlucky early attempt used to cost 10 s of a 20 s boot.
        var probe = new Command("true", []).AsReadOnly().WithTimeout(TimeSpan.FromSeconds(3));
        while (deadline.Elapsed < SshReadyTimeout && !ConsoleSays(console, GuestScripts.Stage2Marker))
        {
            ThrowIfQemuExited(pid, console);
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        TransportException? last = null;
        while (deadline.Elapsed < SshReadyTimeout)
        {
            ThrowIfQemuExited(pid, console);
            try
            {
                await ssh.RunAsync(probe, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (TransportException ex)
            {
                last = ex;
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new RunbookException($"SSH into the microVM did not answer within {SshReadyTimeout.TotalSeconds:0} s (last error: {last?.Message}).\n{ConsoleTail(console)}\n  what to do: read {console}; if it stops at 'starting sshd' the guest is just slow (TCG on a busy machine), otherwise it names the failing stage. The VM is left running only with --verbose; work dir {work}");
    }

    /// <summary>
    /// Waits until systemd has finished its boot transaction (SSH answers before that: sshd does not wait for
    /// basic.target), so a scenario sees a settled system; returns "systemd VERSION (STATE)". A degraded system is
    /// usable and said so; one still starting after the timeout fails naming the jobs it waits for.
    /// </summary>
    private static async Task<string> WaitForSystemdAsync(SshTransport ssh, int pid, string console, CancellationToken cancellationToken)
    {
        var version = await ssh.RunCheckedAsync(new Command("systemctl", ["--version"]).AsReadOnly(), cancellationToken).ConfigureAwait(false);
        var wait = await ssh.RunAsync(new Command("systemctl", ["is-system-running", "--wait"]).AsReadOnly().WithTimeout(SystemdSettleTimeout).WithSuccessExitCodes(0, 1), cancellationToken).ConfigureAwait(false);
        var state = wait.StandardOutput.Trim();
        if (state is not ("running" or "degraded"))
        {
            ThrowIfQemuExited(pid, console);
            var jobs = await ssh.RunAsync(new Command("systemctl", ["list-jobs", "--no-pager"]).AsReadOnly(), cancellationToken).ConfigureAwait(false);
            throw new RunbookException($"systemd in the microVM did not finish booting within {SystemdSettleTimeout.TotalSeconds:0} s (state '{state}'); jobs:\n{jobs.StdoutTail(10)}");
        }

        var release = version.StandardOutput.Split('\n')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1) ?? "?";
        return $"systemd {release} ({state})";
    }

    /// <summary>The panic line when the guest died of a kernel panic that names no configuration cause; null otherwise.</summary>
    internal static string? TransientPanic(string console)
    {
        var text = System.IO.File.Exists(console) ? System.IO.File.ReadAllText(console) : "";
        var panic = text.Split('\n').FirstOrDefault(l => l.Contains("Kernel panic", StringComparison.Ordinal));
        string[] causes = ["VFS: Unable to mount", "No working init", "Attempted to kill init", "Unable to mount root", "not syncing: Out of memory"];
        return panic is null || causes.Any(c => text.Contains(c, StringComparison.Ordinal)) ? null : panic.Trim();
    }

    private static void ThrowIfQemuExited(int pid, string console)
    {
        if (!IsQemu(pid))
        {
            throw new RunbookException($"qemu exited before SSH came up.\n{ConsoleTail(console)}\n  what to do: read {console}; a kernel panic or 'mount failed' there names the missing module or package");
        }
    }

    private static bool ConsoleSays(string console, string marker)
    {
        try
        {
            using var stream = new FileStream(console, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd().Contains(marker, StringComparison.Ordinal);
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    internal static string ConsoleTail(string console, int lines = 15)
    {
        if (!System.IO.File.Exists(console))
        {
            return "  (no console output)";
        }

        var all = System.IO.File.ReadAllLines(console);
        return "  console tail:\n    " + string.Join("\n    ", all.Skip(Math.Max(0, all.Length - lines)));
    }

    internal static bool IsQemu(int pid)
    {
        try
        {
            return System.IO.File.ReadAllText($"/proc/{pid}/cmdline").StartsWith("qemu-system", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Kills qemu by PID — only after checking the PID is still a qemu (PIDs are reused).</summary>
    internal static bool KillQemu(int pid)
    {
        if (!IsQemu(pid))
        {
            return true;
        }

        using var process = Process.GetProcessById(pid);
        process.Kill();
        return process.WaitForExit(10_000) || !IsQemu(pid);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A running microVM: one host, <c>local</c>, reached over SSH.</summary>
public sealed class MicroVmEnvironment : IHarnessEnvironment
{
    private readonly string _work;

    internal MicroVmEnvironment(string work, MicroVmState state, SshTransport ssh)
    {
        _work = work;
        State = state;
        Inventory = new Inventory().Add(Inventory.DefaultHost, ssh);
    }

    public MicroVmState State { get; }

    public Inventory Inventory { get; }

    public string HowToReach =>
        $"ssh -i {State.PrivateKeyPath} -o UserKnownHostsFile={State.KnownHostsPath} -p {State.SshPort} root@127.0.0.1" +
        $"   (console: {State.ConsoleLogPath}{string.Concat(State.ForwardedPorts.Select(p => $"; guest port {p.Key} at 127.0.0.1:{p.Value}"))})";

    public Uri AddressOf(string host, int guestPort) =>
        host == Inventory.DefaultHost
            ? new Uri($"http://127.0.0.1:{State.HostPortFor(guestPort)}/")
            : throw new RunbookException($"the microVM has one host, '{Inventory.DefaultHost}', not '{host}'");

    /// <summary>Said in the report when the boot needed a second attempt.</summary>
    internal string? BootNote { get; init; }

    public IReadOnlyDictionary<string, string> Facts
    {
        get
        {
            var facts = new Dictionary<string, string>
            {
                ["accelerator"] = State.Accelerator.ToUpperInvariant(),
                ["kernel"] = $"{State.KernelRelease} ({State.KernelSource})",
                ["boot to SSH"] = $"{State.BootToSshSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s",
                ["memory"] = $"{State.MemoryMiB} MiB",
                ["init"] = State.Init,
            };
            if (BootNote is not null)
            {
                facts["boot"] = BootNote;
            }

            return facts;
        }
    }

    public async Task<IReadOnlyList<string>> DestroyAsync(CancellationToken cancellationToken)
    {
        await Inventory.DisposeAsync().ConfigureAwait(false);
        var leaks = new List<string>();
        if (!MicroVmBackend.KillQemu(State.QemuPid))
        {
            leaks.Add($"qemu pid {State.QemuPid} still running after kill");
        }

        foreach (var port in State.ForwardedPorts.Values.Append(State.SshPort))
        {
            if (IsListening(port))
            {
                leaks.Add($"127.0.0.1:{port} still listening");
            }
        }

        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException ex)
        {
            leaks.Add($"work directory {_work} not removed: {ex.Message}");
        }

        return leaks;
    }

    private static bool IsListening(int port)
    {
        try
        {
            using var client = new TcpClient();
            return client.ConnectAsync(IPAddress.Loopback, port).Wait(200);
        }
        catch (AggregateException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync() => Inventory.DisposeAsync();
}
