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
Target("incident", "db stopped and master wedged", DependsOn("booted"),
    Exec("wedge master and stop db",
            new Command("sv", ["1", "/etc/service/master"]),
            new Command("sv", ["-w", "15", "-v", "down", "/etc/service/db"]))
        .Until(DbDownAndMasterWedged));

TalusSpecs(masterGrace);
