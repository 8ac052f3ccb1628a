using System.Diagnostics;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness.Backends.MicroVm;
using Runbooks.Harness.Lifecycle;
using Runbooks.Tests.Support;
using Runbooks.Transport;

namespace Runbooks.Tests.Reliability;

/// <summary>
/// The <c>runbook run</c> process, driving a PV rebuild over SSH into the microVM, is SIGKILLed while
/// <c>pvmove</c> copies onto a dm-delay disk. The pvmove on the host does not die with the SSH client; it may
/// go on, or be killed too (here on purpose, as the OOM killer or a reboot of the operator's session would),
/// leaving an interrupted <c>[pvmove0]</c>. Either way the journal must read back, <c>--resume</c> and a plain
/// re-run must converge, and every object on the moved LV must match its checksum.
/// </summary>
[Category("harness"), Category("reliability"), NonParallelizable]
public class PvmoveKillTests
{
    private const string Fault = "kill mid-pvmove (dm-delay)";

    private IHarnessEnvironment? _vm;
    private string _root = "";

    private ITransport Guest => _vm!.Inventory.Context(Inventory.DefaultHost).Transport;

    private MicroVmState State => ((MicroVmEnvironment)_vm!).State;

    private string HostUri => State.SshUri;

    [OneTimeSetUp]
    public async Task BootVm()
    {
        if (!System.IO.File.Exists("/usr/bin/qemu-system-x86_64"))
        {
            Assert.Ignore("PREREQUISITE MISSING: qemu-system-x86_64 (apt-get install qemu-system-x86); a kill mid-pvmove is untested");
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        var watch = Stopwatch.StartNew();
        _root = Directory.CreateTempSubdirectory("rb-pvmove-kill-").FullName;
        _vm = await new MicroVmBackend().CreateAsync(new HarnessOptions("pvmove-kill", Path.Combine(_root, "vm")), cts.Token);
        TestContext.Out.WriteLine($"boot: {watch.Elapsed.TotalSeconds:0.0} s");
        var targets = await Guest.RunAsync(Shell.Script("modprobe dm_delay; dmsetup targets"), cts.Token);
        if (!targets.StandardOutput.Split('\n').Any(l => l.StartsWith("delay ", StringComparison.Ordinal)))
        {
            Assert.Ignore($"KERNEL LACKS A FEATURE: the guest kernel has no device-mapper 'delay' target (dmsetup targets: {targets.StandardOutput.Trim()}); a kill mid-pvmove is untested");
        }

        await Guest.RunCheckedAsync(Shell.Script("mkdir -p /media && mount -t tmpfs -o size=600m tmpfs /media"), cts.Token);
        Environment.SetEnvironmentVariable("RUNBOOK_SSH_KEY", State.PrivateKeyPath);
        Environment.SetEnvironmentVariable("RUNBOOK_KNOWN_HOSTS", State.KnownHostsPath);
    }

    [OneTimeTearDown]
    public async Task DestroyVm()
    {
        Environment.SetEnvironmentVariable("RUNBOOK_SSH_KEY", null);
        Environment.SetEnvironmentVariable("RUNBOOK_KNOWN_HOSTS", null);
        if (_vm is not null)
        {
            var leaks = await _vm.DestroyAsync(CancellationToken.None);
            Directory.Delete(_root, recursive: true);
            Assert.That(leaks, Is.Empty);
        }
    }

    [Test, CancelAfter(900_000)]
    public async Task Killing_the_cli_mid_pvmove_leaves_a_readable_journal_and_resume_and_rerun_converge_with_every_object_intact(CancellationToken ct)
    {
        var outcome = await KillMidMoveAsync("vgkill", killGuestPvmove: false, ct);

        Assert.That(outcome.Problems, Is.Empty);
    }

    [Test, CancelAfter(900_000)]
    public async Task A_pvmove_interrupted_with_the_cli_is_shown_in_the_plan_and_resumed_not_aborted_and_every_object_is_intact(CancellationToken ct)
    {
        var outcome = await KillMidMoveAsync("vgint", killGuestPvmove: true, ct);

        Assert.That(outcome.Problems, Is.Empty);
        Assert.That(outcome.Plan, Does.Contain("unfinished pvmove: [pvmove0]").And.Contain("no pvmove or LVM poller running: interrupted"), "plan shows the interrupted move");
        Assert.That(outcome.Plan, Does.Contain("rather than `pvmove --abort`"), "plan says why it resumes");
        Assert.That(outcome.ResumeCommands, Does.Contain("pvmove"), "the resume ran `pvmove` with no arguments");
        Assert.That(outcome.ResumeCommands, Has.None.Contains("--abort"));
    }

    private sealed record Outcome(List<string> Problems, string Plan, IReadOnlyList<string> ResumeCommands);

    private async Task<Outcome> KillMidMoveAsync(string volumeGroup, bool killGuestPvmove, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var disks = await SlowMoveDisks.CreateAsync(Guest, volumeGroup, "/media", ct);
        var runbook = Path.Combine(_root, $"{volumeGroup}.csx");
        await System.IO.File.WriteAllTextAsync(runbook, disks.Runbook, ct);
        var (checkExit, _, checkError) = CliRunner.Run("check", runbook); // also compiles into the cache the child reads
        Assert.That(checkExit, Is.EqualTo(0), checkError);

        var journal = Path.Combine(_root, $"{volumeGroup}.jsonl");
        var atKill = await KilledRunbookProcess.RunUntilAsync(["run", runbook, "--host", HostUri, "--journal", journal], c => disks.MoveInProgressAsync(Guest, c), TimeSpan.FromMinutes(5), ct);
        if (killGuestPvmove)
        {
            await Guest.RunCheckedAsync(Shell.Script("for p in $(pgrep -x pvmove); do kill -9 \"$p\"; done"), ct);
        }

        var afterKill = (await Guest.RunAsync(Shell.Script("pgrep -a -x pvmove; lvs -a --noheadings -o lv_name,copy_percent -- \"$1\"", volumeGroup), ct)).StandardOutput.Trim();
        TestContext.Out.WriteLine($"{volumeGroup}: killed at {watch.Elapsed.TotalSeconds:0.0} s while: {atKill.Trim()}\n  just after the kill: {afterKill}");

        var problems = KilledRunbookProcess.JournalProblems(journal).ToList();
        var (_, plan, _) = CliRunner.Run("plan", runbook, "--host", HostUri);
        var before = KilledRunbookProcess.Records(journal).Count;
        var (resumeExit, resumeOut, resumeError) = CliRunner.Run("run", runbook, "--host", HostUri, "--resume", journal, "--break-lock");
        if (resumeExit != 0)
        {
            problems.Add($"resume exited {resumeExit}: {resumeOut}{resumeError}");
        }

        var resumeCommands = KilledRunbookProcess.Records(journal).Skip(before)
            .Where(r => (string?)r["event"] == "command" && (bool?)r["readOnly"] == false).Select(r => string.Join(' ', r["argv"]!.AsArray().Select(a => (string?)a))).ToList();
        var rerunJournal = Path.Combine(_root, $"{volumeGroup}-rerun.jsonl");
        var (rerunExit, rerunOut, rerunError) = CliRunner.Run("run", runbook, "--host", HostUri, "--journal", rerunJournal);
        if (rerunExit != 0 || KilledRunbookProcess.MutatingCommands(rerunJournal) > 0)
        {
            problems.Add($"the re-run after resume was not all satisfied (exit {rerunExit}): {rerunOut}{rerunError}");
        }

        var endState = await disks.EndStateAsync(Guest, ct);
        if (endState.Contains("pvmove", StringComparison.Ordinal) || !endState.Contains(disks.Destination + "(", StringComparison.Ordinal))
        {
            problems.Add($"end state is not the rebuilt VG: {endState}");
        }

        var damaged = await disks.DamagedObjectsAsync(Guest, ct);
        problems.AddRange(damaged.Select(d => $"object damaged: {d}"));
        TestContext.Out.WriteLine($"{volumeGroup}: {watch.Elapsed.TotalSeconds:0.0} s in all; resume ran: {string.Join(" | ", resumeCommands)}\n  plan after the kill:\n{plan}\n  end state: {endState.Trim()}");
        ReliabilityFigures.Record(Fault, 1, problems.Count == 0 ? 1 : 0, 0, damaged.Count);
        return new Outcome(problems, plan, resumeCommands);
    }
}
