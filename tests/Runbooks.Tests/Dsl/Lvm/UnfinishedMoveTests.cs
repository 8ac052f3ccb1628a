using Runbooks.Dsl;
using Runbooks.Engine;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Dsl.Lvm;

/// <summary>
/// A pvmove of /dev/loop0 onto /dev/mapper/slow in vgm, recorded in the microVM after the pvmove process was
/// SIGKILLed at 41.67%: <c>lvs -a</c> shows <c>[pvmove0]</c> (attribute p) and both PVs count the 12 moved extents.
/// </summary>
public class UnfinishedMoveTests
{
    private const string Running = "226 pvmove --alloc anywhere -- /dev/loop0 /dev/mapper/slow\n";

    [Test]
    public void The_parser_finds_the_hidden_pvmove_lv_its_source_and_progress_and_nothing_when_idle()
    {
        var moves = LvmParser.ParseMoves(Fixture.Read("lvm/lvs-all-pvmove-interrupted.json"));

        Assert.That(moves, Is.EqualTo(new[] { new MoveInProgressFacts("pvmove0", "vgm", "/dev/loop0", 41.67) }));
        Assert.That(LvmParser.ParseMoves(Fixture.Read("lvm/lvs-all-no-move.json")), Is.Empty);
    }

    [Test]
    public async Task Evacuate_resumes_an_interrupted_move_instead_of_planning_a_new_one_and_says_why_in_the_plan()
    {
        var probe = await Runbooks.Dsl.Lvm.Pv("/dev/loop0").Evacuate().ProbeAsync(Host(pvmoves: "").Context(), CancellationToken.None);

        Assert.That(probe.Decision, Is.EqualTo(StepDecision.WillChange), string.Join("; ", probe.Unmet));
        Assert.That(probe.Commands.Select(FakeTransport.Key), Is.EqualTo(new[] { "pvmove" }));
        Assert.That(probe.Observed, Does.Contain("[pvmove0] in vgm moving /dev/loop0, 41.67% copied").And.Contain("interrupted"));
        Assert.That(probe.Notes.Single(), Does.Contain("rather than `pvmove --abort`"));
    }

    [Test]
    public async Task Recreate_finishes_the_move_then_runs_the_rest_of_the_rebuild_and_waits_for_a_running_pvmove()
    {
        var probe = await Runbooks.Dsl.Lvm.Pv("/dev/loop0").RecreateIfOffsetAbove("vgm").ProbeAsync(Host(pvmoves: Running).Context(), CancellationToken.None);

        Assert.That(probe.Decision, Is.EqualTo(StepDecision.WillChange), string.Join("; ", probe.Unmet));
        Assert.That(probe.Commands.Select(FakeTransport.Key), Is.EqualTo(new[]
        {
            "pvmove", "vgreduce -- vgm /dev/loop0", "pvremove -- /dev/loop0", "pvcreate -- /dev/loop0", "vgextend -- vgm /dev/loop0",
        }));
        Assert.That(probe.Observed, Does.Contain("pvmove running (226 pvmove --alloc anywhere"));
        Assert.That(probe.Notes.Single(), Does.Contain("a second one would race it"));
        Assert.That(probe.Actions.Select(a => a.Summary).Take(2), Is.EqualTo(new[]
        {
            "wait up to 7200 s (every 2 s) until no pvmove or LVM poller runs", "$ LVM_SUPPRESS_FD_WARNINGS=1 pvmove",
        }), "the wait is an action the plan shows, before the resume");
    }

    [Test]
    public async Task A_move_of_another_pv_blocks_the_step_naming_both_ways_out_and_changes_nothing()
    {
        var transport = Host(pvmoves: "");

        var probe = await Runbooks.Dsl.Lvm.Pv("/dev/mapper/slow").Evacuate().ProbeAsync(transport.Context(), CancellationToken.None);

        Assert.That(probe.Decision, Is.EqualTo(StepDecision.Blocked));
        Assert.That(probe.Unmet.Single(), Does.Contain("a pvmove of /dev/loop0 is unfinished in vgm").And.Contain("`pvmove --abort`"));
        Assert.That(transport.Changes, Is.Empty);
    }

    [Test]
    public async Task Applying_the_resume_waits_until_the_running_pvmove_is_gone()
    {
        var transport = Host(pvmoves: "");
        transport.Then(LvmReads.Pvmoves, Running).Then(LvmReads.Pvmoves, Running);
        var step = Runbooks.Dsl.Lvm.Pv("/dev/loop0").Evacuate();
        var context = transport.Context();
        var probe = StepProbe.Act("recorded", UnfinishedMove.Finish(TimeSpan.FromMinutes(1)));

        await step.ApplyAsync(context, probe, CancellationToken.None);

        var polls = transport.Ran.Count(c => c.Program == "pgrep");
        Assert.That(polls, Is.EqualTo(3), "polled until pgrep found no pvmove");
        Assert.That(transport.Ran[^1].Program, Is.EqualTo("pvmove"), "resumed only after the wait");
    }

    private static FakeTransport Host(string pvmoves) => new FakeTransport()
        .On(LvmReads.Pvs, Fixture.Read("lvm/pvs-pvmove-interrupted.json"))
        .On(LvmReads.Vgs, Fixture.Read("lvm/vgs-pvmove-interrupted.json"))
        .On(LvmReads.AllLvs, Fixture.Read("lvm/lvs-all-pvmove-interrupted.json"))
        .On(LvmReads.Pvmoves, pvmoves, exit: pvmoves.Length == 0 ? 1 : 0);
}
