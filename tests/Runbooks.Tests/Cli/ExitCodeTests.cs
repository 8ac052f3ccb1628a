using Runbooks.Tests.Support;

namespace Runbooks.Tests.Cli;

[NonParallelizable]
public class ExitCodeTests
{
    public static IEnumerable<TestCaseData> Rejected()
    {
        yield return new TestCaseData("syntax-error.csx", "error CS1002").SetName("check of a syntax error exits 2");
        yield return new TestCaseData("cycle.csx", "dependency cycle: a -> b -> a").SetName("check of a cycle exits 2 naming it");
        yield return new TestCaseData("cycle.csx", "cycle.csx(1,1): error RB005: dependency cycle").SetName("a cycle is reported at the line of the target that starts it");
        yield return new TestCaseData("interpolated-shell.csx", "error RB002").SetName("check of an interpolated shell command exits 2");
        yield return new TestCaseData("private-key.csx", "error RB003").SetName("check of a private key literal exits 2");
        yield return new TestCaseData("unknown-dependency.csx", "error RB004").SetName("check of an unknown dependency exits 2");
        yield return new TestCaseData("bad-path.csx", "must not contain '.' or '..'").SetName("check of a path with .. exits 2 naming the line");
    }

    [TestCaseSource(nameof(Rejected))]
    public void Invalid_runbooks_exit_2_and_run_nothing(string script, string expected)
    {
        foreach (var verb in new[] { "check", "run" })
        {
            var (exit, _, error) = CliRunner.Run(verb, CliRunner.Fixture(script));

            Assert.That(exit, Is.EqualTo(2), error);
            Assert.That(error, Does.Contain(expected));
        }

        Assert.That(Directory.Exists("/tmp/rb-cycle-a") || Directory.Exists("/tmp/rb-syntax"), Is.False, "a rejected runbook created something");
    }

    [Test]
    public void An_unknown_target_exits_2_with_a_suggestion()
    {
        var (exit, _, error) = CliRunner.Run("plan", CliRunner.Fixture("unknown-dependency.csx"), "--no-cache", "buidl");

        Assert.That(exit, Is.EqualTo(2));
    }

    [Test]
    public void A_run_refused_before_it_starts_leaves_no_journal()
    {
        var journal = Path.Combine(Path.GetTempPath(), $"rb-refused-{Environment.ProcessId}.jsonl");

        var runbook = Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "..", "..", "runbooks", "maintenance-banner.csx");

        // An unknown target is refused inside the runner, after the journal writer exists.
        var (exit, _, error) = CliRunner.Run("run", runbook, "no-such-target", "--journal", journal);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("no target named 'no-such-target'"));
        Assert.That(System.IO.File.Exists(journal), Is.False);
    }

    [Test]
    public void A_usage_error_exits_2()
    {
        var (exit, _, error) = CliRunner.Run("plan");

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("runbook"));
    }

    [Test]
    public void A_host_missing_from_the_inventory_exits_2()
    {
        var script = Path.Combine(Path.GetTempPath(), $"rb-remote-{Environment.ProcessId}.csx");
        File.WriteAllText(script, "Target(\"a\", File.Directory(\"/tmp/rb-remote\")).On(\"server\");\n");

        var (exit, _, error) = CliRunner.Run("plan", script);
        File.Delete(script);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("host 'server'"));
    }

    [Test]
    public void Warnings_do_not_fail_check()
    {
        var (exit, output, error) = CliRunner.Run("check", CliRunner.Fixture("no-postcondition.csx"));

        Assert.That(exit, Is.EqualTo(0));
        Assert.That(error, Does.Contain("warning RB001"));
        Assert.That(output, Does.Contain("3 warning(s)"));
    }

    [Test]
    public void List_shows_the_tree_and_dependencies()
    {
        var runbook = Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "..", "..", "runbooks", "maintenance-banner.csx");

        var (_, tree, _) = CliRunner.Run("list", runbook, "--list-tree");
        var (_, dependencies, _) = CliRunner.Run("list", runbook, "-d");

        Assert.That(tree, Does.Contain("default\n  banner\n    directory\n  contacts\n    directory\n"));
        Assert.That(dependencies, Does.Contain("default: banner, contacts"));
    }
}
