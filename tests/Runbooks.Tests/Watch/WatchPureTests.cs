using Runbooks.Tests.Support;
using Runbooks.Watch;

namespace Runbooks.Tests.Watch;

public class WatchPureTests
{
    [TestCase(0, 1)]
    [TestCase(1, 2)]
    [TestCase(2, 4)]
    [TestCase(3, 8)]
    [TestCase(4, 10)]
    [TestCase(50, 10)]
    public void Backoff_doubles_per_failing_pass_up_to_ten_intervals(int failures, double intervals) =>
        Assert.That(WatchLoop.NextDelay(TimeSpan.FromSeconds(30), failures, cap: 10), Is.EqualTo(TimeSpan.FromSeconds(30 * intervals)));

    [TestCase("500ms", 0.5)]
    [TestCase("30s", 30)]
    [TestCase("5m", 300)]
    [TestCase("1h", 3600)]
    [TestCase("2.5", 2.5)]
    public void Durations_read_as_operators_type_them(string text, double seconds) =>
        Assert.That(Duration.Parse(text, "--every"), Is.EqualTo(TimeSpan.FromSeconds(seconds)));

    [TestCase("")]
    [TestCase("0s")]
    [TestCase("-1s")]
    [TestCase("soon")]
    public void A_duration_that_is_not_one_is_a_usage_error_naming_the_option(string text) =>
        Assert.That(() => Duration.Parse(text, "--every"), Throws.TypeOf<InvalidRunbookException>().With.Message.Contains("--every"));

    [Test]
    public void The_systemd_unit_is_one_long_running_service_stopped_by_SIGTERM()
    {
        var (path, content, executable) = WatchServiceUnit.Render("systemd", "/srv/runbooks/web.csx",
            ["/root/.dotnet/tools/runbook", "watch", "/srv/runbooks/web.csx", "--every", "30s", "--host", "web=ssh://root@web 1"], "30s");
        Assert.Multiple(() =>
        {
            Assert.That(path, Is.EqualTo("runbook-watch-web.service"));
            Assert.That(executable, Is.False);
            Assert.That(content, Does.Contain("Type=simple\n").And.Contain("KillSignal=SIGTERM\n").And.Contain("WorkingDirectory=/srv/runbooks\n"));
            Assert.That(content, Does.Contain("ExecStart=/root/.dotnet/tools/runbook watch /srv/runbooks/web.csx --every 30s --host \"web=ssh://root@web 1\"\n"));
            Assert.That(content, Does.Contain("[Install]\nWantedBy=multi-user.target"));
        });
    }

    [Test]
    public void The_runit_run_script_execs_the_watch_with_every_word_quoted()
    {
        var (path, content, executable) = WatchServiceUnit.Render("runit", "/srv/run books/web.csx",
            ["/usr/bin/dotnet", "/opt/runbook/runbook.dll", "watch", "/srv/run books/web.csx", "--every", "1m"], "1m");
        Assert.Multiple(() =>
        {
            Assert.That(path, Is.EqualTo(Path.Combine("runbook-watch-web", "run")));
            Assert.That(executable, Is.True);
            Assert.That(content, Does.StartWith("#!/bin/sh\n"));
            Assert.That(content, Does.Contain("cd '/srv/run books' || exit 1\n"));
            Assert.That(content, Does.EndWith("exec /usr/bin/dotnet /opt/runbook/runbook.dll watch '/srv/run books/web.csx' --every 1m\n"));
        });
    }

    [Test]
    public void Install_systemd_prints_a_unit_that_runs_this_watch_with_absolute_paths_and_one_journal()
    {
        var runbook = Path.Combine(Path.GetTempPath(), "rb-watch-install.csx");
        var (exit, output, error) = CliRunner.Run("watch", runbook, "--every", "45s", "--host", "web=ssh://root@web", "--install", "systemd");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.Zero, error);
            Assert.That(output, Does.Contain($" watch {runbook} --every 45s --host web=ssh://root@web --journal /var/lib/runbook/journal/runbook-watch-rb-watch-install.jsonl\n"));
            Assert.That(output, Does.Contain("Type=simple"));
        });
    }

    [Test]
    public void A_bad_interval_is_a_usage_error_before_anything_runs()
    {
        var (exit, _, error) = CliRunner.Run("watch", Path.Combine(Path.GetTempPath(), "none.csx"), "--every", "soon");
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(2));
            Assert.That(error, Does.Contain("--every soon: not a duration"));
        });
    }
}
