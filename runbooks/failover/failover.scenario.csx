// The failover incident (README.md beside this file): a PostgreSQL 15 primary with a synchronous streaming standby,
// HAProxy in front, and a writer that logs every write PostgreSQL acknowledged. The break SIGKILLs the primary's
// postmaster. Proved by failover.csx.
//   runbook harness run runbooks/failover/failover.scenario.csx
//   runbook harness drill failover --rounds 3     (each round kills whichever node is the primary then)

#load "pair.csx"

Proves("failover.csx");

// The incident. Until: no server behind HAProxy answers as a primary (on a healthy pair one does, so a drill sees
// this target as the fault to apply).
Target("primary-killed", "the primary's postmaster is SIGKILLed", DependsOn("app"),
    Exec("SIGKILL the postmaster HAProxy sends writes to", ScriptBeside("files/kill-primary.sh"))
        .Until(new Check("no primary answers through HAProxy", async (h, ct) =>
        {
            var status = await db.OnPort(5000).StatusAtAsync(h, "127.0.0.1", ct);
            return new CheckResult(!status.IsPrimary, status.ToString());
        })))
    .On("app");
