using System.Text.Json.Nodes;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Cli;

/// <summary>
/// A saved plan end to end through the CLI against temp files on this machine: what runs is exactly what was
/// planned, and a host that moved since the plan is refused before anything runs.
/// </summary>
[Category("process"), NonParallelizable]
public class SavedPlanTests
{
    private string _root = "";
    private string _runbook = "";
    private string _plan = "";

    [SetUp]
    public void CreateRunbook()
    {
        _root = Directory.CreateTempSubdirectory("rb-plan-").FullName;
        _runbook = Path.Combine(_root, "files.csx");
        _plan = Path.Combine(_root, "plan.json");
        Directory.CreateDirectory($"{_root}/state");
        System.IO.File.WriteAllText($"{_root}/state/app.conf", "listen = 80\nworkers = 4\n");
        System.IO.File.WriteAllText(_runbook, $$"""
            var root = "{{_root}}/state";
            Target("dir", File.Directory(root, mode: "0750"));
            Target("config", DependsOn("dir"), File.Content(root + "/app.conf", "listen = 8000\nworkers = 4\n", mode: "0640"));
            Target("hosts", DependsOn("dir"), File.Line(root + "/hosts", "fdaa::2 server", create: true));
            await RunAsync(Args);
            """);
    }

    [TearDown]
    public void Remove() => Directory.Delete(_root, recursive: true);

    [Test, CancelAfter(90_000)]
    public void Run_of_a_saved_plan_executes_exactly_the_planned_actions_and_records_who_approved_it()
    {
        var (planExit, planText, planError) = CliRunner.Run("plan", _runbook, "--out", _plan, "--detailed-exitcode");
        Assert.That(planExit, Is.EqualTo(3), "changes pending: " + planError);
        Assert.That(planText, Does.Contain("-listen = 80").And.Contain("+listen = 8000"), "the file write renders as a diff");
        Assert.That(System.IO.File.ReadAllText($"{_root}/state/app.conf"), Is.EqualTo("listen = 80\nworkers = 4\n"), "a plan changes nothing");

        var journal = Path.Combine(_root, "run.jsonl");
        var (runExit, runOut, runError) = CliRunner.Run("run", _runbook, "--plan", _plan, "--approved-by", "alice", "--journal", journal);
        Assert.That(runExit, Is.EqualTo(0), runOut + runError);

        var records = System.IO.File.ReadAllLines(journal).Select(l => JsonNode.Parse(l)!).ToList();
        var conformance = SavedPlanFiles.Conformance(_plan, journal);
        Assert.Multiple(() =>
        {
            Assert.That((conformance.Steps, conformance.Actions), Is.EqualTo((3, 3)));
            Assert.That(conformance.Exact, Is.True, "the journal's actions are the plan's, in order: " + conformance);
            Assert.That((string?)records[0]["approvedBy"], Is.EqualTo("alice"));
            Assert.That((string?)records[0]["plan"], Is.EqualTo(_plan));
            Assert.That(System.IO.File.ReadAllText($"{_root}/state/app.conf"), Is.EqualTo("listen = 8000\nworkers = 4\n"));
        });

        var (_, timeline, _) = CliRunner.Run("journal", "show", journal);
        Assert.That(timeline, Does.Contain($"**Saved plan** `{_plan}`, approved by alice")
            .And.Contain($"» write {_root}/state/app.conf (mode 0640)")
            .And.Contain($"atomic write of `{_root}/state/app.conf` → exit 0"));

        var (againExit, _, _) = CliRunner.Run("plan", _runbook, "--detailed-exitcode");
        Assert.That(againExit, Is.EqualTo(0), "nothing left to change");
    }

    [Test, CancelAfter(90_000)]
    public void The_shipped_maintenance_banner_runbook_runs_its_saved_plan_exactly()
    {
        var runbook = Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "..", "..", "runbooks", "maintenance-banner.csx");
        Environment.SetEnvironmentVariable("BANNER_ROOT", $"{_root}/banner");
        try
        {
            var (planExit, _, planError) = CliRunner.Run("plan", runbook, "--out", _plan, "--detailed-exitcode");
            Assert.That(planExit, Is.EqualTo(3), planError);

            var journal = Path.Combine(_root, "banner.jsonl");
            var (runExit, runOut, runError) = CliRunner.Run("run", runbook, "--plan", _plan, "--approved-by", "bob", "--journal", journal);
            Assert.That(runExit, Is.EqualTo(0), runOut + runError);
            var conformance = SavedPlanFiles.Conformance(_plan, journal);
            Assert.That(conformance.Exact && conformance.Actions > 0, Is.True, conformance.ToString());
            Assert.That(System.IO.File.ReadAllText($"{_root}/banner/motd"), Does.StartWith("Maintenance window"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("BANNER_ROOT", null);
        }
    }
    [Test, CancelAfter(90_000)]
    public void A_fact_changed_since_the_plan_is_refused_naming_the_fact_and_the_host_and_nothing_runs()
    {
        var (planExit, _, planError) = CliRunner.Run("plan", _runbook, "--out", _plan);
        Assert.That(planExit, Is.EqualTo(0), planError);
        System.IO.File.WriteAllText($"{_root}/state/app.conf", "listen = 81\nworkers = 4\n");

        var journal = Path.Combine(_root, "run.jsonl");
        var (exit, output, error) = CliRunner.Run("run", _runbook, "--plan", _plan, "--journal", journal);

        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1), output + error);
            Assert.That(error, Does.Contain($"on host local: the fact `cat -- {_root}/state/app.conf` changed since the plan"));
            Assert.That(System.IO.File.ReadAllText($"{_root}/state/app.conf"), Is.EqualTo("listen = 81\nworkers = 4\n"), "the operator's edit survives");
            Assert.That(Convert.ToString((int)System.IO.File.GetUnixFileMode($"{_root}/state"), 8), Is.Not.EqualTo("750"), "no step ran, not even an unaffected one");
            Assert.That(System.IO.File.Exists($"{_root}/state/hosts"), Is.False);
            Assert.That(System.IO.File.Exists(journal), Is.False, "refused before the run started");
        });
    }

    [Test, CancelAfter(90_000)]
    public void A_plan_made_from_another_runbook_text_is_refused()
    {
        CliRunner.Run("plan", _runbook, "--out", _plan);
        System.IO.File.AppendAllText(_runbook, "\n// edited after review\n");

        var (exit, _, error) = CliRunner.Run("run", _runbook, "--plan", _plan, "--journal", Path.Combine(_root, "run.jsonl"));

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("changed since the plan was made"));
    }

    [Test, CancelAfter(120_000)]
    public void A_runbook_blocked_until_its_earlier_steps_ran_converges_in_stages_each_running_exactly_its_plan()
    {
        // Step 2 of "files" is blocked until step 1 created the file; "mode" depends on "files", so it waits too.
        System.IO.File.WriteAllText(_runbook, $$"""
            var root = "{{_root}}/state";
            Target("banner", File.Line(root + "/motd", "maintenance at 02:00", create: true));
            Target("files", File.Line(root + "/new.conf", "a = 1", create: true), File.Line(root + "/new.conf", "b = 2"));
            Target("mode", DependsOn("files"), File.Mode(root + "/new.conf", "0600"));
            await RunAsync(Args);
            """);

        var (planExit, planText, planError) = CliRunner.Run("plan", _runbook, "--out", _plan, "--detailed-exitcode");
        Assert.That(planExit, Is.EqualTo(3), planError);
        var stage = JsonNode.Parse(System.IO.File.ReadAllText(_plan))!["stage"]!;
        Assert.Multiple(() =>
        {
            Assert.That((int)stage["number"]!, Is.EqualTo(1));
            Assert.That((int)stage["changes"]!, Is.EqualTo(2));
            Assert.That(stage["blocked"]!.AsArray().Select(b => (string?)b), Is.EqualTo(new[] { "files step 2", "mode step 1" }));
            Assert.That(planText, Does.Contain("waits        " + _root + "/state/new.conf has mode 0600").And.Contain("behind files step 2, which is blocked now"));
            Assert.That(planError, Does.Contain("this stage changes 2 step(s); 2 are blocked now").And.Contain("--after plan.json"));
        });

        var journal = Path.Combine(_root, "stage1.jsonl");
        var (runExit, runOut, runError) = CliRunner.Run("run", _runbook, "--plan", _plan, "--journal", journal);
        Assert.That(runExit, Is.EqualTo(4), runOut + runError);
        Assert.That(runOut, Does.Contain("stage 1 done, 2 steps blocked: plan again").And.Contain("mode: waits — dependency 'files' waits for the next stage"));
        var first = SavedPlanFiles.Conformance(_plan, journal);
        Assert.That((first.Exact, first.Actions), Is.EqualTo((true, 2)), "stage 1 ran exactly its two actions: " + first);
        Assert.That(System.IO.File.ReadAllText($"{_root}/state/new.conf"), Is.EqualTo("a = 1\n"), "nothing the plan showed blocked ran, though it is unblocked now");

        var next = Path.Combine(_root, "stage2.json");
        var (nextExit, _, nextError) = CliRunner.Run("plan", _runbook, "--out", next, "--after", _plan, "--detailed-exitcode");
        Assert.That(nextExit, Is.EqualTo(3), nextError);
        var second = JsonNode.Parse(System.IO.File.ReadAllText(next))!["stage"]!;
        Assert.Multiple(() =>
        {
            Assert.That((int)second["number"]!, Is.EqualTo(2));
            Assert.That((string?)second["after"], Is.EqualTo(_plan));
            Assert.That((string?)second["afterSha256"], Is.EqualTo(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.IO.File.ReadAllBytes(_plan)))));
            Assert.That(second["blocked"]!.AsArray(), Is.Empty);
            Assert.That((int)second["changes"]!, Is.EqualTo(2));
        });

        var lastJournal = Path.Combine(_root, "stage2.jsonl");
        var (lastExit, lastOut, lastError) = CliRunner.Run("run", _runbook, "--plan", next, "--journal", lastJournal);
        Assert.That(lastExit, Is.EqualTo(0), lastOut + lastError);
        var last = SavedPlanFiles.Conformance(next, lastJournal);
        Assert.That((last.Exact, last.Actions), Is.EqualTo((true, 2)), last.ToString());
        Assert.That((int?)JsonNode.Parse(System.IO.File.ReadLines(lastJournal).First())!["planStage"], Is.EqualTo(2));
        Assert.That(CliRunner.Run("plan", _runbook, "--detailed-exitcode").Exit, Is.EqualTo(0), "nothing left after stage 2");
    }

    [Test, CancelAfter(90_000)]
    public void A_plan_after_the_plan_of_another_runbook_is_refused_before_anything_is_probed()
    {
        var other = Path.Combine(_root, "other.csx");
        System.IO.File.WriteAllText(other, "Target(\"x\", File.Line(\"" + _root + "/state/x\", \"x\", create: true));\nawait RunAsync(Args);\n");
        Assert.That(CliRunner.Run("plan", other, "--out", _plan).Exit, Is.EqualTo(0));

        var (exit, _, error) = CliRunner.Run("plan", _runbook, "--out", Path.Combine(_root, "next.json"), "--after", _plan);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain($"{_plan}: a plan of {other}").And.Contain("--after names the plan of this runbook's previous stage"));
    }

    [Test, CancelAfter(90_000)]
    public void A_fact_read_only_by_a_requires_check_changed_since_the_plan_is_refused_naming_the_check()
    {
        System.IO.File.WriteAllText($"{_root}/state/gate", "open\n");
        System.IO.File.WriteAllText(_runbook, $$"""
            var root = "{{_root}}/state";
            Target("config", File.Content(root + "/app.conf", "listen = 8000\n"))
                .Requires(File.SizeBelow(root + "/gate", "1M"))
                .Ensures(File.Exists(root + "/app.conf"));
            await RunAsync(Args);
            """);
        Assert.That(CliRunner.Run("plan", _runbook, "--out", _plan).Exit, Is.EqualTo(0));
        var check = JsonNode.Parse(System.IO.File.ReadAllText(_plan))!["hosts"]![0]!["targets"]![0]!["checks"]![0]!;
        Assert.That(check["facts"]!.AsArray().Select(f => (string?)f!["command"]), Has.Some.Contain($"{_root}/state/gate"), "the plan records what the check read");

        // The check still holds (a few bytes more), but what it read is not what the reviewer saw.
        System.IO.File.AppendAllText($"{_root}/state/gate", "still open\n");
        var (exit, output, error) = CliRunner.Run("run", _runbook, "--plan", _plan, "--journal", Path.Combine(_root, "run.jsonl"));

        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(1), output + error);
            Assert.That(error, Does.Contain("on host local: the fact `").And.Contain($"changed since the plan (read by config's requires check '{_root}/state/gate is smaller than 1 MiB')"));
            Assert.That(System.IO.File.ReadAllText($"{_root}/state/app.conf"), Is.EqualTo("listen = 80\nworkers = 4\n"), "nothing ran");
        });
    }

    [Test, CancelAfter(90_000)]
    public void The_json_plan_has_one_casing()
    {
        var (_, json, _) = CliRunner.Run("plan", _runbook, "--format", "json");

        var keys = Keys(JsonNode.Parse(json)!).ToList();
        Assert.That(keys, Is.Not.Empty);
        Assert.That(keys.Where(k => !char.IsLower(k[0]) || k.Contains('_') || k.Contains('-')), Is.Empty, "every key camelCase");
        Assert.That((string?)JsonNode.Parse(json)!["schema"], Is.EqualTo("runbooks-plan/2"));
    }

    private static IEnumerable<string> Keys(JsonNode node) => node switch
    {
        JsonObject o => o.SelectMany(p => Keys(p.Value!).Prepend(p.Key)),
        JsonArray a => a.Where(n => n is not null).SelectMany(n => Keys(n!)),
        _ => [],
    };
}
