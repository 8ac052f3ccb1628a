using Runbooks.Dsl;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Dsl.Lvm;

public class LvmParserTests
{
    [Test]
    public void Pvs_of_the_broken_incident_shows_offset_allocatable_and_extents()
    {
        var pvs = LvmParser.ParsePvs(Fixture.Read("lvm/pvs-broken.json"));

        Assert.That(pvs.Select(p => p.Name), Is.EqualTo(new[] { "/dev/loop0", "/dev/loop1", "/dev/loop2" }));
        var loop0 = pvs[0];
        var loop1 = pvs[1];
        Assert.Multiple(() =>
        {
            Assert.That(loop0.Allocatable, Is.False);
            Assert.That(loop0.FreeExtents, Is.Zero);
            Assert.That(loop1.PeStart, Is.EqualTo(100L << 20));
            Assert.That(loop1.AllocatedExtents, Is.EqualTo(6));
            Assert.That(loop1.FreeExtents, Is.EqualTo(14));
            Assert.That(loop1.ExtentSize, Is.EqualTo(4L << 20));
            Assert.That(pvs[2].Size, Is.EqualTo(96L << 20));
        });
    }

    [Test]
    public void A_pv_outside_any_vg_has_an_empty_vg_and_no_extent_size()
    {
        var loop1 = LvmParser.ParsePvs(Fixture.Read("lvm/pvs-loop1-outside-vg.json")).Single(p => p.Name == "/dev/loop1");

        Assert.That((loop1.VolumeGroup, loop1.ExtentSize, loop1.PeStart), Is.EqualTo(("", 0L, 1L << 20)));
    }

    [Test]
    public void Vgs_lvs_and_segments_parse()
    {
        var vg = LvmParser.ParseVgs(Fixture.Read("lvm/vgs-broken.json")).Single();
        var lv = LvmParser.ParseLvs(Fixture.Read("lvm/lvs-broken.json")).Single();
        var segments = LvmParser.ParseSegments(Fixture.Read("lvm/lvs-segments-broken.json"));

        Assert.Multiple(() =>
        {
            Assert.That((vg.Name, vg.FreeExtents, vg.PvCount, vg.ExtentSize), Is.EqualTo(("vg0", 14L, 3, 4L << 20)));
            Assert.That((lv.Path, lv.DmPath, lv.Size), Is.EqualTo(("/dev/vg0/data0", "/dev/mapper/vg0-data0", 74L * (4 << 20))));
            Assert.That(segments.Select(s => s.Ranges.Single().ToString()), Is.EqualTo(new[] { "/dev/loop0:0-43", "/dev/loop1:0-5", "/dev/loop2:0-23" }));
            Assert.That(segments[1].Ranges.Single().Count, Is.EqualTo(6));
        });
    }

    [TestCase("/dev/loop1:0-12 /dev/loop2:5-9", 2, 13 + 5)]
    [TestCase("", 0, 0)]
    public void Seg_pe_ranges_parse_into_counted_runs(string text, int runs, int extents)
    {
        var ranges = LvmParser.ParseRanges(text);

        Assert.That((ranges.Count, ranges.Sum(r => r.Count)), Is.EqualTo((runs, (long)extents)));
    }
}
