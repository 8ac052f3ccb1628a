using Runbooks.Commands;
using Runbooks.Tests.Support;
using Runbooks.Transport;

namespace Runbooks.Tests.Cli;

/// <summary>
/// Rollback by applying the previous state: <c>runbook run FILE --at REV</c> runs the runbook, and the files it loads,
/// as committed at that revision, leaving the repository as it is.
/// </summary>
[Category("process")]
public class RunAtRevisionTests
{
    private string _repo = "";
    private string _target = "";

    [SetUp]
    public async Task CommitTwoRevisions()
    {
        _repo = Directory.CreateTempSubdirectory("rb-at-repo-").FullName;
        _target = Path.Combine(Directory.CreateTempSubdirectory("rb-at-host-").FullName, "motd");
        await Git("init", "-q");
        foreach (var text in new[] { "first", "second" })
        {
            File.WriteAllText(Path.Combine(_repo, "motd.csx"), $"const string Motd = \"{text}\\n\";\n");
            File.WriteAllText(Path.Combine(_repo, "banner.csx"), $"#load \"motd.csx\"\nTarget(\"default\", \"the banner\", File.Content(\"{_target}\", Motd, \"0644\"));\nawait RunAsync(Args);\n");
            await Git("add", "-A");
            await Git("-c", "user.name=test", "-c", "user.email=test@example.invalid", "commit", "-q", "-m", text);
        }
    }

    [TearDown]
    public void Remove()
    {
        Directory.Delete(_repo, recursive: true);
        Directory.Delete(Path.GetDirectoryName(_target)!, recursive: true);
    }

    [Test, CancelAfter(120_000)]
    public void A_run_at_an_earlier_revision_applies_that_revisions_runbook_and_files_and_the_checkout_stays_as_it_is()
    {
        var runbook = Path.Combine(_repo, "banner.csx");
        Assert.That(CliRunner.Run("run", runbook, "--journal", Path.Combine(_repo, "..", Path.GetFileName(_repo) + "-now.jsonl")).Exit, Is.EqualTo(0));
        Assert.That(File.ReadAllText(_target), Is.EqualTo("second\n"));

        var (exit, output, error) = CliRunner.Run("run", runbook, "--at", "HEAD~1", "--journal", Path.Combine(_repo, "..", Path.GetFileName(_repo) + "-at.jsonl"));

        Assert.That(exit, Is.EqualTo(0), output + error);
        Assert.That(File.ReadAllText(_target), Is.EqualTo("first\n"), "the file as the earlier revision wanted it");
        Assert.That(File.ReadAllText(Path.Combine(_repo, "motd.csx")), Does.Contain("second"), "the checkout is untouched");
    }

    [Test]
    public void An_unknown_revision_is_refused_before_anything_runs()
    {
        var (exit, _, error) = CliRunner.Run("plan", Path.Combine(_repo, "banner.csx"), "--at", "no-such-rev");

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--at no-such-rev: banner.csx does not exist at that revision"));
        Assert.That(File.Exists(_target), Is.False);
    }

    private Task<CommandResult> Git(params string[] args) =>
        new LocalTransport().RunCheckedAsync(new Command("git", ["-C", _repo, .. args.Select(Arg.FromString)]), CancellationToken.None);
}
