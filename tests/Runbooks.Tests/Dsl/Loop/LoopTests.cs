using Runbooks.Dsl;
using Runbooks.Engine;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Dsl.Loop;

public class LoopTests
{
    [Test]
    public void Losetup_lists_which_file_backs_which_device()
    {
        var loops = LoopParser.ParseList(Fixture.Read("loop/losetup-list.json"));

        Assert.That(loops.Single(l => l.Name == "/dev/loop1").BackingFile, Is.EqualTo("/tmp/rb-storage-dsl/disk1.img"));
        Assert.That(loops.Any(l => l.ReadOnly || l.BackingFileDeleted), Is.False);
    }

    [Test]
    public async Task Attaching_an_image_already_behind_the_device_is_satisfied()
    {
        var host = new FakeTransport().On(LoopReads.List, Fixture.Read("loop/losetup-list.json"));

        var probe = await Runbooks.Dsl.Loop.Device("/dev/loop1").Attach("/tmp/rb-storage-dsl/disk1.img").ProbeAsync(host.Context(), CancellationToken.None);

        Assert.That(probe.Decision, Is.EqualTo(StepDecision.Satisfied));
    }

    [Test]
    public async Task Attaching_to_a_device_that_backs_another_file_is_refused()
    {
        var host = new FakeTransport().On(LoopReads.List, Fixture.Read("loop/losetup-list.json"));

        var probe = await Runbooks.Dsl.Loop.Device("/dev/loop1").Attach("/media/disk3.img").ProbeAsync(host.Context(), CancellationToken.None);

        Assert.That(probe.Unmet.Single(), Does.Contain("/dev/loop1 is attached to /tmp/rb-storage-dsl/disk1.img"));
    }

    [Test]
    public async Task Detaching_a_device_that_is_a_pv_is_refused()
    {
        var host = new FakeTransport()
            .On(LoopReads.List, Fixture.Read("loop/losetup-list.json"))
            .On(LvmReads.Pvs, Fixture.Read("lvm/pvs-broken.json"))
            .On("findmnt -J -o TARGET --source /dev/loop1", "", exit: 1);

        var probe = await Runbooks.Dsl.Loop.Device("/dev/loop1").Detach().ProbeAsync(host.Context(), CancellationToken.None);

        Assert.That(probe.Unmet.Single(), Does.Contain("/dev/loop1 is an LVM PV of vg0"));
    }

    [Test]
    public async Task An_image_is_refused_when_the_filesystem_lacks_room_and_points_at_deleted_files()
    {
        var host = new FakeTransport()
            .On("stat -c %s -- /media/disk3.img", "", exit: 1)
            .On("df -B1 --output=avail -- /media", "      Avail\n  243269632\n");

        var probe = await Runbooks.Dsl.Loop.Image("/media/disk3.img").Create("1800M").ProbeAsync(host.Context(), CancellationToken.None);

        Assert.That(probe.Unmet.Single(), Does.Contain("Proc.ReleaseDeletedFiles"));
    }
}
