using Runbooks.Dsl.Nouns.Lvm;
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

    [Test]
    public void Every_lvm_step_that_can_write_a_vg_gets_the_guard_from_its_base()
    {
        // pvcreate writes a label on a blank device that belongs to no VG yet: the only LVM step outside the base.
        var steps = typeof(VolumeGroupStep).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(VolumeGroupStep).Namespace && t.IsSubclassOf(typeof(Step)) && !t.IsAbstract)
            .ToList();

        Assert.That(steps, Has.Count.GreaterThanOrEqualTo(8));
        Assert.That(steps.Where(t => !t.IsSubclassOf(typeof(VolumeGroupStep))).Select(t => t.Name), Is.EqualTo(new[] { nameof(CreatePvStep) }));
    }
}
