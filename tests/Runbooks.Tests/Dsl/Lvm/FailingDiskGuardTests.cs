using Runbooks.Dsl;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Dsl.Lvm;

/// <summary>
/// Recorded in the microVM after the table under /dev/mapper/pvfail was switched to dm-error: pvs lists the PV
/// as [unknown] with attribute m and warns on stderr. No LVM step may change that VG.
/// </summary>
public class FailingDiskGuardTests
{
    private const string Warning = "  WARNING: Couldn't find device with uuid PkI48k-N72H-vBah-cvzJ-lo1j-Z6c8-0S16pl.\n" +
                                   "  WARNING: VG vgf is missing PV PkI48k-N72H-vBah-cvzJ-lo1j-Z6c8-0S16pl (last written to /dev/mapper/pvfail).\n";

    private const string ReadError = "dd: error reading '/dev/mapper/pvfail': Input/output error\n";

    private static IEnumerable<TestCaseData> StepsOnTheVg()
    {
        yield return new TestCaseData((Func<Step>)(() => Runbooks.Dsl.Lvm.Vg("vgf").Extend("/dev/loop2"))).SetName("vgextend onto a VG with a missing PV is refused");
        yield return new TestCaseData((Func<Step>)(() => Runbooks.Dsl.Lvm.Pv("/dev/mapper/pvfail").ResizeToDevice())).SetName("pvresize of the unreadable PV is refused");
        yield return new TestCaseData((Func<Step>)(() => Runbooks.Dsl.Lvm.Pv("/dev/mapper/pvfail").Evacuate())).SetName("pvmove off the unreadable PV is refused");
        yield return new TestCaseData((Func<Step>)(() => Runbooks.Dsl.Lvm.Pv("/dev/loop0").Allocatable(false))).SetName("pvchange on a healthy PV of that VG is refused");
    }

    [Test]
    public void A_missing_pv_is_parsed_from_its_attribute()
    {
        var pvs = LvmParser.ParsePvs(Fixture.Read("lvm/pvs-missing-pv.json"));

        Assert.That(pvs.Select(p => (p.Name, p.Missing)), Is.EqualTo(new[] { ("/dev/loop0", false), ("[unknown]", true) }));
    }

    [TestCaseSource(nameof(StepsOnTheVg))]
    public async Task A_step_that_would_write_the_vg_is_blocked_naming_host_disk_and_kernel_error(Func<Step> step)
    {
        var transport = new FakeTransport("root@db1:22")
            .On(LvmReads.Pvs, Fixture.Read("lvm/pvs-missing-pv.json"), stderr: Warning)
            .On(LvmReads.Vgs, """{"report":[{"vg":[{"vg_name":"vgf","vg_size":"125829120","vg_free":"104857600","vg_extent_size":"4194304","vg_extent_count":"30","vg_free_count":"25","pv_count":"2","lv_count":"1"}]}]}""")
            .On("blockdev --getsize64 /dev/mapper/pvfail", "66060288\n")
            .On("blockdev --getsize64 /dev/loop2", "67108864\n")
            .On("blkid -p -o export -- /dev/loop2", "", exit: 2)
            .On("dd if=/dev/mapper/pvfail of=/dev/null bs=4096 count=1 iflag=direct status=none", "", exit: 1, stderr: ReadError);

        var probe = await step().ProbeAsync(transport.Context(), CancellationToken.None);

        var reason = string.Join("; ", probe.Unmet);
        Assert.That(probe.Decision, Is.EqualTo(StepDecision.Blocked), probe.Observed);
        Assert.That(reason, Does.Contain("on host root@db1:22"));
        Assert.That(reason, Does.Contain("/dev/mapper/pvfail").And.Contain("Input/output error"));
        Assert.That(reason, Does.Contain("nothing was").And.Contain("vgreduce --removemissing vgf"));
        Assert.That(transport.Changes, Is.Empty);
    }

    // Recorded in the microVM (lvm2 2.03.16): vgm on /dev/loop4 and /dev/mapper/mdafail, the first MiB of mdafail put
    // back as it was before an lvextend, so mdafail holds the older copy a failed metadata write leaves. Here the
    // names are those of the rebuilt vg0 fixture: mdafail is /dev/loop1, loop4 is /dev/loop0.
    private static string StaleMdaWarnings() => Fixture.Read("lvm/vgck-stale-mda.txt")
        .Replace("vgm", "vg0", StringComparison.Ordinal).Replace("/dev/mapper/mdafail", "/dev/loop1", StringComparison.Ordinal).Replace("/dev/loop4", "/dev/loop0", StringComparison.Ordinal);

    private static IEnumerable<TestCaseData> StepsOnTheStaleVg()
    {
        yield return new TestCaseData((Func<Step>)(() => Runbooks.Dsl.Lvm.Pv("/dev/loop0").Allocatable(false))).SetName("pvchange on a VG with a stale metadata copy is refused");
        yield return new TestCaseData((Func<Step>)(() => Runbooks.Dsl.Lvm.Vg("vg0").Extend("/dev/loop3"))).SetName("vgextend onto a VG with a stale metadata copy is refused");
    }

    [TestCaseSource(nameof(StepsOnTheStaleVg))]
    public async Task After_a_failed_metadata_write_the_step_runs_vgck_and_refuses_naming_the_stale_pv_and_the_way_out(Func<Step> step)
    {
        var warnings = StaleMdaWarnings();
        var transport = new FakeTransport("root@db1:22")
            .On(LvmReads.Pvs, Fixture.Read("lvm/pvs-rebuilt.json"), stderr: warnings)
            .On(LvmReads.Vgs, Fixture.Read("lvm/vgs-rebuilt.json"), stderr: warnings)
            .On(LvmReads.Lvs, Fixture.Read("lvm/lvs-rebuilt.json"), stderr: warnings)
            .On("blockdev --getsize64 /dev/loop3", "188743680\n")
            .On("blkid -p -o export -- /dev/loop3", "", exit: 2)
            .On("vgck -- vg0", "", stderr: warnings);

        var probe = await step().ProbeAsync(transport.Context(), CancellationToken.None);

        var reason = string.Join("; ", probe.Unmet);
        Assert.That(probe.Decision, Is.EqualTo(StepDecision.Blocked), probe.Observed);
        Assert.That(reason, Does.Contain("on host root@db1:22: vgck finds VG vg0 with stale metadata (/dev/loop1 holds seqno 3 where /dev/loop0 holds 4)"));
        Assert.That(reason, Does.Contain("nothing was changed").And.Contain("`vgck --updatemetadata vg0`"));
        Assert.That(transport.Changes, Is.Empty);
    }

    [Test]
    public void Vgck_on_consistent_metadata_is_no_problem_and_its_stale_warning_for_another_vg_is_not_this_ones()
    {
        static CommandResult Vgck(int exit, string stderr) => new(exit, "", stderr, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);

        Assert.That(FailingDiskGuard.VgckProblem("vg0", Vgck(0, "")), Is.Null);
        Assert.That(FailingDiskGuard.VgckProblem("vgother", Vgck(0, StaleMdaWarnings())), Is.Null);
        Assert.That(FailingDiskGuard.VgckProblem("vg0", Vgck(5, "  The volume group is missing 1 physical volumes.\n")), Does.StartWith("vgck finds VG vg0 with inconsistent metadata (vgck exit 5: The volume group is missing 1 physical volumes.)"));
    }

    [Test]
    public async Task A_vg_whose_report_has_no_metadata_warning_costs_no_vgck()
    {
        var transport = new FakeTransport("root@db1:22")
            .On(LvmReads.Pvs, Fixture.Read("lvm/pvs-rebuilt.json"))
            .On(LvmReads.Vgs, Fixture.Read("lvm/vgs-rebuilt.json"))
            .On(LvmReads.Lvs, Fixture.Read("lvm/lvs-rebuilt.json"));

        var probe = await Runbooks.Dsl.Lvm.Pv("/dev/loop0").Allocatable(false).ProbeAsync(transport.Context(), CancellationToken.None);

        Assert.That(probe.Decision, Is.EqualTo(StepDecision.WillChange), string.Join("; ", probe.Unmet));
    }

    [Test]
    public void Every_lvm_step_that_can_write_a_vg_gets_the_guard_from_its_base()
    {
        // pvcreate writes a label on a blank device that belongs to no VG yet: the only LVM step outside the base.
        // The LVM steps are the step classes declared in the noun's folder (every DSL type shares one namespace).
        var folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "..", "..", "src", "Runbooks", "Dsl", "Lvm");
        var declared = Directory.GetFiles(folder, "*.cs")
            .SelectMany(file => System.Text.RegularExpressions.Regex.Matches(System.IO.File.ReadAllText(file), @"\bclass\s+(\w+)").Select(m => m.Groups[1].Value))
            .ToHashSet();
        var steps = typeof(VolumeGroupStep).Assembly.GetTypes()
            .Where(t => declared.Contains(t.Name) && t.IsSubclassOf(typeof(Step)) && !t.IsAbstract)
            .ToList();

        Assert.That(steps, Has.Count.GreaterThanOrEqualTo(8));
        Assert.That(steps.Where(t => !t.IsSubclassOf(typeof(VolumeGroupStep))).Select(t => t.Name), Is.EqualTo(new[] { nameof(CreatePvStep) }));
    }
}
