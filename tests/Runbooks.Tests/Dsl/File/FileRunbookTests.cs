using System.Text.Json.Nodes;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Dsl.File;

/// <summary>The File noun end to end through the CLI on this machine: plan, run, re-run, journal, secrets.</summary>
[Category("process"), NonParallelizable]
public class FileRunbookTests
{
    private string _root = "";
    private string _runbook = "";

    [SetUp]
    public void CreateRunbook()
    {
        _root = Directory.CreateTempSubdirectory("rb-file-").FullName;
        _runbook = Path.Combine(_root, "files.csx");
        System.IO.File.WriteAllText(_runbook, $$"""
            var root = "{{_root}}/state";
            Target("dir", File.Directory(root, mode: "0750"));
            Target("config", DependsOn("dir"), File.Content(root + "/app.conf", "listen = 8000\n", mode: "0640"));
            Target("token", DependsOn("dir"), File.Content(root + "/token", Secret.FromEnvironment("RB_TEST_TOKEN")));
            Target("hosts", DependsOn("dir"), File.Line(root + "/hosts", "fdaa::2 server", create: true));
            await RunAsync(Args);
            """);
        Environment.SetEnvironmentVariable("RB_TEST_TOKEN", "tok-9f8e7d6c5b4a-very-secret");
    }

    [TearDown]
    public void Remove() => Directory.Delete(_root, recursive: true);

    [Test, CancelAfter(60_000)]
    public void Plan_changes_nothing_run_converges_and_a_second_run_is_all_satisfied()
    {
        var (planExit, plan, planError) = CliRunner.Run("plan", _runbook);
        Assert.That(planExit, Is.EqualTo(0), planError);
        Assert.That(plan, Does.Contain("will change").And.Contain($"$ mkdir -p -m 0750 -- {_root}/state"));
        Assert.That(Directory.Exists($"{_root}/state"), Is.False, "plan must not change the machine");

        var first = Path.Combine(_root, "first.jsonl");
        var second = Path.Combine(_root, "second.jsonl");
        var (runExit, runOut, runError) = CliRunner.Run("run", _runbook, "--journal", first);
        Assert.That(runExit, Is.EqualTo(0), runOut + runError);
        Assert.That(System.IO.File.ReadAllText($"{_root}/state/app.conf"), Is.EqualTo("listen = 8000\n"));
        Assert.That(Convert.ToString((int)System.IO.File.GetUnixFileMode($"{_root}/state/app.conf"), 8), Is.EqualTo("640"));

        var (againExit, again, _) = CliRunner.Run("run", _runbook, "--journal", second);
        Assert.That(againExit, Is.EqualTo(0));
        Assert.That(again, Does.Contain("done: 4 satisfied"));
        var mutating = System.IO.File.ReadAllLines(second).Select(l => JsonNode.Parse(l)!)
            .Where(r => (string?)r["event"] == "command" && (bool?)r["readOnly"] == false);
        Assert.That(mutating, Is.Empty, "the second run ran a mutating command");
    }

    [Test, CancelAfter(60_000)]
    public void A_secret_never_reaches_plan_console_or_journal()
    {
        var journal = Path.Combine(_root, "run.jsonl");
        var (_, plan, planError) = CliRunner.Run("plan", _runbook, "--format", "json");
        var (exit, output, error) = CliRunner.Run("run", _runbook, "--journal", journal, "--verbose");
        var (_, markdown, _) = CliRunner.Run("journal", "show", journal);

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(System.IO.File.ReadAllText($"{_root}/state/token"), Is.EqualTo("tok-9f8e7d6c5b4a-very-secret"), "the secret must still reach the host");
        foreach (var text in new[] { plan, planError, output, error, System.IO.File.ReadAllText(journal), markdown })
        {
            Assert.That(text, Does.Not.Contain("tok-9f8e7d6c5b4a"));
        }

        Assert.That(output, Does.Contain("<<< ***"));
    }

    [Test, CancelAfter(60_000)]
    public void A_line_is_appended_without_touching_the_rest_of_the_file()
    {
        Directory.CreateDirectory($"{_root}/state");
        System.IO.File.WriteAllText($"{_root}/state/hosts", "127.0.0.1 localhost");

        var (exit, _, error) = CliRunner.Run("run", _runbook, "hosts", "--journal", Path.Combine(_root, "j.jsonl"));

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(System.IO.File.ReadAllText($"{_root}/state/hosts"), Is.EqualTo("127.0.0.1 localhost\nfdaa::2 server\n"));
    }

    [Test, CancelAfter(60_000)]
    public void A_file_where_a_directory_must_be_is_refused_and_left_alone()
    {
        System.IO.File.WriteAllText($"{_root}/state", "precious");

        var (exit, output, _) = CliRunner.Run("run", _runbook, "dir", "--journal", Path.Combine(_root, "j.jsonl"));

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(output, Does.Contain("refusing to replace it"));
        Assert.That(System.IO.File.ReadAllText($"{_root}/state"), Is.EqualTo("precious"));
    }
}
