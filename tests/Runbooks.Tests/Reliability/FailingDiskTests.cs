using System.Diagnostics;
using System.Globalization;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Harness.Backends.MicroVm;
using Runbooks.Harness.Lifecycle;
using Runbooks.Transport;

namespace Runbooks.Tests.Reliability;

/// <summary>
/// A disk fails under a PV, in the microVM with a real kernel: the PV sits on a device-mapper device whose
/// table is switched from <c>linear</c> to <c>error</c> (every I/O fails) or to <c>flakey … error_writes</c>
/// (reads work, writes fail). A runbook whose first target touches that PV must fail at that step, naming the
/// host, the device and the tool's or kernel's error; the targets that depend on it must not run; and the VG's
/// metadata seqno must not move.
/// </summary>
[Category("harness"), Category("reliability"), NonParallelizable]
public class FailingDiskTests
{
    private IHarnessEnvironment? _vm;

    private ITransport Guest => _vm!.Inventory.Context(Inventory.DefaultHost).Transport;

    [OneTimeSetUp]
    public async Task BootVm()
    {
        if (!System.IO.File.Exists("/usr/bin/qemu-system-x86_64"))
        {
            Assert.Ignore("PREREQUISITE MISSING: qemu-system-x86_64 (apt-get install qemu-system-x86); failing-disk handling is untested");
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        var watch = Stopwatch.StartNew();
        var options = new HarnessOptions("failing-disk", Path.Combine(Path.GetTempPath(), $"runbooks-failing-disk-{Guid.NewGuid():N}"));
        _vm = await new MicroVmBackend().CreateAsync(options, cts.Token);
        TestContext.Out.WriteLine($"boot: {watch.Elapsed.TotalSeconds:0.0} s");
        var targets = await Guest.RunAsync(Shell.Script("modprobe dm_flakey; dmsetup targets"), cts.Token);
        foreach (var target in new[] { "error", "flakey", "linear" })
        {
            if (!targets.StandardOutput.Split('\n').Any(l => l.StartsWith(target + " ", StringComparison.Ordinal)))
            {
                Assert.Ignore($"KERNEL LACKS A FEATURE: the guest kernel has no device-mapper '{target}' target (dmsetup targets: {targets.StandardOutput.Trim()}); failing-disk handling is untested");
            }
        }

        await Guest.RunCheckedAsync(new Command("mkdir", ["-p", "/media"]), cts.Token);
        await Guest.RunCheckedAsync(new Command("mount", ["-t", "tmpfs", "-o", "size=400m", "tmpfs", "/media"]), cts.Token);
    }

    [OneTimeTearDown]
    public async Task DestroyVm()
    {
        if (_vm is not null)
        {
            var leaks = await _vm.DestroyAsync(CancellationToken.None);
            Assert.That(leaks, Is.Empty);
        }
    }

    [Test, CancelAfter(900_000)]
    public async Task A_dead_disk_under_a_pv_fails_the_step_touching_it_with_the_kernel_error_and_the_vg_is_not_written(CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var disk = await FailingVgAsync("vgdead", "pvdead", ct);
        var seqno = await SeqnoAsync("vgdead", ct);

        await SwitchTableAsync(disk, "error", ct);
        var summary = await RunAsync(Runbook(disk), ["grow"], skipDependencies: false, ct);
        // The dependents' guard on their own: run the vgextend alone, as --skip-dependencies would.
        var alone = await RunAsync(Runbook(disk), ["extend"], skipDependencies: true, ct);
        var seqnoAfter = await SeqnoAsync("vgdead", ct);
        TestContext.Out.WriteLine($"dm-error case: {watch.Elapsed.TotalSeconds:0.0} s\n{Describe(summary)}\n{Describe(alone)}");

        var failed = summary.Targets.Single(t => t.Name == "pv-size");
        var survived = failed.Status == TargetStatus.Failed && (failed.Error ?? "").Contains("Input/output error", StringComparison.Ordinal) &&
                       alone.Targets.Single().Status == TargetStatus.Failed && seqnoAfter == seqno;
        Support.ReliabilityFigures.Record("failing disk under a PV (dm-error)", 1, survived ? 1 : 0, 0, 0);

        Assert.That(failed.Status, Is.EqualTo(TargetStatus.Failed));
        Assert.That(failed.Error, Does.StartWith($"step 1 'PV {disk.Mapper} uses all of its device"), "names the step");
        Assert.That(failed.Error, Does.Contain("on host local").And.Contain(disk.Mapper).And.Contain("Input/output error"), "names the host, the device and the kernel's error");
        Assert.That(failed.Error, Does.Contain("What to do:"));
        AssertDependentsSkipped(summary);
        Assert.That(alone.Targets.Single().Error, Does.Contain("VG vgdead is missing 1 PV(s)").And.Contain("nothing was changed"),
            "vgextend would write a VG with a missing PV; the step must refuse on its own");
        Assert.That(seqnoAfter, Is.EqualTo(seqno), "the VG's metadata was written");
    }

    [Test, CancelAfter(900_000)]
    public async Task A_disk_failing_writes_under_a_pv_fails_the_step_at_the_write_with_the_tool_error_and_the_vg_is_not_written(CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var disk = await FailingVgAsync("vgflaky", "pvflaky", ct);
        var seqno = await SeqnoAsync("vgflaky", ct);

        // Down for an hour from the start (up interval 0), failing every write with EIO; reads still work,
        // so LVM sees a healthy PV until it tries to write its metadata.
        await SwitchTableAsync(disk, $"flakey {disk.Loop} {DataOffsetSectors} 0 3600 1 error_writes", ct);
        var summary = await RunAsync(Runbook(disk), ["grow"], skipDependencies: false, ct);
        var seqnoAfter = await SeqnoAsync("vgflaky", ct);
        TestContext.Out.WriteLine($"dm-flakey case: {watch.Elapsed.TotalSeconds:0.0} s\n{Describe(summary)}");

        var failed = summary.Targets.Single(t => t.Name == "pv-size");
        var survived = failed.Status == TargetStatus.Failed && (failed.Error ?? "").Contains($"Error writing device {disk.Mapper}", StringComparison.Ordinal) && seqnoAfter == seqno;
        Support.ReliabilityFigures.Record("failing disk under a PV (dm-flakey, writes fail)", 1, survived ? 1 : 0, 0, 0);

        Assert.That(failed.Status, Is.EqualTo(TargetStatus.Failed));
        Assert.That(failed.Error, Does.StartWith($"step 1 'PV {disk.Mapper} uses all of its device"));
        Assert.That(failed.Error, Does.Contain($"on {Guest.Name}: `").And.Contain($"pvresize -- {disk.Mapper}` exited 5"), "names the host and the command");
        Assert.That(failed.Error, Does.Contain($"Error writing device {disk.Mapper}"), "carries LVM's stderr");
        Assert.That(failed.Error, Does.Contain("what to do:"));
        AssertDependentsSkipped(summary);
        Assert.That(seqnoAfter, Is.EqualTo(seqno), "the VG's metadata was written");
    }

    /// <summary>Where the PV's data starts inside its loop device; see <see cref="FailingVgAsync"/>.</summary>
    private const int DataOffsetSectors = 2048;

    private sealed record FailingDisk(string Name, string Loop, string Spare, long Sectors)
    {
        public string Mapper => $"/dev/mapper/{Name}";
    }

    /// <summary>
    /// A VG on a healthy loop device plus a PV on a linear dm device over a second one, with lv1 on the healthy
    /// one and a third blank loop device to extend onto. The PV is made smaller than its device so a pvresize
    /// has something to do.
    /// </summary>
    private async Task<FailingDisk> FailingVgAsync(string vg, string name, CancellationToken ct)
    {
        var loops = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var image = $"/media/{name}-{i}.img";
            await Guest.RunCheckedAsync(new Command("fallocate", ["-l", "64M", "--", image]), ct);
            loops.Add((await Guest.RunCheckedAsync(new Command("losetup", ["--find", "--show", image]), ct)).StandardOutput.Trim());
        }

        var sectors = long.Parse((await Guest.RunCheckedAsync(new Command("blockdev", ["--getsz", loops[1]]), ct)).StandardOutput.Trim(), CultureInfo.InvariantCulture) - DataOffsetSectors;
        var disk = new FailingDisk(name, loops[1], loops[2], sectors);
        // Mapped from 1 MiB in: LVM scans the loop device underneath too, and would refuse the VG over a
        // duplicate PV if the label it finds through the dm device were also at the start of the loop device.
        await Guest.RunCheckedAsync(new Command("dmsetup", ["create", name, "--table", $"0 {sectors} linear {disk.Loop} {DataOffsetSectors}"]), ct);
        await Guest.RunCheckedAsync(new Command("pvcreate", ["-q", loops[0]]), ct);
        await Guest.RunCheckedAsync(new Command("pvcreate", ["-q", "--setphysicalvolumesize", "40m", disk.Mapper]), ct);
        await Guest.RunCheckedAsync(new Command("vgcreate", ["-q", "-s", "4m", vg, loops[0], disk.Mapper]), ct);
        await Guest.RunCheckedAsync(new Command("lvcreate", ["-q", "-y", "-Zn", "-l", "5", "-n", "lv1", vg, loops[0]]), ct);
        return disk;
    }

    private async Task SwitchTableAsync(FailingDisk disk, string target, CancellationToken ct)
    {
        await Guest.RunCheckedAsync(new Command("dmsetup", ["suspend", disk.Name]), ct);
        await Guest.RunCheckedAsync(new Command("dmsetup", ["load", disk.Name, "--table", $"0 {disk.Sectors} {target}"]), ct);
        await Guest.RunCheckedAsync(new Command("dmsetup", ["resume", disk.Name]), ct);
    }

    private async Task<int> SeqnoAsync(string vg, CancellationToken ct)
    {
        var result = await Guest.RunCheckedAsync(new Command("vgs", ["--noheadings", "-o", "vg_seqno", vg]), ct);
        return int.Parse(result.StandardOutput.Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>The runbook under test: resize the PV on the failing disk, then extend the VG, then grow the LV.</summary>
    private static List<Target> Runbook(FailingDisk disk)
    {
        var vg = disk.Name.Replace("pv", "vg", StringComparison.Ordinal);
        return
        [
            new Target("pv-size", "the PV uses its whole disk", [], [Runbooks.Dsl.Lvm.Pv(disk.Mapper).ResizeToDevice()]),
            new Target("extend", "the VG has a third disk", ["pv-size"], [Runbooks.Dsl.Lvm.Vg(vg).Extend(disk.Spare)]),
            new Target("grow", "lv1 is 48M", ["extend"], [Runbooks.Dsl.Lvm.Lv($"{vg}/lv1").GrowTo("48M")]),
        ];
    }

    private async Task<RunSummary> RunAsync(List<Target> runbook, string[] targets, bool skipDependencies, CancellationToken ct) =>
        await new Runner(new TargetGraph(runbook), _vm!.Inventory, new RunObserver())
            .RunAsync(new RunRequest(RunMode.Run, targets, SkipDependencies: skipDependencies), ct);

    private static void AssertDependentsSkipped(RunSummary summary)
    {
        Assert.That(summary.Targets.Single(t => t.Name == "extend").Status, Is.EqualTo(TargetStatus.NotRun));
        Assert.That(summary.Targets.Single(t => t.Name == "extend").Error, Is.EqualTo("dependency 'pv-size' failed"));
        Assert.That(summary.Targets.Single(t => t.Name == "grow").Status, Is.EqualTo(TargetStatus.NotRun));
    }

    private static string Describe(RunSummary summary) =>
        string.Join("\n", summary.Targets.Select(t => $"  {t.Name}: {t.Status} {t.Error}"));
}
