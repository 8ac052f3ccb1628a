using Runbooks.Commands;
using Runbooks.Engine;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Engine;

/// <summary>Facts as the engine reads them: once per probe round, several from one combined read, failures named by host.</summary>
public class FactTests
{
    private static readonly Command Pvs = new Command("pvs", ["--json"]).AsReadOnly();
    private static readonly Command Vgs = new Command("vgs", ["--json"]).AsReadOnly();
    private static readonly CombinedRead Report = new(new Command("report", ["pv", "vg"]), [Pvs, Vgs], r =>
        r.StandardOutput.Split('|') is [var pv, var vg] ? [(Pvs, r with { StandardOutput = pv }), (Vgs, r with { StandardOutput = vg })] : null);

    private static readonly Fact<string> PvNames = new(Pvs, r => r.StandardOutput.ToUpperInvariant()) { Via = Report };
    private static readonly Fact<string> VgNames = new(Vgs, r => r.StandardOutput.ToUpperInvariant()) { Via = Report };

    [Test]
    public async Task A_fact_is_read_once_per_round_and_parsed_each_time_it_is_asked()
    {
        var host = new FakeTransport().On(Pvs, "loop1");
        var context = host.Context();

        var first = await context.FactAsync(new Fact<string>(Pvs, r => r.StandardOutput.Trim()), CancellationToken.None);
        var second = await context.FactAsync(new Fact<int>(Pvs, r => r.StandardOutput.Length), CancellationToken.None);

        Assert.That((first, second), Is.EqualTo(("loop1", 5)), "two facts from one read");
        Assert.That(host.Ran, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task One_combined_read_answers_every_fact_it_stands_for()
    {
        var host = new FakeTransport().On(Report.Read, "loop1|vg0");
        var context = host.Context();

        var pvs = await context.FactAsync(PvNames, CancellationToken.None);
        var vgs = await context.FactAsync(VgNames, CancellationToken.None);

        Assert.That((pvs, vgs), Is.EqualTo(("LOOP1", "VG0")));
        Assert.That(host.Ran.Select(FakeTransport.Key), Is.EqualTo(new[] { "report pv vg" }));
    }

    [Test]
    public async Task A_combined_read_the_host_cannot_give_leaves_each_fact_to_its_own_read()
    {
        var host = new FakeTransport().On(Pvs, "loop1").On(Vgs, "vg0");
        var context = host.Context();

        var pvs = await context.FactAsync(PvNames, CancellationToken.None);
        var vgs = await context.FactAsync(VgNames, CancellationToken.None);

        Assert.That((pvs, vgs), Is.EqualTo(("LOOP1", "VG0")));
        Assert.That(host.Ran.Select(FakeTransport.Key), Is.EqualTo(new[] { "report pv vg", "pvs --json", "vgs --json" }), "tried once per round, then each part");
    }

    [Test]
    public async Task Output_that_does_not_split_is_no_answer_and_each_part_is_read()
    {
        var host = new FakeTransport().On(Report.Read, "not a report").On(Pvs, "loop1");

        var pvs = await host.Context().FactAsync(PvNames, CancellationToken.None);

        Assert.That(pvs, Is.EqualTo("LOOP1"));
    }

    [Test]
    public async Task An_applied_command_ends_the_round_so_the_fact_is_read_again()
    {
        var host = new FakeTransport().On(Pvs, "loop1");
        var context = host.Context();

        await context.FactAsync(PvNames, CancellationToken.None);
        await context.ApplyAsync(new Command("pvcreate", ["/dev/loop2"]), CancellationToken.None);
        await context.FactAsync(PvNames, CancellationToken.None);

        Assert.That(host.Ran.Count(c => c.Program == "pvs"), Is.EqualTo(2));
    }

    [TestCase(0, true)]
    [TestCase(1, true)]
    [TestCase(2, false)]
    public async Task Only_results_the_fact_counts_as_answers_are_parsed_the_rest_fail_naming_host_and_command(int exit, bool answered)
    {
        var read = new Command("ip", ["-j", "link", "show", "dev", "wg0"]);
        var fact = new Fact<bool>(read, r => r.ExitCode == 0) { AnswersWhen = r => r.ExitCode == 0 || r.StandardError.Contains("does not exist", StringComparison.Ordinal) };
        var host = new FakeTransport("root@db1:22").On(read, "[]", exit, exit == 1 ? "Device \"wg0\" does not exist." : "RTNETLINK answers: Operation not permitted");

        if (answered)
        {
            Assert.That(await host.Context().FactAsync(fact, CancellationToken.None), Is.EqualTo(exit == 0));
            return;
        }

        var error = await Assert.ThrowsAsync<CommandFailedException>(() => host.Context().FactAsync(fact, CancellationToken.None));
        Assert.That(error!.Message, Does.Contain("root@db1:22").And.Contain("ip -j link show dev wg0").And.Contain("Operation not permitted"));
    }

    [Test]
    public void A_fact_never_changes_the_host_whatever_command_it_is_given() =>
        Assert.That(new Fact<string>(new Command("cat", ["/etc/hostname"]), r => r.StandardOutput).Read.ReadOnly, Is.True);
}
