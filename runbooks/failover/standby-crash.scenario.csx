// The failover pair's other incident (README.md beside this file): the synchronous standby's postmaster is SIGKILLed
// (an OOM kill, a crash). Every commit on the primary waits for it, so writes stop until it streams again. Proved by
// failover.csx, unchanged: db2 is started again and resumes streaming where it stopped — not copied afresh, which on a
// large cluster takes hours while the primary's writes wait.
//   runbook harness run runbooks/failover/standby-crash.scenario.csx
#load "pair.csx"

Proves("failover.csx");

// A standby's death takes no write the writer saw acknowledged: the primary still has them all.
noAcknowledgedWriteLost.NotBroken();

// The incident. Until: db2 no longer answers as a standby (on a healthy pair it does, so a drill sees the fault to apply).
Target("standby-killed", "the standby's postmaster is SIGKILLed", DependsOn("app"),
    Exec("SIGKILL db2's postmaster while it is a standby", Shell.Script(
            "[ -f \"$1/standby.signal\" ] || { echo \"db2 is not a standby now\" >&2; exit 1; }\n" +
            "kill -KILL \"$(head -n 1 \"$1/postmaster.pid\")\"",
            "/var/lib/postgresql/15/main"))
        .Until(new Check("db2 does not answer as a standby", async (h, ct) =>
        {
            var status = await db.StatusAsync(h, ct);
            return new CheckResult(!status.IsStandby, status.ToString());
        })))
    .On("db2");
