// The failover pair (README.md beside this file), loaded by failover.scenario.csx (the primary dies) and
// standby-crash.scenario.csx (the standby dies): a PostgreSQL 15 primary with a synchronous streaming standby,
// HAProxy in front, a writer that logs every write PostgreSQL acknowledged, and what the on-call checks.

const string Db1Replication = "10.31.0.11";
const string Db2Replication = "10.31.0.12";
const string Proxy = "host=127.0.0.1 port=5000 user=postgres dbname=postgres connect_timeout=2";
const string Acks = "/var/lib/writer/acks";
string[] postgresPaths = ["/etc/postgresql", "/var/lib/postgresql", "/var/log/postgresql", "/run/postgresql"];

// db1 and db2 replicate over their own link; app (HAProxy and the writer) reaches each over another.
var net = Netns();
net.Host("db1").Private(postgresPaths);
net.Host("db2").Private(postgresPaths);
net.Host("app").Private("/etc/haproxy", "/run/haproxy", "/opt/writer", "/var/lib/writer", "/etc/sv", "/etc/service");
net.Link("db1", "db2", $"{Db1Replication}/24", $"{Db2Replication}/24", device: "eth0");
net.Link("app", "db1", "10.31.1.1/24", "10.31.1.11/24", device: "eth1");
net.Link("app", "db2", "10.31.2.1/24", "10.31.2.12/24", device: "eth2");

var db = Postgres.Cluster("15/main");
const string PgVersion = "/var/lib/postgresql/15/main/PG_VERSION";

// A healthy pair first. Each setup step is done once a cluster exists, whatever role it has now, so a drill that
// re-applies the break after a failover finds them satisfied and only the kill changes anything.
Target("db1-cluster", "db1: a PostgreSQL 15 primary",
    Exec("create and start the primary", ScriptBeside("files/setup-node.sh", "primary", "", "db1")).Until(File.Exists(PgVersion)))
    .On("db1");

Target("db2-cluster", "db2: a standby streaming from db1", DependsOn("db1-cluster"),
    Exec("copy db1 and start the standby", ScriptBeside("files/setup-node.sh", "standby", Db1Replication, "db2")).Until(File.Exists(PgVersion)))
    .On("db2");

foreach (var (node, peer, peerAddress) in new[] { ("db1", "db2", Db2Replication), ("db2", "db1", Db1Replication) })
{
    Target($"{node}-synchronous", $"{node}: when it is the primary, every commit waits for {peer}", DependsOn("db1-cluster", "db2-cluster"),
        db.PairedWith(peer, peerAddress).SynchronousWhenPrimary())
        .On(node);
}

Target("app", "HAProxy on 127.0.0.1:5000 in front of the primary, and the writer", DependsOn("db1-synchronous", "db2-synchronous"),
    File.Content("/etc/haproxy/haproxy.cfg", FileBeside("files/haproxy.cfg")),
    File.Content("/opt/writer/writer.sh", FileBeside("files/writer.sh"), mode: "0755"),
    File.Directory("/etc/sv/writer"),
    File.Content("/etc/sv/writer/run", FileBeside("files/writer-run"), mode: "0755"),
    Exec("enable the writer under runit", new Command("ln", ["-sfn", "/etc/sv/writer", "/etc/service/writer"])).Until(File.Exists("/etc/service/writer/run")),
    Exec("start HAProxy and the writer", ScriptBeside("files/start-app.sh")).Until(File.Exists(Acks)),
    Haproxy.Backend("pg").RoutesToPostgresPrimary())
    .On("app");

// What the on-call checks: a write commits through HAProxy, no write the writer saw acknowledged is missing, and the
// primary has a synchronous standby again.
var writesFlow = Spec("writes-flow", Check.Writing("a write through HAProxy commits within 3 s", async (h, ct) =>
{
    var insert = await h.ProbeByWritingAsync(new Command("psql", ["-X", "-q", "-At", Proxy, "-c", "insert into acks (n) values (-1) on conflict (n) do update set at = now()"])
        .WithSuccessExitCodes(0, 1, 2).WithTimeout(TimeSpan.FromSeconds(3)).WithEnvironment("PGCONNECT_TIMEOUT", "2"), ct);
    return new CheckResult(insert.ExitCode == 0, insert.ExitCode == 0 ? "committed" : insert.StandardError.Trim());
})).On("app");

var noAcknowledgedWriteLost = Spec("no-acknowledged-write-lost", new Check("every write the writer logged as acknowledged is on the primary", async (h, ct) =>
{
    // The log first: whatever it lists was committed before the table is read.
    var logged = (await h.ReadAsync(HostContext.FileRead(Acks), ct)).StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Select(l => long.Parse(l.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
    var rows = await h.TryReadAsync(new Command("psql", ["-X", "-q", "-At", Proxy, "-c", "select n from acks where n > 0"]).WithSuccessExitCodes(0, 1, 2), ct);
    if (rows.ExitCode != 0)
    {
        return new CheckResult(false, $"{logged.Count} acknowledged writes logged; the primary cannot be asked: {rows.StandardError.Trim()}");
    }

    var present = rows.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(r => long.Parse(r, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
    var lost = logged.Where(n => !present.Contains(n)).ToList();
    return new CheckResult(logged.Count > 0 && lost.Count == 0, lost.Count == 0
        ? $"all {logged.Count} acknowledged writes are on the primary"
        : $"{lost.Count} of {logged.Count} acknowledged writes are missing: {string.Join(", ", lost.Take(10))}{(lost.Count > 10 ? ", …" : "")}");
})).On("app");

var synchronousStandby = Spec("synchronous-standby", new Check("the primary behind HAProxy has a synchronous standby streaming", async (h, ct) =>
{
    var status = await db.OnPort(5000).StatusAtAsync(h, "127.0.0.1", ct);
    return new CheckResult(status.IsPrimary && status.SynchronousNames.Count > 0 && status.Standbys.Any(s => s.Streaming && s.SyncState == "sync"), status.ToString());
})).On("app");
