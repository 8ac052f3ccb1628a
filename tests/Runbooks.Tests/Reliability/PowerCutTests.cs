using System.Diagnostics;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness.Backends.MicroVm;
using Runbooks.Harness.Lifecycle;
using Runbooks.Tests.Support;
using Runbooks.Transport;

namespace Runbooks.Tests.Reliability;

/// <summary>
/// A power cut mid-converge: qemu is SIGKILLed while the runbook's pvmove copies onto a dm-delay disk, with the
/// disk images in a host directory (the backend's host media, /media in the guest) so they outlive the VM. A new
/// VM boots on the same images, an SRE's re-attach follows (losetup, the dm device, <c>vgchange -ay</c>, mount),
/// and <c>--resume</c> then a plain re-run must converge with every object's checksum intact.
/// </summary>
[Category("harness"), Category("reliability"), NonParallelizable]
public class PowerCutTests
{
    private const string Fault = "power cut mid-pvmove (qemu SIGKILL)";

    private string _root = "";

    [SetUp]
    public void RequireQemu()
    {
        if (!System.IO.File.Exists("/usr/bin/qemu-system-x86_64"))
        {
            Assert.Ignore("PREREQUISITE MISSING: qemu-system-x86_64 (apt-get install qemu-system-x86); a power cut is untested");
        }

        _root = Directory.CreateTempSubdirectory("rb-power-cut-").FullName;
    }

    [TearDown]
    public void Remove()
    {
        Environment.SetEnvironmentVariable("RUNBOOK_SSH_KEY", null);
        Environment.SetEnvironmentVariable("RUNBOOK_KNOWN_HOSTS", null);
        if (_root.Length > 0)
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Test, CancelAfter(1_500_000)]
    public async Task After_qemu_is_killed_mid_pvmove_a_new_vm_on_the_same_images_converges_with_every_object_intact(CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var media = Directory.CreateDirectory(Path.Combine(_root, "media")).FullName;
        var runbook = Path.Combine(_root, "power-cut.csx");
        var journal = Path.Combine(_root, "power-cut.jsonl");
        SlowMoveDisks disks;
        string atCut;
        (string Seen, int? Exit, string Output) cut;
        var first = await BootAsync("power-cut-1", media, ct);
        try
        {
            var guest = Guest(first);
            disks = await SlowMoveDisks.CreateAsync(guest, "vgcut", "/media", ct);
            Assert.That(System.IO.File.Exists(Path.Combine(media, "vgcut-src.img")), Is.True, "the guest's /media is the host directory");
            await System.IO.File.WriteAllTextAsync(runbook, disks.Runbook, ct);
            var (checkExit, _, checkError) = CliRunner.Run("check", runbook);
            Assert.That(checkExit, Is.EqualTo(0), checkError);

            var qemu = ((MicroVmEnvironment)first).State.QemuPid;
            cut = await KilledRunbookProcess.RunUntilAsync(["run", runbook, "--host", HostUri(first), "--journal", journal], async c =>
            {
                var seen = await disks.MoveInProgressAsync(guest, c);
                if (seen is not null)
                {
                    using var process = Process.GetProcessById(qemu);
                    process.Kill(); // the power cut: no guest shutdown, no flush of the guest's page cache
                    await process.WaitForExitAsync(c);
                }

                return seen;
            }, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(2), ct);
            atCut = cut.Seen.Trim();
            TestContext.Out.WriteLine($"power cut at {watch.Elapsed.TotalSeconds:0.0} s while: {atCut}; the run {(cut.Exit is { } exit ? $"exited {exit}" : "was still running and was killed")}");
        }
        finally
        {
            await first.DestroyAsync(CancellationToken.None);
        }

        var problems = KilledRunbookProcess.JournalProblems(journal).ToList();
        var second = await BootAsync("power-cut-2", media, ct);
        try
        {
            await ConvergeAfterRebootAsync(second, disks, runbook, journal, problems, ct);
        }
        finally
        {
            await second.DestroyAsync(CancellationToken.None);
        }

        TestContext.Out.WriteLine($"power cut: {watch.Elapsed.TotalSeconds:0.0} s in all");
        Assert.That(problems, Is.Empty);
    }

    private async Task ConvergeAfterRebootAsync(IHarnessEnvironment second, SlowMoveDisks disks, string runbook, string journal, List<string> problems, CancellationToken ct)
    {
        var after = Guest(second);
        await disks.AttachAsync(after, ct);
        var reattached = (await after.RunAsync(Shell.Script("ps -eo pid,comm,args | grep -E 'pvmove|vgchange|lvm' | grep -v grep; lvs -a --noheadings -o lv_name,copy_percent -- vgcut"), ct)).StandardOutput.Trim();
        TestContext.Out.WriteLine($"re-attached: {reattached}");

        // The killed run's host lock lived in the dead VM's memory, so a resume after the reboot needs no --break-lock.
        var (resumeExit, resumeOut, resumeError) = CliRunner.Run("run", runbook, "--host", HostUri(second), "--resume", journal);
        if (resumeExit != 0)
        {
            problems.Add($"resume exited {resumeExit}: {resumeOut}{resumeError}");
        }

        // After the reboot `vgchange -ay` has started LVM's own poller on the move; the probe must see it and wait.
        var resumeProbe = KilledRunbookProcess.Records(journal).LastOrDefault(r => (string?)r["event"] == "probe" && (string?)r["target"] == "rebuild");
        TestContext.Out.WriteLine($"  resume probe observed: {(string?)resumeProbe?["observed"]}");

        var rerunJournal = Path.Combine(_root, "power-cut-rerun.jsonl");
        var (rerunExit, rerunOut, rerunError) = CliRunner.Run("run", runbook, "--host", HostUri(second), "--journal", rerunJournal);
        if (rerunExit != 0 || KilledRunbookProcess.MutatingCommands(rerunJournal) > 0)
        {
            problems.Add($"the re-run after resume was not all satisfied (exit {rerunExit}): {rerunOut}{rerunError}");
        }

        var endState = await disks.EndStateAsync(after, ct);
        if (endState.Contains("pvmove", StringComparison.Ordinal) || !endState.Contains(disks.Destination + "(", StringComparison.Ordinal))
        {
            problems.Add($"end state is not the rebuilt VG: {endState}");
        }

        var damaged = await disks.DamagedObjectsAsync(after, ct);
        problems.AddRange(damaged.Select(d => $"object damaged: {d}"));
        TestContext.Out.WriteLine($"  resume: {resumeOut.Trim()}\n  end state: {endState.Trim()}");
        ReliabilityFigures.Record(Fault, 1, problems.Count == 0 ? 1 : 0, 0, damaged.Count);
    }

    private static ITransport Guest(IHarnessEnvironment vm) => vm.Inventory.Context(Inventory.DefaultHost).Transport;

    private static string HostUri(IHarnessEnvironment vm) => ((MicroVmEnvironment)vm).State.SshUri;

    private async Task<IHarnessEnvironment> BootAsync(string name, string media, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var vm = await new MicroVmBackend(hostMedia: media).CreateAsync(new HarnessOptions(name, Path.Combine(_root, name)), ct);
        TestContext.Out.WriteLine($"{name} boot: {watch.Elapsed.TotalSeconds:0.0} s");
        var state = ((MicroVmEnvironment)vm).State;
        Environment.SetEnvironmentVariable("RUNBOOK_SSH_KEY", state.PrivateKeyPath);
        Environment.SetEnvironmentVariable("RUNBOOK_KNOWN_HOSTS", state.KnownHostsPath);
        var targets = await Guest(vm).RunAsync(Shell.Script("modprobe dm_delay; dmsetup targets"), ct);
        if (!targets.StandardOutput.Split('\n').Any(l => l.StartsWith("delay ", StringComparison.Ordinal)))
        {
            await vm.DestroyAsync(ct);
            Assert.Ignore($"KERNEL LACKS A FEATURE: the guest kernel has no device-mapper 'delay' target (dmsetup targets: {targets.StandardOutput.Trim()}); a power cut is untested");
        }

        return vm;
    }
}
