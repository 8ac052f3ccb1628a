using System.Text.Json.Nodes;
using Runbooks.Fleet;
using Runbooks.Journal;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Fleet;

/// <summary>
/// A constellation's saved plan through the CLI, on two machines that are this one (<c>local</c>), each with its
/// own folder: saved only when every machine was probed, run exactly as saved, refused as a whole when the
/// constellation or a role's runbook changed, and refused on the one machine whose facts moved while the other runs.
/// The same on three SSH machines in network namespaces: <see cref="ConstellationNetnsTests"/>.
/// </summary>
[Category("process"), NonParallelizable]
public sealed class FleetPlanTests : TempFolderTest
{
    private string _constellation = "";
    private string _role = "";
    private string _plan = "";

    [SetUp]
    public void Fleet()
    {
        _plan = Path.Combine(Folder, "fleet-plan.json");
        _role = Path.Combine(Folder, "conf.csx");
        System.IO.File.WriteAllText(_role, """
            var dir = Role.Param("dir");
            Target("default", "the config is written",
                File.Directory(dir),
                File.Content($"{dir}/app.conf", $"port = 8080\nmachine = {Role.Machine}\n"));
            await RunAsync(Args);
            """);
        _constellation = Path.Combine(Folder, "pair.constellation.csx");
        System.IO.File.WriteAllText(_constellation, $"""
            Role("conf", "conf.csx");
            Machine("one", "local").Runs("conf", ("dir", "{Folder}/one"));
            Machine("two", "local").Runs("conf", ("dir", "{Folder}/two"));
            """);
    }

    private string Conf(string machine) => Path.Combine(Folder, machine, "app.conf");

    private (int Exit, string Out, string Error) Plan() => CliRunner.Run("plan", _constellation, "--out", _plan);

    // Both machines are this one: one at a time, so they never meet at this machine's host lock.
    private (int Exit, string Out, string Error) RunPlan(string journal, params string[] more) =>
        CliRunner.Run(["run", _constellation, "--plan", _plan, "--limit", "1", "--journal", journal, .. more]);

    [Test, CancelAfter(90_000)]
    public void A_saved_fleet_plan_runs_exactly_its_actions_on_every_machine_and_records_who_approved_it()
    {
        var (exit, output, error) = Plan();

        Assert.That(exit, Is.EqualTo(0), output + error);
        Assert.That(error, Does.Contain($"plan saved: {_plan}, 2 machine(s), 4 step(s) to change"));
        var saved = FleetPlanFile.Load(_plan).Plan;
        Assert.That(saved.Machines.Select(m => $"{m.Machine}: {string.Join(",", m.Roles)} {m.Plan.Hosts.Single().Host}"), Is.EqualTo(new[] { "one: conf one", "two: conf two" }));
        Assert.That(saved.Runbooks.Single().Path, Is.EqualTo(_role));
        Assert.That(Directory.Exists(Path.Combine(Folder, "one")), Is.False, "a plan changes nothing");

        var journal = Path.Combine(Folder, "run.jsonl");
        (exit, output, error) = RunPlan(journal, "--approved-by", "alice");

        Assert.That(exit, Is.EqualTo(0), output + error);
        Assert.That(System.IO.File.ReadAllText(Conf("two")), Is.EqualTo("port = 8080\nmachine = two\n"));
        var conformance = PlanConformance.OfFleet(saved, _plan, JournalReader.Read(journal));
        Assert.That(conformance.Select(c => $"{c.Machine}: {c.Conformance.Steps} {c.Conformance.Actions} {c.Conformance.Exact}"), Is.EqualTo(new[] { "one: 2 4 True", "two: 2 4 True" }),
            string.Join("\n", conformance.Select(c => c.Conformance.ToString())));
        var start = System.IO.File.ReadLines(journal).Select(l => JsonNode.Parse(l)!).First();
        Assert.That(((string?)start["event"], (string?)start["plan"], (string?)start["approvedBy"]), Is.EqualTo(("fleet-start", _plan, "alice")));
    }

    [Test, CancelAfter(90_000)]
    public void A_machine_whose_facts_moved_is_refused_and_nothing_runs_there_while_the_other_runs_its_plan()
    {
        Assert.That(Plan().Exit, Is.EqualTo(0));
        Directory.CreateDirectory(Path.Combine(Folder, "two"));
        System.IO.File.WriteAllText(Conf("two"), "port = 9090\n");

        var journal = Path.Combine(Folder, "run.jsonl");
        var (exit, output, error) = RunPlan(journal);

        Assert.That(exit, Is.EqualTo(1), output + error);
        Assert.That(output, Does.Match(@"two\s+refused").And.Contain($"refusing the saved plan {_plan}").And.Contain("on host two:"));
        Assert.That(output, Does.Match(@"one\s+changed"));
        Assert.That(System.IO.File.ReadAllText(Conf("two")), Is.EqualTo("port = 9090\n"), "nothing ran on the refused machine");
        Assert.That(System.IO.File.ReadAllText(Conf("one")), Is.EqualTo("port = 8080\nmachine = one\n"));
        var conformance = PlanConformance.OfFleet(FleetPlanFile.Load(_plan).Plan, _plan, JournalReader.Read(journal)).ToDictionary(c => c.Machine, c => c.Conformance);
        Assert.That(conformance["one"].Exact, Is.True, conformance["one"].ToString());
        Assert.That(conformance["two"].Actions, Is.Zero);
        Assert.That(conformance["two"].Equal, Is.False, "an approved step that never ran is not its plan");
        var end = System.IO.File.ReadLines(journal).Select(l => JsonNode.Parse(l)!).Last();
        Assert.That((string?)end["machines"]!["two"]!["status"], Is.EqualTo("refused"));
    }

    [Test, CancelAfter(120_000)]
    public void A_fleet_blocked_until_earlier_steps_ran_converges_in_stages_per_machine()
    {
        // Step 2 is blocked until step 1 created the file, on each machine.
        System.IO.File.WriteAllText(_role, """
            var dir = Role.Param("dir");
            Target("default", File.Line($"{dir}/new.conf", "a = 1", create: true), File.Line($"{dir}/new.conf", "b = 2"));
            await RunAsync(Args);
            """);
        Directory.CreateDirectory(Path.Combine(Folder, "one"));
        Directory.CreateDirectory(Path.Combine(Folder, "two"));

        var (exit, output, error) = Plan();
        Assert.That(exit, Is.EqualTo(0), output + error);
        Assert.That(error, Does.Contain("one: stage 1, 1 step(s) blocked now").And.Contain("--after fleet-plan.json"));

        (exit, output, error) = RunPlan(Path.Combine(Folder, "stage1.jsonl"));
        Assert.That(exit, Is.EqualTo(4), output + error);
        Assert.That(output, Does.Contain("stage done on one, two"));
        Assert.That(System.IO.File.ReadAllText(Path.Combine(Folder, "two", "new.conf")), Is.EqualTo("a = 1\n"), "the blocked step did not run, though unblocked by now");

        var next = Path.Combine(Folder, "stage2.json");
        (exit, output, error) = CliRunner.Run("plan", _constellation, "--out", next, "--after", _plan);
        Assert.That(exit, Is.EqualTo(0), output + error);
        var stages = FleetPlanFile.Load(next).Plan.Machines.Select(m => (m.Plan.Stage.Number, m.Plan.Stage.After, m.Plan.Stage.Last)).Distinct();
        Assert.That(stages, Is.EqualTo(new[] { (2, (string?)_plan, true) }));

        var journal = Path.Combine(Folder, "stage2.jsonl");
        (exit, output, error) = CliRunner.Run("run", _constellation, "--plan", next, "--limit", "1", "--journal", journal);
        Assert.That(exit, Is.EqualTo(0), output + error);
        Assert.That(System.IO.File.ReadAllText(Path.Combine(Folder, "one", "new.conf")), Is.EqualTo("a = 1\nb = 2\n"));
        Assert.That(PlanConformance.OfFleet(FleetPlanFile.Load(next).Plan, next, JournalReader.Read(journal)).Select(c => c.Conformance.Exact), Is.All.True);
    }

    [Test, CancelAfter(90_000)]
    public void A_fleet_run_is_undone_machine_by_machine_each_reached_where_its_journal_says()
    {
        Assert.That(Plan().Exit, Is.EqualTo(0));
        var journal = Path.Combine(Folder, "run.jsonl");
        Assert.That(RunPlan(journal).Exit, Is.EqualTo(0));
        System.IO.File.WriteAllText(Path.Combine(Folder, "two", "extra"), "made after the run\n");

        // No --host: the journal's fleet-start recorded each machine's address.
        var (exit, output, error) = CliRunner.Run("undo", journal);
        Assert.That(exit, Is.EqualTo(1), output + error);
        Assert.That(output, Does.Contain("host one (local)").And.Contain("host two (local)").And.Contain("remove " + Conf("two") + " again"));
        Assert.That(output, Does.Contain("2 change(s) blocked now").And.Contain("stops that machine's undo at the first still blocked"),
            "each directory holds a file until the step before removes it; two's also holds one the run did not make");

        (exit, output, error) = CliRunner.Run("undo", journal, "--apply", "--journal", Path.Combine(Folder, "undo.jsonl"));
        Assert.That(exit, Is.EqualTo(1), output + error);
        Assert.That(Directory.Exists(Path.Combine(Folder, "one")), Is.False, "machine one is as before the run");
        Assert.That(System.IO.File.Exists(Conf("two")), Is.False, "two's file is removed again");
        Assert.That(Directory.Exists(Path.Combine(Folder, "two")), Is.True, "two's directory holds a file the run did not make: kept, and the undo says so");
        Assert.That(output + error, Does.Contain($"{Folder}/two"));
    }

    [TestCase("role runbook")]
    [TestCase("constellation")]
    public void A_changed_constellation_or_role_runbook_refuses_the_whole_plan_before_any_machine_is_reached(string changed)
    {
        Assert.That(Plan().Exit, Is.EqualTo(0));
        System.IO.File.AppendAllText(changed == "constellation" ? _constellation : _role, "// edited after the review\n");

        var journal = Path.Combine(Folder, "run.jsonl");
        var (exit, output, error) = RunPlan(journal);

        Assert.That(exit, Is.EqualTo(1), output + error);
        Assert.That(error, Does.Contain("nothing was run on any machine").And.Contain($"the {changed} {(changed == "constellation" ? _constellation : _role)} changed since the plan was made"));
        Assert.That(Directory.Exists(Path.Combine(Folder, "one")) || Directory.Exists(Path.Combine(Folder, "two")), Is.False);
        Assert.That(System.IO.File.Exists(journal), Is.False, "refused before the run began");
    }

    [Test]
    public void A_fleet_plan_is_saved_only_when_every_machine_was_probed_and_runs_only_the_machines_it_was_made_for()
    {
        var partial = Path.Combine(Folder, "partial.json");
        var (exit, output, error) = CliRunner.Run("plan", _constellation, "--host", "two=ssh://root@127.0.0.1:1", "--out", partial);
        Assert.That(exit, Is.EqualTo(1), output + error);
        Assert.That(error, Does.Contain("plan not saved: two unreachable"));
        Assert.That(System.IO.File.Exists(partial), Is.False);

        Assert.That(Plan().Exit, Is.EqualTo(0));
        (exit, output, error) = CliRunner.Run("run", _constellation, "--plan", _plan, "--on", "one");
        Assert.That(exit, Is.EqualTo(2), output + error);
        Assert.That(error, Does.Contain("--plan runs the machines the plan was made for"));

        // A single runbook's saved plan handed to a constellation names what it is.
        var single = Path.Combine(Folder, "single.json");
        System.IO.File.WriteAllText(single, "{\"schema\": \"runbooks-plan/2\"}");
        (exit, _, error) = CliRunner.Run("run", _constellation, "--plan", single);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("a runbook's saved plan, not a constellation's"));
        Assert.That(Directory.Exists(Path.Combine(Folder, "one")), Is.False);
    }
}
