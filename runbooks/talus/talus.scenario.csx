// The talus incident (README.md beside this file): five daemons that must come up in the
// order db → amqp → web → master → slave, found with db stopped and master wedged. master ignores SIGTERM, so only
// a KILL after a grace period stops it; web refuses to start while db is down, master while amqp or web is, slave
// while master is. Proved by talus-restart.csx.
//   runbook harness run runbooks/talus/talus.scenario.csx
//
// The daemons are one small python3 program (files/talus-service.py) under runit, each writing its start,
// readiness and signals to /var/log/talus/events.log; their finish script (files/finish.sh) adds how each exited.
// The timeline specs (specs.csx) read that log.
#load "specs.csx"

// Where the notes' jobs ran the code from (/home/talus/talus/src/…): a directory of its own on this host.
const string Program = "/opt/talus/bin/talus-service.py";
// How long after TERM the runbook waits for master before KILL (talus-restart.csx declares the same).
var masterGrace = TimeSpan.FromSeconds(3);

Services().Private("/opt/talus");
Proves("talus-restart.csx");

// web is healthy when it answers 200 (it answers 503 without db); the others when they accept a connection.
Check Healthy(TalusDaemon daemon) => daemon.Flags.Contains("--http")
    ? Probe.HttpGet($"http://127.0.0.1:{daemon.Port}/", 200)
    : Probe.Tcp("127.0.0.1", daemon.Port, TcpOutcome.Connected);

string RunScript(TalusDaemon daemon) => FileBeside("files/run.sh")
    .Replace("{name}", daemon.Name)
    .Replace("{port}", daemon.Port.ToString())
    .Replace("{needs}", string.Join(",", daemon.After.Select(a => Daemon(a).Port)))
    .Replace("{flags}", daemon.Flags);

Target("installed", "the talus program and one runit service directory per daemon",
[
    File.Directory("/var/log/talus"),
    File.Directory("/opt/talus/bin"),
    File.Content(Program, FileBeside("files/talus-service.py")),
    .. Daemons.SelectMany(d => new[]
    {
        File.Directory($"/etc/sv/{d.Name}/log/main"),
        File.Content($"/etc/sv/{d.Name}/run", RunScript(d), mode: "0755"),
        File.Content($"/etc/sv/{d.Name}/finish", FileBeside("files/finish.sh"), mode: "0755"),
        File.Content($"/etc/sv/{d.Name}/log/run", FileBeside("files/log-run.sh"), mode: "0755"),
    }),
]);

// All five at once, as a boot would: runsvdir notices them within 5 s; web, master and slave refuse and are
// retried by runsv each second until what they need answers. Each Running() step waits until its daemon is healthy.
Target("booted", "all five daemons supervised, running and healthy", DependsOn("installed"),
[
    .. Daemons.Select(d => Exec($"link {d.Name} into /etc/service", new Command("ln", ["-sfn", $"/etc/sv/{d.Name}", $"/etc/service/{d.Name}"]))
        .Until(File.Exists($"/etc/service/{d.Name}/run"))),
    .. Daemons.Select(d => Service.Named(d.Name).HealthyWhen(Healthy(d)).Running()),
]);

// The incident: master wedged (SIGUSR1: it stops accepting but keeps running), then db stopped; its dependants keep
// running on a dead connection. `sv -v down` returns once db's finish script has logged its exit, so nothing lands
// in the event log after the break (a test takes a "nothing was signalled" snapshot of it), and master has had
// that long to act on its signal.
var dbDownAndMasterWedged = new Check("db refuses connections and master, still running, no longer accepts", async (host, ct) =>
{
    var db = await Probe.Tcp("127.0.0.1", Daemon("db").Port, TcpOutcome.Refused).EvaluateAsync(host, ct);
    var master = await Probe.Tcp("127.0.0.1", Daemon("master").Port, TcpOutcome.Refused).EvaluateAsync(host, ct);
    var running = await Service.Named("master").Healthy().EvaluateAsync(host, ct);
    return new CheckResult(db.Holds && master.Holds && running.Holds, $"db: {db.Observed}; master: {master.Observed} ({running.Observed})");
});
Target("incident", "db stopped and master wedged", DependsOn("booted"),
    Exec("wedge master and stop db",
            new Command("sv", ["1", "/etc/service/master"]),
            new Command("sv", ["-w", "15", "-v", "down", "/etc/service/db"]))
        .Until(dbDownAndMasterWedged));

foreach (var daemon in Daemons)
{
    var spec = Spec($"{daemon.Name}-healthy", Healthy(daemon));
    if (daemon.Name is "amqp" or "slave")
    {
        // amqp needs nothing that broke; slave keeps its connection to the wedged master and still answers.
        spec.NotBroken();
    }
}

Spec("start-order", Timeline("the running daemons started in the order db, amqp, web, master, slave", StartOrder));
Spec("dependencies-ready-first", Timeline("every daemon started after what it needs was ready, and that is still up", DependenciesReadyFirst));
Spec("master-killed-after-grace", Timeline($"master was sent KILL only after ignoring TERM for {masterGrace.TotalSeconds:0} s",
    events => MasterKilledAfterGrace(events, masterGrace)));
