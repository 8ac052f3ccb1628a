using System.Diagnostics;
using System.Globalization;
using Runbooks.Commands;
using Runbooks.Dsl;
using Runbooks.Engine;
using Runbooks.Harness.Backends.MicroVm;
using Runbooks.Harness.Lifecycle;
using Runbooks.Transport;
using ServiceDsl = Runbooks.Dsl.Service;

namespace Runbooks.Tests.Harness.Systemd;

/// <summary>
/// The Service noun's systemd path and Autogrow's unit against a real systemd: one microVM booted with systemd as
/// PID 1 (<c>MicroVm().Systemd()</c>), shared by every test here. Each test makes units of its own names, so their
/// order does not matter.
/// </summary>
[Category("harness"), NonParallelizable]
public class SystemdGuestTests
{
    /// <summary>
    /// One small service program for every unit here: listens on a port once a delay has passed (so health lags the
    /// start), writes the monotonic time it became ready to a file, and ignores SIGTERM when told to.
    /// </summary>
    private const string ServiceProgram = """
        import signal, socket, sys, time
        port, delay, ready, ignore_term = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4] == "ignore-term"
        if ignore_term:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(delay)
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", port)); s.listen(16)
        with open(ready, "w") as f:
            f.write("%d\n" % (time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000))
        while True:
            c, _ = s.accept(); c.close()
        """;

    private const string ProgramPath = "/usr/local/lib/rbsd-test/service.py";

    private IHarnessEnvironment? _vm;

    private ITransport Guest => _vm!.Inventory.Context(Inventory.DefaultHost).Transport;

    [OneTimeSetUp]
    public async Task BootSystemdGuest()
    {
        if (!System.IO.File.Exists("/usr/bin/qemu-system-x86_64"))
        {
            Assert.Ignore("PREREQUISITE MISSING: qemu-system-x86_64 (apt-get install qemu-system-x86); the systemd path of Service and Autogrow is untested");
        }

        if (!System.IO.File.Exists("/lib/systemd/systemd"))
        {
            Assert.Ignore("PREREQUISITE MISSING: /lib/systemd/systemd (apt-get install systemd); the systemd path of Service and Autogrow is untested");
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var watch = Stopwatch.StartNew();
        var options = new HarnessOptions("systemd-guest", Path.Combine(Path.GetTempPath(), $"runbooks-systemd-guest-{Guid.NewGuid():N}"));
        _vm = await new MicroVmBackend(systemd: true).CreateAsync(options, cts.Token);
        TestContext.Out.WriteLine($"boot to a settled systemd: {watch.Elapsed.TotalSeconds:0.0} s; {string.Join(", ", _vm.Facts.Select(f => $"{f.Key}: {f.Value}"))}");
        await Guest.RunCheckedAsync(new Command("mkdir", ["-p", Path.GetDirectoryName(ProgramPath)!]), cts.Token);
        await WriteAsync(ProgramPath, ServiceProgram, cts.Token);
    }

    [OneTimeTearDown]
    public async Task DestroyGuest()
    {
        if (_vm is not null)
        {
            var leaks = await _vm.DestroyAsync(CancellationToken.None);
            Assert.That(leaks, Is.Empty);
        }
    }

    [Test, CancelAfter(120_000)]
    public async Task The_guest_runs_systemd_as_pid_1_and_the_backend_says_which_init_it_booted(CancellationToken ct)
    {
        var comm = await Guest.RunCheckedAsync(new Command("cat", ["/proc/1/comm"]), ct);
        var state = await Guest.RunAsync(new Command("systemctl", ["is-system-running"]).WithSuccessExitCodes(0, 1), ct);

        Assert.That(comm.StandardOutput.Trim(), Is.EqualTo("systemd"));
        Assert.That(state.StandardOutput.Trim(), Is.AnyOf("running", "degraded"));
        Assert.That(_vm!.Facts["init"], Does.Match(@"^systemd \d+ \((running|degraded)\)$"));
    }

    [Test, CancelAfter(120_000)]
    public async Task Detection_finds_a_unit_under_systemd_and_nothing_for_a_name_no_supervisor_knows(CancellationToken ct)
    {
        await UnitAsync("rbsd-detect", 18400, ct: ct);

        var found = await ServiceReads.LocateAsync(Host, "rbsd-detect", ct);
        var missing = await ServiceReads.LocateAsync(Host, "rbsd-no-such-unit", ct);

        Assert.That(found, Is.EqualTo(new SupervisorLocation(Supervisor.Systemd, "rbsd-detect.service")));
        Assert.That(missing.Supervisor, Is.EqualTo(Supervisor.None));
    }

    [Test, CancelAfter(300_000)]
    public async Task Running_starts_a_unit_and_waits_for_health_and_stopped_kills_one_that_ignores_term_only_after_the_grace(CancellationToken ct)
    {
        var grace = TimeSpan.FromSeconds(2);
        await UnitAsync("rbsd-stubborn", 18410, ignoreTerm: true, ct: ct);
        await UnitAsync("rbsd-polite", 18411, ct: ct);
        var stubborn = ServiceDsl.Named("rbsd-stubborn").HealthyWhen(Probe.Tcp("127.0.0.1", 18410, TcpOutcome.Connected)).GraceBeforeKill(grace);
        var polite = ServiceDsl.Named("rbsd-polite").HealthyWhen(Probe.Tcp("127.0.0.1", 18411, TcpOutcome.Connected)).GraceBeforeKill(grace);

        var up = await RunAsync([new Target("up", "both run", [], [stubborn.Running(), polite.Running()])], ct);
        var running = await ShowAsync("rbsd-stubborn.service", ct);
        var again = await RunAsync([new Target("up", "both run", [], [stubborn.Running(), polite.Running()])], ct);
        var watch = Stopwatch.StartNew();
        var stopStubborn = await RunAsync([new Target("down", "stubborn stopped", [], [stubborn.Stopped()])], ct);
        var stubbornTook = watch.Elapsed;
        watch.Restart();
        var stopPolite = await RunAsync([new Target("down", "polite stopped", [], [polite.Stopped()])], ct);
        TestContext.Out.WriteLine($"stubborn stop {stubbornTook.TotalSeconds:0.0} s, polite stop {watch.Elapsed.TotalSeconds:0.0} s");

        Assert.That(up.Succeeded, Is.True, Describe(up));
        Assert.That((running.Running, running.State, running.MainPid is > 1), Is.EqualTo((true, "active/running", true)));
        Assert.That(again.Targets.Single().Status, Is.EqualTo(TargetStatus.Satisfied), "a second run finds both running and healthy");
        Assert.That(stopStubborn.Succeeded && stopPolite.Succeeded, Is.True, Describe(stopStubborn) + Describe(stopPolite));
        Assert.That(await ExitAsync("rbsd-stubborn.service", ct), Is.EqualTo("Result=signal\nExecMainStatus=9"), "the stubborn one died of SIGKILL");
        Assert.That(stubbornTook, Is.GreaterThanOrEqualTo(grace), "KILL came only after the grace period");
        Assert.That(stubbornTook, Is.LessThan(TimeSpan.FromSeconds(60)), "the runbook's grace, not systemd's 90 s TimeoutStopSec");
        Assert.That(await ExitAsync("rbsd-polite.service", ct), Does.StartWith("Result=success\n"), "the polite one stopped on TERM, never killed");
    }

    [Test, CancelAfter(300_000)]
    public async Task Ordered_restart_brings_units_back_in_dependency_order_each_start_after_the_one_before_is_healthy(CancellationToken ct)
    {
        // b listens 1.5 s after it starts: c must not be started until then.
        await UnitAsync("rbsd-a", 18420, ct: ct);
        await UnitAsync("rbsd-b", 18421, delaySeconds: 1.5, ct: ct);
        await UnitAsync("rbsd-c", 18422, ct: ct);
        foreach (var unit in new[] { "rbsd-a", "rbsd-b", "rbsd-c" })
        {
            await Guest.RunCheckedAsync(new Command("systemctl", ["start", unit]), ct);
        }

        await Guest.RunCheckedAsync(new Command("systemctl", ["stop", "rbsd-a"]), ct);
        Check Tcp(int port) => Probe.Tcp("127.0.0.1", port, TcpOutcome.Connected);
        var restart = ServiceDsl.OrderedRestart(
            ServiceDsl.Named("rbsd-c").After("rbsd-b").HealthyWhen(Tcp(18422)),
            ServiceDsl.Named("rbsd-b").After("rbsd-a").HealthyWhen(Tcp(18421)),
            ServiceDsl.Named("rbsd-a").HealthyWhen(Tcp(18420)));

        var summary = await RunAsync([new Target("restart", "a, b, c in order", [], [restart])], ct);
        var started = new Dictionary<string, long>();
        var ready = new Dictionary<string, long>();
        foreach (var unit in new[] { "rbsd-a", "rbsd-b", "rbsd-c" })
        {
            var show = await Guest.RunCheckedAsync(new Command("systemctl", ["show", "--value", "-p", "ExecMainStartTimestampMonotonic", unit]), ct);
            started[unit] = long.Parse(show.StandardOutput.Trim(), CultureInfo.InvariantCulture);
            ready[unit] = long.Parse((await Guest.RunCheckedAsync(new Command("cat", [$"/run/{unit}.ready"]), ct)).StandardOutput.Trim(), CultureInfo.InvariantCulture);
        }

        var second = await RunAsync([new Target("restart", "a, b, c in order", [], [restart])], ct);
        TestContext.Out.WriteLine($"{Describe(summary)}\nstarted (µs): {string.Join(", ", started)}; ready: {string.Join(", ", ready)}");

        Assert.That(summary.Succeeded, Is.True, Describe(summary));
        Assert.That(summary.Targets.Single().Steps.Single().Notes, Has.Some.Contains("restarts from rbsd-a"));
        Assert.That(started["rbsd-b"], Is.GreaterThan(ready["rbsd-a"]), "b started only once a was healthy");
        Assert.That(started["rbsd-c"], Is.GreaterThan(ready["rbsd-b"]), "c started only once b listened, 1.5 s after its start");
        Assert.That(second.Targets.Single().Status, Is.EqualTo(TargetStatus.Satisfied), "in order and healthy: nothing to do");
    }

    [Test, CancelAfter(300_000)]
    public async Task Autogrow_runs_as_an_enabled_unit_grows_the_lv_and_systemd_restarts_it_when_it_dies(CancellationToken ct)
    {
        await Guest.RunCheckedAsync(Shell.Script("""
            set -e
            truncate -s 160M /tmp/rbsd-autogrow.img
            dev=$(losetup --find --show /tmp/rbsd-autogrow.img)
            pvcreate -q "$dev"; vgcreate -q -s 4m vgrbsd "$dev"
            lvcreate -q -y -Zn -L 64M -n data vgrbsd
            mkfs.ext4 -q /dev/vgrbsd/data
            mkdir -p /mnt/rbsd-autogrow; mount /dev/vgrbsd/data /mnt/rbsd-autogrow
            """), ct);
        var keep = Autogrow.Keep("rbsd", "/mnt/rbsd-autogrow", "vgrbsd/data", thresholdPercent: 70, step: "16M", interval: TimeSpan.FromMilliseconds(500));
        const string unit = "runbooks-autogrow-rbsd.service";

        var installed = await RunAsync([new Target("autogrow", "keeps /mnt/rbsd-autogrow below 70%", [], [keep])], ct);
        var enabled = await Guest.RunAsync(new Command("systemctl", ["is-enabled", unit]), ct);
        var firstPid = await MainPidAsync(unit, ct);
        await Guest.RunCheckedAsync(new Command("fallocate", ["-l", "48M", "/mnt/rbsd-autogrow/fill"]), ct);
        var grown = await WaitForAsync(async () => await LvBytesAsync(ct) > 64L << 20, TimeSpan.FromSeconds(90), ct);
        await Guest.RunCheckedAsync(new Command("systemctl", ["kill", "--signal=SIGKILL", unit]), ct);
        var restarted = await WaitForAsync(async () => await MainPidAsync(unit, ct) is { } pid && pid != firstPid, TimeSpan.FromSeconds(30), ct);
        var again = await RunAsync([new Target("autogrow", "keeps /mnt/rbsd-autogrow below 70%", [], [keep])], ct);
        var log = await Guest.RunAsync(new Command("journalctl", ["-u", unit, "--no-pager", "-o", "cat"]), ct);
        TestContext.Out.WriteLine($"{Describe(installed)}\n{Describe(again)}\njournal:\n{log.StdoutTail(10)}");

        Assert.That(installed.Succeeded, Is.True, Describe(installed));
        Assert.That(installed.Targets.Single().Steps.Single().Observed, Does.StartWith("systemd;"), "the step found systemd running");
        Assert.That(enabled.StandardOutput.Trim(), Is.EqualTo("enabled"));
        Assert.That(firstPid, Is.Not.Null, "the unit runs");
        Assert.That(grown, Is.True, $"the LV grew past 64M while /mnt/rbsd-autogrow was over 70% (now {await LvBytesAsync(ct)} bytes)");
        Assert.That(restarted, Is.True, "Restart=on-failure: systemd started the daemon again after it was killed");
        Assert.That(again.Targets.Single().Status, Is.EqualTo(TargetStatus.Satisfied), "files current, unit running");
        Assert.That(log.StandardOutput, Does.Contain("Main process exited, code=killed, status=9/KILL"), "systemd's journal of the unit records the kill");
    }

    /// <summary>
    /// What the parser reads, from systemd itself, in each state a stop passes through. With
    /// <c>RUNBOOKS_RECORD_FIXTURES=DIR</c> the outputs are also written there (how <c>Fixtures/service/systemctl-show-*.txt</c> were made).
    /// </summary>
    [Test, CancelAfter(120_000)]
    public async Task Systemctl_show_of_a_real_unit_through_start_stop_and_kill_parses_as_systemd_reports_it(CancellationToken ct)
    {
        const string unit = "rbsd-record.service";
        await UnitAsync("rbsd-record", 18430, ignoreTerm: true, ct: ct);
        await Guest.RunCheckedAsync(new Command("systemctl", ["start", unit]), ct);
        await WaitForAsync(async () => (await Guest.RunAsync(new Command("test", ["-s", "/run/rbsd-record.ready"]), ct)).ExitCode == 0, TimeSpan.FromSeconds(30), ct);
        var running = await RecordAsync("systemctl-show-running.txt", unit, ct);
        await Guest.RunCheckedAsync(new Command("systemctl", ["stop", "--no-block", unit]), ct);
        var stopping = await RecordAsync("systemctl-show-deactivating.txt", unit, ct);
        await Guest.RunCheckedAsync(new Command("systemctl", ["kill", "--signal=SIGKILL", unit]), ct);
        await WaitForAsync(async () => !(await ShowAsync(unit, ct)).Running, TimeSpan.FromSeconds(30), ct);
        var killed = await RecordAsync("systemctl-show-killed.txt", unit, ct);
        var missing = await RecordAsync("systemctl-show-not-found.txt", "rbsd-no-such-unit.service", ct);

        var facts = new[] { running, stopping, killed, missing }.Select(o => ServiceParser.ParseSystemctlShow("rbsd-record", o)).ToList();
        Assert.That(facts.Select(f => (f.Supervisor, f.Running, f.WantsDown)), Is.EqualTo(new[]
        {
            (Supervisor.Systemd, true, false), (Supervisor.Systemd, true, true), (Supervisor.Systemd, false, false), (Supervisor.None, false, false),
        }));
        Assert.That(facts[0].MainPid, Is.EqualTo(facts[1].MainPid).And.GreaterThan(1), "the same main process until it dies");
        Assert.That(facts[0].Since!.Value, Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(5)), "the start time is the guest clock's, in unix seconds");
        Assert.That(facts[2].State, Is.EqualTo("failed/failed"), "killed by SIGKILL is a failure to systemd");
    }

    private async Task<string> RecordAsync(string fixture, string unit, CancellationToken ct)
    {
        var output = (await Guest.RunCheckedAsync(ServiceReads.SystemctlShow(unit), ct)).StandardOutput;
        if (Environment.GetEnvironmentVariable("RUNBOOKS_RECORD_FIXTURES") is { Length: > 0 } directory)
        {
            await System.IO.File.WriteAllTextAsync(Path.Combine(directory, fixture), output, ct);
        }

        return output;
    }

    private HostContext Host => _vm!.Inventory.Context(Inventory.DefaultHost);

    /// <summary>A unit running <see cref="ServiceProgram"/>; systemd is told about it at once.</summary>
    private async Task UnitAsync(string name, int port, double delaySeconds = 0, bool ignoreTerm = false, CancellationToken ct = default)
    {
        var delay = delaySeconds.ToString(CultureInfo.InvariantCulture);
        await WriteAsync($"/etc/systemd/system/{name}.service", $"""
            [Unit]
            Description=systemd guest test service {name}

            [Service]
            ExecStart=/usr/bin/python3 {ProgramPath} {port} {delay} /run/{name}.ready {(ignoreTerm ? "ignore-term" : "obey-term")}

            """, ct);
        await Guest.RunCheckedAsync(new Command("systemctl", ["daemon-reload"]), ct);
    }

    private async Task<ServiceFacts> ShowAsync(string unit, CancellationToken ct) =>
        ServiceParser.ParseSystemctlShow(unit, (await Guest.RunCheckedAsync(ServiceReads.SystemctlShow(unit), ct)).StandardOutput);

    private async Task<string> ExitAsync(string unit, CancellationToken ct) =>
        (await Guest.RunCheckedAsync(new Command("systemctl", ["show", "-p", "Result,ExecMainStatus", "--", unit]), ct)).StandardOutput.Trim();

    private async Task<int?> MainPidAsync(string unit, CancellationToken ct) => (await ShowAsync(unit, ct)).MainPid;

    private async Task<long> LvBytesAsync(CancellationToken ct) =>
        long.Parse((await Guest.RunCheckedAsync(new Command("lvs", ["--noheadings", "--units", "b", "--nosuffix", "-o", "lv_size", "vgrbsd/data"]), ct)).StandardOutput.Trim(), CultureInfo.InvariantCulture);

    private static async Task<bool> WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(250, ct);
        }

        return await condition();
    }

    private async Task<RunSummary> RunAsync(List<Target> targets, CancellationToken ct) =>
        await new Runner(new TargetGraph(targets), _vm!.Inventory, new RunObserver())
            .RunAsync(new RunRequest(RunMode.Run, [targets[^1].Name]), ct);

    private static string Describe(RunSummary summary) => string.Join("\n", summary.Targets.Select(t =>
        $"{t.Name}: {t.Status} {t.Error}" + string.Concat(t.Steps.Select(s => $"\n  {s.Outcome}: {s.Description} — {s.Observed}"))));

    private Task<CommandResult> WriteAsync(string path, string content, CancellationToken ct) =>
        Guest.RunCheckedAsync(new Command("tee", ["--", path]).WithStdin(content), ct);
}
