using Runbooks.Dsl;
using Runbooks.Tests.Support;

namespace Runbooks.Tests.Dsl.Service;

public class ServiceParserTests
{
    private static readonly DateTimeOffset ObservedAt = new(2026, 11, 23, 9, 32, 0, TimeSpan.Zero);

    public static IEnumerable<TestCaseData> SvStatusCases()
    {
        yield return new TestCaseData("service/sv-status-run.txt", true, 31127, 4, false).SetName("sv status: run with a pid and seconds up");
        yield return new TestCaseData("service/sv-status-run-with-log.txt", true, 30374, 22, false).SetName("sv status: the service's pid, not its logger's");
        yield return new TestCaseData("service/sv-status-down.txt", false, null, 1, false).SetName("sv status: down has no pid");
        yield return new TestCaseData("service/sv-status-down-want-up.txt", false, null, 1, false).SetName("sv status: down while runsv retries it");
        yield return new TestCaseData("service/sv-status-want-down-got-term.txt", true, 31192, 1, true).SetName("sv status: still running after TERM");
    }

    [TestCaseSource(nameof(SvStatusCases))]
    public void Sv_status_gives_running_pid_since_and_a_pending_stop(string fixture, bool running, int? pid, int seconds, bool wantsDown)
    {
        var facts = ServiceParser.ParseSvStatus("svc", Fixture.Read(fixture), ObservedAt);

        Assert.That((facts.Supervisor, facts.Running, facts.MainPid, facts.Since, facts.Restarts, facts.WantsDown),
            Is.EqualTo((Supervisor.Runit, running, pid, (DateTimeOffset?)ObservedAt.AddSeconds(-seconds), (int?)null, wantsDown)));
    }

    [Test]
    public void Sv_status_of_a_directory_no_runsv_watches_is_an_error_that_says_what_to_check()
    {
        var error = Assert.Throws<RunbookException>(() => ServiceParser.ParseSvStatus("nope", Fixture.Read("service/sv-status-missing.txt"), ObservedAt));

        Assert.That(error!.Message, Does.Contain("/tmp/svrec/service/nope").And.Contain("unable to change to service directory").And.Contain("runsvdir"));
    }

    [Test]
    public void Sv_status_of_a_directory_just_linked_is_a_service_not_supervised_yet()
    {
        var facts = ServiceParser.ParseSvStatus("db", Fixture.Read("service/sv-status-not-supervised-yet.txt"), ObservedAt);

        Assert.That((facts.Supervisor, facts.Location, facts.Running, facts.Supervised), Is.EqualTo((Supervisor.Runit, "/etc/service/db", false, false)));
        Assert.That(facts.State, Does.Contain("not supervised yet"));
    }

    [Test]
    public void Systemctl_show_gives_state_pid_start_time_and_restart_count()
    {
        var facts = ServiceParser.ParseSystemctlShow("rbsd-record", Fixture.Read("service/systemctl-show-running.txt"));

        Assert.That((facts.Supervisor, facts.Location, facts.Running, facts.State, facts.MainPid, facts.Since, facts.Restarts),
            Is.EqualTo((Supervisor.Systemd, "rbsd-record.service", true, "active/running", (int?)1142, (DateTimeOffset?)DateTimeOffset.FromUnixTimeSeconds(1796123911), (int?)0)));
    }

    // Recorded in the systemd microVM (SystemdGuestTests): a unit ignoring SIGTERM right after `systemctl stop --no-block`,
    // then after `systemctl kill --signal=SIGKILL`, and a unit that does not exist.
    [TestCase("service/systemctl-show-deactivating.txt", Supervisor.Systemd, true, "deactivating/stop-sigterm", 1142, true)]
    [TestCase("service/systemctl-show-killed.txt", Supervisor.Systemd, false, "failed/failed", null, false)]
    [TestCase("service/systemctl-show-not-found.txt", Supervisor.None, false, "not-found", null, false)]
    public void Systemctl_show_states(string fixture, Supervisor supervisor, bool running, string state, int? pid, bool wantsDown)
    {
        var facts = ServiceParser.ParseSystemctlShow("rbsd-record", Fixture.Read(fixture));

        Assert.That((facts.Supervisor, facts.Running, facts.State, facts.MainPid, facts.WantsDown), Is.EqualTo((supervisor, running, state, pid, wantsDown)));
    }

    [TestCase(0, true, "running")]
    [TestCase(1, false, "dead, pid file exists")]
    [TestCase(3, false, "not running")]
    public void Lsb_status_exit_codes(int exit, bool running, string state)
    {
        var facts = ServiceParser.ParseLsbStatus("db", "/etc/init.d/db", exit, "");

        Assert.That((facts.Supervisor, facts.Running, facts.State, facts.MainPid), Is.EqualTo((Supervisor.SysV, running, state, (int?)null)));
    }

    [Test]
    public void Lsb_status_unknown_is_an_error() =>
        Assert.Throws<RunbookException>(() => ServiceParser.ParseLsbStatus("db", "/etc/init.d/db", 4, "cannot tell"));

    [TestCase("systemd db.service\n", Supervisor.Systemd, "db.service")]
    [TestCase("runit /etc/service/db\n", Supervisor.Runit, "/etc/service/db")]
    [TestCase("sysv /etc/init.d/db\n", Supervisor.SysV, "/etc/init.d/db")]
    [TestCase("none\n", Supervisor.None, "")]
    [TestCase("", Supervisor.None, "")]
    public void Detection_names_the_supervisor_and_where_it_keeps_the_service(string output, Supervisor supervisor, string location) =>
        Assert.That(ServiceParser.ParseDetection(output), Is.EqualTo(new SupervisorLocation(supervisor, location)));
}
