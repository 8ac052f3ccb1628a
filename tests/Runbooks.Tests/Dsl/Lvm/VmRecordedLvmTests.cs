using Runbooks.Dsl;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Dsl.Lvm;

/// <summary>The same parsers on output recorded inside the microVM (fixtures/storage, another -o field list).</summary>
public class VmRecordedLvmTests
{
    [Test]
    public void In_the_broken_vm_loop1_has_the_bad_offset_and_loop0_is_not_allocatable()
    {
        var pvs = LvmParser.ParsePvs(Fixture.Read("storage/broken/pvs.json"));

        Assert.That(pvs.Single(p => p.Name == "/dev/loop1").PeStart, Is.GreaterThan(8L << 20));
        Assert.That(pvs.Single(p => p.Name == "/dev/loop0").Allocatable, Is.False);
    }

    [Test]
    public void In_the_repaired_vm_every_pv_covers_its_device_with_a_normal_offset()
    {
        var pvs = LvmParser.ParsePvs(Fixture.Read("storage/repaired/pvs.json"));

        Assert.That(pvs, Has.Count.EqualTo(4));
        Assert.That(pvs.Select(p => (p.Name, p.UsesDevice(p.DeviceSize), p.PeStart <= (8L << 20), p.ExtentSize)),
            Is.All.Matches<(string, bool Uses, bool Offset, long Extent)>(p => p.Uses && p.Offset && p.Extent == 4L << 20));
    }
}
