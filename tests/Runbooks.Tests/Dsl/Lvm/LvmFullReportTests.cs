using Runbooks.Dsl;
using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Dsl.Lvm;

/// <summary>One <c>lvm fullreport</c> answers what pvs, vgs, lvs, lvs -a and lvs --segments would, recorded in the VM.</summary>
public class LvmFullReportTests
{
    private static CommandResult Full(string json) => new(0, json, "", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);

    private static string Part(IReadOnlyList<(Command Command, CommandResult Result)> parts, Command command) =>
        parts.Single(p => p.Command.Equals(command)).Result.StandardOutput;

    [Test]
    public void Its_parts_parse_to_the_same_facts_as_the_separate_reports_of_the_same_state()
    {
        var parts = LvmFullReport.Split(Full(Fixture.Read("lvm/fullreport-broken-orphan.json")))!;

        Assert.That(LvmParser.ParsePvs(Part(parts, LvmReads.Pvs)), Is.EqualTo(LvmParser.ParsePvs(Fixture.Read("lvm/pvs-broken-orphan.json"))));
        Assert.That(LvmParser.ParseVgs(Part(parts, LvmReads.Vgs)), Is.EqualTo(LvmParser.ParseVgs(Fixture.Read("lvm/vgs-broken-orphan.json"))));
        Assert.That(LvmParser.ParseLvs(Part(parts, LvmReads.Lvs)), Is.EqualTo(LvmParser.ParseLvs(Fixture.Read("lvm/lvs-broken-orphan.json"))));
        Assert.That(LvmParser.ParseMoves(Part(parts, LvmReads.AllLvs)), Is.EqualTo(LvmParser.ParseMoves(Fixture.Read("lvm/lvs-all-broken-orphan.json"))));
        Assert.That(
            LvmParser.ParseSegments(Part(parts, LvmReads.Segments)).Select(s => (s.LogicalVolume, s.StartExtent, s.ExtentCount, string.Join(" ", s.Ranges))),
            Is.EqualTo(LvmParser.ParseSegments(Fixture.Read("lvm/lvs-segments-broken-orphan.json")).Select(s => (s.LogicalVolume, s.StartExtent, s.ExtentCount, string.Join(" ", s.Ranges)))));
        Assert.That(LvmParser.ParsePvs(Part(parts, LvmReads.Pvs)).Select(p => p.Name), Does.Contain("/dev/loop3"), "the orphan PV sits in a report entry of its own");
    }

    [Test]
    public void A_hidden_pvmove_lv_is_in_the_all_lvs_part_only()
    {
        // Shaped like fullreport -a during a move: the hidden [pvmove0] beside the LV being moved.
        const string json = """
            {"report":[{"vg":[],"pv":[],"lv":[
              {"lv_name":"lv","vg_name":"vgm","lv_size":"8388608","lv_path":"/dev/vgm/lv","lv_dm_path":"/dev/mapper/vgm-lv","lv_attr":"-wI-ao----","seg_count":"1","copy_percent":"","move_pv":""},
              {"lv_name":"[pvmove0]","vg_name":"vgm","lv_size":"8388608","lv_path":"","lv_dm_path":"/dev/mapper/vgm-pvmove0","lv_attr":"p-C-aom---","seg_count":"1","copy_percent":"41.67","move_pv":"/dev/loop0"}],
              "seg":[{"lv_name":"[pvmove0]","vg_name":"vgm","seg_start_pe":"0","seg_size_pe":"2","seg_pe_ranges":"/dev/loop0:0-1 /dev/mapper/slow:0-1"}],"pvseg":[]}]}
            """;

        var parts = LvmFullReport.Split(Full(json))!;

        Assert.That(LvmParser.ParseLvs(Part(parts, LvmReads.Lvs)).Select(l => l.Name), Is.EqualTo(new[] { "lv" }));
        Assert.That(LvmParser.ParseMoves(Part(parts, LvmReads.AllLvs)).Single(), Is.EqualTo(new MoveInProgressFacts("pvmove0", "vgm", "/dev/loop0", 41.67)));
        Assert.That(LvmParser.ParseSegments(Part(parts, LvmReads.Segments)), Is.Empty);
    }

    [Test]
    public void Output_that_is_not_a_report_gives_no_parts() =>
        Assert.That(LvmFullReport.Split(Full("  Invalid command name: fullreport\n")), Is.Null);

    [Test]
    public async Task A_step_that_asks_pvs_and_vgs_starts_one_lvm_process_and_every_part_carries_the_warnings()
    {
        const string warning = "  WARNING: VG vg0 is missing PV x (last written to /dev/loop9).";
        var transport = new FakeTransport()
            .On(LvmFullReport.Command, Fixture.Read("lvm/fullreport-broken-orphan.json"), stderr: warning)
            .On("blkid -p -o export -- /dev/loop3", "", exit: 2);
        var host = transport.Context();

        var pvs = await LvmReads.PvsAsync(host, CancellationToken.None);
        var vgs = await LvmReads.VgsAsync(host, CancellationToken.None);
        var lvs = await LvmReads.LvsAsync(host, CancellationToken.None);
        var pvsResult = await host.ReadAsync(LvmReads.Pvs, CancellationToken.None);

        Assert.That(transport.Ran.Select(FakeTransport.Key), Has.Exactly(1).StartsWith("lvm"));
        Assert.That(transport.Ran, Has.Count.EqualTo(1));
        Assert.That((pvs.Count, vgs.Single().Name, lvs.Single().Name), Is.EqualTo((4, "vg0", "data0")));
        Assert.That(pvsResult.StandardError, Does.Contain("is missing PV"), "the failing-disk guard reads LVM's warnings from the pvs answer");
    }

    [Test]
    public async Task An_lvm_without_fullreport_is_asked_the_separate_reports()
    {
        var transport = new FakeTransport()
            .On(LvmReads.Pvs, Fixture.Read("lvm/pvs-broken-orphan.json"))
            .On(LvmReads.Vgs, Fixture.Read("lvm/vgs-broken-orphan.json"));
        var host = transport.Context();

        var pvs = await LvmReads.PvsAsync(host, CancellationToken.None);
        var vgs = await LvmReads.VgsAsync(host, CancellationToken.None);

        Assert.That((pvs.Count, vgs.Count), Is.EqualTo((4, 1)));
        Assert.That(transport.Ran.Select(c => c.Program), Is.EqualTo(new[] { "lvm", "pvs", "vgs" }), "fullreport once per round, not once per question");
    }
}
