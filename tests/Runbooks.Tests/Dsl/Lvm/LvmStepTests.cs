using Runbooks.Dsl;
using Runbooks.Engine;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Dsl.Lvm;

/// <summary>Given recorded LVM state and a step, expect a decision and exactly these commands.</summary>
public class LvmStepTests
{
    public sealed record Case(string Name, Func<Step> Step, string State, StepDecision Decision, string[] Commands, string? Reason = null)
    {
        public override string ToString() => Name;
    }

    private static IEnumerable<Case> Cases() =>
    [
        new("resize: the short loop2 gets pvresize", () => Runbooks.Dsl.Lvm.Pv("/dev/loop2").ResizeToDevice(), "broken", StepDecision.WillChange,
            ["pvresize -- /dev/loop2"]),
        new("resize: loop2 after pvresize is satisfied", () => Runbooks.Dsl.Lvm.Pv("/dev/loop2").ResizeToDevice(), "resized", StepDecision.Satisfied, []),
        new("resize: loop1 fills everything after its bad offset, so pvresize cannot help", () => Runbooks.Dsl.Lvm.Pv("/dev/loop1").ResizeToDevice(), "broken", StepDecision.Satisfied, []),
        new("allocatable: loop0 gets pvchange -x y", () => Runbooks.Dsl.Lvm.Pv("/dev/loop0").Allocatable(), "broken", StepDecision.WillChange,
            ["pvchange -x y -- /dev/loop0"]),
        new("allocatable: already so", () => Runbooks.Dsl.Lvm.Pv("/dev/loop0").Allocatable(), "resized", StepDecision.Satisfied, []),
        new("evacuate: refuses when the only free space is on a PV that is not allocatable", () => Runbooks.Dsl.Lvm.Pv("/dev/loop1").Evacuate(), "broken", StepDecision.Blocked,
            [], "needs as many free extents"),
        new("evacuate: moves onto the named allocatable PVs once loop2 is resized", () => Runbooks.Dsl.Lvm.Pv("/dev/loop1").Evacuate(), "resized", StepDecision.WillChange,
            ["pvmove --alloc anywhere -- /dev/loop1 /dev/loop2"]),
        new("evacuate: zero allocated extents is satisfied", () => Runbooks.Dsl.Lvm.Pv("/dev/loop1").Evacuate(), "loop1-evacuated", StepDecision.Satisfied, []),
        new("vgreduce: refused while extents are allocated", () => Runbooks.Dsl.Lvm.Pv("/dev/loop1").RemoveFrom("vg0"), "broken", StepDecision.Blocked, [], "evacuate it first"),
        new("vgreduce: an empty PV leaves the VG", () => Runbooks.Dsl.Lvm.Pv("/dev/loop1").RemoveFrom("vg0"), "loop1-evacuated", StepDecision.WillChange, ["vgreduce -- vg0 /dev/loop1"]),
        new("vgreduce: a PV already outside is satisfied", () => Runbooks.Dsl.Lvm.Pv("/dev/loop1").RemoveFrom("vg0"), "loop1-outside-vg", StepDecision.Satisfied, []),
        new("vgextend: a PV outside the VG joins it", () => Runbooks.Dsl.Lvm.Vg("vg0").Extend("/dev/loop1"), "loop1-outside-vg", StepDecision.WillChange, ["vgextend -- vg0 /dev/loop1"]),
        new("vgextend: a blank device is pvcreated first", () => Runbooks.Dsl.Lvm.Vg("vg0").Extend("/dev/loop3"), "rebuilt", StepDecision.WillChange,
            ["pvcreate -- /dev/loop3", "vgextend -- vg0 /dev/loop3"]),
        new("vgextend: a device holding ext4 is refused", () => Runbooks.Dsl.Lvm.Vg("vg0").Extend("/dev/loop4"), "rebuilt", StepDecision.Blocked, [], "ext4 signature"),
        new("recreate: the whole guarded sequence once loop2 has room", () => Runbooks.Dsl.Lvm.Pv("/dev/loop1").RecreateIfOffsetAbove("vg0"), "resized", StepDecision.WillChange,
            ["pvmove --alloc anywhere -- /dev/loop1 /dev/loop2", "vgreduce -- vg0 /dev/loop1", "pvremove -- /dev/loop1", "pvcreate -- /dev/loop1", "vgextend -- vg0 /dev/loop1"]),
        new("recreate: blocked before anything when the data cannot move", () => Runbooks.Dsl.Lvm.Pv("/dev/loop1").RecreateIfOffsetAbove("vg0"), "broken", StepDecision.Blocked, [], "which have 0"),
        new("recreate: resumes outside the VG", () => Runbooks.Dsl.Lvm.Pv("/dev/loop1").RecreateIfOffsetAbove("vg0", "8M"), "loop1-outside-vg", StepDecision.WillChange,
            ["vgextend -- vg0 /dev/loop1"]),
        new("recreate: a normal offset in the VG is satisfied", () => Runbooks.Dsl.Lvm.Pv("/dev/loop1").RecreateIfOffsetAbove("vg0"), "rebuilt", StepDecision.Satisfied, []),
        new("grow: data0 to 400M with its filesystem", () => Runbooks.Dsl.Lvm.Lv("vg0/data0").GrowTo("400M"), "rebuilt", StepDecision.WillChange,
            ["lvextend --resizefs -L 419430400b -- vg0/data0"]),
        new("grow: already at least that size is satisfied", () => Runbooks.Dsl.Lvm.Lv("vg0/data0").GrowTo("100M"), "rebuilt", StepDecision.Satisfied, []),
        new("grow: refused when the VG lacks free extents", () => Runbooks.Dsl.Lvm.Lv("vg0/data0").GrowTo("4G"), "rebuilt", StepDecision.Blocked, [], "needs"),
    ];

    [TestCaseSource(nameof(Cases))]
    public async Task Given_recorded_state_the_step_plans_these_commands(Case c)
    {
        var transport = Host(c.State);

        var probe = await c.Step().ProbeAsync(transport.Context(), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(probe.Decision, Is.EqualTo(c.Decision), probe.Observed + " " + string.Join("; ", probe.Unmet));
            Assert.That(probe.Commands.Select(FakeTransport.Key), Is.EqualTo(c.Commands));
            Assert.That(transport.Changes, Is.Empty, "a probe must not change anything");
            if (c.Reason is not null)
            {
                Assert.That(string.Join("; ", probe.Unmet), Does.Contain(c.Reason));
            }
        });
    }

    [Test]
    public async Task A_pv_that_does_not_exist_fails_its_precondition_naming_host_and_device_and_changes_nothing()
    {
        var transport = Host("broken", "server1");
        var target = new Target("pv", "", [], [Runbooks.Dsl.Lvm.Pv("/dev/loop9").Evacuate()]);
        var inventory = new Inventory().Add("local", transport);

        var summary = await new Runner(new TargetGraph([target]), inventory, NullObserver.Instance)
            .RunAsync(new RunRequest(RunMode.Run, ["pv"]), CancellationToken.None);

        var result = summary.Targets.Single();
        Assert.Multiple(() =>
        {
            Assert.That(result.Status, Is.EqualTo(TargetStatus.Failed));
            Assert.That(result.Error, Does.Contain("precondition not met, nothing was changed"));
            Assert.That(result.Error, Does.Contain("on host local").And.Contain("/dev/loop9 is not a physical volume"));
            Assert.That(transport.Changes, Is.Empty);
        });
    }

    [Test]
    public async Task Grow_with_an_ext_filesystem_runs_lvextend_then_resize2fs_not_fsadm()
    {
        // tune2fs output recorded from an ext4 filesystem: the step knows the type without fsadm.
        var transport = Host("rebuilt").On("tune2fs -l -- /dev/vg0/data0", Fixture.Read("fs/tune2fs-l-loop3.txt"));

        var probe = await Runbooks.Dsl.Lvm.Lv("vg0/data0").GrowTo("400M").ProbeAsync(transport.Context(), CancellationToken.None);

        Assert.That(probe.Commands.Select(FakeTransport.Key),
            Is.EqualTo(new[] { "lvextend -L 419430400b -- vg0/data0", "resize2fs -- /dev/vg0/data0" }));
    }

    [Test]
    public void Bad_arguments_are_refused_when_the_runbook_is_built()
    {
        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentException>(() => Runbooks.Dsl.Lvm.Pv("loop1"));
            Assert.Throws<ArgumentException>(() => Runbooks.Dsl.Lvm.Pv("/dev/../etc/passwd"));
            Assert.Throws<ArgumentException>(() => Runbooks.Dsl.Lvm.Pv("/dev/loop1; rm -rf /"));
            Assert.Throws<ArgumentException>(() => Runbooks.Dsl.Lvm.Vg("-vg0"));
            Assert.Throws<ArgumentException>(() => Runbooks.Dsl.Lvm.Lv("data0"));
            Assert.Throws<ArgumentException>(() => Runbooks.Dsl.Lvm.Lv("vg0/data0").GrowTo("0M"));
            Assert.Throws<ArgumentException>(() => Runbooks.Dsl.Lvm.Lv("vg0/data0").GrowTo("4Q"));
        });
    }

    [Test]
    public async Task Recreate_stops_before_vgreduce_when_pvmove_left_extents_behind()
    {
        var transport = Host("resized");
        var context = transport.Context();
        var step = Runbooks.Dsl.Lvm.Pv("/dev/loop1").RecreateIfOffsetAbove("vg0");
        var probe = await step.ProbeAsync(context, CancellationToken.None);

        // pvs still shows loop1's 6 extents after the pvmove "succeeded".
        var ex = await Assert.ThrowsAsync<RunbookException>(() => step.ApplyAsync(context, probe, CancellationToken.None));

        Assert.That(ex!.Message, Does.Contain("/dev/loop1 holds no allocated extents' no longer holds (6 extents allocated) before `LVM_SUPPRESS_FD_WARNINGS=1 vgreduce -- vg0 /dev/loop1`"));
        Assert.That(transport.Changes.Select(c => c.Program), Is.EqualTo(new[] { "pvmove" }));
    }

    internal static FakeTransport Host(string state, string name = "fake")
    {
        var transport = new FakeTransport(name)
            .On(LvmReads.Pvs, Fixture.Read($"lvm/pvs-{state}.json"))
            .On(LvmReads.Vgs, Fixture.Read($"lvm/vgs-{(state is "loop1-outside-vg" ? "loop1-evacuated" : state)}.json"))
            .On(LvmReads.Lvs, Fixture.Read("lvm/lvs-rebuilt.json"))
            .On(LvmReads.AllLvs, Fixture.Read("lvm/lvs-all-no-move.json"))
            .On("blkid -p -o export -- /dev/loop3", Fixture.Read("lvm/blkid-blank.txt"), exit: 2)
            .On("blkid -p -o export -- /dev/loop4", Fixture.Read("lvm/blkid-ext4.txt"))
            .On("blockdev --getsize64 /dev/loop9", "", exit: 1, stderr: "blockdev: cannot open /dev/loop9: No such file or directory")
            .On("tune2fs -l -- /dev/vg0/data0", "", exit: 1, stderr: "tune2fs: No such file or directory while trying to open /dev/vg0/data0");
        foreach (var device in new[] { "/dev/loop0", "/dev/loop1", "/dev/loop2", "/dev/loop3", "/dev/loop4" })
        {
            transport.On($"blockdev --getsize64 {device}", Fixture.Read("loop/blockdev-getsize64-loop2.txt"));
        }

        return transport;
    }
}
